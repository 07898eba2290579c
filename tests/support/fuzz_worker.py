"""What runs in the worker process for one input: every entry point, each outcome classified.

The worker calls ``load_volume`` (``rescale=False``), ``load_4d`` for 4-D seeds,
``list_series``, ``dicomio.validate.validate()`` and the command line (``dicomio validate -f json
-j 1``, in the process through Typer's runner, and now and then as a real ``dicomio`` process),
and writes one JSON line per step to a pipe: ``start`` before it (so that a crash or hang is
blamed on the step that was running), the outcome after. Volumes are saved as ``.npy`` files
for the oracle, which judges them in a process of its own.
"""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: Exceptions that are bugs when they escape (a refusal raised from one is marked).
BUG_TYPES = (TypeError, AttributeError, AssertionError, RecursionError, IndexError, KeyError,
             ZeroDivisionError, OverflowError, NotImplementedError, UnboundLocalError,
             NameError, SystemError)
#: Findings about files rather than series, that name the files they are about.
FILE_CODES = frozenset({"NO_DICOM", "UNREADABLE_FILE", "SKIPPED_FILE", "WORKER_DIED",
                        "INTERNAL_ERROR", "DUPLICATE_FILE"})


@dataclass(frozen=True)
class Options:
    """How one input is read (chosen per input, kept with it for replay)."""

    irregular: str = "accept"
    paths: str = "folder"  # or "files": the folder's entries as a list
    four_d: bool = False
    backend: str = "auto"
    cli: str = "runner"  # "runner" (in this process), "process" (a real dicomio), "none"

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Options:
        return cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _paths(folder: Path, options: Options) -> Any:
    if options.paths == "files":
        entries = sorted(str(p) for p in folder.iterdir())
        return entries[0] if len(entries) == 1 else entries
    return folder


