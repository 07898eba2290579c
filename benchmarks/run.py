"""Benchmark dicomio against SimpleITK, VTK and pydicom: wall time, peak memory, correctness.

Usage (from the repository root)::

    python benchmarks/run.py --cores 2 --write-readme   # the full run behind benchmarks/README.md
    python benchmarks/run.py --quick                     # small series, 3 repeats: a smoke test
    python benchmarks/run.py --only 'ct300-jpegll' --only 'dicomio*' --only SimpleITK
    python benchmarks/run.py --lazy                      # big series: lazy against eager

The series are written once into ``benchmarks/data/`` (see :mod:`generate`). In one process,
contenders are timed in turns (the order rotates every repeat) after one untimed warm-up, and
the median is reported ("warm"); then each contender's first load is timed in fresh processes
(:mod:`fresh`: imports excluded, page cache warm), which also give its peak memory ("fresh").
Every dicomio result, warm and fresh, is compared with the truth, voxel for voxel (a lossy
series: within the encoder's error), and dicomio auto's with a second decoder's. The header scan
and the whole ``dicomio info`` command (:mod:`commands`) are timed beside their references;
:mod:`targets` holds the targets of issue 15.
"""

from __future__ import annotations

import argparse
import fnmatch
import gc
import json
import logging
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import commands
import fresh
import generate
import machine
import peers
import report
import targets

import dicomio

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
MIB = 1 << 20
# Two JPEG decoders (libjpeg-turbo, libjpeg, IJG's in GDCM) may round a lossy JPEG's inverse
# DCT differently: the tolerance tests/contract/test_conformance.py states for .50 and .51.
DECODER_TOLERANCE = 2


@dataclass
class Timing:
    """One contender on one dataset: warm (in-process) and fresh-process loads."""

    contender: str
    times: list[float] = field(default_factory=list)
    cpu_times: list[float] = field(default_factory=list)  # CPU seconds of the process, all threads
    check: str = ""  # "identical", how the result differs, or why it was not run
    fresh_times: list[float] = field(default_factory=list)  # first load of a fresh process
    fresh_cpu_times: list[float] = field(default_factory=list)
    fresh_check: str = ""  # the fresh results against the truth (the first that is wrong)
    peak_rss: int | None = None  # bytes, whole process, largest of the fresh processes
    base_rss: int | None = None  # bytes, a fresh process after its imports, before loading

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None

    def as_dict(self) -> dict[str, Any]:
        def median(values: list[float]) -> float | None:
            return statistics.median(values) if values else None

        return {"contender": self.contender, "times": self.times, "median": self.median,
                "cpu_times": self.cpu_times, "cpu_median": median(self.cpu_times),
                "check": self.check, "fresh_times": self.fresh_times,
                "fresh_median": median(self.fresh_times),
                "fresh_cpu_median": median(self.fresh_cpu_times),
                "fresh_check": self.fresh_check, "peak_rss": self.peak_rss,
                "base_rss": self.base_rss}


def _select(items: list[Any], patterns: list[str]) -> list[Any]:
    """Items whose name matches one of ``patterns``; all of them when none matches any."""
    chosen = [i for i in items if any(fnmatch.fnmatchcase(i.name, p) for p in patterns)]
    return chosen or items


def time_dataset(
    dataset: generate.Dataset, contenders: list[peers.Contender], repeats: int, log: Any
) -> list[Timing]:
    """Warm up, then time every contender ``repeats`` times in rotating order."""
    folder = dataset.folder / "series"
    truth = np.asarray(generate.truth(dataset))
    timings = {c.name: Timing(c.name) for c in contenders}
    runnable = []
    for contender in contenders:  # warm-up: imports, page cache; and check the result
        try:
            loaded = contender.load(folder)
        except dicomio.BackendCannotReadError as exc:
            timings[contender.name].check = f"refuses: {exc.message.split(':', 1)[-1].strip()}"
            continue
        except Exception as exc:
            timings[contender.name].check = f"error: {type(exc).__name__}: {exc}"
            continue
        timings[contender.name].check = peers.check_against_truth(loaded.array, truth,
                                                                  dataset.tolerance)
        del loaded
        runnable.append(contender)
    for repeat in range(repeats):
        shift = repeat % max(len(runnable), 1)
        for contender in runnable[shift:] + runnable[:shift]:
            gc.collect()
            cpu, start = time.process_time(), time.perf_counter()
            loaded = contender.load(folder)
            elapsed = time.perf_counter() - start
            timings[contender.name].cpu_times.append(time.process_time() - cpu)
            if contender.is_dicomio:  # every dicomio result, not only the first
                check = peers.check_against_truth(loaded.array, truth, dataset.tolerance)
                if not peers.is_right(check):
                    timings[contender.name].check = check
            del loaded
            timings[contender.name].times.append(elapsed)
        log(f"  {dataset.name}: repeat {repeat + 1}/{repeats} done")
    return list(timings.values())


