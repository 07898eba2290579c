"""Every place DICOM lives loads as the unpacked folder does: zip, tar and tar.gz archives
read in place, a DICOMDIR followed, pydicom data sets, bytes and file objects in memory.

The truth is always the folder on disk loaded by dicomio, compared explicitly: the same series,
the same skipped files with the same reasons, and the same voxels, affine and dtype.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pydicom
import pytest

import dicomio
from dicomio.sources.archives import SEPARATOR
from dicomio.testing.synthetic import IMPLICIT_LE, SeriesSpec, write_series
from dicomio.validate.report import validate
from tests.support.sources import ARCHIVE_KINDS, archive_of, file_set_of, files_under


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two series in nested folders, and a text file that is not DICOM."""
    root = tmp_path_factory.mktemp("study") / "study"
    write_series(root / "DICOM" / "ct", SeriesSpec(shape=(5, 16, 12)))
    write_series(root / "DICOM" / "mr", SeriesSpec(shape=(4, 10, 8), series_number=2,
                                                   modality="MR", transfer_syntax=IMPLICIT_LE,
                                                   rescale_intercept=0.0))
    (root / "README.txt").write_text("a study exported for a test\n")
    return root


def _relative(path: Path, root: Path | str) -> str:
    """A file's or member's name below the folder or archive ``root``."""
    text = str(path)
    archive = f"{root}{SEPARATOR}"
    return text[len(archive):] if text.startswith(archive) else Path(text).relative_to(
        root).as_posix()


def _same_volume(loaded: dicomio.Volume, truth: dicomio.Volume) -> None:
    assert loaded.array.dtype == truth.array.dtype
    assert loaded.array.shape == truth.array.shape
    assert np.array_equal(loaded.array, truth.array)
    assert np.array_equal(loaded.affine, truth.affine)


@pytest.mark.parametrize("kind", ARCHIVE_KINDS)
def test_an_archive_gives_the_folders_inventory_and_volumes(study: Path, kind: str,
                                                             tmp_path: Path) -> None:
    archive = archive_of(study, kind, tmp_path / f"study.{kind}")
    series, inventory = dicomio.scan(archive)
    truth_series, truth_inventory = dicomio.scan(study)

    assert [s.key for s in series] == [s.key for s in truth_series]
    assert [[_relative(f, archive) for f in s.files] for s in series] == \
        [[_relative(f, study) for f in s.files] for s in truth_series]
    assert [(_relative(s.path, archive), s.reason, s.category) for s in inventory.skipped] == \
        [(_relative(s.path, study), s.reason, s.category) for s in truth_inventory.skipped]
    for index, truth in enumerate(truth_series):
        loaded = dicomio.load_volume(archive, series=index)
        _same_volume(loaded, dicomio.load_volume(study, series=index))
        assert loaded.provenance is not None
        assert all(str(f).startswith(f"{archive}{SEPARATOR}DICOM/")
                   for f in loaded.provenance.files)
        assert len(loaded.provenance.files) == len(truth.files)


@pytest.mark.parametrize("kind", ARCHIVE_KINDS)
def test_an_archive_is_never_unpacked_to_disk(study: Path, kind: str, tmp_path: Path) -> None:
    archive = archive_of(study, kind, tmp_path / f"study.{kind}")
    before = sorted(tmp_path.rglob("*"))
    dicomio.load_volume(archive, series=0)
    assert sorted(tmp_path.rglob("*")) == before


def test_a_member_name_is_an_address(study: Path, tmp_path: Path) -> None:
    archive = archive_of(study, "zip", tmp_path / "study.zip")
    loaded = dicomio.load_volume(archive, series=0)
    assert loaded.provenance is not None
    again = dicomio.load_volume(list(loaded.provenance.files))
    _same_volume(again, loaded)


@pytest.mark.parametrize("backend", ["direct", "pydicom"])
@pytest.mark.parametrize("form", ["datasets", "bytes", "file objects"])
def test_memory_loads_as_files_do(study: Path, form: str, backend: str) -> None:
    files = sorted((study / "DICOM" / "ct").glob("*.dcm"))
    items: list[object]
    if form == "datasets":
        items = [pydicom.dcmread(path) for path in files]
    elif form == "bytes":
        items = [path.read_bytes() for path in files]
    else:
        items = [io.BytesIO(path.read_bytes()) for path in files]
    loaded = dicomio.load_volume(items, backend=backend)
    _same_volume(loaded, dicomio.load_volume(study / "DICOM" / "ct"))
    assert loaded.provenance is not None
    assert {str(f) for f in loaded.provenance.files} == \
        {f"<memory>[{k}]" for k in range(len(files))}


