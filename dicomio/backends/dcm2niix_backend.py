"""The dcm2niix backend: the field's reference converter, run on the series' files.

dcm2niix (Chris Rorden's DICOM to NIfTI converter; the PyPI package ``dcm2niix`` ships the
binary) is given the files of the chosen series only — linked, else copied, into a temporary
folder — and writes one NIfTI and its JSON sidecar. This module maps that NIfTI back into the
contract with its own small arithmetic (:mod:`dicomio.backends.nifti_layout`), never with
dicomio's geometry functions:

- the sform (RAS) becomes LPS by negating its first two rows; the NIfTI axes parallel to the
  files' row and column cosines are the contract's column and row axes, the third the slices;
- each stored image is found in the NIfTI by its own ImagePositionPatient (a mosaic's by its
  first tile's corner), so the array is in dicomio's order, whatever dcm2niix's order; the
  rows dcm2niix flips (NIfTI's bottom-up convention) are flipped back;
- images at one position (a 4-D series) take dcm2niix's volumes in dicomio's order.

dcm2niix writes stored values (with the rescale in ``scl_slope``/``scl_inter``), or modality
values in float32 when the slices' rescales differ; the stored values are recovered from those
(checked to be integers), then :mod:`dicomio.pixels.values` applies the contract's masking,
sign and rescale, so the values and dtype are those of every backend.

What dcm2niix says about the geometry — its sform, permuted into the contract's axes, and where
it puts each slice — is returned as the reported geometry; dicomio's affine still comes from
the headers, and ``dicomio compare`` shows how far apart the two place every voxel.

Where dcm2niix does not make one volume of exactly these images, the backend says so:
several NIfTI files (dcm2niix split the series: :class:`~dicomio.BackendCannotReadError`
quoting its reason), fewer or more images than the series holds, images not on dcm2niix's
grid, axes not along the files' orientation (:class:`~dicomio.BackendReadError`). Slices off
dcm2niix's grid but in the same order are read, with a warning saying by how much.

Declared unreadable (each seen to fail or to differ): deflated data sets and JPEG Extended
above 8 bits (dcm2niix cannot decode them), colour other than RGB, palettes, Float Pixel Data,
1-bit data, images without position, orientation or pixel spacing (nothing to match dcm2niix's
slices with), mosaics from other makers than Siemens (dcm2niix applies the Siemens conventions
to Siemens files only), multi-frame files whose other frames belong to other stacks (dcm2niix
converts whole files), compressed multi-frame files whose frames are not stored in slice order
(dcm2niix keeps their stored order under a sorted geometry), and slices with different
rescales whose float32 modality values cannot be inverted exactly.

Its cost is a process and an uncompressed NIfTI written to a temporary folder: tens of
milliseconds for a small series; 1.3 s for 200 slices of 512 x 512 (0.4 s of it dcm2niix's own,
the rest writing the NIfTI's slices into the contract's order; the direct backend reads them in
0.1 s). The time and dcm2niix's version go into the warnings of the provenance
(``"dcm2niix v1.0.20240202 converted 28 file(s) in 0.41 s"``), with every warning dcm2niix
printed.

``auto`` never picks this backend: it is a reference to compare with, run by name.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from dicomio.backends.base import (
    BackendSpec,
    ReadOptions,
    ReadResult,
    ignored_decoder,
    volume_dtype,
)
from dicomio.dicom.transfer_syntax import (
    EXPLICIT_VR_BIG_ENDIAN,
    EXPLICIT_VR_LITTLE_ENDIAN,
    HTJ2K,
    HTJ2K_LOSSLESS,
    IMPLICIT_VR_LITTLE_ENDIAN,
    JPEG2000_FAMILY,
    JPEG_BASELINE_8BIT,
    JPEG_EXTENDED_12BIT,
    JPEG_LOSSLESS,
    JPEG_LOSSLESS_SV1,
    JPEG_LS_FAMILY,
    RLE_LOSSLESS,
)
from dicomio.errors import BackendCannotReadError, BackendReadError
from dicomio.pixels.values import finish_frame
from dicomio.series.info import SeriesInfo

if TYPE_CHECKING:
    from dicomio.backends.nifti_layout import NiftiLayout

__all__ = ["DCM2NIIX_OPTIONS", "SPEC", "Reader"]

#: The options dicomio runs dcm2niix with: its defaults file ignored, an uncompressed NIfTI
#: and an un-anonymised sidecar, the stored integers kept as they are (``-l o``), the DICOM
#: rescale in scl_slope/scl_inter (``-p n``), no cropping, only the given folder.
DCM2NIIX_OPTIONS = ("-g", "i", "-b", "y", "-ba", "n", "-z", "n", "-l", "o", "-p", "n",
                    "-x", "n", "-i", "n", "-d", "0", "-w", "2", "-f", "image")

# Every syntax dcm2niix decoded in dicomio's tests (tests/backends/test_dcm2niix_backend.py and
# the conformance suite). Deflated data sets and HTJ2K RPCL (.202) are refused by dcm2niix
# ("Unsupported transfer syntax"); JPEG extended is decoded for 8-bit images only.
_SYNTAXES = frozenset({IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN,
                       EXPLICIT_VR_BIG_ENDIAN, RLE_LOSSLESS, JPEG_BASELINE_8BIT,
                       JPEG_EXTENDED_12BIT, JPEG_LOSSLESS, JPEG_LOSSLESS_SV1}
                      | JPEG_LS_FAMILY | JPEG2000_FAMILY | {HTJ2K_LOSSLESS, HTJ2K})
# A recovered stored value further than this from an integer means dcm2niix did not apply
# the slope and intercept dicomio read.
_INTEGRAL = 1e-3
# What dcm2niix writes beside the image: resampled copies of a tilted or unevenly spaced
# stack (``_Tilt_1``, ``_Eq_1``, ``_Tilt_Eq_1``) and overlays (``_ROI1``).
_DERIVED = re.compile(r"_(Tilt_Eq|Tilt|Eq)_\d+$|_ROI\d+$")
# float32 keeps integers exactly up to 2**24: modality values beyond cannot be inverted.
_FLOAT32_EXACT = 2.0**24


def _syntaxes() -> frozenset[str]:
    return _SYNTAXES


def _unable(series: SeriesInfo) -> str | None:
    fmt = series.pixel
    if fmt.float_data:
        return "Float Pixel Data (not tested with dcm2niix)"
    if fmt.bits_allocated not in (8, 16, 32):
        return f"BitsAllocated {fmt.bits_allocated}"
    if fmt.photometric_interpretation not in ("MONOCHROME1", "MONOCHROME2", "RGB"):
        return (f"{fmt.photometric_interpretation} (dcm2niix's conversion is not the "
                f"contract's)")
    if JPEG_EXTENDED_12BIT in series.transfer_syntaxes and fmt.bits_allocated > 8:
        return "JPEG Extended with more than 8 bits (dcm2niix cannot decode it)"
    if any(f.position is None or f.orientation is None or f.pixel_spacing is None
           for f in series.frames):
        return ("images without ImagePositionPatient, ImageOrientationPatient or PixelSpacing "
                "(dcm2niix's slices cannot be matched to the files)")
    head = series.frames[0].header
    if any(v.upper() == "MOSAIC" for v in head.image_type) \
            and "SIEMENS" not in head.manufacturer.upper():
        return (f"a mosaic from {head.manufacturer or 'an unnamed manufacturer'}: dcm2niix "
                f"applies the Siemens mosaic conventions to Siemens files only")
    shared = _shared_files(series)
    if shared:
        return shared
    shuffled = _compressed_frames_out_of_order(series)
    if shuffled:
        return shuffled
    rescales = {(f.slope, f.intercept) for f in series.frames}
    if len(rescales) > 1 and fmt.samples_per_pixel == 1:
        largest = max(abs(slope) * 2.0**fmt.bits_stored + abs(intercept)
                      for slope, intercept in rescales)
        if largest >= _FLOAT32_EXACT:
            return ("slices with different rescales whose modality values float32 cannot "
                    "hold exactly (dcm2niix writes them as float32)")
    return None


def _shared_files(series: SeriesInfo) -> str | None:
    """Why a multi-frame file of the series cannot be given to dcm2niix alone: it also holds
    frames dicomio puts in other stacks (dcm2niix converts whole files and splits them)."""
    used: dict[int, set[int]] = {}
    for frame in series.frames:
        used.setdefault(id(frame.header), set()).add(frame.index)
    for header in series.headers:
        total = header.pixel.number_of_frames if header.pixel is not None else 1
        if len(used[id(header)]) < total:
            return (f"{header.path.name} holds {total} frames of which this series has "
                    f"{len(used[id(header)])}: dcm2niix converts whole files")
    return None


def _compressed_frames_out_of_order(series: SeriesInfo) -> str | None:
    """Why dcm2niix would misplace the frames of a compressed multi-frame file: it keeps them
    in their stored order, under a geometry sorted along the normal (seen with dcm2niix
    v1.0.20260724; uncompressed frames it sorts)."""
    for header in series.headers:
        fmt = header.pixel
        if fmt is None or fmt.number_of_frames < 2 or header.transfer_syntax.native:
            continue
        frames = sorted((f for f in series.frames if f.header is header),
                        key=lambda f: f.index)
        head = frames[0]
        assert head.orientation is not None
        normal = np.cross(head.orientation[:3], head.orientation[3:6])
        along = list(dict.fromkeys(round(float(np.dot(f.position, normal)), 3)
                                   for f in frames if f.position is not None))
        steps = np.sign(np.diff(along))
        if len(steps) and not (np.all(steps > 0) or np.all(steps < 0)):
            return (f"{header.path.name}: compressed frames not stored in slice order "
                    f"(dcm2niix keeps their stored order under a sorted geometry)")
    return None


SPEC = BackendSpec(
    name="dcm2niix",
    module="dicomio.backends.dcm2niix_backend",
    requires=("dcm2niix", "nibabel"),
    distribution="dcm2niix",
    extra="dcm2niix",
    summary="dcm2niix, the reference NIfTI converter, on the series' files; its NIfTI mapped "
            "back into the contract and its sform reported; named only (auto never picks it)",
    syntaxes=_syntaxes,
    unable=_unable,
    # dcm2niix stacks files by its own rules (StudyTime, echo, phase...): its splits of a
    # sound series are not decoder disagreements, so validate's cross-check leaves it out.
    decoder_check=False,
    files_only=True,
)


def _binary() -> str:
    import dcm2niix

    return str(dcm2niix.bin)


class Reader:
    """Read a series with dcm2niix."""

    def read(self, series: SeriesInfo, options: ReadOptions) -> ReadResult:
        import tempfile  # with subprocess and nibabel, only when dcm2niix reads

        with tempfile.TemporaryDirectory(prefix="dicomio-dcm2niix-") as scratch:
            folder = Path(scratch)
            run = _convert(series, folder)
            image, sidecar = _only_image(run, series, folder / "out")
            layout, data, scaling = _load(image, series)
            layout = _ge_pepolar(layout, series, run)
            out = np.empty(series.shape, dtype=volume_dtype(series, options))
            notes = _fill(out, data, scaling, layout, series, options)
            del data  # a memory map of the NIfTI: closed before its folder is removed
        decoder = f"dcm2niix {run.version}"
        warnings = [f"{decoder} converted {len(series.files)} file(s) in "
                    f"{run.seconds:.3f} s", *run.warnings, *layout.notes, *notes,
                    *ignored_decoder(options, decoder)]
        if sidecar and sidecar.get("ConversionSoftwareVersion") not in (None, run.version):
            warnings.append(f"the sidecar names dcm2niix {sidecar['ConversionSoftwareVersion']}")
        return ReadResult(out, decoders=(decoder,), warnings=warnings,
                          reported_geometry=layout.reported)


class _Run:
    """What one dcm2niix run printed and how long it took."""

    def __init__(self, output: str, seconds: float, code: int) -> None:
        self.output = output
        self.seconds = seconds
        self.code = code
        found = re.search(r"version (v\S+)", output)
        self.version = found.group(1) if found else "unknown version"
        lines = [line.strip() for line in output.splitlines()]
        self.warnings = list(dict.fromkeys(
            f"dcm2niix: {line}" for line in lines if line.startswith("Warning:")))
        self.problems = list(dict.fromkeys(
            line for line in lines
            if line.startswith(("Error", "Slices not stacked")) or "Unsupported" in line))


def _convert(series: SeriesInfo, folder: Path) -> _Run:
    """Run dcm2niix on links to the series' files (only them) in ``folder / "in"``."""
    source, target = folder / "in", folder / "out"
    source.mkdir()
    target.mkdir()
    for n, path in enumerate(series.files):
        link = source / f"{n:06d}.dcm"
        try:
            os.symlink(Path(path).resolve(), link)
        except OSError:  # no symbolic links here (Windows without the right): copy
            shutil.copyfile(path, link)
    import subprocess

    start = time.perf_counter()
    try:
        done = subprocess.run([_binary(), *DCM2NIIX_OPTIONS, "-o", str(target), str(source)],
                              capture_output=True, text=True, errors="replace", check=False,
                              stdin=subprocess.DEVNULL)
    except OSError as exc:
        raise BackendReadError(f"dcm2niix could not be run: {exc}",
                               path=series.frames[0].path) from None
    return _Run(done.stdout + done.stderr, time.perf_counter() - start, done.returncode)


