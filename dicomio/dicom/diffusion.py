"""The diffusion weighting of one image as its vendor stores it: a b-value and a gradient.

Where each vendor keeps them, in the order they are tried:

- every vendor, enhanced (multi-frame) files: the MR Diffusion functional group (0018,9117) of
  the frame — DiffusionBValue (0018,9087), DiffusionDirectionality (0018,9075) and the
  DiffusionGradientOrientation (0018,9089) of its gradient sequence (0018,9076);
- Siemens: the CSA image header (0029,xx10) — ``B_value``, ``DiffusionGradientDirection`` —
  then the older private elements of "SIEMENS MR HEADER" (0019,xx0C) b-value and (0019,xx0E)
  direction;
- GE: (0043,1039), whose first value is the b-value (a flag of 10^9 may be added to it), and
  (0019,10BB), (0019,10BC), (0019,10BD), the three components of the direction;
- Philips classic files: (2001,1003) b-value and (2005,10B0/B1/B2) the direction, or the
  standard (0018,9087) and (0018,9089) they carry beside them;
- any vendor: the standard (0018,9087) and (0018,9089) at the top level of a classic file.

The standard elements, Siemens' and Philips' directions are in the patient frame (LPS). GE's
are not: they are relative to the image, and are turned into the patient frame by
:func:`ge_patient_direction`, which applies dcm2niix's reading of them (``geCorrectBvecs``,
from Xiangrui Li's dicm2nii, validated on GE data) and undoes dcm2niix's output frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from dicomio.dicom.csa import CsaError, number, parse_csa, vector
from dicomio.dicom.elements import attribute, first_number, functional_items, numbers, private
from dicomio.dicom.elements import text as text_of

__all__ = ["NO_WEIGHTING", "StoredGradient", "ge_patient_direction", "ge_scaled", "read_gradient",
           "vendor"]

#: A b-value at or below this is no diffusion weighting (dcm2niix's FLT_EPSILON).
NO_WEIGHTING = float(np.finfo(np.float32).eps)

_CSA = "SIEMENS CSA HEADER"
_SIEMENS_MR = "SIEMENS MR HEADER"
_GE_ACQUISITION = "GEMS_ACQU_01"
_GE_PARAMETERS = "GEMS_PARM_01"
_PHILIPS_IMAGING = "Philips Imaging DD 001"
_PHILIPS_MR = "Philips MR Imaging DD 001"
_GE_FLAG = 1_000_000_000  # GE adds this to a b-value of (0043,1039) as a flag


@dataclass(frozen=True)
class StoredGradient:
    """The b-value and gradient direction of one image, as stored.

    Attributes
    ----------
    bvalue
        In s/mm².
    vector
        The direction as stored (three numbers), None when the file has none (a b=0 image, a
        derived trace image).
    frame
        ``"patient"``: the DICOM patient frame (LPS); ``"ge"``: GE's image-relative components,
        to be placed by :func:`ge_patient_direction`.
    source
        The elements it was read from.
    isotropic
        The file says this image is a derived isotropic (trace) image.
    """

    bvalue: float
    vector: tuple[float, float, float] | None
    frame: Literal["patient", "ge"]
    source: str
    isotropic: bool = False


def vendor(dataset: Any) -> str:
    """``"siemens"``, ``"ge"``, ``"philips"`` or ``"other"``, from the Manufacturer."""
    name = text_of(attribute(dataset, "Manufacturer")).upper()
    if "SIEMENS" in name:
        return "siemens"
    if name.startswith("GE") or "GENERAL ELECTRIC" in name:
        return "ge"
    if "PHILIPS" in name:
        return "philips"
    return "other"


def _direction(values: Sequence[float] | None) -> tuple[float, float, float] | None:
    if values is None or len(values) < 3:
        return None
    return (float(values[0]), float(values[1]), float(values[2]))


def _isotropic(directionality: Any) -> bool:
    return text_of(directionality).upper() == "ISOTROPIC"


def _enhanced(dataset: Any, frame: int) -> StoredGradient | None:
    """From the MR Diffusion functional group of an enhanced file's frame."""
    for item in functional_items(dataset, frame, "MRDiffusionSequence"):
        bvalue = first_number(attribute(item, "DiffusionBValue"))
        if bvalue is None:
            continue
        direction = None
        for gradient in attribute(item, "DiffusionGradientDirectionSequence") or ():
            direction = _direction(numbers(attribute(gradient, "DiffusionGradientOrientation")))
        return StoredGradient(bvalue, direction, "patient", "MR Diffusion sequence (0018,9117)",
                              _isotropic(attribute(item, "DiffusionDirectionality")))
    return None


