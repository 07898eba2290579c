"""A pytest plugin for the test process of :mod:`tools.mutation_check`, run in a mutated copy.

:mod:`tools.mutation_check` copies this file to the top of the copy and runs
``python -m pytest -p mutation_probe`` there. The plugin

- refuses to run (exit status 3) unless ``dicomio`` and ``tests`` are imported from the copy
  (``DICOMIO_MUTATION_ROOT``): the development environment has the repository installed in
  editable mode, and a run of the unmutated package would prove nothing;
- tells real-data tests from generated-data ones: a test is *real-data* when, during its setup
  or call, it opened, listed or passed to a subprocess a path inside the corpus
  (``DICOMIO_CORPUS``; seen by an audit hook), or when it is marked ``corpus`` or uses the
  ``corpus`` fixture (a module-scoped fixture may have read the files before it ran);
- writes every test's outcome, class, failure message and duration as JSON to
  ``DICOMIO_MUTATION_REPORT``.

It imports nothing of dicomio at import time, so that the check of where dicomio comes from
sees the first import.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(os.environ["DICOMIO_MUTATION_ROOT"]).resolve()
REPORT = Path(os.environ["DICOMIO_MUTATION_REPORT"])
_corpus = os.environ.get("DICOMIO_CORPUS", "")
#: The corpus as given and as resolved: a path a test opens may be spelled either way.
CORPUS_PREFIXES = tuple({p.rstrip("/") + "/" for p in (_corpus, str(Path(_corpus).resolve()))
                         if _corpus})
#: Audit events whose first argument (or, for a subprocess, its argument list) names a path.
PATH_EVENTS = frozenset({"open", "os.listdir", "os.scandir", "glob.glob", "subprocess.Popen"})

_state: dict[str, Any] = {"current": None, "real": set(), "tests": {}, "collection": []}


def _names_corpus(value: object) -> bool:
    if isinstance(value, bytes):
        value = os.fsdecode(value)
    elif isinstance(value, os.PathLike):
        value = os.fspath(value)
        if isinstance(value, bytes):
            value = os.fsdecode(value)
    if isinstance(value, (list, tuple)):
        return any(_names_corpus(v) for v in value)
    return isinstance(value, str) and (value + "/").startswith(CORPUS_PREFIXES)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    current = _state["current"]
    if current is None or event not in PATH_EVENTS or current in _state["real"]:
        return
    named = args[1] if event == "subprocess.Popen" else args[0] if args else None
    if _names_corpus(named):
        _state["real"].add(current)


if CORPUS_PREFIXES:
    sys.addaudithook(_audit)


def pytest_configure(config: pytest.Config) -> None:
    for name in ("dicomio", "tests"):
        where = Path(importlib.import_module(name).__file__ or "").resolve()
        if not where.is_relative_to(ROOT):
            pytest.exit(f"{name} was imported from {where}, not from the copy {ROOT}: the "
                        f"mutation check would test the wrong code", returncode=3)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[
        None, object, object]:
    _state["current"] = item.nodeid
    if item.get_closest_marker("corpus") is not None or "corpus" in getattr(
            item, "fixturenames", ()):
        _state["real"].add(item.nodeid)
    try:
        return (yield)
    finally:
        _state["current"] = None


def _message(report: pytest.TestReport | pytest.CollectReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = getattr(crash, "message", None) or str(report.longrepr)
    return " ".join(text.split())[:300]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    entry = _state["tests"].setdefault(report.nodeid,
                                       {"outcome": "passed", "message": "", "seconds": 0.0})
    entry["seconds"] += report.duration
    if report.failed and entry["outcome"] != "failed":
        entry["outcome"], entry["message"] = "failed", f"{report.when}: {_message(report)}"
    elif report.skipped and entry["outcome"] == "passed":
        entry["outcome"] = "xfailed" if hasattr(report, "wasxfail") else "skipped"


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _state["collection"].append({"nodeid": report.nodeid, "message": _message(report)})


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    import dicomio

    for nodeid, entry in _state["tests"].items():
        entry["real"] = nodeid in _state["real"]
    REPORT.write_text(json.dumps({
        "dicomio": str(Path(dicomio.__file__ or "").resolve()),
        "exitstatus": int(exitstatus),
        "tests": _state["tests"],
        "collection_errors": _state["collection"],
    }, indent=1), encoding="utf-8")
