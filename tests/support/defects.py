"""Planted defects: each generator writes a small series and breaks it in one known way.

A :class:`Defect` names the finding code ``dicomio validate`` must report, its default severity
and a generator that plants the defect under a folder and returns a :class:`Site`: which series
must carry the finding and which files it must name. The truth is what was planted, never
what dicomio computes::

    for defect in DEFECTS:
        site = defect.plant(tmp_path / defect.name)

Some defects need the test to arrange something outside the files (:attr:`Defect.hidden_syntax`
for MISSING_DECODER, :attr:`Defect.fake_backends` and :attr:`Defect.cross_check` for the
cross-check codes); :attr:`Defect.portable` says whether a run in worker processes sees the
defect as planted.
"""

from __future__ import annotations

import shutil
import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate, generate_frames
from pydicom.uid import UID, generate_uid

from dicomio.testing import synthetic
from dicomio.testing.multiframe import OrderKey, write_4d, write_enhanced, write_mosaic
from dicomio.testing.synthetic import SAGITTAL, SeriesSpec, write_series
from tests.support.dicom_files import as_mpeg2, rewrite

__all__ = ["DEFECTS", "SMALL", "Defect", "Plant", "Site", "hide_decoders"]

Severity = Literal["error", "warning", "info"]

#: The series every generator starts from: 8 slices of 16×16, 12-bit CT, Explicit VR LE.
SMALL = SeriesSpec(shape=(8, 16, 16))
_CR_IMAGE = "1.2.840.10008.5.1.4.1.1.1"
_DX_IMAGE = "1.2.840.10008.5.1.4.1.1.1.1"  # Digital X-Ray Image Storage - For Presentation
_US_IMAGE = "1.2.840.10008.5.1.4.1.1.6.1"  # Ultrasound Image Storage
_BASIC_TEXT_SR = "1.2.840.10008.5.1.4.1.1.88.11"


@dataclass(frozen=True)
class Site:
    """Where a defect was planted.

    Attributes
    ----------
    series
        SeriesInstanceUID of the series that must carry the finding; None for a finding about
        files or folders (it may then appear anywhere in the report).
    files
        Files or folders the finding must name, every one of them.
    one_of
        Files of which the finding must name at least one (a dropped copy and its original:
        which of the two is dropped is not planted).
    every_stack
        Every stack of ``series`` carries the finding (it is about the split itself).
    """

    series: str | None
    files: tuple[Path, ...] = ()
    one_of: tuple[Path, ...] = ()
    every_stack: bool = False


#: Writes defective data under the folder given (created) and tells where the defect is.
Plant = Callable[[Path], Site]


@dataclass(frozen=True)
class Defect:
    """One way to break a series, and the finding it must produce.

    Attributes
    ----------
    name
        Test id.
    code, severity
        The finding and its default severity.
    plant
        Writes the defective data under the folder given (created) and returns its site.
    cross_check
        Validate with ``--cross-check``.
    fake_backends
        Register these misbehaving backends of ``tests.support.fake_backends`` first.
    hidden_syntax
        Make the decoders of this transfer syntax look uninstalled (:func:`hide_decoders`).
    neighbour
        A clean series validated beside the defect must stay clean (False where the defect is
        in the run, not in the data, and would touch every series).
    """

    name: str
    code: str
    severity: Severity
    plant: Plant
    cross_check: bool = False
    fake_backends: tuple[str, ...] = ()
    hidden_syntax: str | None = None
    neighbour: bool = True

    @property
    def portable(self) -> bool:
        """Whether worker processes see the defect as planted (it is all in the files)."""
        return not (self.cross_check or self.fake_backends or self.hidden_syntax)


def hide_decoders(monkeypatch: pytest.MonkeyPatch, uid: str) -> None:
    """Make every decoder of transfer syntax ``uid`` look uninstalled, in this process."""
    import dicomio.pixels.decoders as decoders

    real = decoders.iter_decoders

    def iter_decoders(syntax: Any, fmt: Any = None) -> Iterator[Any]:
        return iter(()) if syntax.uid == uid else real(syntax, fmt)

    # Every lookup of installed decoders (decoders_for, choose_decoder...) goes through it.
    monkeypatch.setattr(decoders, "iter_decoders", iter_decoders)


def _written(spec: SeriesSpec = SMALL, **options: Any) -> Plant:
    """Write ``spec`` (with :func:`write_series` ``options``: ``skip``, ``positions``)."""
    return lambda base: Site(write_series(base, spec, **options).series_uid)


