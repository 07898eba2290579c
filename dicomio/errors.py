"""Every error dicomio raises, in one tree.

Each class also derives from the builtin exception that fits, so plain ``except
FileNotFoundError`` or ``except ValueError`` clauses keep working::

    DicomIOError
    ├── NoDicomFilesError                      (FileNotFoundError)
    ├── InvalidDicomError                      (ValueError)
    │   └── CorruptDataError                   pixel data truncated, too long or undecodable
    ├── UnreadableFilesError                   (OSError) DICOM files of the folder could not be read
    ├── MultipleSeriesError                    (ValueError) lists the series and how to pick one
    ├── SeriesNotFoundError                    (LookupError) ``series=`` matched nothing
    ├── GeometryError                          (ValueError) carries the ``GeometryIssue`` list
    │   ├── MissingGeometryError               position, orientation or spacing absent or invalid
    │   └── RepeatedPositionsError             images share a position: 4-D, multi-acquisition
    ├── UnsupportedTransferSyntaxError         (NotImplementedError)
    ├── MissingDecoderError                    (ImportError) names the pip extra that fixes it
    ├── BackendUnavailableError                (ImportError) names the pip extra that fixes it
    ├── UnknownBackendError                    (ValueError) lists the registered backends
    ├── BackendCannotReadError                 (ValueError) the backend cannot read this series
    ├── BackendReadError                       (RuntimeError) the toolkit failed while reading
    ├── ConfigError                            (ValueError) a dicomio configuration file is wrong
    └── SchedulerError                         (RuntimeError) a Dask cluster cannot do the work

Every error that concerns a file names it, in its message and in ``path``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dicomio.geometry.stack import GeometryIssue
    from dicomio.series.info import SeriesInfo
    from dicomio.series.inventory import SkippedFile

__all__ = [
    "BackendCannotReadError",
    "BackendReadError",
    "BackendUnavailableError",
    "ConfigError",
    "CorruptDataError",
    "DicomIOError",
    "GeometryError",
    "InvalidDicomError",
    "MissingDecoderError",
    "MissingGeometryError",
    "MultipleSeriesError",
    "NoDicomFilesError",
    "RepeatedPositionsError",
    "SchedulerError",
    "SeriesNotFoundError",
    "UnknownBackendError",
    "UnreadableFilesError",
    "UnsupportedTransferSyntaxError",
]


class DicomIOError(Exception):
    """Root of every error raised by dicomio.

    Parameters
    ----------
    message
        What went wrong, in words a user can act on.
    path
        The file (or folder) concerned, when there is one.
    """

    def __init__(self, message: str, *, path: str | Path | None = None, **context: Any) -> None:
        super().__init__(f"{path}: {message}" if path is not None else message)
        # After the builtin's __init__: ImportError's sets its own ``path`` to None.
        self.message = message
        self.path = Path(path) if path is not None else None
        self.context = context


class NoDicomFilesError(DicomIOError, FileNotFoundError):
    """No DICOM image was found where one was expected."""

    def __init__(
        self, message: str, *, path: str | Path | None = None, skipped: Sequence[SkippedFile] = ()
    ) -> None:
        self.skipped = tuple(skipped)
        if self.skipped:
            shown = "; ".join(f"{s.path.name}: {s.reason}" for s in self.skipped[:5])
            more = f" (and {len(self.skipped) - 5} more)" if len(self.skipped) > 5 else ""
            message = f"{message}; skipped {len(self.skipped)} file(s): {shown}{more}"
        super().__init__(message, path=path)


class InvalidDicomError(DicomIOError, ValueError):
    """A file is not valid DICOM, or not one dicomio can use."""


class CorruptDataError(InvalidDicomError):
    """Pixel data is truncated, longer than declared, or cannot be decoded."""


class UnreadableFilesError(DicomIOError, OSError):
    """Some DICOM files of the input could not be read, so a volume might be incomplete."""

    def __init__(self, skipped: Sequence[SkippedFile]) -> None:
        self.skipped = tuple(skipped)
        lines = "\n".join(f"  {s.path}: {s.reason}" for s in self.skipped)
        super().__init__(
            f"{len(self.skipped)} DICOM file(s) could not be read, so the volume could be "
            f"incomplete:\n{lines}\nPass ignore_unreadable=True to load the remaining files anyway."
        )


class MultipleSeriesError(DicomIOError, ValueError):
    """The input holds several series (or stacks) and none was chosen."""

    def __init__(self, series: Sequence[SeriesInfo], *, path: str | Path | None = None) -> None:
        self.series = tuple(series)
        rows = "\n".join(
            f"  [{i}] {s.uid}  #{s.number if s.number is not None else '-'}  "
            f"{s.description or '(no description)'!r}  {s.modality or '?'}  "
            f"{s.rows}x{s.columns}x{s.n_slices}"
            for i, s in enumerate(self.series)
        )
        super().__init__(
            f"found {len(self.series)} series; choose one with series=<index> or "
            f"series='<SeriesInstanceUID>' (see dicomio.list_series):\n{rows}",
            path=path,
        )


class SeriesNotFoundError(DicomIOError, LookupError):
    """The ``series=`` selector matched no series."""


class GeometryError(DicomIOError, ValueError):
    """The slices do not form a regular volume (gaps, irregular spacing, tilt...).

    ``issues`` holds the structured findings (see :class:`dicomio.geometry.stack.GeometryIssue`).
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        issues: Sequence[GeometryIssue] = (),
    ) -> None:
        self.issues = tuple(issues)
        super().__init__(message, path=path)


class MissingGeometryError(GeometryError):
    """Position, orientation or pixel spacing is absent, not finite, or not orthonormal."""


class RepeatedPositionsError(GeometryError):
    """Several different images share one position: a 4-D or multi-acquisition series."""


class UnsupportedTransferSyntaxError(DicomIOError, NotImplementedError):
    """No dicomio backend can decode this transfer syntax."""


class MissingDecoderError(DicomIOError, ImportError):  # type: ignore[misc]
    """The transfer syntax is known but the package that decodes it is not installed."""


class BackendUnavailableError(DicomIOError, ImportError):  # type: ignore[misc]
    """The requested backend's toolkit is not installed."""


class UnknownBackendError(DicomIOError, ValueError):
    """No backend of the requested name is registered; the message lists those that are."""


class BackendCannotReadError(DicomIOError, ValueError):
    """The requested backend cannot read this series (compressed data for VTK, ...)."""


class BackendReadError(DicomIOError, RuntimeError):
    """The toolkit failed while reading a series it claims to support."""


class ConfigError(DicomIOError, ValueError):
    """A configuration file (``--config``, ``[tool.dicomio]``) has an unknown key or bad value."""


class SchedulerError(DicomIOError, RuntimeError):
    """A Dask cluster cannot do the work: Dask is not installed, the scheduler cannot be
    reached or has no worker, or its workers run another dicomio or do not see the files."""


class NotDicomError(InvalidDicomError):
    """The file's content is not DICOM (whatever its name)."""
