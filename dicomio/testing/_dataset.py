"""How a :class:`~dicomio.testing.synthetic.SeriesSpec` becomes DICOM: the data set of one
image, its pixel data (native or encoded) and the file, shared by the single-frame writer
(:mod:`dicomio.testing.synthetic`) and the multi-frame ones (:mod:`dicomio.testing.multiframe`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from dicomio.dicom import transfer_syntax as ts

if TYPE_CHECKING:
    from dicomio.testing.synthetic import SeriesSpec

__all__ = ["ENCODERS", "encode_frame", "image_dataset", "native_bytes", "per_slice", "save",
           "slice_geometry"]

_CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
_MR_IMAGE = "1.2.840.10008.5.1.4.1.1.4"
_SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"


def per_slice(value: float | Sequence[float], n: int) -> NDArray[np.float64]:
    """One value per slice, from one value or a sequence of ``n`` of them."""
    if isinstance(value, (int, float)):
        return np.full(n, float(value))
    values = np.asarray(value, dtype=np.float64)
    if values.shape != (n,):
        raise ValueError(f"need one value per slice ({n}), got {values.shape}")
    return values


def slice_geometry(spec: SeriesSpec) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """Positions in instance order, the normal, and the signed step along it."""
    iop = np.asarray(spec.orientation, dtype=np.float64)
    normal = np.cross(iop[:3], iop[3:])
    step = normal * spec.slice_spacing
    step = step + iop[3:] * math.tan(math.radians(spec.tilt_degrees)) * abs(spec.slice_spacing)
    n = spec.shape[0]
    positions = np.asarray(spec.origin) + np.outer(np.arange(n), step)
    return positions, normal, spec.slice_spacing


def _format_ds(value: float) -> str:
    text = f"{value:.10g}"
    return text if len(text) <= 16 else f"{value:.8e}"


def image_dataset(
    spec: SeriesSpec,
    pixels: NDArray[Any],
    position: NDArray[np.float64],
    index: int,
    slope: float,
    intercept: float,
    series_uid: str,
    study_uid: str,
    frame_of_reference: str,
    sop_uid: str,
) -> Any:
    """The pydicom data set of one image of ``spec`` (without its pixel data), at
    ``position``, instance ``index`` (0-based), with the given rescale and UIDs."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import UID

    sop_class = {"CT": _CT_IMAGE, "MR": _MR_IMAGE}.get(spec.modality, _SECONDARY_CAPTURE)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = UID(sop_class)
    ds.file_meta.MediaStorageSOPInstanceUID = UID(sop_uid)
    ds.file_meta.TransferSyntaxUID = UID(spec.transfer_syntax)
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.StudyDate = "20260101"
    # A fixed StudyTime: GDCM, writing lossless JPEG, fills a missing one with the time of
    # writing, which then differs between the images of one series.
    ds.StudyTime = "120000"
    ds.Modality = spec.modality
    ds.Manufacturer = "dicomio"
    ds.SeriesDescription = spec.description
    ds.PatientName = "Phantom^Synthetic"
    ds.PatientID = "DICOMIO-PHANTOM"
    ds.SliceThickness = _format_ds(spec.slice_thickness if spec.slice_thickness is not None
                                   else abs(spec.slice_spacing))
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.SeriesNumber = spec.series_number
    ds.InstanceNumber = index + 1
    ds.ImagePositionPatient = [_format_ds(v) for v in position]
    ds.ImageOrientationPatient = [_format_ds(v) for v in spec.orientation]
    ds.FrameOfReferenceUID = frame_of_reference
    ds.SamplesPerPixel = spec.samples_per_pixel
    ds.PhotometricInterpretation = "MONOCHROME2" if spec.samples_per_pixel == 1 else "RGB"
    if spec.samples_per_pixel > 1:
        ds.PlanarConfiguration = spec.planar_configuration
    ds.Rows, ds.Columns = pixels.shape[:2]
    ds.PixelSpacing = [_format_ds(v) for v in spec.pixel_spacing]
    ds.BitsAllocated = spec.bits_allocated if spec.samples_per_pixel == 1 else 8
    ds.BitsStored = spec.bits_stored if spec.samples_per_pixel == 1 else 8
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = int(spec.signed)
    if spec.samples_per_pixel == 1:
        ds.RescaleIntercept = _format_ds(intercept)
        ds.RescaleSlope = _format_ds(slope)
        ds.RescaleType = "HU" if spec.modality == "CT" else "US"
    return ds