def _rewritten(picked: Sequence[int] | None, change: Callable[[Dataset], object] | None = None,
               spec: SeriesSpec = SMALL, *, named: bool = False, **attributes: Any) -> Plant:
    """Write ``spec``, then rewrite the files at ``picked`` (None: all) with ``change`` and
    ``attributes`` (see :func:`rewrite`); ``named``: the finding must name those files."""
    def plant(base: Path) -> Site:
        truth = write_series(base, spec)
        victims = truth.files if picked is None else [truth.files[k] for k in picked]
        rewrite(victims, change, **attributes)
        return Site(truth.series_uid, files=tuple(victims) if named else ())
    return plant


def _set_sop_uid(uid: str) -> Callable[[Dataset], None]:
    def change(ds: Dataset) -> None:
        ds.SOPInstanceUID = uid
        ds.file_meta.MediaStorageSOPInstanceUID = UID(uid)
    return change


def _change_frames(path: Path, damage: Callable[[bytes], bytes]) -> None:
    """Re-encapsulate the frames of a compressed file, the first one damaged by ``damage``."""
    def change(ds: Dataset) -> None:
        count = int(getattr(ds, "NumberOfFrames", 1) or 1)
        frames = list(generate_frames(ds.PixelData, number_of_frames=count))
        ds.PixelData = encapsulate([damage(frames[0]), *frames[1:]])
    rewrite(path, change)


# --- files ---------------------------------------------------------------------------------------

def _no_dicom(base: Path) -> Site:
    base.mkdir(parents=True)
    (base / "readme.txt").write_text("the images were never copied here")
    return Site(None, files=(base,))


def _unreadable(cut: Callable[[bytes], bytes]) -> Plant:
    """The last slice, cut by ``cut`` under its own name (the series stays without a gap)."""
    def plant(base: Path) -> Site:
        victim = write_series(base, SMALL).files[-1]
        victim.write_bytes(cut(victim.read_bytes()))
        return Site(None, files=(victim,))
    return plant


def _inside_position(data: bytes) -> bytes:
    """Cut inside the value of ImagePositionPatient (0020,0032), explicit VR."""
    return data[:data.index(b"\x20\x00\x32\x00DS") + 10]


def _skipped_text(base: Path) -> Site:
    write_series(base, SMALL)
    (base / "readme.txt").write_text("acquired on the phantom, 2026")
    return Site(None, files=(base / "readme.txt",))


def _skipped_report(base: Path) -> Site:
    """A structured report (DICOM, valid, no pixel data) beside the images."""
    write_series(base, SMALL)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = UID(_BASIC_TEXT_SR)
    ds.file_meta.MediaStorageSOPInstanceUID = uid = generate_uid()
    ds.file_meta.TransferSyntaxUID = UID(synthetic.EXPLICIT_LE)
    ds.SOPClassUID, ds.SOPInstanceUID = _BASIC_TEXT_SR, uid
    ds.Modality, ds.PatientID = "SR", "DICOMIO-PHANTOM"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.SeriesNumber, ds.InstanceNumber = 99, 1
    ds.ValueType, ds.CompletionFlag = "CONTAINER", "COMPLETE"
    path = base / "report.dcm"
    ds.save_as(path, enforce_file_format=True)
    return Site(None, files=(path,))


def _multiple_series(base: Path) -> Site:
    write_series(base, SMALL)
    write_series(base, SMALL.with_(series_number=2, description="second"), naming="uid")
    return Site(None, files=(base,))


# --- grouping ------------------------------------------------------------------------------------

def _mixed_orientation(base: Path) -> Site:
    one = SMALL.with_(series_uid=generate_uid(), study_uid=generate_uid())
    write_series(base / "axial", one)
    write_series(base / "sagittal", one.with_(orientation=SAGITTAL, seed=1))
    return Site(one.series_uid, every_stack=True)


def _mixed_shape(base: Path) -> Site:
    one = SMALL.with_(series_uid=generate_uid(), study_uid=generate_uid())
    write_series(base / "large", one)
    write_series(base / "small", one.with_(shape=(8, 12, 12), origin=(-80.0, -60.0, 100.0)))
    return Site(one.series_uid, every_stack=True)


def _duplicate_files(*indices: int) -> Plant:
    """Identical copies of the images at ``indices``, under other names."""
    def plant(base: Path) -> Site:
        truth = write_series(base, SMALL)
        pairs = [(truth.files[k], base / f"copy_of_{truth.files[k].name}") for k in indices]
        for original, copy in pairs:
            shutil.copy(original, copy)
        return Site(truth.series_uid, one_of=tuple(p for pair in pairs for p in pair))
    return plant