def _standard(dataset: Any) -> StoredGradient | None:
    """From the standard elements at the top level of a classic file."""
    bvalue = first_number(attribute(dataset, "DiffusionBValue"))
    if bvalue is None:
        return None
    direction = _direction(numbers(attribute(dataset, "DiffusionGradientOrientation")))
    return StoredGradient(bvalue, direction, "patient", "(0018,9087)/(0018,9089)",
                          _isotropic(attribute(dataset, "DiffusionDirectionality")))


def _siemens(dataset: Any) -> StoredGradient | None:
    """From the CSA image header, else from the private (0019,xx0C)/(0019,xx0E)."""
    raw = private(dataset, 0x0029, _CSA, 0x10)
    if isinstance(raw, bytes):
        try:
            elements = parse_csa(raw)
        except CsaError:
            elements = {}
        bvalue = number(elements, "B_value")
        if bvalue is not None:
            return StoredGradient(bvalue, _direction(vector(elements, "DiffusionGradientDirection",
                                                            3)),
                                  "patient", "CSA B_value/DiffusionGradientDirection")
    bvalue = first_number(private(dataset, 0x0019, _SIEMENS_MR, 0x0C))
    if bvalue is None:
        return None
    direction = _direction(numbers(private(dataset, 0x0019, _SIEMENS_MR, 0x0E), binary="d"))
    return StoredGradient(bvalue, direction, "patient", "(0019,xx0C)/(0019,xx0E)",
                          _isotropic(private(dataset, 0x0019, _SIEMENS_MR, 0x0D)))


def _ge(dataset: Any) -> StoredGradient | None:
    """From (0043,1039) and (0019,10BB/BC/BD)."""
    bvalue = first_number(private(dataset, 0x0043, _GE_PARAMETERS, 0x39))
    if bvalue is None:
        return None
    if bvalue >= _GE_FLAG:
        bvalue %= _GE_FLAG
    parts = [first_number(private(dataset, 0x0019, _GE_ACQUISITION, element))
             for element in (0xBB, 0xBC, 0xBD)]
    direction = None if any(p is None for p in parts) else _direction(parts)  # type: ignore[arg-type]
    return StoredGradient(bvalue, direction, "ge", "(0043,1039)/(0019,10BB-10BD)")


def _philips(dataset: Any) -> StoredGradient | None:
    """From (2001,1003) and (2005,10B0/B1/B2)."""
    bvalue = first_number(private(dataset, 0x2001, _PHILIPS_IMAGING, 0x03), binary="f")
    if bvalue is None:
        return None
    parts = [first_number(private(dataset, 0x2005, _PHILIPS_MR, element), binary="f")
             for element in (0xB0, 0xB1, 0xB2)]
    direction = None if any(p is None for p in parts) else _direction(parts)  # type: ignore[arg-type]
    isotropic = text_of(private(dataset, 0x2001, _PHILIPS_IMAGING, 0x04)).upper() == "I"
    return StoredGradient(bvalue, direction, "patient", "(2001,1003)/(2005,10B0-10B2)",
                          isotropic)


