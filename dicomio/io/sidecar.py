"""A JSON sidecar: the acquisition parameters BIDS asks for, read from the headers as dcm2niix
reads them.

:func:`sidecar` lays the series out as :func:`dicomio.load_4d` does and describes the image
written from it: values copied from the first image (of the first volume, first slice), times in
seconds, and the fields that depend on the image's axes — PhaseEncodingDirection and
SliceTiming — for the NIfTI image they go with (by default the one dicomio writes, whose rows
are not reversed as dcm2niix's are: a phase encoded down the columns is ``j`` there and ``j-``
in dcm2niix's image). :func:`write_sidecar` writes the JSON. Where it differs from dcm2niix's
on purpose is listed in docs/conversion.md.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from dicomio._version import __version__
from dicomio.dicom.diffusion import vendor
from dicomio.dicom.elements import attribute, frame_item, numbers, private, texts
from dicomio.dicom.frame import Frame
from dicomio.geometry.stack import GeometryTolerances
from dicomio.io.atomic import write_text_atomically
from dicomio.io.headers import SeriesHeaders, Source, series_headers
from dicomio.io.jsonsafe import json_safe
from dicomio.io.readout import phase_encoding_fields, plain, slice_timing

if TYPE_CHECKING:
    from dicomio.load import Scaling

__all__ = ["sidecar", "write_sidecar"]


@dataclass(frozen=True)
class _Field:
    """One value copied from the first image: its BIDS key, its DICOM keyword, how it is
    converted, and where an enhanced file keeps it (functional group, keyword there)."""

    key: str
    keyword: str
    kind: str = "text"  # text, texts, number (> 0), ms (> 0, to seconds), integer (> 0),
    #                     count (an integer > 1), factor (a number > 1)
    enhanced: tuple[str, str] | None = None


_FIELDS = (
    _Field("Modality", "Modality"),
    _Field("MagneticFieldStrength", "MagneticFieldStrength", "number"),
    _Field("ImagingFrequency", "ImagingFrequency", "number"),
    _Field("ManufacturersModelName", "ManufacturerModelName"),
    _Field("InstitutionName", "InstitutionName"),
    _Field("InstitutionalDepartmentName", "InstitutionalDepartmentName"),
    _Field("InstitutionAddress", "InstitutionAddress"),
    _Field("DeviceSerialNumber", "DeviceSerialNumber"),
    _Field("StationName", "StationName"),
    _Field("BodyPart", "BodyPartExamined"),
    _Field("PatientPosition", "PatientPosition"),
    _Field("ProcedureStepDescription", "PerformedProcedureStepDescription"),
    _Field("SoftwareVersions", "SoftwareVersions"),
    _Field("StudyDescription", "StudyDescription"),
    _Field("SeriesDescription", "SeriesDescription"),
    _Field("ProtocolName", "ProtocolName"),
    _Field("ScanningSequence", "ScanningSequence"),
    _Field("SequenceVariant", "SequenceVariant"),
    _Field("ScanOptions", "ScanOptions"),
    _Field("SequenceName", "SequenceName"),
    _Field("ImageType", "ImageType", "texts"),
    _Field("SeriesNumber", "SeriesNumber", "integer"),
    _Field("AcquisitionNumber", "AcquisitionNumber", "integer"),
    _Field("ImageComments", "ImageComments"),
    _Field("SliceThickness", "SliceThickness", "number", ("PixelMeasuresSequence",
                                                          "SliceThickness")),
    _Field("SpacingBetweenSlices", "SpacingBetweenSlices", "number",
           ("PixelMeasuresSequence", "SpacingBetweenSlices")),
    _Field("SAR", "SAR", "number"),
    _Field("EchoTime", "EchoTime", "ms", ("MREchoSequence", "EffectiveEchoTime")),
    _Field("RepetitionTime", "RepetitionTime", "ms",
           ("MRTimingAndRelatedParametersSequence", "RepetitionTime")),
    _Field("InversionTime", "InversionTime", "ms", ("MRModifierSequence", "InversionTimes")),
    _Field("FlipAngle", "FlipAngle", "number",
           ("MRTimingAndRelatedParametersSequence", "FlipAngle")),
    _Field("PercentPhaseFOV", "PercentPhaseFieldOfView", "number",
           ("MRFOVGeometrySequence", "PercentPhaseFieldOfView")),
    _Field("PercentSampling", "PercentSampling", "number",
           ("MRFOVGeometrySequence", "PercentSampling")),
    _Field("PixelBandwidth", "PixelBandwidth", "number",
           ("MRImagingModifierSequence", "PixelBandwidth")),
    _Field("EchoNumber", "EchoNumbers", "count"),
    _Field("EchoTrainLength", "EchoTrainLength", "count",
           ("MRTimingAndRelatedParametersSequence", "EchoTrainLength")),
    _Field("FrequencyEncodingSteps", "MRAcquisitionFrequencyEncodingSteps", "integer",
           ("MRFOVGeometrySequence", "MRAcquisitionFrequencyEncodingSteps")),
    _Field("PhaseEncodingStepsOutOfPlane", "MRAcquisitionPhaseEncodingStepsOutOfPlane",
           "integer", ("MRFOVGeometrySequence", "MRAcquisitionPhaseEncodingStepsOutOfPlane")),
    _Field("ParallelReductionFactorInPlane", "ParallelReductionFactorInPlane", "factor",
           ("MRModifierSequence", "ParallelReductionFactorInPlane")),
    _Field("ParallelReductionFactorOutOfPlane", "ParallelReductionFactorOutOfPlane", "factor",
           ("MRModifierSequence", "ParallelReductionFactorOutOfPlane")),
    _Field("ParallelAcquisitionTechnique", "ParallelAcquisitionTechnique", "text",
           ("MRModifierSequence", "ParallelAcquisitionTechnique")),
    _Field("PartialFourierDirection", "PartialFourierDirection", "text",
           ("MRModifierSequence", "PartialFourierDirection")),
    _Field("ConvolutionKernel", "ConvolutionKernel"),
    _Field("ExposureTime", "ExposureTime", "ms", ("CTExposureSequence", "ExposureTimeInms")),
    _Field("XRayTubeCurrent", "XRayTubeCurrent", "number",
           ("CTExposureSequence", "XRayTubeCurrentInmA")),
)

#: Manufacturer as BIDS (and dcm2niix) names it, by the start of the DICOM value.
_MANUFACTURERS = (("SIEMENS", "Siemens"), ("GE", "GE"), ("PHILIPS", "Philips"),
                  ("TOSHIBA", "Toshiba"), ("CANON", "Canon"), ("HITACHI", "Hitachi"),
                  ("BRUKER", "Bruker"), ("UIH", "UIH"), ("UNITED IMAGING", "UIH"),
                  ("MEDISO", "Mediso"))


def sidecar(
    source: Source,
    *,
    nifti_affine: ArrayLike | None = None,
    series: int | str | None = None,
    tolerances: GeometryTolerances = GeometryTolerances(),
    ignore_unreadable: bool = False,
    follow_symlinks: bool = False,
    scaling: Scaling = "modality",
) -> dict[str, Any]:
    """The BIDS sidecar of a series: the acquisition parameters its headers give.

    Parameters
    ----------
    source
        Files or folders, a :class:`~dicomio.SeriesInfo`, or the volume loaded from them.
    nifti_affine
        The NIfTI affine (RAS) of the image the sidecar describes; default: the image dicomio
        writes for the series.
    series, tolerances, ignore_unreadable, follow_symlinks
        As for :func:`dicomio.load_4d`.
    scaling
        The values the image holds (``scaling`` of :func:`dicomio.load_4d`): for a Philips
        image with a private scale slope, ``UsePhilipsFloatNotDisplayScaling`` says which,
        beside the scaling values it was made with, as dcm2niix writes them.

    Returns
    -------
    dict
        BIDS key → value (text, number, list), in dcm2niix's order; a value the headers do not
        give is left out, never null.
    """
    headers = series_headers(source, series=series, tolerances=tolerances,
                             ignore_unreadable=ignore_unreadable, follow_symlinks=follow_symlinks)
    first = headers.slices[0]
    dataset = headers.dataset(first)
    fields: dict[str, Any] = {}
    for field in _FIELDS:
        value = _copied(dataset, first.index, field)
        if value is not None:
            fields[field.key] = value
    fields = _with_manufacturer(fields, dataset)
    fields = _with_philips_scaling(fields, dataset, first, scaling)
    _timing(fields, headers, first)
    _sequence(fields, dataset, first)
    affine = None if nifti_affine is None else np.asarray(nifti_affine, dtype=np.float64)
    if affine is None and headers.layout.geometry is not None:
        affine = headers.default_nifti_affine()
    fields.update(phase_encoding_fields(headers, first, affine))
    if affine is not None:
        times = slice_timing(headers, affine, fields.get("RepetitionTime"))
        if times is not None:
            fields["SliceTiming"] = times
    if first.orientation is not None:
        fields["ImageOrientationPatientDICOM"] = [plain(v) for v in first.orientation]
    fields["ConversionSoftware"] = "dicomio"
    fields["ConversionSoftwareVersion"] = __version__
    return fields


def _copied(dataset: Any, frame: int, field: _Field) -> Any:
    raw = None
    if field.enhanced is not None:
        raw = frame_item(dataset, frame, *field.enhanced)
    if raw is None:
        raw = attribute(dataset, field.keyword)
    if raw is None:
        return None
    if field.kind in ("text", "texts"):
        items = [t for t in texts(raw) if t]
        if not items:
            return None
        return items if field.kind == "texts" else "\\".join(items)
    values = numbers(raw)
    if values is None or values[0] <= 0:
        return None
    if field.kind in ("integer", "count"):
        whole = values[0].is_integer() and (field.kind == "integer" or values[0] > 1)
        return int(values[0]) if whole else None
    if field.kind == "factor" and values[0] <= 1:
        return None
    return plain(values[0] / 1000.0 if field.kind == "ms" else values[0])


def _with_manufacturer(fields: dict[str, Any], dataset: Any) -> dict[str, Any]:
    """``fields`` with Manufacturer (as BIDS names it) after ImagingFrequency, as dcm2niix
    orders it."""
    raw = "\\".join(texts(attribute(dataset, "Manufacturer")))
    if not raw:
        return fields
    name = next((bids for prefix, bids in _MANUFACTURERS if raw.upper().startswith(prefix)), raw)
    ordered: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "ManufacturersModelName":
            ordered["Manufacturer"] = name
        ordered[key] = value
    ordered.setdefault("Manufacturer", name)
    return ordered


def _with_philips_scaling(fields: dict[str, Any], dataset: Any, first: Frame,
                          scaling: Scaling) -> dict[str, Any]:
    """``fields`` with the scaling values of a Philips image that has a private scale slope
    (2005,100E), after AcquisitionNumber as dcm2niix orders them: its real-world value
    mapping, RescaleSlope and RescaleIntercept, the scale slope, and which values the image
    holds (1: Philips' floating-point ones, ``scaling="philips_precise"``; 0: modality)."""
    if vendor(dataset) != "philips" or not first.scale_slope:
        return fields
    philips: dict[str, Any] = {}
    for name, keyword in (("PhilipsRWVSlope", "RealWorldValueSlope"),
                          ("PhilipsRWVIntercept", "RealWorldValueIntercept")):
        mapped = numbers(frame_item(dataset, first.index, "RealWorldValueMappingSequence",
                                    keyword))
        if mapped:
            philips[name] = plain(mapped[0])
    philips.update(PhilipsRescaleSlope=plain(first.slope),
                   PhilipsRescaleIntercept=plain(first.intercept),
                   PhilipsScaleSlope=plain(first.scale_slope),
                   UsePhilipsFloatNotDisplayScaling=int(scaling == "philips_precise"))
    at = next((i + 1 for i, key in enumerate(fields) if key == "AcquisitionNumber"), len(fields))
    items = list(fields.items())
    return dict(items[:at] + list(philips.items()) + items[at:])


def _timing(fields: dict[str, Any], headers: SeriesHeaders, first: Frame) -> None:
    """AcquisitionTime (``HH:MM:SS.ffffff``) and MRAcquisitionType."""
    dataset = headers.dataset(first)
    moment = _clock(attribute(dataset, "AcquisitionDateTime"), date=True) or \
        _clock(attribute(dataset, "AcquisitionTime")) or \
        _clock(frame_item(dataset, first.index, "FrameContentSequence",
                          "FrameAcquisitionDateTime"), date=True)
    if moment is not None:
        fields["AcquisitionTime"] = moment
    kind = "".join(texts(attribute(dataset, "MRAcquisitionType")))
    if kind in ("2D", "3D"):
        fields["MRAcquisitionType"] = kind


def _sequence(fields: dict[str, Any], dataset: Any, first: Frame) -> None:
    """PulseSequenceName, PhaseEncodingSteps (PhaseEncodingStepsNoPartialFourier for Philips
    partial-Fourier scans, as dcm2niix names it) and MTState."""
    maker = vendor(dataset)
    name = texts(attribute(dataset, "PulseSequenceName"))
    if not any(name):
        name = texts(private(dataset, 0x0019, "GEMS_ACQU_01", 0x9C) if maker == "ge" else
                     private(dataset, 0x2001, "Philips Imaging DD 001", 0x20)
                     if maker == "philips" else None)
    if any(name):
        fields["PulseSequenceName"] = "\\".join(name)
    steps = numbers(attribute(dataset, "NumberOfPhaseEncodingSteps"))
    if steps and steps[0] > 0 and steps[0].is_integer():
        partial = {"PFP", "PFF"} & set(texts(attribute(dataset, "ScanOptions")))
        if maker == "philips" and partial:
            fields["PartialFourierEnabled"] = "YES"
            fields["PhaseEncodingStepsNoPartialFourier"] = int(steps[0])
        else:
            fields["PhaseEncodingSteps"] = int(steps[0])
    transfer = "".join(texts(frame_item(dataset, first.index, "MRImagingModifierSequence",
                                        "MagnetizationTransfer"))).upper()
    if transfer:
        fields["MTState"] = transfer != "NONE"


def _clock(value: Any, date: bool = False) -> str | None:
    """The time of day of a DICOM TM (or DT, ``date``) as ``HH:MM:SS.ffffff``, or None."""
    text = "".join(texts(value)).split("+")[0].split("-")[0]
    text = text[8:] if date else text
    whole, _, fraction = text.partition(".")
    if len(whole) < 4 or not whole.isdigit() or (fraction and not fraction.isdigit()):
        return None
    whole = whole.ljust(6, "0")
    if int(whole[:2]) > 23 or int(whole[2:4]) > 59 or int(whole[4:6]) > 60:
        return None
    return f"{whole[:2]}:{whole[2:4]}:{whole[4:6]}.{fraction[:6].ljust(6, '0')}"


def write_sidecar(fields: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write ``fields`` as a JSON file (tab-indented, as dcm2niix's), atomically; a ``.nii`` or
    ``.nii.gz`` name is written as ``.json`` beside it. Returns the file written."""
    target = Path(path)
    for suffix in (".nii.gz", ".nii"):
        if target.name.endswith(suffix):
            target = target.with_name(target.name[:-len(suffix)] + ".json")
    text = json.dumps(json_safe(dict(fields)), indent="\t", allow_nan=False, ensure_ascii=False)
    return write_text_atomically(target, text + "\n")