@pytest.mark.parametrize("strip", ["file meta", "to a plain Dataset"])
def test_data_sets_built_in_memory_load_too(study: Path, strip: str) -> None:
    """A data set without file meta information (built in a pipeline, not read from a file)
    is written as a bare implicit-VR data set and read as such."""
    files = sorted((study / "DICOM" / "ct").glob("*.dcm"))
    items = []
    for path in files:
        dataset = pydicom.dcmread(path)
        if strip == "file meta":
            dataset.file_meta = pydicom.dataset.FileMetaDataset()
        else:
            dataset = pydicom.Dataset(dataset)
        items.append(dataset)
    _same_volume(dicomio.load_volume(items), dicomio.load_volume(study / "DICOM" / "ct"))


def test_one_item_in_memory_is_a_source_of_its_own(study: Path) -> None:
    path = sorted((study / "DICOM" / "ct").glob("*.dcm"))[0]
    for item in (pydicom.dcmread(path), path.read_bytes()):
        (found,) = dicomio.list_series(item)
        assert found.shape[0] == 1 and [str(f) for f in found.files] == ["<memory>[0]"]


def test_memory_items_that_are_not_images_are_skipped_by_index(study: Path) -> None:
    files = sorted((study / "DICOM" / "ct").glob("*.dcm"))
    _, inventory = dicomio.scan([b"not dicom at all", *(p.read_bytes() for p in files)])
    assert [(str(s.path), s.category) for s in inventory.skipped] == [("<memory>[0]",
                                                                        "not_dicom")]


def test_errors_name_items_in_memory_by_their_place() -> None:
    with pytest.raises(dicomio.NoDicomFilesError) as raised:
        dicomio.load_volume([b"junk", b"more junk"])
    assert raised.value.paths == (Path("<memory>[0]"), Path("<memory>[1]"))
    assert "<memory>[1]: not DICOM" in str(raised.value)


def test_a_toolkit_reading_files_by_name_refuses_other_sources(study: Path,
                                                               tmp_path: Path) -> None:
    archive = archive_of(study, "zip", tmp_path / "study.zip")
    for backend in ("sitk", "vtk", "dcm2niix"):
        spec = dicomio.backends.get_spec(backend)
        if not spec.installed():
            continue
        with pytest.raises(dicomio.NotOnDiskError, match="backends that can: direct, pydicom"):
            dicomio.load_volume(archive, series=0, backend=backend)
    assert dicomio.load_volume(archive, series=0).provenance.backend == "direct"  # type: ignore[union-attr]


@pytest.fixture()
def file_set(study: Path, tmp_path: Path) -> Path:
    return file_set_of(files_under(study / "DICOM"), tmp_path / "cd")


def test_a_dicomdir_gives_its_folders_series_and_volumes(file_set: Path) -> None:
    folder = file_set.parent
    series, inventory = dicomio.scan(file_set)
    truth_series, truth_inventory = dicomio.scan(folder)
    assert [(s.key, s.files) for s in series] == [(s.key, s.files) for s in truth_series]
    assert [(s.path, s.category) for s in inventory.skipped] == \
        [(s.path, s.category) for s in truth_inventory.skipped] == [(file_set, "no_pixel_data")]
    for index in range(len(truth_series)):
        _same_volume(dicomio.load_volume(file_set, series=index),
                     dicomio.load_volume(folder, series=index))


def test_a_dicomdir_reports_missing_and_unlisted_files(file_set: Path) -> None:
    folder = file_set.parent
    listed = [p for p in files_under(folder) if p != file_set]
    missing, unlisted = listed[0], folder / "EXTRA.dcm"
    missing.unlink()
    unlisted.write_bytes(listed[1].read_bytes())
    _, inventory = dicomio.scan(file_set)
    reasons = {s.path: (s.reason, s.category) for s in inventory.skipped}
    assert reasons[missing] == ("listed in the DICOMDIR but missing", "unreadable")
    assert reasons[unlisted][1] == "other" and "not listed in the DICOMDIR" in reasons[unlisted][0]
    with pytest.raises(dicomio.UnreadableFilesError, match="missing"):
        dicomio.load_volume(file_set, series=0)
    report = validate(file_set)
    codes = {(f.code, file) for f in report.findings for file in f.files}
    assert ("UNREADABLE_FILE", str(missing)) in codes
    assert ("SKIPPED_FILE", str(unlisted)) in codes


def test_a_dicomdir_matches_file_ids_without_regard_to_case(file_set: Path) -> None:
    """A CD copied by a system that lower-cases names: ``IM000000`` is ``im000000``."""
    folder = file_set.parent
    truth = dicomio.load_volume(folder, series=0)
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path != file_set:
            path.rename(path.with_name(path.name.lower()))
    _, inventory = dicomio.scan(file_set)
    assert [s.path for s in inventory.skipped] == [file_set]
    _same_volume(dicomio.load_volume(file_set, series=0), truth)
