"""Vendor conventions: what a header does not say in its standard attributes.

Some scanners store images in ways the standard attributes do not describe, and a reader that
trusts them alone returns voxels in the wrong place, or different kinds of image mixed into one
4-D array without a word. This module is the one home of each convention dicomio applies;
grouping (:mod:`dicomio.series.group`), the read stage (:mod:`dicomio.pixels.assembly`,
:mod:`dicomio.read`), loading, ``validate``, ``info`` and ``compare`` all go through it.
``docs/vendors.md`` describes each with the numbers the tests assert.

GE ``epi_pepolar`` (:func:`pepolar_polarity`)
    The ABCD ``epi_pepolar`` sequence (PulseSequenceName (0019,109C) containing ``epi_pepolar``)
    stores its reversed phase-encoding images with their rows reversed, and no standard
    attribute says so. UserData12 (0019,10B3) gives the mode: 0 forward, 1 reversed, 2 reversed
    then forward (odd TemporalPositionIdentifier reversed), 3 forward then reversed (even ones
    reversed). The reversed images are marked (``Frame.rows_reversed``) and their rows flipped
    back when read; the two polarities of modes 2 and 3 are separate stacks, as dcm2niix writes
    them (the reversed under series number + 1000).
Kinds of image (:func:`image_kind`)
    Magnitude, phase, real, imaginary, field maps in Hz and derived diffusion maps (trace, ADC,
    FA) under one SeriesInstanceUID are separate stacks when anything says which is which: the
    GE private image type (0043,102F) (0 magnitude, 1 phase, 2 real, 3 imaginary; the "real"
    image of a GE B0 map is its field map in Hz), the Philips DiffusionDirection (2001,1004)
    ``I`` or DiffusionDirectionality (0018,9075) ``ISOTROPIC`` (a derived trace image), then the
    values of ImageType or FrameType, read as dcm2niix reads them. A GE B0 map whose images
    nothing tells apart stays one 4-D series, with a warning (IMAGE_KINDS_UNTOLD).
Philips scaling (:func:`philips_precise`)
    Philips stores a private scale slope SS (2005,100E) beside the DICOM RescaleSlope RS and
    RescaleIntercept RI: its floating-point values are (RS × stored + RI) / (RS × SS). dicomio
    returns the DICOM modality values (RS × stored + RI) unless asked for those.
United Imaging grids (:func:`uih_grid`)
    UIH stores DTI and fMRI volumes as one image tiling every slice, the slices' positions only
    in a private sequence (0065,1051) and no ImagePositionPatient. dicomio does not cut them
    into slices: their frames are taken as stored, and loading refuses them, naming UIH.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from dicomio.dicom.frame import Frame
from dicomio.dicom.types import FileHeader
from dicomio.series.info import SeriesInfo, SeriesNote

__all__ = ["CONVENTION_CODES", "GE_EPI_PEPOLAR", "IMAGE_KINDS_SPLIT", "IMAGE_KINDS_UNTOLD",
           "KIND_NAMES", "PHILIPS_SCALING", "Polarity", "file_conventions", "image_kind",
           "pepolar_polarity", "philips_precise", "stack_key", "stack_notes", "uih_grid"]

#: Finding codes of the notes saying a convention was applied (or seen), see
#: :mod:`dicomio.validate.findings`; a volume's provenance keeps their messages.
GE_EPI_PEPOLAR = "GE_EPI_PEPOLAR"
IMAGE_KINDS_SPLIT = "IMAGE_KINDS_SPLIT"
IMAGE_KINDS_UNTOLD = "IMAGE_KINDS_UNTOLD"
PHILIPS_SCALING = "PHILIPS_SCALING"
CONVENTION_CODES = frozenset({GE_EPI_PEPOLAR, IMAGE_KINDS_SPLIT, IMAGE_KINDS_UNTOLD,
                              PHILIPS_SCALING})

#: The kinds of image, by machine name, and what each is called in messages.
KIND_NAMES = {
    "magnitude": "magnitude",
    "phase": "phase",
    "real": "real part",
    "imaginary": "imaginary part",
    "fieldmap_hz": "field map in Hz",
    "trace": "derived isotropic (trace) diffusion image",
    "adc": "derived ADC map",
    "fa": "derived FA map",
}

_PEPOLAR_MODES = {0: "forward", 1: "reversed", 2: "reversed then forward",
                  3: "forward then reversed"}
_GE_IMAGE_TYPES = {0: "magnitude", 1: "phase", 2: "real", 3: "imaginary"}
# ImageType / FrameType values, as dcm2niix reads them (nii_dicom.cpp, kImageType): derived
# diffusion maps first, then field maps, then the complex components.
_DERIVED_TOKENS = (("ADC", "adc"), ("TRACEW", "trace"), ("TRACE", "trace"), ("FA", "fa"))
_COMPONENT_TOKENS = (("phase", ("P", "PHASE")), ("real", ("R", "REAL")),
                     ("imaginary", ("I", "IMAGINARY")), ("magnitude", ("M", "MAGNITUDE")))
# Philips precise values equal the DICOM ones when RS × SS is 1 within this.
_SAME_SCALING = 1e-6


def _manufacturer(header: FileHeader) -> str:
    return header.manufacturer.upper()


def _is_ge(header: FileHeader) -> bool:
    return _names_ge(_manufacturer(header))


def _names_ge(manufacturer: str) -> bool:
    return manufacturer.startswith("GE")


def _is_philips(header: FileHeader) -> bool:
    return _names_philips(_manufacturer(header))


def _names_philips(manufacturer: str) -> bool:
    return "PHILIPS" in manufacturer


def _is_uih(header: FileHeader) -> bool:
    name = _manufacturer(header)
    return "UIH" in name or "UNITED IMAGING" in name


# --- GE epi_pepolar -------------------------------------------------------------------------

@dataclass(frozen=True)
class Polarity:
    """The phase-encoding polarity of an image of a GE ``epi_pepolar`` series.

    Attributes
    ----------
    mode
        UserData12 (0019,10B3): 0 forward, 1 reversed, 2 reversed then forward, 3 forward then
        reversed; None when absent or not one of these.
    volume
        TemporalPositionIdentifier, the image's volume (1 first), when it has one.
    reversed
        Whether the image's rows are stored reversed; None when that cannot be told (an
        unknown mode, or an alternating mode and no volume number).
    """

    mode: int | None
    volume: int | None
    reversed: bool | None

    def describe(self) -> str:
        mode = "an unknown mode" if self.mode is None else \
            f"mode {self.mode} ({_PEPOLAR_MODES[self.mode]})"
        return f"GE epi_pepolar, {mode}"


def pepolar_polarity(header: FileHeader) -> Polarity | None:
    """The polarity of the images of ``header`` when it is a GE ``epi_pepolar`` file, else
    None (see the module's description)."""
    if not _is_ge(header) or "epi_pepolar" not in header.ge_pulse_sequence:
        return None
    value = header.ge_user_data_12
    mode = round(value) if value is not None and math.isfinite(value) else None
    mode = mode if mode in _PEPOLAR_MODES else None
    volume = header.temporal_position
    if mode in (0, 1):
        return Polarity(mode, volume, mode == 1)
    if mode is None or volume is None or volume < 1:
        return Polarity(mode, volume, None)
    return Polarity(mode, volume, volume % 2 == (1 if mode == 2 else 0))


def file_conventions(header: FileHeader, frames: list[Frame], notes: list[SeriesNote]
                     ) -> tuple[list[Frame], list[SeriesNote]]:
    """The frames of one file with the conventions that concern them applied: the rows of GE
    ``epi_pepolar`` reversed-polarity images marked; and a FRAMES_AS_STORED note (the frames
    are not placed) for a UIH grid, or an ``epi_pepolar`` image whose polarity cannot be told.
    """
    polarity = pepolar_polarity(header)
    if polarity is not None and polarity.reversed:
        frames = [replace(frame, rows_reversed=True) for frame in frames]
    elif polarity is not None and polarity.reversed is None:
        why = ("UserData12 (0019,10B3) is not one of its modes 0-3" if polarity.mode is None
               else "the image carries no TemporalPositionIdentifier")
        notes = [*notes, SeriesNote(
            "FRAMES_AS_STORED",
            f"{header.path}: {polarity.describe()}: its reversed-polarity images are stored "
            f"with their rows reversed, and which they are cannot be told ({why}); its frames "
            f"are used as stored and may be upside down", (header.path,))]
    problem = uih_grid(header)
    if problem is not None:
        notes = [*notes, SeriesNote("FRAMES_AS_STORED", problem, (header.path,))]
    return frames, notes


# --- kinds of image -------------------------------------------------------------------------

def _is_ge_b0_map(header: FileHeader) -> bool:
    return _names_ge_b0_map(_manufacturer(header), header.ge_pulse_sequence,
                            header.ge_internal_sequence)


def _names_ge_b0_map(manufacturer: str, pulse_sequence: str, internal_sequence: str) -> bool:
    """A GE direct field map: PulseSequenceName containing ``b0map`` (B0map, 3db0map) or the
    internal name ``B0map`` (B0rf), as dcm2niix detects it (issue 501)."""
    return _names_ge(manufacturer) and ("b0map" in pulse_sequence.lower()
                                        or internal_sequence == "B0map")


def image_kind(frame: Frame) -> tuple[str | None, str]:
    """What kind of image ``frame`` is (a key of :data:`KIND_NAMES`, or None when nothing
    says), and the attribute that said it."""
    header = frame.header
    # The frames of a series mostly share these values: each set is judged once.
    return _kind(_manufacturer(header), header.ge_image_type, header.ge_pulse_sequence,
                 header.ge_internal_sequence, frame.diffusion_directionality,
                 header.philips_diffusion_direction, frame.image_type, bool(frame.frame_type))


@lru_cache(maxsize=1024)
def _kind(manufacturer: str, ge_image_type: int | None, ge_pulse_sequence: str,
          ge_internal_sequence: str, diffusion_directionality: str,
          philips_diffusion_direction: str, image_type: tuple[str, ...], frame_type: bool
          ) -> tuple[str | None, str]:
    if _names_ge(manufacturer) and ge_image_type in _GE_IMAGE_TYPES:
        kind = _GE_IMAGE_TYPES[ge_image_type]
        if kind == "real" and _names_ge_b0_map(manufacturer, ge_pulse_sequence,
                                               ge_internal_sequence):
            return "fieldmap_hz", "the GE private image type (0043,102F) of a B0 map"
        return kind, "the GE private image type (0043,102F)"
    if diffusion_directionality.upper() == "ISOTROPIC" or (
            _names_philips(manufacturer) and philips_diffusion_direction.upper() == "I"):
        return "trace", "DiffusionDirectionality (0018,9075) or Philips (2001,1004)"
    tokens = tuple(value.upper() for value in image_type)
    source = "FrameType" if frame_type else "ImageType"
    for token, kind in _DERIVED_TOKENS:
        if token in tokens:
            return kind, source
    if "FIELD_MAP" in tokens or any("B0" in t and "MAP" in t for t in tokens):
        return "fieldmap_hz", source
    for kind, names in _COMPONENT_TOKENS:
        if any(name in tokens for name in names) or (
                kind == "phase" and any("PHASE" in t for t in tokens)):
            return kind, source
    return None, source


def stack_key(frame: Frame) -> tuple[str | None, bool]:
    """What keeps two frames of one series out of one stack for a vendor convention: their
    kind of image, and whether their rows are stored reversed."""
    return image_kind(frame)[0], frame.rows_reversed


def stack_notes(stack: Sequence[Frame], stacks: Sequence[Sequence[Frame]], index: int,
                uid: str) -> list[SeriesNote]:
    """The convention notes of stack ``index`` among the ``stacks`` of series ``uid``."""
    files = tuple(dict.fromkeys(f.path for f in stack))
    notes = [note for note in (_pepolar_note(stack, stacks, index, uid, files),
                               _kinds_note(stack, stacks, index, uid, files),
                               _untold_note(stack, files), _scaling_note(stack, files))
             if note is not None]
    return notes


def _key(uid: str, stacks: Sequence[object], index: int) -> str:
    return uid if len(stacks) == 1 else f"{uid}#{index}"


def _pepolar_note(stack: Sequence[Frame], stacks: Sequence[Sequence[Frame]], index: int,
                  uid: str, files: tuple[Path, ...]) -> SeriesNote | None:
    polarity = pepolar_polarity(stack[0].header)
    if polarity is None or polarity.reversed is None:
        return None
    volumes = sorted({f.header.temporal_position for f in stack
                      if f.header.temporal_position is not None})
    shown = ", ".join(map(str, volumes[:8])) + (", ..." if len(volumes) > 8 else "")
    if stack[0].rows_reversed:
        what = (f"its reversed phase-encoding polarity images (TemporalPositionIdentifier "
                f"{shown}), which GE stores with their rows reversed while the header says "
                f"nothing: dicomio flips their rows back, so that they lie where the header "
                f"puts them (dcm2niix does too")
        what += ")" if polarity.mode == 1 else ", writing them as series number + 1000)"
    else:
        what = (f"its forward phase-encoding polarity images (TemporalPositionIdentifier "
                f"{shown}), stored as the header says")
    others = [_key(uid, stacks, i) for i, s in enumerate(stacks)
              if i != index and pepolar_polarity(s[0].header) is not None]
    split = f"; the other polarity is stack {', '.join(others)}" if others else ""
    return SeriesNote(GE_EPI_PEPOLAR, f"{polarity.describe()}: this stack holds {what}{split}",
                      files)


def _kinds_note(stack: Sequence[Frame], stacks: Sequence[Sequence[Frame]], index: int,
                uid: str, files: tuple[Path, ...]) -> SeriesNote | None:
    kinds = [image_kind(s[0]) for s in stacks]
    if len({kind for kind, _ in kinds}) < 2:
        return None
    listed = ", ".join(f"{_name(kind)} ({_key(uid, stacks, i)})"
                       for i, (kind, _) in enumerate(kinds))
    kind, source = kinds[index]
    return SeriesNote(
        IMAGE_KINDS_SPLIT,
        f"series {uid} holds images of different kinds, told apart by {source}: {listed}; "
        f"each is a stack of its own, loaded on its own, as dcm2niix writes them; this one "
        f"is the {_name(kind)}", files)


def _untold_note(stack: Sequence[Frame], files: tuple[Path, ...]) -> SeriesNote | None:
    """A GE B0 map (a field map in Hz and a magnitude image) whose images nothing tells
    apart: they stay one 4-D series, which must be said loudly."""
    head = stack[0].header
    positions = {tuple(round(v, 3) for v in f.position) for f in stack
                 if f.position is not None}
    if not _is_ge_b0_map(head) or not positions or len(stack) <= len(positions):
        return None
    return SeriesNote(
        IMAGE_KINDS_UNTOLD,
        f"a GE B0 map ({head.ge_pulse_sequence or head.ge_internal_sequence}) holds a field "
        f"map in Hz and a magnitude image, and nothing in these headers tells them apart (the "
        f"GE private image type (0043,102F) is the same for all): they load as one 4-D series "
        f"whose volumes are of different kinds; check which is which (GE numbers the field "
        f"map first)", files)


def _scaling_note(stack: Sequence[Frame], files: tuple[Path, ...]) -> SeriesNote | None:
    """Philips images whose floating-point values differ from their DICOM modality values."""
    scaled = [f for f in stack if _is_philips(f.header) and f.scale_slope]
    differing = [f for f in scaled if abs(f.slope * (f.scale_slope or 0.0) - 1) > _SAME_SCALING]
    if not differing:
        return None
    frame = differing[0]
    return SeriesNote(
        PHILIPS_SCALING,
        f"Philips private scaling: RescaleSlope RS {frame.slope:g}, RescaleIntercept RI "
        f"{frame.intercept:g}, MRScaleSlope (2005,100E) SS {frame.scale_slope:g} "
        f"({len(differing)} of {len(stack)} image(s) like it): dicomio returns the DICOM "
        f"modality values RS × stored + RI; Philips' floating-point values (RS × stored + RI)"
        f" / (RS × SS), which dcm2niix writes by default, are "
        f"load_volume(..., scaling='philips_precise')", files)


def _name(kind: str | None) -> str:
    return KIND_NAMES.get(kind or "", "image of unstated kind")


# --- Philips floating-point values ----------------------------------------------------------

def philips_precise(series: SeriesInfo) -> tuple[SeriesInfo, list[str]]:
    """The series with the rescale of each Philips image replaced by the one giving Philips'
    floating-point values: slope 1 / SS and intercept RI / (RS × SS), so that stored × slope +
    intercept = (RS × stored + RI) / (RS × SS). Images without a scale slope keep their DICOM
    rescale; the warnings say how many, and which scaling was used."""
    frames, kept = [], 0
    for frame in series.frames:
        scale = frame.scale_slope
        if not _is_philips(frame.header) or not scale or frame.slope == 0:
            frames.append(frame)
            kept += 1
            continue
        frames.append(replace(frame, rescale_slope=1.0 / scale,
                              rescale_intercept=frame.intercept / (frame.slope * scale)))
    if kept == len(frames):
        return series, [f"scaling='philips_precise': no Philips MRScaleSlope (2005,100E) in "
                        f"series {series.key}: its DICOM modality values are returned"]
    first = next(f for f in series.frames if f.scale_slope and _is_philips(f.header))
    warnings = [f"Philips floating-point values (scaling='philips_precise'): (RS × stored + "
                f"RI) / (RS × SS), e.g. RS {first.slope:g}, RI {first.intercept:g}, SS "
                f"{first.scale_slope:g}"]
    if kept:
        warnings.append(f"{kept} of {len(frames)} image(s) carry no Philips MRScaleSlope: "
                        f"their DICOM modality values are returned")
    return replace(series, frames=tuple(frames)), warnings


# --- United Imaging grids -------------------------------------------------------------------

def uih_grid(header: FileHeader) -> str | None:
    """Why the image of ``header`` cannot be placed when it is a United Imaging grid (its
    slices tiled in one image, their positions in a private sequence), else None."""
    if not _is_uih(header):
        return None
    slices = header.uih_grid_slices
    if not (slices and slices > 1) and "VFRAME" not in (v.upper() for v in header.image_type):
        return None
    fmt = header.pixel
    size = f"{fmt.rows}×{fmt.columns} " if fmt is not None else ""
    count = f"{slices} slices" if slices else "the slices"
    return (f"{header.path}: a United Imaging (UIH) grid, the 'SaveBySlc' export: {count} of "
            f"a volume tiled in one {size}image, each slice's position only in the private "
            f"sequence (0065,1051), none in ImagePositionPatient; dicomio does not cut UIH "
            f"grids into slices (no UIH grid with a reference conversion was at hand to test "
            f"against), so its frames are used as stored: convert it with dcm2niix")
