"""dicomio: DICOM image series to NumPy volumes you can trust.

>>> import dicomio
>>> vol = dicomio.load_volume("scan/")            # doctest: +SKIP
>>> vol.array.shape, vol.affine                    # doctest: +SKIP

Importing dicomio never imports SimpleITK or VTK: backends load their toolkit when they read.
"""

from __future__ import annotations

from dicomio._version import __version__
from dicomio.errors import (
    BackendCannotReadError,
    BackendReadError,
    BackendUnavailableError,
    ConfigError,
    CorruptDataError,
    DecoderFailedError,
    DicomIOError,
    DicomWebAuthError,
    DicomWebConnectionError,
    DicomWebError,
    DicomWebNotFoundError,
    DicomWebUnavailableError,
    GeometryError,
    InconsistentVolumeOrderError,
    InternalError,
    InvalidArgumentError,
    InvalidDicomError,
    MissingDecoderError,
    MissingGeometryError,
    MixedImagesWarning,
    MultipleSeriesError,
    NoDicomFilesError,
    NotOnDiskError,
    RepeatedPositionsError,
    SchedulerError,
    SeriesChangedError,
    SeriesNotFoundError,
    UnknownBackendError,
    UnreadableFilesError,
    UnsupportedTransferSyntaxError,
)
from dicomio.geometry.stack import GeometryIssue, GeometryTolerances
from dicomio.load import load_4d, load_volume
from dicomio.series.choose import list_series, scan
from dicomio.series.discover import discover
from dicomio.series.info import SeriesInfo
from dicomio.series.inventory import Inventory, SkippedFile
from dicomio.sources.web_settings import DicomWebSettings, dicomweb_settings
from dicomio.volume import Provenance, Volume, Volume4D

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
    "DicomWebSettings",
    "DicomWebUnavailableError",
    "GeometryError",
    "GeometryIssue",
    "GeometryTolerances",
    "InconsistentVolumeOrderError",
    "InternalError",
    "InvalidArgumentError",
    "InvalidDicomError",
    "Inventory",
    "MissingDecoderError",
    "MissingGeometryError",
    "MixedImagesWarning",
    "MultipleSeriesError",
    "NoDicomFilesError",
    "NotOnDiskError",
    "Provenance",
    "RepeatedPositionsError",
    "SchedulerError",
    "SeriesChangedError",
    "SeriesInfo",
    "SeriesNotFoundError",
    "SkippedFile",
    "UnknownBackendError",
    "UnreadableFilesError",
    "UnsupportedTransferSyntaxError",
    "Volume",
    "Volume4D",
    "__version__",
    "dicomweb_settings",
    "discover",
    "list_series",
    "load_4d",
    "load_volume",
    "scan",
]