def _shared_sop_uid(base: Path) -> Site:
    truth = write_series(base, SMALL)
    rewrite(truth.files[4], _set_sop_uid(truth.sop_instance_uids[3]))
    return Site(truth.series_uid, files=(truth.files[3], truth.files[4]))


def _frames_as_stored(base: Path) -> Site:
    """A Siemens mosaic whose slice count was stripped (neither in 0019 nor in the CSA
    header): its tiles cannot be separated, so the file is used as one image."""
    truth = write_mosaic(base, SeriesSpec(shape=(4, 8, 8), modality="MR", rescale_intercept=0.0),
                         private_count=False)

    def strip_csa(ds: Dataset) -> None:
        del ds.private_block(0x0029, "SIEMENS CSA HEADER")[0x10]

    rewrite(truth.files, strip_csa)
    return Site(truth.series_uid, files=tuple(truth.files))


# --- kind ----------------------------------------------------------------------------------------

def _four_d(key: OrderKey) -> Plant:
    def plant(base: Path) -> Site:
        return Site(write_4d(base, SMALL.with_(shape=(5, 16, 16)), volumes=3, key=key).series_uid)
    return plant


def _four_d_enhanced(base: Path) -> Site:
    spec = SeriesSpec(shape=(5, 16, 16), modality="MR", rescale_intercept=0.0)
    return Site(write_enhanced(base, spec, volumes=3).series_uid)


def _duplicate_position(base: Path) -> Site:
    """A ninth, different image at the position of the fourth (its own SOPInstanceUID)."""
    truth = write_series(base, SMALL)
    extra = base / "slice_003_b.dcm"
    shutil.copy(truth.files[3], extra)

    def other_image(ds: Dataset) -> None:
        _set_sop_uid(generate_uid())(ds)
        ds.InstanceNumber = 9
        ds.PixelData = np.frombuffer(ds.PixelData, dtype="<u2")[::-1].tobytes()

    rewrite(extra, other_image)
    return Site(truth.series_uid, one_of=(truth.files[3], extra))


def _four_d_incomplete(base: Path) -> Site:
    """3 volumes of 5 slices, one slice of the last volume lost: 14 images on 5 positions."""
    truth = write_4d(base, SMALL.with_(shape=(5, 16, 16)), volumes=3, key="temporal")
    truth.files[12].unlink()
    return Site(truth.series_uid)


def _four_d_inconsistent_order(base: Path) -> Site:
    """3 volumes of 5 slices whose first image has TemporalPositionIdentifier 11, not 1: slice
    0 is ordered 2, 3, 11, so each volume holds one image of another time point there."""
    truth = write_4d(base, SMALL.with_(shape=(5, 16, 16)), volumes=3, key="temporal")
    rewrite(truth.files[0], TemporalPositionIdentifier=11)
    return Site(truth.series_uid, files=tuple(truth.files[::5]))


def _mixed_image_type(base: Path) -> Site:
    """A 4-D series of 3 volumes of 5 slices whose last volume is DERIVED\\SECONDARY."""
    truth = write_4d(base, SMALL.with_(shape=(5, 16, 16)), volumes=3, key="temporal")
    rewrite(truth.files[10:], ImageType=["DERIVED", "SECONDARY", "MPR"])
    return Site(truth.series_uid)


# --- geometry ------------------------------------------------------------------------------------

_IRREGULAR = np.asarray(SMALL.origin) + np.outer(  # gaps of 2.5 mm and one of 3.3 mm
    [0.0, 2.5, 5.0, 7.5, 10.8, 13.3, 15.8, 18.3], (0.0, 0.0, 1.0))
_NO_PLACE: dict[str, Any] = {"ImagePositionPatient": None, "ImageOrientationPatient": None,
                             "SliceThickness": None, "FrameOfReferenceUID": None}


def _stored_as(sop_class: str) -> Callable[[Dataset], None]:
    """Make the image one of ``sop_class`` (a radiograph, an ultrasound image: kinds without
    patient position or orientation)."""
    def change(ds: Dataset) -> None:
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = UID(sop_class)
    return change


# --- pixels --------------------------------------------------------------------------------------

def _damaged_frame(spec: SeriesSpec, damage: Callable[[bytes], bytes], *indices: int
                   ) -> Plant:
    """The frames of the files at ``indices`` (default: the fourth) damaged by ``damage``;
    the finding must name one of them."""
    def plant(base: Path) -> Site:
        truth = write_series(base, spec)
        victims = tuple(truth.files[k] for k in indices or (3,))
        for path in victims:
            _change_frames(path, damage)
        return Site(truth.series_uid, one_of=victims)
    return plant