def _only_image(run: _Run, series: SeriesInfo, folder: Path) -> tuple[Path, dict[str, Any]]:
    """The one NIfTI dcm2niix wrote, and its sidecar; a clear error when it wrote another
    number."""
    written = sorted(folder.glob("*.nii"))
    images = [p for p in written if not _DERIVED.search(p.stem)]
    derived = [p for p in written if _DERIVED.search(p.stem)]
    first = series.frames[0].path
    said = "; ".join(run.problems) or (f"exit code {run.code}" if run.code else
                                       "dcm2niix printed no reason")
    if not images:
        raise BackendReadError(f"dcm2niix {run.version} wrote no image from the "
                               f"{len(series.files)} file(s) of series {series.key}: {said}",
                               path=first)
    if len(images) > 1:
        raise BackendCannotReadError(
            f"dcm2niix {run.version} splits series {series.key} into {len(images)} images "
            f"({', '.join(_described(p) for p in images)}), where dicomio reads its "
            f"{series.n_slices} image(s) as one: {said}", path=first)
    sidecar_path = images[0].with_suffix(".json")
    sidecar: dict[str, Any] = {}
    if sidecar_path.exists():
        import json

        try:
            sidecar = json.loads(sidecar_path.read_text(encoding="utf-8", errors="replace"))
        except ValueError:
            sidecar = {}
    if derived:
        run.warnings.append(
            f"dcm2niix also wrote {', '.join(_described(p) for p in derived)}: its "
            f"resampling of tilted or unevenly spaced slices (_Tilt, _Eq) or an overlay "
            f"(_ROI), not read: the stored images are")
    return images[0], sidecar


