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
    │       └── InconsistentVolumeOrderError   a 4-D series whose volumes are not ordered alike
    │                                          at every position (a volume mixes time points)
    ├── UnsupportedTransferSyntaxError         (NotImplementedError)
    ├── MissingDecoderError                    (ImportError) names the pip extra that fixes it
    ├── BackendUnavailableError                (ImportError) names the pip extra that fixes it
    ├── InvalidArgumentError                   (ValueError) a function was given a value it does
    │   │                                      not take (``irregular="yes"``, ``workers=0``)
    │   └── UnknownBackendError                lists the registered backends
    ├── BackendCannotReadError                 (ValueError) the backend cannot read this series
    │   └── NotOnDiskError                     the toolkit opens files by name; these are an
    │                                          archive's members or in memory
    ├── BackendReadError                       (RuntimeError) the toolkit failed while reading
    ├── ConfigError                            (ValueError) a dicomio configuration file is wrong
    ├── SchedulerError                         (RuntimeError) a Dask cluster cannot do the work
    ├── DicomWebError                          a DICOMweb service failed (never shows credentials)
    │   ├── DicomWebNotFoundError              (LookupError) no such service, study or series
    │   ├── DicomWebConnectionError            (ConnectionError) refused, timed out, closed
    │   ├── DicomWebAuthError                  (PermissionError) 401 or 403
    │   ├── SeriesChangedError                 instances came or went during the retrieval
    │   └── DicomWebUnavailableError           (ImportError) dicomweb-client is not installed
    └── InternalError                          (RuntimeError) an unexpected failure on an input,
                                               carrying the original exception's type and message

Every error that concerns a file names it, in its message and in ``path``.

One warning class: :class:`MixedImagesWarning` (``UserWarning``), issued when a 4-D series is
loaded whose volumes are images of different kinds that nothing split apart.

Foreign exceptions (a ``ValueError`` from a conversion, pydicom's ``NotImplementedError`` for an
unknown VR, a ``RecursionError`` on deep nesting...) are translated into this tree in one place,
:func:`from_foreign` (or the :func:`translated` block), wherever a file or a series is
processed: a user catching :class:`DicomIOError` catches everything dicomio raises about its
data. ``KeyboardInterrupt`` and ``SystemExit`` are never translated, and neither is ``OSError``
(the file could not be read: the builtin already names it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
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
    "DecoderFailedError",
    "DicomIOError",
    "DicomWebAuthError",
    "DicomWebConnectionError",
    "DicomWebError",
    "DicomWebNotFoundError",
    "DicomWebUnavailableError",
    "GeometryError",
    "InconsistentVolumeOrderError",
    "InternalError",
    "InvalidArgumentError",
    "InvalidDicomError",
    "MissingDecoderError",
    "MissingGeometryError",
    "MixedImagesWarning",
    "MultipleSeriesError",
    "NoDicomFilesError",
    "NotOnDiskError",
    "Remedy",
    "RepeatedPositionsError",
    "SchedulerError",
    "SeriesChangedError",
    "SeriesNotFoundError",
    "UnknownBackendError",
    "UnreadableFilesError",
    "UnsupportedTransferSyntaxError",
    "from_foreign",
    "translated",
]

#: What ``path`` may be: a file or folder, or several (the paths a function was given).
PathArgument = str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None


@dataclass(frozen=True)
class Remedy:
    """An argument value that gets past an error, and what it does (``irregular="accept"``,
    "load the frames as stored"); or, with ``call``, the function of dicomio to call instead
    (``argument`` its name: ``load_4d``). The message says it in Python; the command line
    names its option instead (``--irregular accept``), from these fields, never from the
    text."""

    argument: str
    value: Any
    effect: str
    call: bool = False

    def python(self) -> str:
        """How a Python caller passes it: ``irregular='accept'``, or ``dicomio.load_4d()``."""
        return f"dicomio.{self.argument}()" if self.call else f"{self.argument}={self.value!r}"


def advice(remedies: Sequence[Remedy], name: Callable[[Remedy], str] = Remedy.python) -> str:
    """The sentence offering ``remedies``, each named by ``name`` ("" for none)."""
    if not remedies:
        return ""
    said = ", or ".join(f"{'use' if r.call else 'pass'} {name(r)} to {r.effect}"
                        for r in remedies)
    return said[0].upper() + said[1:] + "."


class DicomIOError(Exception):
    """Root of every error raised by dicomio.

    Parameters
    ----------
    message
        What went wrong, in words a user can act on.
    path
        The file (or folder) concerned, when there is one; or the several paths a function was
        given (``path`` is then the first, ``paths`` all of them, and the message names up to
        three).
    """

    def __init__(self, message: str, *, path: PathArgument = None,
                 remedies: Sequence[Remedy] = (), **context: Any) -> None:
        paths = _paths(path)
        self.remedies = tuple(remedies)
        self.message = message
        super().__init__(self._text(paths, Remedy.python))
        # After the builtin's __init__: ImportError's sets its own ``path`` to None.
        self.message = message
        self.paths = paths
        self.path = paths[0] if paths else None
        self.context = context

    def _text(self, paths: tuple[Path, ...], name: Callable[[Remedy], str]) -> str:
        said = advice(self.remedies, name)
        separator = "" if self.message.endswith("\n") or not said else " "
        text = f"{self.message}{separator}{said}"
        return f"{_shown(paths)}: {text}" if paths else text

    def explained(self, name: Callable[[Remedy], str]) -> str:
        """The message with its remedies named by ``name`` (the command line's options)."""
        return self._text(self.paths, name)


