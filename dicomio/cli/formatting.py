"""How series, shapes and numbers are written for people (plain text, no markup)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dicomio.series.info import SeriesInfo
from dicomio.series.layout import lay_out
from dicomio.series.summary import SeriesSummary

__all__ = ["format_number", "format_shape", "format_size", "format_spacing", "series_line",
           "syntax_names"]


def format_shape(shape: Iterable[int] | None) -> str:
    """``"40×128×96"``; ``"—"`` for no shape."""
    return "—" if shape is None else "×".join(str(n) for n in shape)


def format_size(series: SeriesInfo | SeriesSummary) -> str:
    """Rows × columns × slices of a series; of one volume and how many, for a 4-D series
    (``"64×64×15, 10 volumes"``)."""
    volumes = (series.fields["volumes"] if isinstance(series, SeriesSummary)
               else lay_out(series).n_volumes)
    size = format_shape((series.rows, series.columns, series.n_slices // volumes))
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
