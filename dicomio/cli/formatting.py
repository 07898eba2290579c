"""How series and numbers are written for people."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dicomio.series.info import SeriesInfo
    from dicomio.series.summary import SeriesSummary


def _size(series: SeriesInfo | SeriesSummary) -> str:
    return "×".join(str(n) for n in (series.rows, series.columns, series.n_slices))


def _spacing(values: Sequence[float] | None) -> str:
    return "—" if values is None else " × ".join(f"{v:.4g}" for v in values)


def _syntax_names(series: SeriesInfo | SeriesSummary) -> str:
    from dicomio.dicom.transfer_syntax import lookup

    return ", ".join(lookup(uid).name for uid in series.transfer_syntaxes)


def _series_line(series: SeriesInfo | SeriesSummary) -> str:
    number = "-" if series.number is None else series.number
    return (f"{series.key}  #{number}  {series.description or '(no description)'!r}  "
            f"{series.modality or '?'}  {_size(series)}  {_syntax_names(series)}")


def _number(value: float | int | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)