def _bad_rle_table(frame: bytes) -> bytes:
    """Declare 5 segments where 16-bit grey needs 2."""
    return struct.pack("<L", 5) + frame[4:]


def _truncated_stream(frame: bytes) -> bytes:
    """Half the codestream, without its end-of-image marker (padded to an even length)."""
    half = frame[:len(frame) // 2]
    return half + b"\0" * (len(half) % 2)


def _jpeg_taller(frame: bytes) -> bytes:
    """Change the height in the JPEG frame header (SOF0) to 17 lines."""
    at = frame.index(b"\xff\xc0") + 5
    return frame[:at] + struct.pack(">H", 17) + frame[at + 2:]


def _native_truncated(base: Path) -> Site:
    truth = write_series(base, SMALL)
    truth.files[3].write_bytes(truth.files[3].read_bytes()[:-40])
    return Site(truth.series_uid, files=(truth.files[3],))


def _rows_decreased_multiframe(base: Path) -> Site:
    """An enhanced multi-frame file declaring 15 rows per frame and holding 16."""
    truth = write_enhanced(base, SeriesSpec(shape=(4, 16, 16), modality="MR",
                                            rescale_intercept=0.0), shuffle=False)
    rewrite(truth.files, Rows=15)
    return Site(truth.series_uid, files=tuple(truth.files))


def _zero(ds: Dataset) -> None:
    ds.PixelData = bytes(len(ds.PixelData))


def _three_bytes_over(ds: Dataset) -> None:
    """225 bytes of a 15×15 8-bit image, then 3 more: beyond the one padding byte."""
    ds.PixelData = ds.PixelData[:225] + b"\1\2\3"


_RLE = SMALL.with_(transfer_syntax=synthetic.RLE)
_PICTURE = SMALL.with_(shape=(1, 16, 16), rescale_intercept=0)
_ODD = SMALL.with_(shape=(8, 15, 15), bits_allocated=8, bits_stored=8, rescale_intercept=0)
_JPEG_LS = SMALL.with_(transfer_syntax=synthetic.JPEG_LS)
_JPEG_8BIT = SMALL.with_(transfer_syntax=synthetic.JPEG_BASELINE, bits_allocated=8,
                         bits_stored=8, rescale_intercept=0)


def _cut_to(size: int) -> Callable[[bytes], bytes]:
    return lambda data: data[:size]


#: Every planted defect, by finding code in the order of docs/findings.md.
DEFECTS: tuple[Defect, ...] = (
    Defect("no_dicom", "NO_DICOM", "error", _no_dicom),
    Defect("unreadable_empty", "UNREADABLE_FILE", "error", _unreadable(_cut_to(0))),
    Defect("unreadable_64_bytes", "UNREADABLE_FILE", "error", _unreadable(_cut_to(64))),
    Defect("unreadable_131_bytes", "UNREADABLE_FILE", "error", _unreadable(_cut_to(131))),
    Defect("unreadable_file_meta", "UNREADABLE_FILE", "error", _unreadable(_cut_to(150))),
    Defect("unreadable_header", "UNREADABLE_FILE", "error", _unreadable(_inside_position)),
    Defect("skipped_text", "SKIPPED_FILE", "info", _skipped_text),
    Defect("skipped_report", "SKIPPED_FILE", "info", _skipped_report),
    Defect("multiple_series", "MULTIPLE_SERIES", "info", _multiple_series),
    Defect("mixed_orientation", "MIXED_ORIENTATION", "warning", _mixed_orientation),
    Defect("mixed_shape", "MIXED_SHAPE", "warning", _mixed_shape),
    Defect("duplicate_file", "DUPLICATE_FILE", "info", _duplicate_files(3)),
    Defect("duplicate_files_two", "DUPLICATE_FILE", "info", _duplicate_files(2, 6)),
    Defect("shared_sop_uid", "SHARED_SOP_INSTANCE_UID", "error", _shared_sop_uid),
    Defect("mosaic_without_count", "FRAMES_AS_STORED", "error", _frames_as_stored),
    Defect("four_d_instance", "FOUR_D", "info", _four_d("instance")),
    Defect("four_d_temporal", "FOUR_D", "info", _four_d("temporal")),
    Defect("four_d_time", "FOUR_D", "info", _four_d("time")),
    Defect("four_d_enhanced", "FOUR_D", "info", _four_d_enhanced),
    Defect("duplicate_position", "DUPLICATE_POSITION", "error", _duplicate_position),
    Defect("four_d_incomplete", "DUPLICATE_POSITION", "error", _four_d_incomplete),
    Defect("four_d_inconsistent_order", "FOUR_D_INCONSISTENT_ORDER", "error",
           _four_d_inconsistent_order),
    Defect("mixed_image_type", "MIXED_IMAGE_TYPE", "warning", _mixed_image_type),
    Defect("missing_slice", "MISSING_SLICE", "error", _written(skip=[3])),
    Defect("missing_slices_two_gaps", "MISSING_SLICE", "error", _written(skip=[2, 5])),
    Defect("irregular_spacing", "IRREGULAR_SPACING", "error", _written(positions=_IRREGULAR)),
    Defect("gantry_tilt", "GANTRY_TILT", "error", _written(SMALL.with_(tilt_degrees=12.0))),
    Defect("thick_slices", "THICKNESS_SPACING_MISMATCH", "info",
           _written(SMALL.with_(slice_thickness=5.0))),
    Defect("single_slice", "SINGLE_SLICE", "info", _written(SMALL.with_(shape=(1, 16, 16)))),
    Defect("position_removed", "MISSING_GEOMETRY", "error",
           _rewritten([2], named=True, ImagePositionPatient=None)),
    Defect("positions_removed_two", "MISSING_GEOMETRY", "error",
           _rewritten([2, 5], named=True, ImagePositionPatient=None)),
    Defect("geometry_removed", "MISSING_GEOMETRY", "error", _rewritten(
        None, ImagePositionPatient=None, ImageOrientationPatient=None)),
    Defect("secondary_capture", "NOMINAL_GEOMETRY", "info", _rewritten(
        None, spec=_PICTURE.with_(modality="OT"), PixelSpacing=None, **_NO_PLACE)),
    Defect("computed_radiograph", "NOMINAL_GEOMETRY", "info", _rewritten(
        None, _stored_as(_CR_IMAGE), _PICTURE.with_(modality="CR"), **_NO_PLACE)),
    Defect("digital_radiograph", "NOMINAL_GEOMETRY", "info", _rewritten(
        None, _stored_as(_DX_IMAGE), _PICTURE.with_(modality="DX"), **_NO_PLACE)),
    Defect("ultrasound_image", "NOMINAL_GEOMETRY", "info", _rewritten(
        None, _stored_as(_US_IMAGE), _PICTURE.with_(modality="US"), PixelSpacing=None,
        **_NO_PLACE)),
    Defect("mpeg2", "UNSUPPORTED_TRANSFER_SYNTAX", "error", _rewritten(None, as_mpeg2)),
    Defect("rle_decoder_missing", "MISSING_DECODER", "error", _written(_RLE),
           hidden_syntax=synthetic.RLE),
    Defect("rle_bad_segment_table", "DECODE_FAILED", "error",
           _damaged_frame(_RLE, _bad_rle_table)),
    Defect("jpeg_ls_truncated", "DECODE_FAILED", "error",
           _damaged_frame(_JPEG_LS, _truncated_stream)),
    Defect("jpeg_wrong_height", "DECODE_FAILED", "error",
           _damaged_frame(_JPEG_8BIT, _jpeg_taller)),
    Defect("rle_two_damaged", "DECODE_FAILED", "error",
           _damaged_frame(_RLE, _bad_rle_table, 2, 5)),
    Defect("native_truncated", "DECODE_FAILED", "error", _native_truncated),
    Defect("rows_decreased", "PIXEL_DATA_TOO_LONG", "error",
           _rewritten(None, named=True, Rows=15)),
    Defect("rows_decreased_multiframe", "PIXEL_DATA_TOO_LONG", "error",
           _rows_decreased_multiframe),
    Defect("odd_image_three_bytes_over", "PIXEL_DATA_TOO_LONG", "error",
           _rewritten([4], _three_bytes_over, _ODD, named=True)),
    Defect("all_zero", "ALL_ZERO_PIXELS", "warning", _rewritten(None, _zero)),
    Defect("high_bit_garbage", "VALUES_OUT_OF_RANGE", "warning",
           _written(SMALL.with_(high_bit_garbage=True, rescale_intercept=0))),
    Defect("backend_disagrees", "BACKEND_MISMATCH", "error", _written(), cross_check=True,
           fake_backends=("shift",), neighbour=False),
    Defect("cross_checked", "CROSS_CHECKED", "info", _written(), cross_check=True,
           neighbour=False),
)

