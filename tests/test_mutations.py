"""The mutation check (tools/mutation_check.py, docs/mutations.md): planted bugs must fail tests.

Every run checks that each mutant of ``tools/mutants.py`` still plants its bug (its snippet
occurs once in the source) and that a stale one stops the check. The check itself, CI-sized
(``--quick``: each mutant against the few tests named for it, a few minutes), runs where
``DICOMIO_MUTATION_CHECK`` is set: tox's ``full`` environment sets it to ``quick``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tests.support.corpus import CORPUS
from tools.mutants import MUTANTS, StaleMutantError, apply, check_snippets

ROOT = Path(__file__).resolve().parent.parent
MODE = os.environ.get("DICOMIO_MUTATION_CHECK", "")


def test_every_mutant_matches_the_source_once() -> None:
    check_snippets(ROOT, MUTANTS)
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)


def test_every_mutant_changes_its_file_and_names_quick_tests(tmp_path: Path) -> None:
    for mutant in MUTANTS:
        copy = tmp_path / mutant.name / mutant.path
        copy.parent.mkdir(parents=True)
        original = (ROOT / mutant.path).read_text(encoding="utf-8")
        copy.write_text(original, encoding="utf-8")
        apply(tmp_path / mutant.name, mutant)
        assert copy.read_text(encoding="utf-8") != original, mutant.name
        assert len(mutant.quick) >= 2, f"{mutant.name}: --quick needs a real-data and a " \
                                       f"generated-data test"


def test_a_stale_mutant_stops_the_check(tmp_path: Path) -> None:
    mutant = MUTANTS[0]
    stale = replace(mutant, original=mutant.original.replace("np.", "numpy."))
    (tmp_path / mutant.path).parent.mkdir(parents=True)
    (tmp_path / mutant.path).write_text((ROOT / mutant.path).read_text(encoding="utf-8"),
                                        encoding="utf-8")
    with pytest.raises(StaleMutantError, match=mutant.name):
        apply(tmp_path, stale)
    twice = replace(mutant, original="\n")
    with pytest.raises(StaleMutantError, match="times, not once"):
        check_snippets(tmp_path, (twice,))


def _probe(root: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run pytest with the probe in ``root`` (as tools/mutation_check does in a copy)."""
    shutil.copy2(ROOT / "tools" / "mutation_probe.py", root)
    report = root / "report.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(PYTHONPATH=str(root), DICOMIO_MUTATION_ROOT=str(root),
               DICOMIO_MUTATION_REPORT=str(report), DICOMIO_CORPUS=str(root / "corpus"))
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p",
                           "mutation_probe", "-q", "-o", "addopts=", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    return done, report


def test_the_probe_refuses_a_dicomio_from_outside_the_copy(tmp_path: Path) -> None:
    done, report = _probe(tmp_path, "--collect-only")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "dicomio was imported from" in done.stdout + done.stderr
    assert not report.exists()


def test_the_probe_tells_real_data_tests_from_generated_ones(tmp_path: Path) -> None:
    (tmp_path / "dicomio").mkdir()
    (tmp_path / "dicomio" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "image.dcm").write_bytes(b"DICM")
    (tmp_path / "tests" / "test_kinds.py").write_text(
        "import os, pathlib, subprocess, sys\n"
        "CORPUS = pathlib.Path(os.environ['DICOMIO_CORPUS'])\n"
        "def test_reads_the_corpus():\n"
        "    assert (CORPUS / 'image.dcm').read_bytes() == b'DICM'\n"
        "def test_lists_it_and_fails():\n"
        "    assert os.listdir(CORPUS) == []\n"
        "def test_passes_it_to_a_program():\n"
        "    subprocess.run([sys.executable, '-c', 'pass', str(CORPUS)], check=True)\n"
        "def test_generated(tmp_path):\n"
        "    (tmp_path / 'image.dcm').write_bytes(b'DICM')\n"
        "def test_generated_and_failing():\n"
        "    assert False\n", encoding="utf-8")
    done, report = _probe(tmp_path, "tests")
    assert done.returncode == 1, done.stdout + done.stderr
    tests = json.loads(report.read_text(encoding="utf-8"))["tests"]
    kinds = {n.split("::")[1]: (t["real"], t["outcome"]) for n, t in tests.items()}
    assert kinds == {"test_reads_the_corpus": (True, "passed"),
                     "test_lists_it_and_fails": (True, "failed"),
                     "test_passes_it_to_a_program": (True, "passed"),
                     "test_generated": (False, "passed"),
                     "test_generated_and_failing": (False, "failed")}


@pytest.mark.skipif(MODE != "quick", reason="set DICOMIO_MUTATION_CHECK=quick to run the "
                                            "mutation check (tox's full environment does)")
@pytest.mark.corpus
def test_quick_mutation_check_kills_every_mutant() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS} (set DICOMIO_CORPUS to the corpus folder)")
    done = subprocess.run([sys.executable, "-m", "tools.mutation_check", "--quick"], cwd=ROOT,
                          capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    for mutant in MUTANTS:
        assert f"| `{mutant.name}` |" in done.stdout
    assert f"{len(MUTANTS)} of {len(MUTANTS)} mutants killed" in done.stdout