def time_scan(dataset: generate.Dataset, repeats: int) -> list[dict[str, Any]]:
    """Time header scans of the large folder: dicomio.list_series and the peers' equivalents."""
    import pydicom

    folder = dataset.folder
    series_folders = sorted(p for p in folder.iterdir() if p.is_dir())
    files = [p for s in series_folders for p in sorted(s.iterdir())]

    def dicomio_scan() -> int:
        return sum(s.n_slices for s in dicomio.list_series(folder))

    def pydicom_scan() -> int:
        return sum(1 for p in files if pydicom.dcmread(p, stop_before_pixels=True))

    def simpleitk_scan() -> int:
        import SimpleITK as sitk

        reader = sitk.ImageSeriesReader
        return sum(len(reader.GetGDCMSeriesFileNames(str(s), uid))
                   for s in series_folders for uid in reader.GetGDCMSeriesIDs(str(s)))

    methods = {"dicomio list_series": dicomio_scan,
               "pydicom dcmread(stop_before_pixels=True)": pydicom_scan}
    if machine.importable("SimpleITK"):
        methods["SimpleITK GetGDCMSeriesIDs + FileNames"] = simpleitk_scan
    times: dict[str, list[float]] = {name: [] for name in methods}
    counts = {name: method() for name, method in methods.items()}  # warm-up
    for _ in range(repeats):
        for name, method in methods.items():
            start = time.perf_counter()
            method()
            times[name].append(time.perf_counter() - start)
    return [{"method": name, "files": len(files), "found": counts[name], "times": times[name],
             "median": statistics.median(times[name])} for name in methods]


def time_fresh(dataset: generate.Dataset, contenders: list[peers.Contender],
               timings: list[Timing], processes: int, log: Any) -> None:
    """``processes`` fresh processes per contender that read the series warm, in rotating
    order: the first load of each (time, CPU time, peak memory, result) goes into ``timings``."""
    by_name = {t.contender: t for t in timings}
    runnable = [c for c in contenders if by_name[c.name].times]
    folder, truth_path = dataset.folder / "series", dataset.folder / "truth.npy"
    for repeat in range(processes):
        shift = repeat % max(len(runnable), 1)
        for contender in runnable[shift:] + runnable[:shift]:
            timing = by_name[contender.name]
            found = fresh.measure(contender.name, folder, truth_path, dataset.tolerance)
            if "error" in found:
                timing.fresh_check = f"error: {found['error']}"
                continue
            timing.fresh_times.append(found["time"])
            timing.fresh_cpu_times.append(found["cpu"])
            timing.peak_rss = max(timing.peak_rss or 0, found["peak"])
            timing.base_rss = min(timing.base_rss or found["base"], found["base"])
            if not timing.fresh_check or peers.is_right(timing.fresh_check):
                timing.fresh_check = found["check"]
        log(f"  {dataset.name}: fresh processes {repeat + 1}/{processes} done")


def check_second_decoder(dataset: generate.Dataset) -> dict[str, Any] | None:
    """dicomio auto's volume against a second decoder's (pydicom with the first of GDCM,
    pylibjpeg... that decodes the series): the largest difference, and the tolerance (0, or two
    decoders' rounding on lossy JPEG). None for an uncompressed series."""
    folder = dataset.folder / "series"
    volume = dicomio.load_volume(folder)
    ours = volume.array
    used = volume.provenance.decoders if volume.provenance else ()
    candidates = peers.second_decoders(dataset.syntax, used)
    if not candidates:
        return None
    failed = []
    quiet = logging.getLogger("pydicom")  # it logs each plugin's failure with a traceback
    level = quiet.level
    for name, load in candidates:
        quiet.setLevel(logging.CRITICAL)
        try:
            theirs = load(folder)  # kept whole: its array may be a view of a toolkit's image
        except Exception as exc:  # a plugin that cannot decode this series: try the next one
            failed.append(f"{name}: {' '.join(str(exc).split('plugins:')[-1].split())}")
            continue
        finally:
            quiet.setLevel(level)
        difference = (peers.largest_difference(ours, theirs.array)
                      if ours.shape == theirs.array.shape else -1)
        del theirs
        return {"decoder": name, "difference": difference, "failed": failed,
                "dicomio_decoders": list(used),
                "tolerance": DECODER_TOLERANCE if dataset.tolerance else 0}
    return {"decoder": None, "difference": None, "failed": failed, "tolerance": 0}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="small series (40 slices of 256x256, 2000-file scan), 3 repeats "
                             "and 1 fresh process: a smoke test")
    parser.add_argument("--repeats", type=int, help="timed runs per contender (default 7; "
                        "3 with --quick)")
    parser.add_argument("--fresh", type=int, metavar="N",
                        help="fresh processes per contender and series, each timing its first "
                             "load (default: the repeats, at most 5; 1 with --quick)")
    parser.add_argument("--only", action="append", default=[], metavar="PATTERN",
                        help="run only the datasets and/or contenders matching this glob "
                             "(repeatable), e.g. 'ct300-jpegll', 'dicomio*', SimpleITK")
    parser.add_argument("--cores", type=int, default=0,
                        help="pin the benchmark (and every child process) to this many cores "
                             "(default: all usable cores)")
    parser.add_argument("--no-fresh", "--no-memory", dest="no_fresh", action="store_true",
                        help="skip the fresh processes (first-load times and peak memory)")
    parser.add_argument("--data", type=Path, default=generate.DATA,
                        help="where the series are written and reused (default: %(default)s)")
    parser.add_argument("--results", type=Path,
                        help="write the results (JSON) here (default: benchmarks/results/"
                             "latest.json, or quick.json with --quick)")
    parser.add_argument("--write-readme", action="store_true",
                        help="write the results into benchmarks/README.md and the fresh-process "
                             "table into the Speed section of README.md")
    parser.add_argument("--lazy", action="store_true",
                        help="instead: peak memory of load_volume(lazy=True) reading one slice, "
                             "a mid-plane and the mean over 2,000 slices, against the eager "
                             "load (benchmarks/lazy.py)")
    return parser