def native_bytes(
    spec: SeriesSpec, pixels: NDArray[Any], rng: np.random.Generator, *, big_endian: bool = False
) -> bytes:
    """The native pixel data of ``pixels``: planes separated when ``spec`` asks, noise above
    BitsStored when it asks (drawn from ``rng``), byte-swapped for big endian."""
    data = pixels
    if spec.samples_per_pixel == 3 and spec.planar_configuration == 1:
        data = np.ascontiguousarray(pixels.transpose(2, 0, 1))
    if spec.high_bit_garbage and spec.bits_stored < spec.bits_allocated:
        unsigned = np.dtype(f"uint{spec.bits_allocated}")
        bits = data.view(unsigned) & np.asarray((1 << spec.bits_stored) - 1, dtype=unsigned)
        garbage = rng.integers(0, 1 << (spec.bits_allocated - spec.bits_stored),
                               size=bits.shape).astype(unsigned) << spec.bits_stored
        data = bits | garbage
    if big_endian:
        data = data.byteswap()
    return np.ascontiguousarray(data).tobytes()


#: What encodes each transfer syntax written here: the module, the package that installs it and
#: the imagecodecs codec it uses (None: the module as a whole); None for the uncompressed
#: syntaxes, which pydicom writes. Kept beside :func:`save` and :func:`encode_frame`, which use
#: them.
ENCODERS: dict[str, tuple[str, str, str | None] | None] = {
    ts.EXPLICIT_VR_LITTLE_ENDIAN: None,
    ts.IMPLICIT_VR_LITTLE_ENDIAN: None,
    ts.EXPLICIT_VR_BIG_ENDIAN: None,
    ts.DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN: None,
    ts.RLE_LOSSLESS: ("imagecodecs", "imagecodecs", None),  # imported; pydicom encodes
    ts.JPEG_BASELINE_8BIT: ("imagecodecs", "imagecodecs", "JPEG8"),
    ts.JPEG_EXTENDED_12BIT: ("imagecodecs", "imagecodecs", "JPEG8"),
    ts.JPEG_LOSSLESS: ("gdcm", "python-gdcm", None),
    ts.JPEG_LOSSLESS_SV1: ("gdcm", "python-gdcm", None),
    ts.JPEG_LS_LOSSLESS: ("imagecodecs", "imagecodecs", "JPEGLS"),
    ts.JPEG_LS_NEAR_LOSSLESS: ("imagecodecs", "imagecodecs", "JPEGLS"),
    ts.JPEG2000_LOSSLESS: ("imagecodecs", "imagecodecs", "JPEG2K"),
    ts.JPEG2000: ("imagecodecs", "imagecodecs", "JPEG2K"),
    ts.HTJ2K_LOSSLESS: ("imagecodecs", "imagecodecs", "HTJ2K"),
}


def save(dataset: Any, path: Path, spec: SeriesSpec, pixels: NDArray[Any]) -> None:
    """Write ``dataset`` to ``path`` with ``pixels`` as its pixel data, in ``spec``'s transfer
    syntax (encoded by imagecodecs, pydicom or GDCM)."""
    rng = np.random.default_rng(spec.seed + 1000)
    syntax = spec.transfer_syntax
    if syntax in (ts.EXPLICIT_VR_LITTLE_ENDIAN, ts.IMPLICIT_VR_LITTLE_ENDIAN,
                  ts.DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN):
        dataset.PixelData = native_bytes(spec, pixels, rng)
        dataset["PixelData"].VR = "OW" if spec.bits_allocated > 8 else "OB"
        dataset.save_as(path, enforce_file_format=True)
    elif syntax == ts.EXPLICIT_VR_BIG_ENDIAN:
        dataset.PixelData = native_bytes(spec, pixels, rng, big_endian=True)
        dataset["PixelData"].VR = "OW" if spec.bits_allocated > 8 else "OB"
        dataset.save_as(path, enforce_file_format=True)
    elif syntax in (ts.JPEG_LOSSLESS, ts.JPEG_LOSSLESS_SV1):
        _save_with_gdcm(dataset, path, spec, pixels, rng)
    else:
        from pydicom.encaps import encapsulate

        dataset.PixelData = encapsulate([encode_frame(spec, pixels)])
        dataset["PixelData"].VR = "OB"
        if ts.lookup(syntax).lossy:
            dataset.LossyImageCompression = "01"
        dataset.save_as(path, enforce_file_format=True)