def read_gradient(dataset: Any, frame: int = 0) -> StoredGradient | None:
    """The b-value and gradient of frame ``frame`` of ``dataset`` (a pydicom ``Dataset``), or
    None when the file holds no diffusion weighting (see the module's description for where
    each vendor keeps it)."""
    if "PerFrameFunctionalGroupsSequence" in dataset:
        found = _enhanced(dataset, frame)
        if found is not None:
            return found
    readers = {"siemens": (_siemens, _standard), "ge": (_ge, _standard),
               "philips": (_standard, _philips)}.get(vendor(dataset), (_standard,))
    for reader in readers:
        found = reader(dataset)
        if found is not None:
            return found
    return None


def ge_scaled(bvalue: float, stored: Sequence[float]) -> tuple[float, NDArray[np.float64]]:
    """GE's b-value and direction when the stored direction is shorter than 1.

    GE scales the gradient instead of the b-value for some schemes: a direction of length
    ``g`` between 0.03 and 0.97 means the b-value ``bvalue × g²``, rounded to a multiple of 5
    (at least 5), as dcm2niix reads it (issues 163 and 245); the direction is rescaled to match.
    """
    direction = np.asarray(stored, dtype=np.float64)
    length = float(np.linalg.norm(direction))
    if not 0.03 < length < 0.97:
        return bvalue, direction
    weighted = bvalue * length * length
    scaled = 5.0 if 0 < weighted < 5 else float(int((weighted + 2.5) / 5) * 5)
    factor = 0.0 if scaled == 0 else float(np.sqrt(bvalue / scaled))
    return scaled, direction * factor


def ge_patient_direction(stored: Sequence[float] | NDArray[np.float64],
                         orientation: Sequence[float],
                         phase_along_rows: bool) -> NDArray[np.float64]:
    """The patient-frame (LPS) direction of GE's stored components.

    dcm2niix reads GE's (0019,10BB), (0019,10BC), (0019,10BD) as ``(x, y, z)`` relative to the
    image: for a phase encoding along the rows (InPlanePhaseEncodingDirection ``ROW``) it swaps
    x and y and negates the new y; it negates the components that the slice orientation (the
    largest component of the slice normal: sagittal, coronal or axial) calls for — ``x, y``,
    ``y, z`` or ``z``; then it negates y (its images' rows are reversed) and finally the whole
    vector. The result is its b-vector in the frame of its NIfTI, whose axes are the row cosine
    ``r``, minus the column cosine ``c``, and the slice normal ``n`` (a frame of negative
    determinant: FSL's, unchanged). Here that vector is taken back to the patient frame.

    One case is not what those steps give: for coronal slices with the phase encoded along the
    rows, dcm2niix (v1.0.20260724, measured on each axis) writes both in-plane components with
    the opposite sign; it is followed here too (it warns that row phase encoding is untested).

    Parameters
    ----------
    stored
        The three stored components.
    orientation
        ImageOrientationPatient.
    phase_along_rows
        InPlanePhaseEncodingDirection is ``ROW`` (else ``COL``).
    """
    x, y, z = (float(v) for v in stored)
    if phase_along_rows:
        x, y = y, -x
    iop = np.asarray(orientation, dtype=np.float64)
    row, column = iop[:3] / np.linalg.norm(iop[:3]), iop[3:6] / np.linalg.norm(iop[3:6])
    normal = np.cross(row, column)
    normal /= np.linalg.norm(normal)
    magnitude = np.abs(normal)
    slice_axis = 0  # dcm2niix's choice: ties go to the later axis
    if magnitude[1] >= magnitude[0] and magnitude[1] >= magnitude[2]:
        slice_axis = 1
    if magnitude[2] >= magnitude[0] and magnitude[2] >= magnitude[1]:
        slice_axis = 2
    flips = {0: (-1.0, -1.0, 1.0), 1: (1.0, -1.0, -1.0), 2: (1.0, 1.0, -1.0)}[slice_axis]
    out = np.array([x, y, z]) * np.array(flips)
    out[1] = -out[1]
    out = -out
    if phase_along_rows and slice_axis == 1:
        out[:2] = -out[:2]  # what dcm2niix v1.0.20260724 writes (measured; see the docstring)
    return out[0] * row - out[1] * column + out[2] * normal
