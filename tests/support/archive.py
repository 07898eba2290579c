"""A generated archive whose findings are known, and tasks that kill the process running them.

Importable by worker processes (pool workers and Dask workers import ``tests.archive_helpers``
to unpickle the tasks), hence a module of its own rather than fixtures.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dicomio.archive.plan import SeriesJob
from dicomio.testing.synthetic import CORONAL, SeriesSpec, write_series
from tests.support.dicom_files import as_mpeg2, rewrite

#: Small series: 4 slices of 8×8 (fast to write and to check).
SMALL = SeriesSpec(shape=(4, 8, 8))


@dataclass
class Archive:
    """A generated archive and what validating it must find.

    Attributes
    ----------
    root
        The archive: patient folders ``pNN/`` of series folders, plus loose files.
    empty
        A second path holding no DICOM (NO_DICOM).
    expected
        Series key → the finding codes of that series; every other series has none.
    general
        Codes of the findings about files and folders, in report order.
    series
        Number of series (stacks) in the report.
    victim
        SeriesInstanceUID of a clean series that the killer tasks pick on.
    """

    root: Path
    empty: Path
    expected: dict[str, set[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    series: int = 0
    victim: str = ""

    @property
    def paths(self) -> list[str]:
        return [str(self.root), str(self.empty)]


def make_archive(base: Path, clean: int = 280, per_patient: int = 20) -> Archive:
    """Write the archive under ``base`` (a few seconds for 300 series)."""
    root = base / "archive"
    archive = Archive(root, base / "nothing")
    archive.empty.mkdir(parents=True)
    (archive.empty / "notes.txt").write_text("no images here")

    def spec(name: str, number: int, **changes: Any) -> SeriesSpec:
        return SMALL.with_(uid_seed=name, series_number=number, seed=number, **changes)

    # Clean series, one folder each, grouped by patient; SeriesNumbers repeat across patients
    # (the UID breaks the tie) and one series lies loose at the top of the archive.
    for i in range(clean):
        folder = root / f"p{i // per_patient:02d}" / f"s{i % per_patient:02d}"
        written = write_series(folder, spec(f"clean {i}", i % 50))
    archive.victim = written.series_uid
    write_series(root, spec("loose", 7), naming="uid")
    (root / "readme.txt").write_text("an archive")
    archive.series = clean + 1
    general = ["SKIPPED_FILE"]  # readme.txt (the loose files come first)

    def problem(folder: str, codes: set[str], name: str, number: int, **options: Any) -> Any:
        spec_changes = options.pop("spec", {})
        written = write_series(root / folder, spec(name, number, **spec_changes), **options)
        archive.expected[written.series_uid] = codes
        archive.series += 1
        return written

    problem("p00/gap", {"MISSING_SLICE"}, "gap", 3, spec={"shape": (5, 8, 8)}, skip=[2])
    problem("p01/tilt", {"GANTRY_TILT"}, "tilt", 4, spec={"tilt_degrees": 15})
    problem("p04/thick", {"THICKNESS_SPACING_MISMATCH"}, "thick", 5,
            spec={"slice_thickness": 9.0})
    mpeg = problem("p03/mpeg", {"UNSUPPORTED_TRANSFER_SYNTAX"}, "mpeg", 6)
    rewrite(mpeg.files, as_mpeg2)
    truncated = problem("p08/truncated", {"DECODE_FAILED"}, "truncated", 8)
    truncated.files[1].write_bytes(truncated.files[1].read_bytes()[:-40])

    # One 4-D series spread over two patients' folders (two planning units): FOUR_D needs the
    # files of both units grouped together (apart, each is a plain volume without finding).
    first = problem("p02/t0", {"FOUR_D"}, "4d t0", 9,
                    spec={"series_uid": "1.2.826.0.1.3680043.8.498.4444"})
    write_series(root / "p09" / "t1", spec("4d t1", 9, series_uid=first.series_uid))

    # One UID holding an axial and a coronal stack: two series, keys uid#0 and uid#1.
    mixed = "1.2.826.0.1.3680043.8.498.5555"
    write_series(root / "p05" / "mixed", spec("mixed axial", 10, series_uid=mixed))
    write_series(root / "p05" / "mixed", spec("mixed coronal", 10, series_uid=mixed,
                                              orientation=CORONAL, shape=(3, 8, 8)),
                 naming="uid")
    archive.expected.update({f"{mixed}#0": {"MIXED_ORIENTATION"},
                             f"{mixed}#1": {"MIXED_ORIENTATION"}})
    archive.series += 2

    # Two series in one folder (MULTIPLE_SERIES), and junk beside a series.
    write_series(root / "p06" / "flat", spec("flat a", 11))
    write_series(root / "p06" / "flat", spec("flat b", 12), naming="uid")
    archive.series += 2
    (root / "p07" / "s00" / "notes.txt").write_text("not an image")
    (root / "p07" / "s00" / "broken.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00\x01")
    general += ["UNREADABLE_FILE", "SKIPPED_FILE"]  # p07/s00: broken.dcm, notes.txt
    archive.general = ["NO_DICOM", *general, "SKIPPED_FILE", "MULTIPLE_SERIES"]
    return archive


@dataclass(frozen=True)
class KillWorker:
    """Behave as ``task``, except for the job of ``uid``: kill the process running it (as the
    kernel's OOM killer would), the first time only (a marker file remembers) unless
    ``always``."""

    task: Any
    uid: str
    marker: Path
    always: bool = False

    def __call__(self, job: SeriesJob) -> Any:
        if job.uid == self.uid and (self.always or not self.marker.exists()):
            self.marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return self.task(job)

    def lost(self, job: SeriesJob, reason: str) -> Any:
        return self.task.lost(job, reason)


def started(folder: Path) -> Any:
    """A function that leaves a file in ``folder`` for each item it starts (to count them)."""
    return _Started(folder)


@dataclass(frozen=True)
class _Started:
    folder: Path

    def __call__(self, item: int) -> int:
        (self.folder / str(item)).touch()
        return item * 2