def _unsigned_pattern(spec: SeriesSpec, pixels: NDArray[Any]) -> NDArray[Any]:
    """The stored bits as unsigned values (how DICOM JPEG and JPEG-LS carry signed data)."""
    if not spec.signed:
        return pixels
    unsigned = np.dtype(f"uint{spec.bits_allocated}")
    return pixels.view(unsigned) & np.asarray((1 << spec.bits_stored) - 1, dtype=unsigned)


def encode_frame(spec: SeriesSpec, pixels: NDArray[Any]) -> bytes:
    """One frame encoded in ``spec``'s compressed transfer syntax (lossless JPEG excepted: GDCM
    writes it, in :func:`save`)."""
    import imagecodecs

    syntax = spec.transfer_syntax
    bits = spec.bits_stored if spec.samples_per_pixel == 1 else 8
    if syntax == ts.RLE_LOSSLESS:
        from pydicom.pixels.encoders.base import get_encoder

        encoder = get_encoder(ts.RLE_LOSSLESS)
        return bytes(encoder.encode(
            np.ascontiguousarray(pixels), encoding_plugin="pydicom",
            rows=pixels.shape[0], columns=pixels.shape[1],
            samples_per_pixel=spec.samples_per_pixel,
            bits_allocated=spec.bits_allocated if spec.samples_per_pixel == 1 else 8,
            bits_stored=bits, pixel_representation=int(spec.signed),
            photometric_interpretation="MONOCHROME2" if spec.samples_per_pixel == 1 else "RGB",
            number_of_frames=1, planar_configuration=0, byteorder="<"))
    if syntax in (ts.JPEG_BASELINE_8BIT, ts.JPEG_EXTENDED_12BIT):
        if spec.signed:
            raise ValueError("lossy JPEG carries unsigned data only")
        if spec.samples_per_pixel == 3:  # RGB components, no colour transform
            return bytes(imagecodecs.jpeg8_encode(pixels, level=92, colorspace="RGB",
                                                  outcolorspace="RGB"))
        return bytes(imagecodecs.jpeg8_encode(pixels, level=92, bitspersample=bits))
    if syntax in ts.JPEG_LS_FAMILY:
        level = 0 if syntax == ts.JPEG_LS_LOSSLESS else 2
        return bytes(imagecodecs.jpegls_encode(_unsigned_pattern(spec, pixels), level=level))
    if syntax in ts.JPEG2000_FAMILY:
        lossless = syntax == ts.JPEG2000_LOSSLESS
        return bytes(imagecodecs.jpeg2k_encode(
            pixels, level=0 if lossless else 40, reversible=lossless, codecformat="J2K",
            bitspersample=bits))
    if syntax == ts.HTJ2K_LOSSLESS:
        return bytes(imagecodecs.htj2k_encode(pixels, level=0))
    raise ValueError(f"cannot encode transfer syntax {syntax}")


def _save_with_gdcm(
    dataset: Any, path: Path, spec: SeriesSpec, pixels: NDArray[Any], rng: np.random.Generator
) -> None:
    """Lossless JPEG with predictor 1, written by GDCM (the encoder DICOM archives use)."""
    import gdcm
    from pydicom.uid import UID

    plain = path.with_name(path.name + ".tmp")
    dataset.file_meta.TransferSyntaxUID = UID(ts.EXPLICIT_VR_LITTLE_ENDIAN)
    dataset.PixelData = native_bytes(spec, _unsigned_pattern(spec, pixels), rng)
    dataset["PixelData"].VR = "OW" if spec.bits_allocated > 8 else "OB"
    dataset.save_as(plain, enforce_file_format=True)
    try:
        reader = gdcm.ImageReader()
        reader.SetFileName(str(plain))
        if not reader.Read():
            raise OSError(f"GDCM cannot read {plain}")
        target = (gdcm.TransferSyntax.JPEGLosslessProcess14_1
                  if spec.transfer_syntax == ts.JPEG_LOSSLESS_SV1
                  else gdcm.TransferSyntax.JPEGLosslessProcess14)
        change = gdcm.ImageChangeTransferSyntax()
        change.SetTransferSyntax(gdcm.TransferSyntax(target))
        change.SetInput(reader.GetImage())
        if not change.Change():
            raise OSError("GDCM could not encode lossless JPEG")
        writer = gdcm.ImageWriter()
        writer.SetFileName(str(path))
        writer.SetFile(reader.GetFile())
        writer.SetImage(change.GetOutput())
        if not writer.Write():
            raise OSError(f"GDCM cannot write {path}")
    finally:
        plain.unlink(missing_ok=True)