def _paths(path: PathArgument) -> tuple[Path, ...]:
    """``path`` as a tuple of paths (one, several or none)."""
    if path is None:
        return ()
    if isinstance(path, (str, os.PathLike)):
        return (_path(path),)
    return tuple(_path(p) for p in path)


def _path(given: str | os.PathLike[str]) -> Path:
    """``given`` as a path; a path kept as it is (a URL's name shows as the URL it is)."""
    return given if isinstance(given, Path) else Path(given)


def _shown(paths: tuple[Path, ...]) -> str:
    """The paths of a message: all of them up to three, then how many more."""
    shown = ", ".join(str(p) for p in paths[:3])
    return shown + (f" (and {len(paths) - 3} more)" if len(paths) > 3 else "")


class NoDicomFilesError(DicomIOError, FileNotFoundError):
    """No DICOM image was found where one was expected."""

    def __init__(
        self, message: str, *, path: PathArgument = None, skipped: Sequence[SkippedFile] = ()
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


class DecoderFailedError(CorruptDataError):
    """A decoder could not decode a frame whose structure is sound: another decoder may.

    dicomio's readers then try the next installed decoder (and ``backend="auto"`` the next
    backend), saying so in the provenance; raised when none could.
    """


class UnreadableFilesError(DicomIOError, OSError):
    """Some DICOM files of the input could not be read, so a volume might be incomplete.

    ``skipped`` lists them with their reasons; ``path`` is the first of them.
    """

    def __init__(self, skipped: Sequence[SkippedFile]) -> None:
        self.skipped = tuple(skipped)
        lines = "\n".join(f"  {s.path}: {s.reason}" for s in self.skipped)
        super().__init__(
            f"{len(self.skipped)} DICOM file(s) could not be read, so the volume could be "
            f"incomplete:\n{lines}\n",
            remedies=(Remedy("ignore_unreadable", True, "load the remaining files anyway"),))
        # Named in the lines above; the first one is the error's file.
        self.path = self.skipped[0].path if self.skipped else None
        self.paths = tuple(s.path for s in self.skipped)


class MultipleSeriesError(DicomIOError, ValueError):
    """The input holds several series (or stacks) and none was chosen."""

    def __init__(self, series: Sequence[SeriesInfo], *, path: PathArgument = None) -> None:
        self.series = tuple(series)
        rows = "\n".join(
            f"  [{i}] {s.key}  #{s.number if s.number is not None else '-'}  "
            f"{s.description or '(no description)'!r}  {s.modality or '?'}  "
            f"{s.n_slices}x{s.rows}x{s.columns}"
            + "".join(f"  {name}" for name in (s.image_kind, s.polarity) if name)
            for i, s in enumerate(self.series)
        )
        super().__init__(
            f"found {len(self.series)} series; choose one with series=<index> or its key "
            f"(series='<SeriesInstanceUID>', or '<uid>#<stack>' for a stack; see "
            f"dicomio.list_series):\n{rows}",
            path=path,
        )


class MixedImagesWarning(UserWarning):
    """A 4-D series was loaded whose volumes are images of different kinds (different
    ImageType; a GE B0 map's field map and magnitude that nothing tells apart): one array of
    apples and pears. The message says how they differ; ``provenance.warnings`` has it too."""


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
        path: PathArgument = None,
        issues: Sequence[GeometryIssue] = (),
        remedies: Sequence[Remedy] = (),
    ) -> None:
        self.issues = tuple(issues)
        super().__init__(message, path=path, remedies=remedies)


class MissingGeometryError(GeometryError):
    """Position, orientation or pixel spacing is absent, not finite, or not orthonormal."""


class RepeatedPositionsError(GeometryError):
    """Several different images share one position: a 4-D or multi-acquisition series."""


class InconsistentVolumeOrderError(RepeatedPositionsError):
    """Complete volumes of the same slices, but the key naming a volume (its
    TemporalPositionIndex/Identifier, or DimensionIndexValues) differs between its slice
    positions: the images of each position were not ordered alike, so a volume would mix time
    points. ``path`` lists the files that disagree."""


class UnsupportedTransferSyntaxError(DicomIOError, NotImplementedError):
    """No dicomio backend can decode this transfer syntax."""


class MissingDecoderError(DicomIOError, ImportError):  # type: ignore[misc]
    """The transfer syntax is known but the package that decodes it is not installed."""


class BackendUnavailableError(DicomIOError, ImportError):  # type: ignore[misc]
    """The requested backend's toolkit is not installed."""


