"""Fuzzing dicomio: mutated series through every entry point, judged by an independent oracle.

The invariant: every input ends as a correct result or a :class:`~dicomio.DicomIOError` (a
finding, in a validation report) — never another exception, a crash, a hang, memory beyond a
budget, an all-zero volume from non-zero data, a volume that differs from what pydicom reads, or
a report that leaves files out.

Each input is written to a scratch folder and read in a worker process forked for it, under a
memory cap (``RLIMIT_AS``: the worker's size plus ``memory`` bytes) and a timeout: a segfault is
a counted ``crash``, a timeout a ``hang``, a ``MemoryError`` ``over budget``. A volume it returns
is judged in a second process by the oracle (:mod:`tests.support.fuzz_expect`, pydicom's own
reading). The pieces: seeds (:mod:`~tests.support.fuzz_seeds`), mutations of bytes and elements
(:mod:`~tests.support.fuzz_mutations`), of whole series (:mod:`~tests.support.fuzz_series`),
bombs (:mod:`~tests.support.fuzz_bombs`), the worker processes
(:mod:`~tests.support.fuzz_process`) and their steps (:mod:`~tests.support.fuzz_worker`), the
verdict (:mod:`~tests.support.fuzz_verdict`).

Run a campaign (docs/robustness.md has the figures)::

    python -m tools.fuzz_campaign --inputs 20000 --seed 1 --workers 1
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.fuzz_inputs import FuzzInput, make_input
from tests.support.fuzz_process import Child, steps_of, wait
from tests.support.fuzz_seeds import Seed
from tests.support.fuzz_worker import Options, run_steps

#: The outcomes that break the invariant, worst first.
FAILURES = ("crash", "hang", "over budget", "foreign exception", "silent zero",
            "wrong-but-plausible", "report incomplete", "fuzzer error")
OUTCOMES = ("ok", "refused", *FAILURES)
GIB = 1 << 30


@dataclass
class Result:
    """What happened to one input: each step's outcome (a dict with ``outcome`` and
    ``detail``), and where it was kept."""

    input: FuzzInput
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    kept: Path | None = None

    @property
    def outcome(self) -> str:
        found = [s["outcome"] for s in self.steps.values()]
        return next((f for f in FAILURES if f in found),
                    "ok" if "ok" in found else "refused")

    @property
    def failures(self) -> list[tuple[str, dict[str, Any]]]:
        return [(n, s) for n, s in self.steps.items() if s["outcome"] in FAILURES]


@dataclass
class Campaign:
    """Counts by outcome (inputs, and steps), details, and every failing input."""

    inputs: int = 0
    seconds: float = 0.0
    outcomes: Counter[str] = field(default_factory=Counter)
    steps: Counter[tuple[str, str]] = field(default_factory=Counter)
    details: Counter[str] = field(default_factory=Counter)
    failed: list[Result] = field(default_factory=list)
    peak_mib: float = 0.0
    slowest: list[tuple[float, int, str]] = field(default_factory=list)
    mutations: Counter[tuple[str, str]] = field(default_factory=Counter)
    costs: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def violated(self) -> bool:
        return any(self.outcomes[f] for f in FAILURES)

    @classmethod
    def merge(cls, parts: Sequence[Campaign]) -> Campaign:
        """One campaign from the parts that worker processes ran."""
        whole = cls()
        for part in parts:
            whole.inputs += part.inputs
            whole.outcomes += part.outcomes
            whole.steps += part.steps
            whole.details += part.details
            whole.failed += part.failed
            whole.peak_mib = max(whole.peak_mib, part.peak_mib)
            whole.slowest = sorted(whole.slowest + part.slowest, reverse=True)[:5]
            whole.mutations += part.mutations
            for kind, (seconds, mib) in part.costs.items():
                old = whole.costs.get(kind, (0.0, 0.0))
                whole.costs[kind] = (max(old[0], seconds), max(old[1], mib))
            whole.seconds = max(whole.seconds, part.seconds)
        whole.failed.sort(key=lambda r: r.input.index)
        return whole

    def add(self, result: Result) -> None:
        self.inputs += 1
        self.outcomes[result.outcome] += 1
        spent = 0.0
        for name, step in result.steps.items():
            self.steps[(name, step["outcome"])] += 1
            self.details[f"{name}: {step['outcome']}: {step.get('detail', '')}"[:160]] += 1
            self.peak_mib = max(self.peak_mib, float(step.get("peak_mib") or 0))
            spent += float(step.get("seconds") or 0)
        self.slowest = sorted([*self.slowest, (spent, result.input.index,
                                               result.input.description)], reverse=True)[:5]
        peak = max((float(s.get("peak_mib") or 0) for s in result.steps.values()), default=0.0)
        volume = any(result.steps.get(n, {}).get("outcome") == "ok"
                     for n in ("load_volume", "load_4d"))
        for kind in {m.split("(")[0].strip() for m in result.input.mutations} or {"none"}:
            self.mutations[(kind, result.outcome if result.failures else
                            "volume" if volume else "refused")] += 1
            seconds, mib = self.costs.get(kind, (0.0, 0.0))
            self.costs[kind] = (max(seconds, spent), max(mib, peak))
        if result.failures:
            self.failed.append(result)


def _oracle_job(folder: Path, results: Path, options: Options) -> Callable[..., None]:
    def job(emit: Callable[[dict[str, Any]], None]) -> None:
        import numpy as np

        from tests.support.fuzz_expect import expect
        from tests.support.fuzz_verdict import judge

        expectation = expect(folder, options.irregular)
        for name in ("load_volume", "load_4d"):
            array_file = results / f"{name}.npy"
            as_stored = results / f"{name}.as_stored"
            if as_stored.exists():  # accepted as stored, and said so: nothing to judge against
                emit({"step": name, "outcome": "unjudged",
                      "detail": f"accepted, as dicomio said: {as_stored.read_text()[:200]}"})
            elif array_file.exists():
                array = np.load(array_file, allow_pickle=False)
                affine = np.load(results / f"{name}.affine.npy", allow_pickle=False)
                outcome, detail = judge(array, affine, expectation, four_d=name == "load_4d")
                emit({"step": name, "outcome": outcome, "detail": detail})
    return job


def run_one(fuzz: FuzzInput, work: Path, *, timeout: float = 20.0, memory: int = 2 * GIB,
            oracle_timeout: float = 120.0) -> Result:
    """Read one input in a worker process, then judge its volumes in another."""
    folder, results = work / "input", work / "results"
    fuzz.write(folder)
    results.mkdir(parents=True, exist_ok=True)
    child = Child.fork(lambda emit: run_steps(folder, results, fuzz.options, emit),
                        work / "worker.log", memory)
    finished = wait(child, timeout)
    result = Result(fuzz, steps_of(child, finished, timeout, memory))
    volumes = [n for n in ("load_volume", "load_4d")
               if result.steps.get(n, {}).get("outcome") == "ok"]
    if not volumes:
        return result
    oracle = Child.fork(_oracle_job(folder, results, fuzz.options), work / "oracle.log",
                         4 * GIB)
    judged = wait(oracle, oracle_timeout)
    verdicts = {line["step"]: line for line in oracle.lines if "outcome" in line}
    failed = next((line["traceback"] for line in oracle.lines if "traceback" in line), "")
    for name in volumes:
        verdict = verdicts.get(name)
        step = result.steps[name]
        if verdict is None and failed and "MemoryError" not in failed:
            result.steps["oracle"] = {"outcome": "fuzzer error", "detail": "the oracle failed",
                                      "traceback": failed}
        if verdict is None:
            step["detail"] = "unjudged: the oracle " + ("failed" if judged else "timed out")
        elif verdict["outcome"] == "unjudged":
            step["detail"] = f"unjudged: {verdict['detail']}"
        elif verdict["outcome"] == "ok":
            step["detail"] = f"equal to pydicom's ({verdict['detail']})"
        else:
            step["outcome"], step["detail"] = verdict["outcome"], verdict["detail"]
    return result


# --- campaigns ---------------------------------------------------------------------------------

#: Imported once before the first fork, so that no worker pays for them (importing starts no
#: thread: the campaign process stays single-threaded, as forking needs).
WARM = ("dicomio", "dicomio.cli", "dicomio.cli.archive", "dicomio.validate", "dicomio.archive",
        "dicomio.backends.direct", "dicomio.backends.pydicom_backend", "dicomio.read",
        "typer.testing", "numpy.ma", "zoneinfo",
        "pydicom.pixels", "imagecodecs", "numpy", "nibabel.nicom.csareader",
        "tests.support.fuzz_expect", "tests.support.fuzz_verdict", "tests.support.fuzz_mosaic")


def prepare() -> None:
    """Import what every worker needs (a module that is absent is simply not imported)."""
    import contextlib
    import importlib
    import io
    import warnings

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        for name in WARM:
            with contextlib.suppress(ImportError):
                importlib.import_module(name)
        with contextlib.suppress(ImportError):
            import typer.main

            from dicomio.cli import app

            typer.main.get_command(app)  # builds the click command of every subcommand


def inputs(seeds: Sequence[Seed], count: int, campaign: int, **options: Any
           ) -> Iterator[FuzzInput]:
    for index in range(count):
        yield make_input(seeds, index, campaign, **options)


def run(seeds: Sequence[Seed], count: int, *, seed: int = 0, timeout: float = 20.0,
        memory: int = 2 * GIB, keep: Path | None = None, process_cli: float = 0.0,
        backend: str = "auto", mutate: bool = True,
        progress: Callable[[Campaign], None] | None = None) -> Campaign:
    """Run ``count`` inputs, one worker process at a time; keep the failing ones in ``keep``.

    Parameters
    ----------
    seed
        The campaign's seed: input ``i`` depends only on it and ``i``.
    timeout, memory
        Seconds and bytes (beyond the worker's own size) each input may cost.
    process_cli
        Share of inputs whose command line runs as a real ``dicomio`` process.
    backend
        Passed to ``load_volume``/``load_4d`` (a test registers a wrong one here).
    mutate
        False reads the seeds unchanged (every volume must then agree with the oracle).
    """
    prepare()
    campaign = Campaign()
    started = time.perf_counter()
    for fuzz in inputs(seeds, count, seed, process_cli=process_cli, backend=backend,
                       mutate=mutate):
        campaign.add(run_input(fuzz, timeout=timeout, memory=memory, keep=keep))
        if progress is not None:
            progress(campaign)
    campaign.seconds = time.perf_counter() - started
    return campaign


def run_input(fuzz: FuzzInput, *, timeout: float = 20.0, memory: int = 2 * GIB,
              keep: Path | None = None) -> Result:
    """:func:`run_one` in a scratch folder of its own; a failing input is kept in ``keep``."""
    work = Path(tempfile.mkdtemp(prefix="dicomio-fuzz-"))
    try:
        result = run_one(fuzz, work, timeout=timeout, memory=memory)
        if result.failures and keep is not None:
            result.kept = _keep(result, work, keep)
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _keep(result: Result, work: Path, keep: Path) -> Path:
    """Keep a failing input (files, options, outcomes and logs) for replay."""
    name, step = result.failures[0]
    slug = "".join(c if c.isalnum() else "-" for c in f"{step['outcome']}-{name}")
    target = keep / f"{result.input.index:06d}-{slug}"
    shutil.rmtree(target, ignore_errors=True)
    result.input.write(target / "input")
    for log in ("worker.log", "oracle.log"):
        if (work / log).exists():
            shutil.copy(work / log, target / log)
    described = result.input.describe() | {"steps": result.steps}
    (target / "input.json").write_text(json.dumps(described, indent=1, default=str))
    return target


def replay(kept: Path, *, timeout: float = 20.0, memory: int = 2 * GIB) -> Result:
    """Run a kept input again (its files and options as they were kept)."""
    described = json.loads((kept / "input.json").read_text())
    files: dict[str, bytes | str] = {}
    folder = kept / "input"
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_symlink():
            files[name] = f"symlink:{os.readlink(path)}"
        elif path.is_fifo():
            files[name] = "fifo"
        elif path.is_file():
            files[name] = path.read_bytes()
    outside = kept / "outside"
    fuzz = FuzzInput(described["index"], described["seed"], files,
                     Options.from_dict(described["options"]), described["mutations"],
                     outside.read_bytes() if outside.is_file() else b"")
    work = Path(tempfile.mkdtemp(prefix="dicomio-replay-"))
    try:
        return run_one(fuzz, work, timeout=timeout, memory=memory)
    finally:
        shutil.rmtree(work, ignore_errors=True)

