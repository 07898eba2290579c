"""Plant plausible bugs in a copy of dicomio and check that the tests catch each one.

Run from the repository root, with the corpus where ``DICOMIO_CORPUS`` says::

    DICOMIO_CORPUS=../shared/corpus python -m tools.mutation_check --write-docs

Each mutant of :mod:`tools.mutants` (slice normal sign, PixelSpacing order, InstanceNumber
order, sign extension, MONOCHROME1, big-endian swap, ...) is planted in its own copy of the
repository, and a set of tests runs there in a fresh process, with the copy first on the path
(checked: :mod:`tools.mutation_probe`). A mutant is *killed* when at least one real-data test
(one that reads the corpus) and at least one generated-data test fail under it; the unmutated
copy must pass the same tests first. The exit status is 1 when the baseline fails or a mutant
survives, 2 when a mutant no longer matches the source.

``--quick`` gives each mutant only the few tests named in :mod:`tools.mutants` (a few minutes
on two cores: what CI runs, ``tests/test_mutations.py``); the full run gives every mutant the
tests of :data:`FULL_TESTS` and ``--write-docs`` writes its kill table to docs/mutations.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.corpus import CORPUS
from tools.mutants import MUTANTS, Mutant, StaleMutantError, apply, check_snippets

ROOT = Path(__file__).resolve().parent.parent
PROBE = Path(__file__).resolve().parent / "mutation_probe.py"
DOCS = ROOT / "docs" / "mutations.md"
#: What is copied: the package, the tests and what the tests read.
COPIED = ("dicomio", "tests", "tools", "docs", "benchmarks", "README.md", "pyproject.toml",
          "tox.ini")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")

#: The tests of the full run: everything that reads volumes and checks values or geometry.
FULL_TESTS = (
    "tests/contract/test_conformance.py",
    "tests/contract/test_corpus.py",
    "tests/contract/test_agreement.py",
    "tests/contract/test_dcm2niix_oracle.py",
    "tests/contract/test_monochrome1_corpus.py",
    "tests/pixels",
    "tests/geometry",
    "tests/backends",
    "tests/series/test_group.py",
    "tests/series/test_layout.py",
    "tests/series/test_info.py",
    "tests/test_load.py",
    "tests/test_read.py",
    "tests/compare/test_toolkit_geometry.py",
    "tests/validate/test_corpus.py",
)


@dataclass
class TestRun:
    """The outcome of one pytest process in a copy."""

    seconds: float
    tests: dict[str, dict[str, object]] = field(default_factory=dict)
    collection_errors: list[dict[str, str]] = field(default_factory=list)
    broken: str | None = None  # the run ended without the probe's report, or refused

    def failing(self, real: bool) -> list[str]:
        """The failing tests of one class, sorted."""
        return sorted(n for n, t in self.tests.items()
                      if t["outcome"] == "failed" and t["real"] is real)

    def timed(self, real: bool) -> dict[str, float]:
        """The failing tests of one class, each with its seconds, fastest first."""
        failing = {n: round(float(self.tests[n]["seconds"]), 2)  # type: ignore[arg-type]
                   for n in self.failing(real)}
        return dict(sorted(failing.items(), key=lambda item: item[1]))

    def counts(self) -> tuple[int, int]:
        """How many generated-data and real-data tests ran (not skipped)."""
        ran = [t for t in self.tests.values() if t["outcome"] != "skipped"]
        return sum(not t["real"] for t in ran), sum(bool(t["real"]) for t in ran)


def copy_repository(target: Path, commit: str | None) -> None:
    """Copy :data:`COPIED` of the working tree (or of ``commit``) to ``target``, with the
    probe plugin at its top."""
    target.mkdir(parents=True)
    if commit is None:
        for name in COPIED:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, target / name, ignore=IGNORED)
            elif source.exists():
                shutil.copy2(source, target / name)
    else:
        archive = subprocess.Popen(["git", "-C", str(ROOT), "archive", "--format=tar", commit,
                                    "--", *COPIED], stdout=subprocess.PIPE)
        assert archive.stdout is not None
        with tarfile.open(fileobj=archive.stdout, mode="r|") as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(target, filter="data")
            else:  # Python before the extraction filters; our own repository's archive
                tar.extractall(target)
        if archive.wait() != 0:
            raise RuntimeError(f"git archive {commit} failed")
    shutil.copy2(PROBE, target / PROBE.name)


def run_tests(root: Path, tests: tuple[str, ...], corpus: Path, timeout: float) -> TestRun:
    """Run ``tests`` in the copy at ``root``, in a fresh process that imports the copy."""
    report = root / "mutation-report.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env.update(PYTHONPATH=str(root), PYTHONDONTWRITEBYTECODE="1",
               DICOMIO_CORPUS=str(corpus.resolve()), DICOMIO_MUTATION_ROOT=str(root),
               DICOMIO_MUTATION_REPORT=str(report))
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", PROBE.stem,
               "-q", "--no-header", "-o", "addopts=--strict-markers", "-W",
               "ignore::pytest.PytestUnraisableExceptionWarning", *tests]
    started = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return TestRun(time.perf_counter() - started, broken=f"timed out after {timeout:g} s")
    seconds = time.perf_counter() - started
    if not report.exists() or done.returncode not in (0, 1):
        tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
        return TestRun(seconds, broken=f"pytest exit status {done.returncode}: "
                                       + " / ".join(tail))
    found = json.loads(report.read_text(encoding="utf-8"))
    return TestRun(seconds, found["tests"], found["collection_errors"])


@dataclass
class Verdict:
    """What the tests made of one mutant."""

    mutant: Mutant
    run: TestRun

    @property
    def killed(self) -> bool:
        return bool(self.run.failing(real=False)) and bool(self.run.failing(real=True))


def tests_of(mutant: Mutant | None, quick: bool, chosen: list[str] | None = None) -> tuple[
        str, ...]:
    """The tests run for ``mutant`` (None: the baseline): ``chosen`` ones, the quick ones or
    the full set."""
    if chosen:
        return tuple(chosen)
    if not quick:
        return FULL_TESTS
    if mutant is None:
        return tuple(dict.fromkeys(t for m in MUTANTS for t in m.quick))
    return mutant.quick


def check(mutant: Mutant, workspace: Path, args: argparse.Namespace) -> Verdict:
    """Plant ``mutant`` in a fresh copy and run its tests there."""
    root = workspace / mutant.name
    copy_repository(root, args.commit)
    apply(root, mutant)
    run = run_tests(root, tests_of(mutant, args.quick, args.tests), args.corpus, args.timeout)
    shutil.rmtree(root, ignore_errors=True)
    print(f"  {mutant.name}: {len(run.failing(False))} generated-data and "
          f"{len(run.failing(True))} real-data tests fail ({run.seconds:.0f} s)",
          file=sys.stderr, flush=True)
    return Verdict(mutant, run)


def _cell(failing: list[str]) -> str:
    if not failing:
        return "0"
    return f"{len(failing)} (e.g. `{failing[0]}`)".replace("|", "\\|")


def kill_table(verdicts: list[Verdict]) -> str:
    """The Markdown kill table."""
    lines = ["| mutant | bug planted | generated-data tests failing | real-data tests failing "
             "| killed |", "|---|---|---|---|---|"]
    for v in verdicts:
        killed = "✅ yes" if v.killed else "❌ **no**"
        note = f" — the run broke: {v.run.broken}" if v.run.broken else ""
        lines.append(f"| `{v.mutant.name}` | {v.mutant.description}{note} "
                     f"| {_cell(v.run.failing(False))} | {_cell(v.run.failing(True))} "
                     f"| {killed} |")
    return "\n".join(lines)


def baseline_problems(run: TestRun, asked: tuple[str, ...]) -> list[str]:
    """Why the unmutated copy's run cannot serve as a baseline (empty: it can)."""
    if run.broken:
        return [run.broken]
    problems = [f"{e['nodeid']}: collection error: {e['message']}"
                for e in run.collection_errors]
    problems += [f"{n}: {t['message']}" for n, t in sorted(run.tests.items())
                 if t["outcome"] == "failed"]
    problems += [f"{n}: not collected" for n in asked if "::" in n and not any(
        t == n or t.startswith(n + "[") for t in run.tests)]
    generated, real = run.counts()
    if not generated or not real:
        problems.append(f"{generated} generated-data and {real} real-data tests ran: the "
                        f"check needs both (is the corpus at {CORPUS}?)")
    return problems