class InvalidArgumentError(DicomIOError, ValueError):
    """A dicomio function was given an argument value it does not take (an unknown choice, a
    count below 1, a string for a flag); the message names the argument and what it takes.

    Raised before any file is read: a typo never silently behaves like another value.
    """


class UnknownBackendError(InvalidArgumentError):
    """No backend of the requested name is registered; the message lists those that are."""


class BackendCannotReadError(DicomIOError, ValueError):
    """The requested backend cannot read this series (compressed data for VTK, ...)."""


class NotOnDiskError(BackendCannotReadError):
    """The requested backend opens files on disk by name (SimpleITK, VTK, dcm2niix), and the
    series is read from an archive or from memory; the message names the backends that read
    it."""


class BackendReadError(DicomIOError, RuntimeError):
    """The toolkit failed while reading a series it claims to support."""


class ConfigError(DicomIOError, ValueError):
    """A configuration file (``--config``, ``[tool.dicomio]``) has an unknown key or bad value."""


class SchedulerError(DicomIOError, RuntimeError):
    """A Dask cluster cannot do the work: Dask is not installed, the scheduler cannot be
    reached or has no worker, or its workers run another dicomio or do not see the files."""


class DicomWebError(DicomIOError):
    """A DICOMweb service could not give the series: the message names the URL (without
    credentials) and what failed; nothing partial is returned."""


class DicomWebNotFoundError(DicomWebError, LookupError):
    """The URL names no DICOMweb service, or no study, series or instance on it."""


class DicomWebConnectionError(DicomWebError, ConnectionError):
    """The service could not be reached, did not answer in time, or stopped mid-series."""


class DicomWebAuthError(DicomWebError, PermissionError):
    """The service refused the credentials (401), or gave them no access (403)."""


class SeriesChangedError(DicomWebError):
    """The series changed on the server between its metadata and its instances' retrieval."""


class DicomWebUnavailableError(DicomWebError, ImportError):  # type: ignore[misc]
    """DICOMweb needs the optional package dicomweb-client; the message names the extra."""


class NotDicomError(InvalidDicomError):
    """The file's content is not DICOM (whatever its name)."""


class InternalError(DicomIOError, RuntimeError):
    """dicomio failed unexpectedly on an input: a foreign exception, translated.

    Built by :func:`from_foreign`. The message names the file (or series) and what was being
    done, then the original exception's type and message, also kept in ``original_type`` and
    ``original_message`` (and as ``__cause__`` in this process). An input that raises it is one
    dicomio does not handle yet: a report with the file helps fix it.
    """

    def __init__(self, message: str, *, path: PathArgument = None, original_type: str = "",
                 original_message: str = "") -> None:
        super().__init__(message, path=path)
        self.original_type = original_type
        self.original_message = original_message

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword arguments survive pickling (between worker processes).
        return (_rebuild_internal, (self.message, self.paths, self.original_type,
                                    self.original_message))


def _rebuild_internal(message: str, paths: tuple[Path, ...], original_type: str,
                      original_message: str) -> InternalError:
    return InternalError(message, path=paths or None, original_type=original_type,
                         original_message=original_message)


def from_foreign(exc: BaseException, path: PathArgument, what: str) -> BaseException:
    """The dicomio error to raise for ``exc``, raised while doing ``what`` on ``path``.

    The one translation of foreign exceptions into the tree:

    - a :class:`DicomIOError` is returned as it is (it names its file already);
    - ``KeyboardInterrupt``, ``SystemExit`` and other exceptions that are not ``Exception``
      are returned as they are: never swallowed;
    - ``OSError`` is returned as it is (the file could not be read; the builtin names it);
    - anything else (``RecursionError``, ``OverflowError``, ``ValueError``, ``TypeError``,
      ``AssertionError``, ``NotImplementedError``, ``struct.error``, ``IndexError``,
      ``KeyError``, ``UnicodeError``, ``MemoryError``, a toolkit's own type...) becomes an
      :class:`InternalError` naming ``path``, saying ``what`` was being done, and carrying
      the original type and message.

    Use it as ``raise from_foreign(exc, path, "reading the header") from exc``, or through
    :func:`translated`.
    """
    if isinstance(exc, DicomIOError) or not isinstance(exc, Exception) or \
            isinstance(exc, OSError):
        return exc
    kind = type(exc).__name__
    text = _original_message(exc)
    return InternalError(f"{what} failed unexpectedly: {kind}: {text}", path=path,
                         original_type=kind, original_message=text)


def _original_message(exc: BaseException) -> str:
    """The original message, short: a RecursionError's or a toolkit's can be long."""
    text = str(exc) or "(no message)"
    return text if len(text) <= 500 else text[:500] + "..."


@contextmanager
def translated(path: PathArgument, what: str) -> Iterator[None]:
    """Run a block, raising :func:`from_foreign`'s translation of any foreign exception.

    >>> with translated("scan/IM_0001", "reading the Siemens private header"):  # doctest: +SKIP
    ...     count = int(value)
    """
    try:
        yield
    except Exception as exc:
        error = from_foreign(exc, path, what)
        if error is exc:
            raise
        raise error from exc
