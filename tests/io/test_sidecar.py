""":mod:`dicomio.io.sidecar`: the JSON sidecar against dcm2niix's, on every corpus series with one.

For each key both write, the values must agree: text and integers equal, numbers within a
relative 1e-4 (dcm2niix prints six significant digits), lists of numbers within 1e-4 s. The
sidecar describes an image: the fields that depend on its axes (PhaseEncodingDirection,
SliceTiming) are computed for dcm2niix's image — its NIfTI's affine when the corpus has it, else
its layout built here from ImageOrientationPatient. Where dicomio writes a value differently on
purpose (docs/conversion.md), the comparison says how the two relate, and the few values that
cannot agree are listed with the reason and asserted to differ.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest

import dicomio
from dicomio.io.sidecar import sidecar, write_sidecar
from tests.support.conversion_refs import (
    JSON_CASES,
    Case,
    dcm2niix_affine,
    input_folder,
    json_references,
    orientation_of,
)
from tests.support.corpus import CORPUS, corpus_path

#: (case, key) → why dcm2niix's value is another (strict: asserted to differ).
DIFFERENT = {
    ("dcm_qa_polar/1006", "SeriesNumber"): "dcm2niix writes the reversed-polarity volumes of a "
    "GE epi_pepolar series as series number + 1000; dicomio keeps the files' SeriesNumber",
    ("dcm_qa_polar/1008", "SeriesNumber"): "dcm2niix writes the reversed-polarity volumes of a "
    "GE epi_pepolar series as series number + 1000; dicomio keeps the files' SeriesNumber",
}
#: What dcm2niix appends to ImageType from other attributes (dicomio copies the DICOM value).
APPENDED = ("MAGNITUDE", "PHASE", "REAL", "IMAGINARY", "FIELDMAPHZ")
#: dcm2niix keeps HHMMSS.ffffff in a float: its AcquisitionTime is that close to the file's.
CLOCK_TOLERANCE = 0.008


def clock(text: str) -> float:
    hours, minutes, secs = text.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(secs)


def image_type(ours: list[str], theirs: list[str]) -> bool:
    """dcm2niix splits each value on underscores and appends MAGNITUDE, PHASE... (from other
    attributes) when the value does not say so."""
    split = [part for value in ours for part in value.split("_")]
    extra = theirs[len(split):]
    return theirs[:len(split)] == split and all(e in APPENDED for e in extra)


def agree(key: str, ours: Any, theirs: Any) -> bool:
    if key == "ImageType":
        return image_type(ours, theirs)
    if key == "AcquisitionTime":
        return abs(clock(ours) - clock(theirs)) <= CLOCK_TOLERANCE
    if isinstance(theirs, (bool, str)):
        return ours == theirs
    if isinstance(theirs, (int, float)):
        return isinstance(ours, (int, float)) and math.isclose(ours, theirs, rel_tol=1e-4)
    if isinstance(theirs, list) and theirs and isinstance(theirs[0], (int, float)):
        return len(ours) == len(theirs) and np.allclose(ours, theirs, rtol=1e-4, atol=1e-4)
    return bool(ours == theirs)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("inputs")


def source_of(case: Case, scratch: Path) -> Path | dicomio.SeriesInfo:
    if case.absent:
        raise FileNotFoundError(case.absent)
    folder = input_folder(case, scratch)
    if case.stack is None:
        return folder
    found = dicomio.list_series(folder)
    if case.stack >= len(found):  # until GE epi_pepolar's polarities are separate series
        pytest.xfail(f"{case.source} lays out as {len(found)} series, not the {case.stack + 1} "
                     f"dcm2niix writes: its reversed-polarity volumes are not a series of their "
                     f"own (the GE epi_pepolar convention, issue #18)")
    return found[case.stack]


def dcm2niix_image(case: Case, scratch: Path) -> np.ndarray:
    """The affine of dcm2niix's NIfTI: its own file, or its layout."""
    nifti = CORPUS / f"{case.reference}.nii"
    if nifti.exists():
        return nib.load(nifti).affine
    return dcm2niix_affine(orientation_of(input_folder(case, scratch)))


