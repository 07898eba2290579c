"""How series, shapes and numbers are written for people (plain text, no markup).

Every size and shape a command prints is in the library's array order, slices × rows × columns
(× samples; docs/contract.md): :func:`format_shape` of an array's shape, :func:`format_size` of a
series, so that two numbers on one screen never count the same axes in two orders.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dicomio.series.info import SeriesInfo
from dicomio.series.layout import lay_out
from dicomio.series.summary import SeriesSummary

__all__ = ["SIZE_HEADER", "format_number", "format_shape", "format_size", "format_spacing",
           "series_line", "syntax_names"]


#: The header of a column of :func:`format_size`.
SIZE_HEADER = "slices×rows×cols"


def format_shape(shape: Iterable[int] | None) -> str:
    """``"40×128×96"``, in the order given (an array's: slices, rows, columns); ``"—"`` for no
    shape."""
    return "—" if shape is None else "×".join(str(n) for n in shape)


def format_size(series: SeriesInfo | SeriesSummary) -> str:
    """Slices × rows × columns of a series, the order of its array; of one volume and how
    many, for a 4-D series (``"15×64×64, 10 volumes"``)."""
    volumes = (series.fields["volumes"] if isinstance(series, SeriesSummary)
               else lay_out(series).n_volumes)
    size = format_shape((series.n_slices // volumes, series.rows, series.columns))
    return size if volumes == 1 else f"{size}, {volumes} volumes"


def format_spacing(values: Sequence[float] | None) -> str:
    """``"1.25 × 0.7 × 0.9"`` (four significant digits); ``"—"`` for no spacing."""
    return "—" if values is None else " × ".join(f"{v:.4g}" for v in values)


def format_number(value: float | int | None, spec: str) -> str:
    """``value`` formatted with the format ``spec``; ``"—"`` for None."""
    return "—" if value is None else format(value, spec)


def syntax_names(series: SeriesInfo | SeriesSummary) -> str:
    """The names of the transfer syntaxes of a series, comma-separated."""
    from dicomio.dicom.transfer_syntax import lookup

    return ", ".join(lookup(uid).name for uid in series.transfer_syntaxes)


def series_line(series: SeriesInfo | SeriesSummary) -> str:
    """One line naming a series: key, number, description, modality, size, transfer syntax."""
    number = "-" if series.number is None else series.number
    return (f"{series.key}  #{number}  {series.description or '(no description)'!r}  "
            f"{series.modality or '?'}  {format_size(series)}  {syntax_names(series)}")