def _cause(error: BaseException) -> BaseException | None:
    """The first non-dicomio exception this one was raised from (a translated bug)."""
    import dicomio

    seen = error.__cause__ or error.__context__
    while seen is not None:
        if not isinstance(seen, dicomio.DicomIOError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _classify(error: BaseException) -> dict[str, Any]:
    import dicomio

    where = traceback.extract_tb(error.__traceback__)
    place = f" at {Path(where[-1].filename).name}:{where[-1].lineno}" if where else ""
    text = f"{type(error).__name__}: {error}"[:240]
    if isinstance(error, MemoryError):
        return {"outcome": "over budget", "detail": f"MemoryError{place}"}
    if isinstance(error, dicomio.DicomIOError):
        cause = _cause(error)
        named = getattr(error, "path", None) is not None
        detail = type(error).__name__ + ("" if named else " (names no file)")
        original = getattr(error, "original_type", "")
        if original == "MemoryError" or isinstance(cause, MemoryError):
            return {"outcome": "over budget", "detail": f"{detail} from MemoryError",
                    "message": text}
        if original or type(error).__name__ == "InternalError":
            # dicomio's safety net caught an exception it did not expect: still a bug
            return {"outcome": "foreign exception",
                    "detail": f"{original or 'exception'} (translated into {detail})",
                    "message": text, "traceback": _traceback(error)}
        if isinstance(cause, BUG_TYPES):
            detail += f" from {type(cause).__name__}"  # a refusal, but worth a look
        return {"outcome": "refused", "detail": detail, "message": text}
    return {"outcome": "foreign exception", "detail": f"{type(error).__name__}{place}",
            "message": text, "traceback": _traceback(error)}


def _traceback(error: BaseException) -> str:
    return "".join(traceback.format_exception(error))[-4000:]


def _internal(findings: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The outcome an INTERNAL_ERROR finding stands for: a foreign exception dicomio caught
    (over budget when it was a MemoryError)."""
    found = [f for f in findings if f.get("code") == "INTERNAL_ERROR"]
    if not found:
        return None
    message = str(found[0].get("message", ""))
    memory = "MemoryError" in message
    return {"outcome": "over budget" if memory else "foreign exception",
            "detail": f"INTERNAL_ERROR finding ({len(found)})", "message": message[:400]}


def _all_findings(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [*document.get("findings", []),
            *(f for s in document.get("series", []) for f in s.get("findings", []))]


def _volume_step(load: Callable[[], Any], results: Path, name: str) -> dict[str, Any]:
    volume = load()
    array = np.asarray(volume.array)
    np.save(results / f"{name}.npy", array, allow_pickle=False)
    np.save(results / f"{name}.affine.npy", np.asarray(volume.affine), allow_pickle=False)
    said = [w for w in volume.provenance.warnings if w.startswith("frames taken as stored")]
    if said:  # irregular="accept" asked for them: the oracle has no truth to judge them by
        (results / f"{name}.as_stored").write_text(said[0], encoding="utf-8")
    return {"outcome": "ok", "detail": "a volume", "shape": list(array.shape),
            "dtype": str(array.dtype)}


def report_problem(document: dict[str, Any], folder: Path) -> str | None:
    """Why a validation report (as JSON) does not account for every file, or None."""
    regular = {p.resolve() for p in folder.rglob("*") if p.is_file() and not p.is_symlink()}
    named: set[Path] = set()
    unlisted = 0  # counted by a finding (n_files) beyond the first files it lists
    for finding in _all_findings(document):
        if finding.get("code") in FILE_CODES:
            listed = finding.get("files", [])
            named |= {Path(f).resolve() for f in listed}
            unlisted += max(0, int(finding.get("n_files") or 0) - len(listed))
    in_series = sum(int(s.get("files") or 0) for s in document.get("series", []))
    missing = len(regular - named) - in_series - unlisted
    if missing > 0:
        return (f"{missing} of {len(regular)} files are neither in a series nor named by a "
                f"finding")
    return None


def _non_finite(value: Any, where: str = "") -> str:
    """Where the first NaN or infinity of a JSON-able value is (``series[1].spacing[0]``)."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"{where} is {value}"
    items = value.items() if isinstance(value, dict) else enumerate(value) \
        if isinstance(value, (list, tuple)) else ()
    for key, item in items:
        found = _non_finite(item, f"{where}.{key}" if isinstance(key, str) else f"{where}[{key}]")
        if found:
            return found
    return ""


def _strict_json(text: str) -> dict[str, Any]:
    def refuse(constant: str) -> Any:
        raise ValueError(f"non-standard JSON constant {constant}")

    loaded = json.loads(text, parse_constant=refuse)
    if not isinstance(loaded, dict):
        raise ValueError("not a JSON object")
    return loaded


def _validate_step(paths: Any, folder: Path) -> dict[str, Any]:
    from dicomio.validate import ValidationConfig, validate

    report = validate(paths, ValidationConfig(decode_threads=1))
    described = report.to_dict()
    try:
        document = _strict_json(json.dumps(described, allow_nan=False))
    except ValueError:
        return {"outcome": "report incomplete",
                "detail": f"to_dict() is not standard JSON: {_non_finite(described)}"[:160]}
    problem = report_problem(document, folder)
    if problem is not None:
        return {"outcome": "report incomplete", "detail": problem}
    return _internal(_all_findings(document)) or {"outcome": "ok", "detail": "a report"}


def _judge_cli(code: int, stdout: str, stderr: str, folder: Path,
               exception: BaseException | None = None) -> dict[str, Any]:
    if exception is not None and not isinstance(exception, SystemExit):
        return _classify(exception) | {"outcome": "foreign exception"}
    if "Traceback (most recent call last)" in stderr:
        return {"outcome": "foreign exception", "detail": f"traceback (exit {code})",
                "message": stderr[-1500:]}
    if code == 3:
        return {"outcome": "foreign exception", "detail": "exit 3 (failed unexpectedly)",
                "message": stderr[-600:]}
    if code not in (0, 1):
        return {"outcome": "report incomplete", "detail": f"exit {code}",
                "message": stderr[-600:]}
    try:
        document = _strict_json(stdout)
    except ValueError as exc:
        return {"outcome": "report incomplete", "detail": f"stdout is not JSON ({exc})"[:200],
                "message": stdout[:300]}
    problem = report_problem(document, folder)
    if problem is not None:
        return {"outcome": "report incomplete", "detail": problem}
    return _internal(_all_findings(document)) or {"outcome": "ok", "detail": f"exit {code}"}


def _cli_step(paths: Any, folder: Path, options: Options) -> dict[str, Any]:
    arguments = ["validate", "-f", "json", "-j", "1", "--no-progress", "--",
                 *([str(p) for p in paths] if isinstance(paths, list) else [str(paths)])]
    if options.cli == "process":
        command = [sys.executable, "-c", "import sys; from dicomio.cli import main; "
                   "sys.argv[0] = 'dicomio'; main()", *arguments]
        done = subprocess.run(command, capture_output=True, text=True, errors="replace",
                              timeout=600, check=False, stdin=subprocess.DEVNULL)
        return _judge_cli(done.returncode, done.stdout, done.stderr, folder)
    from typer.testing import CliRunner

    from dicomio.cli import app

    result = CliRunner().invoke(app, arguments)
    return _judge_cli(result.exit_code, result.stdout, result.stderr, folder, result.exception)


def run_steps(folder: Path, results: Path, options: Options, emit: Callable[[dict[str, Any]],
              None]) -> None:
    """Run every entry point on ``folder``; ``emit`` each step's start and outcome."""
    import dicomio

    paths = _paths(folder, options)
    irregular: Any = options.irregular
    base = peak_mib()
    steps: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        ("load_volume", lambda: _volume_step(lambda: dicomio.load_volume(
            paths, options.backend, rescale=False, irregular=irregular, workers=1),
            results, "load_volume")),
    ]
    if options.four_d:
        steps.append(("load_4d", lambda: _volume_step(lambda: dicomio.load_4d(
            paths, options.backend, rescale=False, irregular=irregular, workers=1),
            results, "load_4d")))
    steps.append(("list_series", lambda: {
        "outcome": "ok", "detail": f"{len(dicomio.list_series(paths, workers=1))} series"}))
    steps.append(("validate", lambda: _validate_step(paths, folder)))
    if options.cli != "none":
        steps.append(("cli", lambda: _cli_step(paths, folder, options)))
    for name, step in steps:
        emit({"step": name, "phase": "start"})
        started = time.perf_counter()
        try:
            outcome = step()
        except BaseException as error:  # the invariant's violation is what is measured
            outcome = _classify(error)
        outcome["seconds"] = round(time.perf_counter() - started, 3)
        outcome["peak_mib"] = round(peak_mib() - base, 1)  # beyond the worker's own size
        emit({"step": name, "phase": "end", **outcome})


def peak_mib() -> float:
    """The peak resident size of this process, MiB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def limit_memory(budget_bytes: int) -> None:
    """Cap this process's address space at its current size plus ``budget_bytes``."""
    with open(f"/proc/{os.getpid()}/statm") as handle:
        pages = int(handle.read().split()[0])
    size = int(pages * os.sysconf("SC_PAGE_SIZE") + budget_bytes)
    resource.setrlimit(resource.RLIMIT_AS, (size, size))