def _time_load(dataset: generate.Dataset, contenders: list[peers.Contender], repeats: int,
               processes: int, log: Any) -> dict[str, Any]:
    """Everything measured on one series: warm and fresh timings, the second decoder."""
    log(f"timing {dataset.name} ...")
    timings = time_dataset(dataset, contenders, repeats, log)
    if processes:
        time_fresh(dataset, contenders, timings, processes, log)
    auto = next((t for t in timings if t.contender == "dicomio auto" and t.times), None)
    return {
        "role": dataset.role, "label": dataset.label, "shape": list(dataset.spec.shape),
        "syntax": dataset.syntax, "array_bytes": int(np.prod(dataset.spec.shape)) * 2,
        "tolerance": dataset.tolerance,
        "compressed_bytes": sum(p.stat().st_size for p in (dataset.folder / "series").iterdir()),
        "second_decoder": check_second_decoder(dataset) if auto else None,
        "timings": [t.as_dict() for t in timings]}


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.lazy:
        import lazy

        return lazy.main(["--data", str(args.data)] + (["--quick"] if args.quick else []))
    if args.write_readme and args.quick:
        parser.error("--write-readme publishes a full run; --quick results are a smoke test")
    if args.cores:
        if not hasattr(os, "sched_setaffinity"):
            parser.error("--cores needs an OS with CPU affinity (Linux)")
        usable = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, usable[:args.cores])
    repeats = args.repeats or (3 if args.quick else 7)
    default_fresh = 1 if args.quick else min(repeats, 5)
    processes = 0 if args.no_fresh else (default_fresh if args.fresh is None else args.fresh)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    all_datasets, all_contenders = generate.datasets(args.quick, args.data), peers.contenders()
    for pattern in args.only:
        if not any(fnmatch.fnmatchcase(i.name, pattern) for i in all_datasets + all_contenders):
            parser.error(f"--only {pattern!r} matches nothing; datasets: "
                         f"{', '.join(d.name for d in all_datasets)}; contenders: "
                         f"{', '.join(c.name for c in all_contenders)}")
    selected = _select(all_datasets, args.only)
    contenders = _select(all_contenders, args.only)
    results: dict[str, Any] = {"machine": machine.describe(), "repeats": repeats,
                               "fresh_processes": processes, "quick": args.quick, "loads": {},
                               "scan": None, "commands": None, "not_measured": {
                                   d.name: {"role": d.role, "why": d.missing}
                                   for d in selected if d.missing}}
    datasets = [d for d in selected if not d.missing]
    generate.ensure(datasets, log=log)
    for dataset in datasets:
        if dataset.copies > 1:
            log(f"timing header scans of {dataset.name} ...")
            results["scan"] = {"dataset": dataset.name, "series": dataset.copies,
                               "methods": time_scan(dataset, repeats)}
        elif dataset.role == "info":
            log(f"timing whole commands on {dataset.name} ...")
            results["commands"] = commands.time_commands(dataset.folder, repeats)
        else:
            results["loads"][dataset.name] = _time_load(dataset, contenders, repeats,
                                                        processes, log)
    results["machine"]["load_average_at_end"] = machine.load_average()
    results["targets"] = targets.issue15(results)
    results["targets_issue5"] = report.targets(results)

    output = args.results or RESULTS / ("quick.json" if args.quick else "latest.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=1))
    text = report.markdown(results)
    print(text)
    if args.write_readme:
        report.write_readme(HERE / "README.md", text)
        report.write_readme(HERE.parent / "README.md", report.speed_table(results),
                            report.SPEED_MARKERS)
    failed = [t for t in results["targets"] if t["passed"] is False]
    bad = [f"{d}: {t['contender']} {check}" for d, r in results["loads"].items()
           for t in r["timings"] if t["contender"].startswith("dicomio")
           for check in (t["check"], t["fresh_check"])
           if check and not peers.is_right(check) and not check.startswith("refuses")]
    for line in bad:
        log(f"NOT RIGHT: {line}")
    return 1 if bad or (failed and not args.quick) else 0


if __name__ == "__main__":
    raise SystemExit(main())
