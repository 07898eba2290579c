"""What is handed to a toolkit is checked first: header values that crash VTK's parser (the
whole process, a segmentation fault) and file names a toolkit cannot take are refused with a
clear error. Each load runs in a child process, so that a crash fails the test, not the run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import Tag

from dicomio.testing.synthetic import SeriesSpec, write_series
from tests.support.corpus import REPOSITORY
from tests.support.dicom_files import rewrite

SMALL = SeriesSpec(shape=(3, 8, 10))

# Loads the folder with one backend and prints what happened, as JSON.
_LOAD = """
import json, sys
import dicomio
try:
    volume = dicomio.load_volume(sys.argv[1], backend=sys.argv[2])
    print(json.dumps({"shape": list(volume.shape)}))
except dicomio.DicomIOError as exc:
    print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
"""


def _load_in_child(folder: Path, backend: str) -> dict[str, object]:
    result = subprocess.run([sys.executable, "-c", _LOAD, str(folder), backend],
                            capture_output=True, text=True, timeout=120, cwd=REPOSITORY,
                            check=False)
    assert result.returncode == 0, f"the load died (exit {result.returncode}): {result.stderr}"
    return json.loads(result.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def _set_raw(keyword: str, text: str):  # type: ignore[no-untyped-def]
    """A change for :func:`rewrite`: ``keyword`` holds exactly ``text`` (padded to even)."""
    raw = text.encode("latin-1")
    raw += b" " * (len(raw) % 2)

    def change(dataset: Dataset) -> None:
        tag = Tag(tag_for_keyword(keyword))
        dataset[tag] = RawDataElement(tag, dictionary_VR(tag), len(raw), raw, 0, False, True)

    return change


@pytest.mark.parametrize(("keyword", "text"), [
    ("InstanceNumber", str(2**32)),
    ("InstanceNumber", str(-(2**31) - 1)),
    ("InstanceNumber", "abc"),
    ("RescaleSlope", "4e38"),
    ("RescaleSlope", "1e-50"),
    ("RescaleSlope", ""),
    ("RescaleIntercept", "abc"),
    ("GantryDetectorTilt", "4e38"),
])
def test_vtk_is_never_handed_a_value_that_crashes_it(tmp_path: Path, keyword: str,
                                                     text: str) -> None:
    pytest.importorskip("vtkmodules")
    written = write_series(tmp_path / "series", SMALL)
    rewrite(written.files[1], _set_raw(keyword, text))
    outcome = _load_in_child(written.folder, "vtk")
    assert outcome.get("error") == "BackendCannotReadError", outcome
    message = str(outcome["message"])
    assert keyword in message and str(written.files[1]) in message
    assert "vtkDICOMImageReader would crash" in message


@pytest.mark.parametrize(("keyword", "text"), [("InstanceNumber", str(2**31 - 1)),
                                               ("InstanceNumber", ""),
                                               ("RescaleSlope", "2.5"),
                                               ("GantryDetectorTilt", "")])
def test_vtk_still_reads_values_in_its_range(tmp_path: Path, keyword: str, text: str) -> None:
    pytest.importorskip("vtkmodules")
    written = write_series(tmp_path / "series", SMALL)
    rewrite(written.files[1], _set_raw(keyword, text))
    assert _load_in_child(written.folder, "vtk") == {"shape": [3, 8, 10]}


def test_auto_passes_vtk_over_for_such_a_series(tmp_path: Path) -> None:
    pytest.importorskip("vtkmodules")
    from dicomio.backends.registry import get_spec
    from dicomio.series.choose import list_series

    written = write_series(tmp_path / "series", SMALL)
    rewrite(written.files[2], _set_raw("InstanceNumber", str(2**32)))
    [series] = list_series(written.folder)
    reason = get_spec("vtk").cannot_read(series)
    assert reason is not None and "InstanceNumber '4294967296'" in reason


@pytest.mark.parametrize("backend", ["sitk", "vtk"])
def test_a_file_name_that_is_not_utf8_is_refused_by_the_toolkits(tmp_path: Path,
                                                                 backend: str) -> None:
    pytest.importorskip({"sitk": "SimpleITK", "vtk": "vtkmodules"}[backend])
    if sys.platform == "darwin":
        pytest.skip("file names are UTF-8 on this file system")
    written = write_series(tmp_path / "series", SMALL)
    os.rename(bytes(written.files[1]), bytes(written.folder) + b"/slice_\xff.dcm")
    outcome = _load_in_child(written.folder, backend)
    assert outcome.get("error") == "BackendCannotReadError", outcome
    assert "not UTF-8 text" in str(outcome["message"])
    assert _load_in_child(written.folder, "direct") == {"shape": [3, 8, 10]}


def test_sitk_reads_a_series_with_an_instance_number_of_2_to_the_32(tmp_path: Path) -> None:
    """GDCM parses InstanceNumber without crashing: the series is read, not refused."""
    pytest.importorskip("SimpleITK")
    written = write_series(tmp_path / "series", SMALL)
    rewrite(written.files[1], _set_raw("InstanceNumber", str(2**32)))
    assert _load_in_child(written.folder, "sitk") == {"shape": [3, 8, 10]}