INTRO = """# Mutation check: can the tests fail?

A test suite proves something only if it fails when the code is wrong. `tools/mutation_check.py`
plants plausible geometry and value bugs in dicomio, one at a time, each in its own copy of the
repository, and runs the tests there in a fresh process (which checks that it imported the
mutated copy, not the installed package). Each bug is one exact source edit, listed in
`tools/mutants.py`; an edit whose original text no longer occurs in the source stops the check
with an error, so the list cannot silently go stale.

A test is **real-data** when it reads the corpus (an audit hook sees it open, list or pass to a
subprocess a path inside `DICOMIO_CORPUS`, or it is marked `corpus`), and **generated-data**
otherwise (the synthetic series of `dicomio.testing`, whose truth is written down independently
of dicomio's geometry code). A mutant is **killed** when at least one test of each kind fails
under it: both the real data and the generated data see the bug. The unmutated copy passes the
same tests first.

Rerun it (an hour and a half on two busy cores) and rewrite this page with

    DICOMIO_CORPUS=../shared/corpus python -m tools.mutation_check --commit HEAD --write-docs

(`--commit` copies a commit instead of the working tree; `--json FILE` lists every failing
test of each mutant with its duration). `--quick` gives each mutant the one real-data and one
generated-data test named for it in `tools/mutants.py`, chosen among those the full run saw
fail (about a minute): tox's `full` environment runs that (`tests/test_mutations.py`, with
`DICOMIO_MUTATION_CHECK=quick`). `--mutant NAME` checks one mutant, `--tests` runs other tests.
"""


