"""Philips scaling through the library and the command line, against the dcm2niix program
(docs/vendors.md): ``--scaling philips_precise`` writes what ``dcm2niix -p y`` (its default)
writes, the default ``modality`` what ``dcm2niix -p n`` writes, and a Philips phase image comes
back in radians.

The corpus holds no Philips phase image: the real B0 map of dcm_qa_enh is made one here, its
field-map frames turned into phase frames with the scaling Philips gives phase (RS 1.53455,
RI -3142 in milliradians, scale slope SS 651.74, as in the corpus's own T1W3D phase sidecar)
and random stored values over the 12 bits. Expected values are stated by arithmetic from those
numbers, or are the dcm2niix program's files, read with nibabel.
"""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from typer.testing import CliRunner

import dicomio
from dicomio.backends.registry import get_spec
from dicomio.cli import app
from tests.support.corpus import CORPUS

pytestmark = pytest.mark.corpus
B0_MAP = CORPUS / "dcm_qa_enh/In/Philips/IM_0027_fMAP.dcm"
#: Philips' phase scaling: RS x stored + RI in milliradians over 12 bits, and RS x SS = 1000.1.
RS, RI, SS = 1.53455, -3142.0, 651.74
#: Radians from -pi to pi, but for RI, whole milliradians: -3142 / 1000.1 is 6.4e-6 below -pi.
PI = math.pi + 1e-5
runner = CliRunner()


def dcm2niix_program() -> str:
    spec = get_spec("dcm2niix")
    if not spec.installed():
        pytest.skip(f"dcm2niix is not installed: {spec.install_hint()}")
    import dcm2niix

    return str(dcm2niix.bin)


@pytest.fixture(scope="module")
def phase_map(tmp_path_factory) -> Path:
    """The B0 map with its 32 field-map frames made phase frames: a folder with one file."""
    if not B0_MAP.exists():
        pytest.skip(f"corpus not found at {B0_MAP} (set DICOMIO_CORPUS)")
    dataset = pydicom.dcmread(B0_MAP)
    stored = dataset.pixel_array.copy()
    for index, item in enumerate(dataset.PerFrameFunctionalGroupsSequence):
        frame_type = item.MRImageFrameTypeSequence[0]
        if frame_type.FrameType[3] != "FIELD_MAP":
            continue
        frame_type.FrameType = ["ORIGINAL", "PRIMARY", "PHASE", "PHASE"]
        frame_type.ComplexImageComponent = "PHASE"
        values = item.PixelValueTransformationSequence[0]
        values.RescaleSlope, values.RescaleIntercept = str(RS), str(RI)
        mapping = item.RealWorldValueMappingSequence[0]
        mapping.RealWorldValueSlope, mapping.RealWorldValueIntercept = RS, RI
        private = item[0x2005, 0x140F][0]  # Philips' copy, which dcm2niix reads
        private[0x2005, 0x100E].value = SS
        private[0x0028, 0x1053].value, private[0x0028, 0x1052].value = str(RS), str(RI)
        stored[index] = np.random.default_rng(index).integers(0, 4096, stored[index].shape)
    dataset.PixelData = stored.tobytes()
    folder = tmp_path_factory.mktemp("phase") / "in"
    folder.mkdir()
    dataset.save_as(folder / "IM_0027_phase.dcm")
    return folder


def run_dcm2niix(folder: Path, out: Path, precise: bool) -> dict[str, Path]:
    """dcm2niix's NIfTIs of ``folder`` by kind (``e1``: magnitude, ``e2_ph``: phase)."""
    out.mkdir()
    subprocess.run([dcm2niix_program(), "-p", "y" if precise else "n", "-f", "%s_%d", "-z", "n",
                    "-o", str(out), str(folder)], check=True, capture_output=True)
    written = {name: path for path in sorted(out.glob("*.nii"))
               for name in ("e1", "e2_ph") if path.stem.endswith(f"_{name}")}
    assert len(written) == 2, sorted(out.iterdir())
    return written


def stack_of(folder: Path, kind: str) -> dicomio.SeriesInfo:
    (stack,) = [s for s in dicomio.list_series(folder) if s.image_kind == kind]
    return stack