def _described(path: Path) -> str:
    """A NIfTI's name, dimensions and series number (from its sidecar, when it has one)."""
    import json

    import nibabel as nib

    try:
        image: Any = nib.load(str(path))
        text = f"{path.name} {'x'.join(str(n) for n in image.shape)}"
    except Exception:  # only for a message
        return path.name
    try:
        number = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))["SeriesNumber"]
    except Exception:  # no sidecar, or none that says
        return text
    return f"{text} (series number {number})"


#: The first dcm2niix release that flips GE epi_pepolar reversed-polarity rows (issue 532).
_FLIPS_PEPOLAR_FROM = 20210814


def _ge_pepolar(layout: NiftiLayout, series: SeriesInfo, run: _Run) -> NiftiLayout:
    """Undo dcm2niix's row flip of GE epi_pepolar reversed-polarity images.

    GE ``epi_pepolar`` stores its reversed phase-encoding images with their rows reversed and
    says so only in private attributes (:mod:`dicomio.series.vendor`). dcm2niix (from
    v1.0.20210814) flips their rows back and keeps the affine, as dicomio does; but a backend
    returns images as stored (the read stage flips them back, for every backend alike). The
    rows dcm2niix flipped are reversed again here, and its geometry is its claim for the
    stored rows: where the images truly lie, which the read stage turns round with the rows.
    """
    if not series.frames or not all(frame.rows_reversed for frame in series.frames):
        return layout
    found = re.search(r"v\d+\.\d+\.(\d{8})", run.version)
    if found is None or int(found.group(1)) < _FLIPS_PEPOLAR_FROM:
        return layout
    return layout.with_rows_reversed(series.rows, (
        f"dcm2niix {run.version} flipped the rows of these GE epi_pepolar reversed-polarity "
        f"images back, as dicomio does (a vendor convention: see docs/vendors.md)"))