def params() -> list:
    return [pytest.param(case, id=case.name, marks=[pytest.mark.xfail(
        reason=case.absent, raises=FileNotFoundError, strict=True)] if case.absent else [])
        for case in JSON_CASES]


def test_every_corpus_json_is_a_case() -> None:
    if not CORPUS.exists():
        pytest.skip(f"corpus not found at {CORPUS}")
    assert set(json_references()) == {corpus_path(c.reference + ".json") for c in JSON_CASES}


@pytest.mark.parametrize("case", params())
def test_sidecar_agrees_with_dcm2niix(case: Case, scratch: Path) -> None:
    source = source_of(case, scratch)
    theirs = json.loads(case.reference_file(".json").read_text())
    # dcm2niix's default for Philips images is their floating-point values, and it says so
    scaling = "philips_precise" if theirs.get("UsePhilipsFloatNotDisplayScaling") else "modality"
    ours = sidecar(source, nifti_affine=dcm2niix_image(case, scratch), scaling=scaling)
    shared = [k for k in ours if k in theirs and not k.startswith("ConversionSoftware")]
    assert len(shared) >= 10, f"only {shared} in common"
    disagree = {k: (ours[k], theirs[k]) for k in shared
                if not agree(k, ours[k], theirs[k]) and (case.name, k) not in DIFFERENT}
    assert not disagree
    for (name, key), reason in DIFFERENT.items():
        if name == case.name:
            assert not agree(key, ours[key], theirs[key]), f"now equal, remove: {reason}"


def test_phase_encoding_direction_belongs_to_the_image(scratch: Path) -> None:
    """The same series, its phase encoded down the columns with positive polarity: ``j-`` in
    dcm2niix's image (rows reversed), ``j`` in dicomio's (rows as stored)."""
    case = next(c for c in JSON_CASES if c.name == "dcm_qa_nih/Siemens AP")
    theirs = json.loads(case.reference_file(".json").read_text())
    assert theirs["PhaseEncodingDirection"] == "j-"
    assert sidecar(source_of(case, scratch), nifti_affine=dcm2niix_image(case, scratch))[
        "PhaseEncodingDirection"] == "j-"
    assert sidecar(source_of(case, scratch))["PhaseEncodingDirection"] == "j"


def test_slice_timing_follows_the_image_k_axis(scratch: Path) -> None:
    """A sagittal mosaic whose tiles run against row × column: dcm2niix's image keeps the tiles'
    order (its k axis reversed), dicomio's sorts the slices along the normal: the same times,
    in opposite orders."""
    case = next(c for c in JSON_CASES if c.name == "dcm_qa/sag_asc_35sl_22")
    theirs = json.loads(case.reference_file(".json").read_text())["SliceTiming"]
    ours = sidecar(source_of(case, scratch))["SliceTiming"]
    np.testing.assert_allclose(ours, theirs[::-1], atol=1e-6)


def test_a_volume_gives_the_same_sidecar_as_its_files(scratch: Path) -> None:
    case = next(c for c in JSON_CASES if c.name == "dcm_qa_nih/Siemens AP")
    source = source_of(case, scratch)
    assert sidecar(dicomio.load_4d(source)) == sidecar(source)


def test_write_sidecar(tmp_path: Path) -> None:
    path = write_sidecar({"EchoTime": 0.03, "SeriesDescription": "fMRI \u00e9", "None": None},
                         tmp_path / "bold.nii.gz")
    assert path.name == "bold.json"
    text = path.read_text(encoding="utf-8")
    assert text.startswith('{\n\t"EchoTime": 0.03,') and "\u00e9" in text
    assert json.loads(text) == {"EchoTime": 0.03, "SeriesDescription": "fMRI \u00e9",
                                "None": None}


def test_a_value_the_headers_do_not_give_is_left_out(scratch: Path) -> None:
    """A CT series: no echo, no repetition, no phase encoding; nothing null."""
    case = next(c for c in JSON_CASES if c.name == "dcm_qa_ct/GE 2")
    fields = sidecar(source_of(case, scratch))
    assert fields["Modality"] == "CT" and fields["Manufacturer"] == "GE"
    assert not {"EchoTime", "RepetitionTime", "PhaseEncodingDirection", "SliceTiming"} & set(
        fields)
    assert None not in fields.values()