def write_docs(verdicts: list[Verdict], baseline: TestRun, seconds: float,
               commit: str | None) -> None:
    generated, real = baseline.counts()
    source = f"commit {commit[:12]}" if commit else "the working tree"
    selection = "\n".join(f"- `{t}`" for t in FULL_TESTS)
    DOCS.write_text(
        f"{INTRO}\n## Kill table\n\n"
        f"The full run, on {source}: the tests below, {generated} generated-data and {real} "
        f"real-data tests passing on the unmutated copy ({baseline.seconds:.0f} s); "
        f"{len(verdicts)} mutants, "
        f"{seconds / 60:.0f} minutes in all. The example is the first failing test by name.\n\n"
        f"{kill_table(verdicts)}\n\n## The tests of the full run\n\n{selection}\n",
        encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="only the few tests named for each mutant (CI)")
    parser.add_argument("--mutant", action="append", choices=[m.name for m in MUTANTS],
                        help="check only this mutant (repeatable)")
    parser.add_argument("--tests", nargs="+", metavar="TEST",
                        help="run these tests (paths or node ids) instead")
    parser.add_argument("--commit", help="copy this commit instead of the working tree")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--workers", type=int, default=1, help="mutants checked side by side")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per test run")
    parser.add_argument("--write-docs", action="store_true", help=f"write {DOCS.name}")
    parser.add_argument("--json", type=Path, help="write every failing test of each mutant here")
    args = parser.parse_args(argv)
    if args.write_docs and (args.quick or args.mutant or args.tests):
        parser.error("--write-docs needs the full run of every mutant")
    mutants = tuple(m for m in MUTANTS if not args.mutant or m.name in args.mutant)
    if args.commit is not None:  # one commit for every copy, whatever is committed meanwhile
        args.commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--verify", f"{args.commit}^{{commit}}"],
            capture_output=True, text=True, check=True).stdout.strip()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dicomio-mutants-") as folder:
        workspace = Path(folder)
        copy_repository(workspace / "baseline", args.commit)
        try:
            check_snippets(workspace / "baseline", mutants)
        except StaleMutantError as exc:
            print(exc, file=sys.stderr)
            return 2
        asked = tests_of(None, args.quick, args.tests)
        baseline = run_tests(workspace / "baseline", asked, args.corpus, args.timeout)
        problems = baseline_problems(baseline, asked)
        generated, real = baseline.counts()
        print(f"baseline: {generated} generated-data and {real} real-data tests "
              f"({baseline.seconds:.0f} s)", file=sys.stderr, flush=True)
        if problems:
            print("the unmutated copy fails its tests, nothing to compare with:\n  "
                  + "\n  ".join(problems[:20]), file=sys.stderr)
            return 1
        with ThreadPoolExecutor(max(args.workers, 1)) as pool:
            verdicts = list(pool.map(lambda m: check(m, workspace, args), mutants))
    seconds = time.perf_counter() - started
    print(kill_table(verdicts))
    survivors = [v.mutant.name for v in verdicts if not v.killed]
    print(f"\n{len(verdicts) - len(survivors)} of {len(verdicts)} mutants killed in "
          f"{seconds:.0f} s" + (f"; surviving: {', '.join(survivors)}" if survivors else ""))
    if args.write_docs:
        write_docs(verdicts, baseline, seconds, args.commit)
    if args.json is not None:
        args.json.write_text(json.dumps({v.mutant.name: {
            "generated": v.run.timed(real=False), "real": v.run.timed(real=True),
            "broken": v.run.broken, "seconds": round(v.run.seconds)} for v in verdicts},
            indent=1), encoding="utf-8")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