def test_philips_phase_comes_back_in_radians(phase_map: Path, tmp_path: Path) -> None:
    """(RS x stored + RI) / (RS x SS) over stored values 0..4095: -3142 / 1000.1 to
    (RS x 4095 + RI) / 1000.1, within [-pi, pi] (RI is rounded to whole milliradians: the
    least is 6.4e-6 below -pi); the modality values are the milliradians
    RS x stored + RI; dcm2niix's image holds the same radians within the float32 rounding of
    its scl_slope (the difference of two float32 values, so about 1e-4 of it)."""
    phase = stack_of(phase_map, "phase")
    precise = dicomio.load_volume(phase, scaling="philips_precise").array
    stored = dicomio.load_volume(phase, rescale=False).array.astype(np.float64)
    assert stored.min() == 0 and stored.max() == 4095
    np.testing.assert_allclose(precise, (RS * stored + RI) / (RS * SS), rtol=1e-6, atol=1e-6)
    assert -PI <= precise.min() < -3.14 and 3.14 < precise.max() <= PI
    modality = dicomio.load_volume(phase).array
    np.testing.assert_allclose(modality, RS * stored + RI, rtol=1e-6, atol=1e-3)
    theirs = nib.load(run_dcm2niix(phase_map, tmp_path / "out", precise=True)["e2_ph"])
    their_values = np.asarray(theirs.dataobj, dtype=np.float64)
    assert their_values.min() == pytest.approx(precise.min(), abs=1e-3)
    assert their_values.max() == pytest.approx(precise.max(), abs=1e-3)


@pytest.mark.parametrize("precise", [True, False], ids=["philips_precise", "modality"])
def test_convert_scaling_writes_what_dcm2niix_writes(phase_map: Path, tmp_path: Path,
                                                     precise: bool) -> None:
    """``convert --scaling philips_precise`` against ``dcm2niix -p y``, the default against
    ``dcm2niix -p n``, for the magnitude and the phase image: the same stored voxels, the same
    scl_slope and scl_inter (within dcm2niix's float32 rounding), and the sidecars agree on
    every Philips scaling key, UsePhilipsFloatNotDisplayScaling saying which values these
    are."""
    theirs = run_dcm2niix(phase_map, tmp_path / "theirs", precise)
    for kind, name in (("magnitude", "e1"), ("phase", "e2_ph")):
        target = tmp_path / f"{name}.nii"
        option = ["--scaling", "philips_precise"] if precise else []
        result = runner.invoke(app, ["convert", str(phase_map), str(target), "--series",
                                     stack_of(phase_map, kind).key, "-q", *option])
        assert result.exit_code == 0, result.output
        ours, reference = nib.load(target), nib.load(theirs[name])
        np.testing.assert_array_equal(np.asarray(ours.dataobj.get_unscaled()),
                                      np.asarray(reference.dataobj.get_unscaled()))
        assert float(ours.dataobj.slope) == pytest.approx(float(reference.dataobj.slope),
                                                          rel=2e-4)
        assert float(ours.dataobj.inter) == pytest.approx(float(reference.dataobj.inter),
                                                          rel=2e-4, abs=1e-4)
        mine = json.loads(target.with_suffix(".json").read_text())
        other = json.loads(theirs[name].with_suffix(".json").read_text())
        keys = [k for k in other if k.startswith(("Philips", "UsePhilips"))]
        assert len(keys) == 6
        assert {k: mine.get(k) for k in keys} == pytest.approx({k: other[k] for k in keys},
                                                               rel=1e-4)
        assert mine["UsePhilipsFloatNotDisplayScaling"] == int(precise)


def test_load_scaling_option_and_its_contradiction_with_raw(phase_map: Path) -> None:
    """``dicomio load --scaling philips_precise`` reports the radians; with ``--raw`` (stored
    values) it is a usage error naming both options."""
    key = stack_of(phase_map, "phase").key
    result = runner.invoke(app, ["load", str(phase_map), "--series", key, "--json",
                                 "--scaling", "philips_precise"])
    assert result.exit_code == 0, result.output
    described = json.loads(result.stdout)
    assert -PI <= described["min"] < -3.14 and 3.14 < described["max"] <= PI
    result = runner.invoke(app, ["load", str(phase_map), "--series", key, "--raw",
                                 "--scaling", "philips_precise"])
    assert result.exit_code == 2
    assert "--scaling philips_precise" in result.output and "--raw" in result.output
