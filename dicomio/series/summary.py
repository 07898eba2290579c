"""JSON-able descriptions of what a scan found: the inventory behind ``dicomio info``.

These dictionaries are the building blocks of every JSON output of the command line (their
schemas are in ``dicomio/schemas`` and documented in ``docs/cli.md``), so a series is described
the same way by ``info``, ``compare`` and ``validate``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dicomio._version import __version__
from dicomio.dicom.transfer_syntax import lookup
from dicomio.series.info import SeriesInfo
from dicomio.series.inventory import Inventory, SkippedFile
from dicomio.series.layout import SeriesLayout, lay_out
from dicomio.series.vendor import CONVENTION_CODES

__all__ = ["SCHEMA_VERSION", "SeriesSummary", "describe_inventory", "describe_series",
           "describe_skipped", "summarise"]

#: Bumped when a field of a JSON output changes meaning or disappears (additions keep it).
SCHEMA_VERSION = 1


def _rounded(values: Sequence[float] | None, digits: int = 6) -> list[float] | None:
    """The values rounded; None when absent or not all finite (JSON has no NaN)."""
    if values is None or not all(math.isfinite(float(v)) for v in values):
        return None
    return [round(float(v), digits) for v in values]


def _shape(series: SeriesInfo, layout: SeriesLayout) -> tuple[int, ...]:
    """The shape of the array a load returns: ``load_4d``'s (volumes, slices, rows, columns
    [, samples]) for a 4-D series, else (images, rows, columns[, samples])."""
    if layout.kind == "4d":
        return (layout.n_volumes, len(layout.volumes[0]), *series.frame_shape)
    return series.shape


def describe_series(series: SeriesInfo, index: int | None = None) -> dict[str, Any]:
    """Describe one series (stack) as a JSON-able dict.

    Parameters
    ----------
    series
        A series from :func:`dicomio.scan` or :func:`dicomio.list_series`.
    index
        Its position in that list (what ``series=<index>`` selects), when known.
    """
    layout = lay_out(series)
    return {
        "index": index,
        "key": series.key,
        "uid": series.uid,
        "number": series.number,
        "description": series.description,
        "modality": series.modality,
        "rows": series.rows,
        "columns": series.columns,
        "slices": series.n_slices,
        "samples_per_pixel": series.pixel.samples_per_pixel,
        "shape": list(_shape(series, layout)),
        "kind": layout.kind,
        "volumes": layout.n_volumes,
        "order_rule": layout.rule,
        "transfer_syntaxes": [{"uid": uid, "name": lookup(uid).name}
                              for uid in series.transfer_syntaxes],
        "spacing": _rounded(series.spacing),
        "orientation": series.orientation_label,
        "image_orientation": _rounded(series.orientation),
        "files": len(series.files),
        "folder": str(series.files[0].parent),
        "geometry_problem": series.geometry_problem,
        "issues": [{"code": i.code, "severity": i.severity, "message": i.message}
                   for i in series.issues],
        "warnings": list(series.warnings),
        "image_kind": series.image_kind,
        "polarity": series.polarity,
        "conventions": [note.message for note in series.notes
                        if note.code in CONVENTION_CODES],
    }


@dataclass(frozen=True)
class SeriesSummary:
    """What a report keeps of a series: its description, without the file headers.

    A :class:`SeriesInfo` holds the header of every file; a report over an archive of thousands
    of series keeps this instead (a few hundred bytes each), and it is what crosses between
    processes. The attributes a report needs have the names they have on :class:`SeriesInfo`.

    Attributes
    ----------
    fields
        :func:`describe_series` of the series (without its index).
    folders
        Every folder holding files of the series, in slice order.
    """

    fields: dict[str, Any]
    folders: tuple[Path, ...]

    @property
    def key(self) -> str:
        return str(self.fields["key"])

    @property
    def uid(self) -> str:
        return str(self.fields["uid"])

    @property
    def number(self) -> int | None:
        number: int | None = self.fields["number"]
        return number

    @property
    def description(self) -> str:
        return str(self.fields["description"])

    @property
    def modality(self) -> str:
        return str(self.fields["modality"])

    @property
    def rows(self) -> int:
        return int(self.fields["rows"])

    @property
    def columns(self) -> int:
        return int(self.fields["columns"])

    @property
    def n_slices(self) -> int:
        return int(self.fields["slices"])

    @property
    def transfer_syntaxes(self) -> tuple[str, ...]:
        return tuple(entry["uid"] for entry in self.fields["transfer_syntaxes"])

    @property
    def folder(self) -> Path:
        """Folder of the first file."""
        return Path(self.fields["folder"])

    def describe(self, index: int | None = None) -> dict[str, Any]:
        """:func:`describe_series` of the series, with its index in the list."""
        return {**self.fields, "index": index}


def summarise(series: SeriesInfo) -> SeriesSummary:
    """The :class:`SeriesSummary` of a series."""
    return SeriesSummary(describe_series(series),
                         tuple(dict.fromkeys(path.parent for path in series.files)))


def describe_skipped(skipped: SkippedFile) -> dict[str, str]:
    """Describe a skipped file: path, category and reason."""
    return {"path": str(skipped.path), "category": skipped.category, "reason": skipped.reason}


def describe_inventory(
    found: Sequence[SeriesInfo], inventory: Inventory
) -> dict[str, Any]:
    """The whole inventory of a scan: every series, then every skipped file with its reason.

    This is the JSON output of ``dicomio info`` (schema ``dicomio/schemas/info.schema.json``).
    """
    return {
        "schema": f"dicomio.info/{SCHEMA_VERSION}",
        "dicomio_version": __version__,
        "paths": [str(p) for p in inventory.roots],
        "series": [describe_series(s, i) for i, s in enumerate(found)],
        "skipped": [describe_skipped(s) for s in inventory.skipped],
    }
