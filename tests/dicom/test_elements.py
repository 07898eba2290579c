""":mod:`dicomio.dicom.elements` and :mod:`dicomio.dicom.diffusion` on pydicom data sets built here:
private elements found by creator or at the vendors' fixed block, values an implicit-VR file
leaves as bytes, functional groups, and where each vendor's b-value and gradient are read."""

from __future__ import annotations

import struct

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from dicomio.dicom.diffusion import read_gradient, vendor
from dicomio.dicom.elements import first_number, frame_item, numbers, private, text


def test_private_by_creator_and_at_the_fixed_block() -> None:
    dataset = Dataset()
    dataset.add_new(0x00190012, "LO", "GEMS_ACQU_01")  # the creator of block 0x12
    dataset.add_new(0x001912BB, "DS", "0.5")
    dataset.add_new(0x001910BB, "DS", "0.9")  # block 0x10, another creator's or none
    assert private(dataset, 0x0019, "GEMS_ACQU_01", 0xBB) == "0.5"
    assert private(Dataset(), 0x0019, "GEMS_ACQU_01", 0xBB) is None
    without_creator = Dataset()
    without_creator.add_new(0x001910BB, "DS", "0.9")
    assert private(without_creator, 0x0019, "GEMS_ACQU_01", 0xBB) == "0.9"


def test_numbers_from_text_numbers_and_bytes() -> None:
    assert numbers("1000\\8\\0\\0") == (1000.0, 8.0, 0.0, 0.0)
    assert numbers(b"1000\\8 ") == (1000.0, 8.0)
    assert numbers(struct.pack("<f", 1000.0), binary="f") == (1000.0,)
    assert numbers(struct.pack("<3d", 0.5, -0.5, 0.0), binary="d") == (0.5, -0.5, 0.0)
    assert numbers(b"\x00\x00z", binary="f") is None  # not a whole number of floats
    assert numbers("nan") is None and numbers("abc") is None and numbers(None) is None
    assert first_number([3, 4]) == 3.0
    assert text(["ORIGINAL", "PRIMARY"]) == "ORIGINAL\\PRIMARY"


def test_frame_item_prefers_the_frame_then_shared_then_top_level() -> None:
    def group(value: float) -> Dataset:
        item, timing = Dataset(), Dataset()
        timing.RepetitionTime = value
        item.MRTimingAndRelatedParametersSequence = Sequence([timing])
        return item

    dataset = Dataset()
    dataset.RepetitionTime = 1.0
    dataset.SharedFunctionalGroupsSequence = Sequence([group(2.0)])
    dataset.PerFrameFunctionalGroupsSequence = Sequence([group(3.0), Dataset()])
    read = [frame_item(dataset, f, "MRTimingAndRelatedParametersSequence", "RepetitionTime")
            for f in (0, 1)]
    assert read == [3.0, 2.0]
    del dataset.SharedFunctionalGroupsSequence
    assert frame_item(dataset, 1, "MRTimingAndRelatedParametersSequence",
                      "RepetitionTime") == 1.0


def test_siemens_private_gradient_of_an_implicit_file() -> None:
    """No CSA header: the older (0019,xx0C)/(0019,xx0E), the direction binary FD as bytes."""
    dataset = Dataset()
    dataset.Manufacturer = "SIEMENS"
    dataset.add_new(0x00190010, "LO", "SIEMENS MR HEADER")
    dataset.add_new(0x0019100C, "UN", b"1000")
    dataset.add_new(0x0019100E, "UN", struct.pack("<3d", 0.0, 0.6, 0.8))
    gradient = read_gradient(dataset)
    assert gradient is not None and vendor(dataset) == "siemens"
    assert (gradient.bvalue, gradient.vector, gradient.frame) == (1000.0, (0.0, 0.6, 0.8),
                                                                  "patient")


@pytest.mark.parametrize(("stored", "bvalue"), [("1000\\8\\0\\0", 1000.0),
                                                 ("1000001000\\8\\0\\0", 1000.0)])
def test_ge_b_value_without_and_with_its_flag(stored: str, bvalue: float) -> None:
    dataset = Dataset()
    dataset.Manufacturer = "GE MEDICAL SYSTEMS"
    dataset.add_new(0x00430010, "LO", "GEMS_PARM_01")
    dataset.add_new(0x00431039, "IS", stored.split("\\"))
    dataset.add_new(0x00190010, "LO", "GEMS_ACQU_01")
    for element, value in zip((0x001910BB, 0x001910BC, 0x001910BD), ("1", "0", "0"),
                              strict=True):
        dataset.add_new(element, "DS", value)
    gradient = read_gradient(dataset)
    assert gradient is not None
    assert (gradient.bvalue, gradient.vector, gradient.frame) == (bvalue, (1.0, 0.0, 0.0), "ge")


def test_enhanced_frames_read_their_own_diffusion_group() -> None:
    def frame(bvalue: float, direction: tuple[float, float, float] | None,
              directionality: str) -> Dataset:
        item, diffusion = Dataset(), Dataset()
        diffusion.DiffusionBValue = bvalue
        diffusion.DiffusionDirectionality = directionality
        if direction is not None:
            gradient = Dataset()
            gradient.DiffusionGradientOrientation = list(direction)
            diffusion.DiffusionGradientDirectionSequence = Sequence([gradient])
        item.MRDiffusionSequence = Sequence([diffusion])
        return item

    dataset = Dataset()
    dataset.Manufacturer = "Philips"
    dataset.PerFrameFunctionalGroupsSequence = Sequence([
        frame(0, None, "NONE"), frame(1000, (0, 0, 1), "DIRECTIONAL"),
        frame(1000, None, "ISOTROPIC")])
    read = [read_gradient(dataset, f) for f in range(3)]
    assert [(g.bvalue, g.vector, g.isotropic) for g in read if g] == [
        (0.0, None, False), (1000.0, (0.0, 0.0, 1.0), False), (1000.0, None, True)]
    assert read_gradient(Dataset()) is None