def _load(path: Path, series: SeriesInfo
          ) -> tuple[NiftiLayout, NDArray[Any], tuple[float, float]]:
    """The NIfTI's layout against the series, its stored data and its scl_slope/scl_inter."""
    import nibabel as nib

    from dicomio.backends.nifti_layout import RAS_TO_LPS, lay_out_nifti

    image: Any = nib.load(str(path))
    header = image.header
    affine = image.get_sform() if int(header["sform_code"]) > 0 else image.get_qform()
    proxy = image.dataobj
    data = np.asarray(proxy.get_unscaled() if hasattr(proxy, "get_unscaled") else proxy)
    if data.dtype.names:  # RGB24: a structured dtype of three bytes
        data = np.stack([data[name] for name in data.dtype.names[:3]], axis=-1)
        spatial = data.shape[:-1]
    else:
        spatial = data.shape
    slope = getattr(proxy, "slope", 1.0)
    inter = getattr(proxy, "inter", 0.0)
    scaling = (1.0 if not np.isfinite(slope) or slope == 0 else float(slope),
               0.0 if not np.isfinite(inter) else float(inter))
    layout = lay_out_nifti(RAS_TO_LPS @ np.asarray(affine, dtype=np.float64), spatial, series)
    return layout, data, scaling


def _fill(out: NDArray[Any], data: NDArray[Any], scaling: tuple[float, float],
          layout: NiftiLayout, series: SeriesInfo, options: ReadOptions) -> list[str]:
    """Write each stored image of the series into ``out`` from dcm2niix's data; return what
    is worth a warning about dcm2niix's values."""
    notes: list[str] = []
    modality = data.dtype.kind == "f" and not series.pixel.float_data
    if not modality:
        differing = sorted({(f.slope, f.intercept) for f in series.frames
                            if not _same_rescale(scaling, f.slope, f.intercept)})
        if differing and series.pixel.samples_per_pixel == 1:
            notes.append(f"dcm2niix's scl_slope {scaling[0]:g} and scl_inter {scaling[1]:g} "
                         f"differ from the files' RescaleSlope/RescaleIntercept "
                         f"{differing[0][0]:g}/{differing[0][1]:g}: the files' are applied")
    for k, frame in enumerate(series.frames):
        fmt = frame.header.pixel
        assert fmt is not None
        image = layout.image(data, k)
        if modality:
            image = _stored_from_modality(image, scaling, frame.slope, frame.intercept,
                                          frame.path)
        finish_frame(np.array(image), fmt, out[k], slope=frame.slope,
                     intercept=frame.intercept, rescale=options.rescale,
                     keep_high_bits=options.keep_high_bits)
    return notes


def _same_rescale(scaling: tuple[float, float], slope: float, intercept: float) -> bool:
    """dcm2niix stores its scaling in float32: compare at that precision."""
    return bool(np.float32(scaling[0]) == np.float32(slope)
                and np.float32(scaling[1]) == np.float32(intercept))


def _stored_from_modality(values: NDArray[Any], scaling: tuple[float, float], slope: float,
                          intercept: float, path: Path) -> NDArray[Any]:
    """The stored values of an image dcm2niix wrote as float modality values.

    Raises
    ------
    BackendReadError
        The values are not ``stored × slope + intercept`` for integer stored values.
    """
    modality = values.astype(np.float64) * scaling[0] + scaling[1]
    exact = (modality - intercept) / slope
    rounded = np.rint(exact)
    if not np.all(np.abs(exact - rounded) <= _INTEGRAL):
        raise BackendReadError(
            f"dcm2niix's values are not stored × {slope:g} + {intercept:g}: it applied a "
            f"rescale dicomio cannot undo", path=path)
    return rounded.astype(np.int64)
