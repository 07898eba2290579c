"""``dicomio convert`` against dcm2niix on every corpus series it converted (each ``Ref/*.nii``
of the dcm_qa sets): through the command line, the NIfTI must hold dcm2niix's voxels in
dcm2niix's order, with its sform and qform (within 2e-4 mm: dcm2niix anchors some grids on the
last slice, docs/agreement.md), a 4-D series with the volumes last; the JSON sidecar written
beside it must agree with dcm2niix's on every key both write (as tests/io/test_sidecar.py
judges them); a diffusion series' .bval must equal dcm2niix's and its .bvec lie within 1e-3.

The expected values are dcm2niix's files, read with nibabel; nothing here computes geometry
with dicomio.
"""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from typer.testing import CliRunner

import dicomio
from dicomio.cli import app
from tests.io.test_sidecar import DIFFERENT, agree
from tests.support.agreement import REFERENCES
from tests.support.conversion_refs import DWI_CASES, Case, input_folder
from tests.support.corpus import CORPUS, corpus_path

runner = CliRunner()

#: How far dcm2niix's grid may lie from dicomio's (mm): the XA30 T1w's grid is anchored on its
#: last slice, 1.04e-4 mm from the first (docs/agreement.md).
GRID_MM = 2e-4

#: (name, DICOM input, dcm2niix's NIfTI, which of the input's series)
POLAR = [(f"dcm_qa_polar/{n}", f"dcm_qa_polar/In/{folder}", f"dcm_qa_polar/Ref/{n}_{rest}.nii",
          polarity) for n, folder, rest, polarity in (
              (6, "6_FM_cv12_2_3mm", "FM_cv12_2_3mm", "forward"),
              (1006, "6_FM_cv12_2_3mm", "FM_cv12_2_3mm", "reversed"),
              (8, "8_FM_cv12_3_3mm", "FM_cv12_3_3mm", "forward"),
              (1008, "8_FM_cv12_3_3mm", "FM_cv12_3_3mm", "reversed"))]

CASES = [(r.name, r.source, r.reference, r.stack) for r in REFERENCES
         if r.converter == "dcm2niix"] + POLAR


def test_every_dcm2niix_nifti_of_the_corpus_is_a_case() -> None:
    if not CORPUS.exists():
        pytest.skip(f"corpus not found at {CORPUS}")
    assert {str(p.relative_to(CORPUS)) for p in CORPUS.glob("*/Ref/*.nii*")} == \
        {reference for _, _, reference, _ in CASES}


def converted(source: Path, stack: int | str, target: Path, *options: str) -> Path:
    """Convert series ``stack`` of ``source`` (its index, or for a GE epi_pepolar series the
    polarity of its stack) through the command line into ``target``."""
    found = dicomio.list_series(source)
    if isinstance(stack, str):
        chosen = [s for s in found if getattr(s, "polarity", None) == stack]
        if not chosen:
            pytest.xfail(f"{source} has no series of {stack} phase-encoding polarity, as "
                         f"dcm2niix writes: the GE epi_pepolar convention is not applied "
                         f"(issue #18)")
        key = chosen[0].key
    else:
        key = found[stack].key
    result = runner.invoke(app, ["convert", str(source), str(target), "--series", key, "-q",
                                 *options])
    assert result.exit_code == 0, result.output
    return target


@pytest.mark.parametrize(("name", "source", "reference", "stack"), CASES,
                         ids=[c[0] for c in CASES])
def test_convert_writes_dcm2niix_image(name: str, source: str, reference: str,
                                       stack: int | str, tmp_path: Path) -> None:
    sidecar = corpus_path(reference).with_suffix(".json")
    said = json.loads(sidecar.read_text()) if sidecar.exists() else {}
    # dcm2niix writes Philips' floating-point values by default, and its sidecar says so
    precise = ["--scaling", "philips_precise"] if said.get("UsePhilipsFloatNotDisplayScaling") \
        else []
    written = converted(corpus_path(source), stack, tmp_path / "out.nii", *precise)
    ours, theirs = nib.load(written), nib.load(corpus_path(reference))
    assert ours.shape == theirs.shape
    ours_data = np.asarray(ours.dataobj.get_unscaled())
    theirs_data = np.asarray(theirs.dataobj.get_unscaled())
    assert ours_data.dtype == theirs_data.dtype
    assert np.array_equal(ours_data, theirs_data), (
        f"{np.count_nonzero(ours_data != theirs_data)} voxels differ")
    # the rescale of the values (nibabel keeps scl_slope and scl_inter in the data proxy);
    # dcm2niix's Philips values are float32 differences, within 1e-5 of the exact ones
    assert float(ours.dataobj.slope) == pytest.approx(float(theirs.dataobj.slope), rel=1e-5)
    assert float(ours.dataobj.inter) == pytest.approx(float(theirs.dataobj.inter), rel=1e-5,
                                                      abs=1e-4)
    assert int(ours.header["sform_code"]) == int(theirs.header["sform_code"]) == 1
    assert int(ours.header["qform_code"]) == int(theirs.header["qform_code"]) == 1
    assert np.abs(ours.get_sform() - theirs.get_sform()).max() <= GRID_MM
    assert np.abs(ours.get_qform() - theirs.get_qform()).max() <= GRID_MM
    if said:  # the JSON written beside it, against dcm2niix's
        mine = json.loads(written.with_suffix(".json").read_text())
        other = said
        shared = [k for k in mine if k in other and not k.startswith("ConversionSoftware")]
        assert len(shared) >= 10
        case_name = f"dcm_qa_polar/{Path(reference).name.split('_')[0]}"
        assert not {k: (mine[k], other[k]) for k in shared if not agree(k, mine[k], other[k])
                    and (case_name, k) not in DIFFERENT}


DWI = [c for c in DWI_CASES if c.converter == "dcm2niix"]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("inputs")


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name, marks=[pytest.mark.xfail(
    reason=c.absent, raises=FileNotFoundError, strict=True)] if c.absent else []) for c in DWI])
def test_convert_writes_dcm2niix_bval_bvec(case: Case, scratch: Path, tmp_path: Path) -> None:
    if case.absent:
        raise FileNotFoundError(case.absent)
    folder = input_folder(case, scratch)
    result = runner.invoke(app, ["convert", str(folder), str(tmp_path / "dwi.nii.gz"), "-q"])
    assert result.exit_code == 0, result.output
    bvals = np.loadtxt(tmp_path / "dwi.bval")
    bvecs = np.loadtxt(tmp_path / "dwi.bvec")
    assert np.array_equal(bvals, np.loadtxt(case.reference_file(".bval")))
    theirs = np.loadtxt(case.reference_file(".bvec"))
    weighted = bvals > 0  # b = 0: dicomio writes 0, dcm2niix the stored vector (conversion.md)
    assert np.abs(bvecs[:, weighted] - theirs[:, weighted]).max() <= 1e-3
    assert not bvecs[:, ~weighted].any()
    sidecar = json.loads((tmp_path / "dwi.json").read_text())
    assert sidecar["ConversionSoftware"] == "dicomio"
