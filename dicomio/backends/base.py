"""What a backend is: a spec (data, importable without the toolkit) and a reader."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from dicomio.dicom.types import FileHeader
from dicomio.extras import pip_install
from dicomio.geometry.conventions import affine_from_xyz
from dicomio.pixels.pydicom_read import Slot
from dicomio.pixels.values import output_dtype
from dicomio.series.info import SeriesInfo

__all__ = [
    "Backend",
    "BackendSpec",
    "ReadOptions",
    "ReadResult",
    "ReportedGeometry",
    "has_multi_frame_files",
    "ignored_decoder",
    "slots_by_file",
    "unencodable_file_name",
    "volume_dtype",
]


@dataclass(frozen=True)
class ReadOptions:
    """How to read a series (the options of :func:`dicomio.load_volume` that reach backends).

    Attributes
    ----------
    rescale
        Return modality values (True) or stored values (False).
    workers
        Threads to decode with; None chooses the number of usable cores.
    decoder
        Force one decoder (``"imagecodecs"``, ``"pylibjpeg"``, ...) where the backend lets one
        be chosen.
    keep_high_bits
        Return the stored bit patterns with the bits above BitsStored as decoded: neither
        masked nor sign-extended (``finish_frame(..., keep_high_bits=True)``). Only with
        ``rescale`` False. The read stage asks for it to count the values that use those bits
        from the one decode, then masks them itself (:func:`dicomio.read.read_series`).
    """

    rescale: bool = True
    workers: int | None = None
    decoder: str | None = None
    keep_high_bits: bool = False

    def __post_init__(self) -> None:
        if self.keep_high_bits and self.rescale:
            raise ValueError("keep_high_bits=True returns stored bit patterns: it needs "
                             "rescale=False")


@dataclass(frozen=True)
class ReportedGeometry:
    """The geometry a toolkit itself reports, converted to the contract's array-axis order.

    ``origin`` is in LPS mm; ``spacing`` is (slice, row, column); ``direction`` has one unit
    column per array axis (slice, row, column), as in :attr:`dicomio.Volume.direction`.

    Attributes
    ----------
    origin, spacing, direction
        The toolkit's image grid.
    positions
        Where the toolkit itself puts the first voxel of each slice (LPS mm), in the volume's
        slice order, when it says so slice by slice (pydicom reads each file's
        ImagePositionPatient; dcm2niix's grid at each slice); empty when the grid says it all.
    has_direction
        False when the toolkit has no notion of direction (VTK's DICOM reader): ``direction``
        is then the identity it implies.
    source
        What the values are, in a few words (``"SimpleITK Image origin, spacing,
        direction"``...).
    """

    origin: tuple[float, float, float]
    spacing: tuple[float, float, float]
    direction: tuple[tuple[float, float, float], ...]
    positions: tuple[tuple[float, float, float], ...] = ()
    has_direction: bool = True
    source: str = ""

    def affine(self) -> NDArray[np.float64]:
        """The 4×4 affine these values describe."""
        matrix = np.eye(4)
        matrix[:3, :3] = np.asarray(self.direction, dtype=float) * np.asarray(self.spacing)
        matrix[:3, 3] = self.origin
        return matrix

    def slice_origins(self, n_slices: int) -> NDArray[np.float64]:
        """Where the toolkit puts the first voxel of each of ``n_slices`` slices (n, 3): its
        ``positions`` when it gave one per slice, else its grid's."""
        if len(self.positions) == n_slices:
            return np.asarray(self.positions, dtype=np.float64)
        affine = self.affine()
        return np.arange(n_slices)[:, None] * affine[:3, 0] + affine[:3, 3]

    def with_rows_reversed(self, rows: int) -> ReportedGeometry:
        """The same claim for the images with their ``rows`` rows the other way round: row
        ``j`` is where the toolkit put row ``rows - 1 - j`` (the first voxel of each slice
        moves to its last row, the column axis turns round)."""
        matrix = np.asarray(self.direction, dtype=np.float64).copy()
        shift = (rows - 1) * matrix[:, 1] * self.spacing[1]
        matrix[:, 1] *= -1

        def moved(point: Sequence[float]) -> tuple[float, float, float]:
            x, y, z = (float(v) for v in np.asarray(point, dtype=np.float64) + shift)
            return (x, y, z)

        return replace(self, origin=moved(self.origin),
                       direction=tuple((float(a), float(b), float(c)) for a, b, c in matrix),
                       positions=tuple(moved(p) for p in self.positions))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (what :meth:`from_dict` reads back)."""
        return {
            "origin": [float(v) for v in self.origin],
            "spacing": [float(v) for v in self.spacing],
            "direction": [[float(v) for v in row] for row in self.direction],
            "positions": [[float(v) for v in p] for p in self.positions],
            "has_direction": self.has_direction,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReportedGeometry:
        """The geometry :meth:`to_dict` wrote (``positions``, ``has_direction`` and ``source``
        optional)."""
        def triple(values: Sequence[float]) -> tuple[float, float, float]:
            x, y, z = (float(v) for v in values)
            return (x, y, z)

        return cls(
            origin=triple(data["origin"]),
            spacing=triple(data["spacing"]),
            direction=tuple(triple(row) for row in data["direction"]),
            positions=tuple(triple(p) for p in data.get("positions", ())),
            has_direction=bool(data.get("has_direction", True)),
            source=str(data.get("source", "")),
        )

    @classmethod
    def from_xyz(
        cls, origin: Sequence[float], spacing: Sequence[float], direction: Sequence[float],
        **details: Any,
    ) -> ReportedGeometry:
        """Convert a toolkit's (x, y, z) image geometry into the contract's axis order.

        ITK and VTK index images as (x, y, z) = (column, row, slice), the reverse of the
        array axes, and give ``direction`` as a row-major 3×3 matrix whose columns are the
        x, y and z directions. ``details`` sets the other fields (``has_direction``,
        ``source``).
        """
        affine = affine_from_xyz(origin, spacing, direction)
        steps = np.linalg.norm(affine[:3, :3], axis=0)
        x, y, z = (float(v) for v in affine[:3, 3])
        return cls(
            origin=(x, y, z),
            spacing=(float(steps[0]), float(steps[1]), float(steps[2])),
            direction=tuple((float(a), float(b), float(c)) for a, b, c in affine[:3, :3] / steps),
            **details,
        )


@dataclass
class ReadResult:
    """What a backend returns: the array of the contract and how it was obtained."""

    array: NDArray[Any]
    decoders: tuple[str, ...] = ()
    warnings: list[str] = field(default_factory=list)
    reported_geometry: ReportedGeometry | None = None


class Backend(Protocol):
    """A reader of one toolkit.

    ``read`` returns the array in the contract's axis order, dtype and values: ``(slice, row,
    column[, sample])`` in the order of ``series.frames``, passed through
    :func:`dicomio.pixels.values.finish_frame` semantics (stored values masked and sign-extended,
    rescaled when asked).
    """

    def read(self, series: SeriesInfo, options: ReadOptions) -> ReadResult:
        ...


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


@dataclass(frozen=True)
class BackendSpec:
    """A backend described as data: nothing here imports the toolkit.

    Attributes
    ----------
    name
        What users pass as ``backend=``.
    module
        Module holding the reader class ``Reader``; imported only to read.
    requires
        Import names that must be installed (checked with :func:`importlib.util.find_spec`).
    distribution
        The distribution whose version is reported.
    extra
        The pip extra that installs the toolkit (``dicomio[extra]``), or None when it always is.
    summary
        One line for ``dicomio backends``.
    syntaxes
        Returns the transfer syntax UIDs it can decode (as installed now).
    unable
        Returns why the backend cannot read a series, or None when it can.
    decoder_check
        Whether ``validate --cross-check``, a decoder-disagreement check, runs this backend.
        False for a backend that groups the files into series by its own rules (dcm2niix):
        where it splits a sound series it has not decoded anything differently, so that is
        no finding; ``dicomio compare`` still runs it.
    files_only
        Whether the toolkit opens the files by name, so that it reads only files on disk, not
        an archive's members nor data in memory (:mod:`dicomio.sources`).
    decodes
        Returns whether it decodes one transfer syntax UID; None: whether ``syntaxes()`` holds
        it. dicomio's own readers answer for a native syntax without asking pydicom which
        plugins are installed (which imports its whole pixel stack).
    """

    name: str
    module: str
    requires: tuple[str, ...]
    distribution: str
    extra: str | None
    summary: str
    syntaxes: Callable[[], frozenset[str]]
    unable: Callable[[SeriesInfo], str | None]
    decoder_check: bool = True
    files_only: bool = False
    decodes: Callable[[str], bool] | None = None

    def installed(self) -> bool:
        return all(_installed(m) for m in self.requires)

    def version(self) -> str | None:
        from importlib import metadata  # not at import: it costs a fresh process ~20 ms

        try:
            return metadata.version(self.distribution)
        except metadata.PackageNotFoundError:
            return None

    def install_hint(self) -> str:
        if self.extra is None:
            return f"pip install {self.distribution}"
        return pip_install(self.extra)

    def cannot_read(self, series: SeriesInfo) -> str | None:
        """Why this backend cannot read ``series`` (not installed included), or None."""
        if not self.installed():
            return f"not installed ({self.install_hint()})"
        decodes = self.decodes or (lambda uid: uid in self.syntaxes())
        for uid in series.transfer_syntaxes:
            if not decodes(uid):
                from dicomio.dicom.transfer_syntax import lookup

                return f"cannot decode {lookup(uid)}"
        if self.files_only:
            away = not_on_disk(series)
            if away is not None:
                return away
        return self.unable(series)

    def reader(self) -> Backend:
        module = importlib.import_module(self.module)
        reader: Backend = module.Reader()
        return reader


def not_on_disk(series: SeriesInfo) -> str | None:
    """Why a toolkit that opens files by name cannot read ``series``: a file of it is an
    archive's member or held in memory; else None."""
    away = next((h for h in series.headers if not h.on_disk), None)
    if away is None:
        return None
    return (f"opens files on disk by name, and {away.path} is {away.origin.kind} (not a file "
            f"on disk)")


def ignored_decoder(options: ReadOptions, library: str) -> list[str]:
    """The warning a toolkit backend records when asked for a decoder: it decodes with its own
    ``library`` and cannot use another."""
    if options.decoder is None:
        return []
    return [f"decoder={options.decoder!r} ignored: this backend decodes with {library}"]


def has_multi_frame_files(series: SeriesInfo) -> bool:
    """Whether a file of the series holds several frames (toolkits read one image per file)."""
    return any(h.pixel is not None and h.pixel.number_of_frames > 1 for h in series.headers)


def unencodable_file_name(series: SeriesInfo, toolkit: str) -> str | None:
    """Why ``toolkit`` cannot be handed the files of ``series`` by name: a file name that is
    not UTF-8 text (a toolkit takes its file names as text); else None."""
    for path in series.files:
        try:
            str(path).encode("utf-8")
        except UnicodeEncodeError:
            return (f"{str(path)!r}: a file name that is not UTF-8 text ({toolkit} takes file "
                    f"names as UTF-8 text)")
    return None


def slots_by_file(series: SeriesInfo) -> list[tuple[FileHeader, list[Slot]]]:
    """Group the frames of a series by file, each with the slices it fills."""
    by_file: dict[int, tuple[FileHeader, list[Slot]]] = {}
    for k, frame in enumerate(series.frames):
        entry = by_file.setdefault(id(frame.header), (frame.header, []))
        entry[1].append((frame.index, k, frame.slope, frame.intercept))
    return list(by_file.values())


def volume_dtype(series: SeriesInfo, options: ReadOptions) -> np.dtype[Any]:
    """The output dtype of the contract for this series (the same for every backend)."""
    return output_dtype(
        ((f.header.pixel, f.slope, f.intercept) for f in series.frames
         if f.header.pixel is not None),
        rescale=options.rescale)
