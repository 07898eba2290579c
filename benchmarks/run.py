"""Benchmark dicomio against SimpleITK, VTK and pydicom: wall time, peak memory, correctness.

Usage (from the repository root)::

    python benchmarks/run.py --cores 2 --write-readme   # the full run behind benchmarks/README.md
    python benchmarks/run.py --quick                     # small series, 3 repeats: a smoke test
    python benchmarks/run.py --only 'ct300-jpegll' --only 'dicomio*' --only SimpleITK
    python benchmarks/run.py --lazy                      # big series: lazy against eager

The series are written once into ``benchmarks/data/`` (see :mod:`generate`). In one process,
contenders are timed in turns (the order rotates every repeat) after one untimed warm-up, and
the median is reported; every dicomio result is compared with the truth, voxel for voxel.
Peak memory is measured in a fresh process per contender and series.
"""

from __future__ import annotations

import argparse
import fnmatch
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate
import peers
import report

import dicomio
from dicomio.parallel import usable_cores

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
MIB = 1 << 20


@dataclass
class Timing:
    """One contender on one dataset."""

    contender: str
    times: list[float] = field(default_factory=list)
    cpu_times: list[float] = field(default_factory=list)  # CPU seconds of the process, all threads
    check: str = ""  # "identical", how the result differs, or why it was not run
    peak_rss: int | None = None  # bytes, whole process, measured in a fresh process
    base_rss: int | None = None  # bytes, the same process after its imports, before loading

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None

    def as_dict(self) -> dict[str, Any]:
        cpu = statistics.median(self.cpu_times) if self.cpu_times else None
        return {"contender": self.contender, "times": self.times, "median": self.median,
                "cpu_times": self.cpu_times, "cpu_median": cpu, "check": self.check,
                "peak_rss": self.peak_rss, "base_rss": self.base_rss}


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
        timings[contender.name].check = peers.check_against_truth(loaded.array, truth)
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
                check = peers.check_against_truth(loaded.array, truth)
                if check != "identical":
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
    if _importable("SimpleITK"):
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


def measure_memory(dataset: generate.Dataset, contender: peers.Contender,
                   quick: bool) -> tuple[int, int] | None:
    """Peak and baseline RSS (bytes) of a fresh process loading ``dataset`` once."""
    command = [sys.executable, str(Path(__file__).resolve()), "--memory-child", dataset.name,
               contender.name, "--data", str(dataset.root)]
    if quick:
        command.append("--quick")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        print(f"memory of {contender.name} on {dataset.name} not measured: {tail[0]}",
              file=sys.stderr)
        return None
    values = json.loads(done.stdout.strip().splitlines()[-1])
    return values["peak"], values["base"]


def _memory_child(dataset_name: str, contender_name: str, quick: bool, root: Path) -> None:
    dataset = next(d for d in generate.datasets(quick, root) if d.name == dataset_name)
    contender = next(c for c in peers.contenders() if c.name == contender_name)
    base = _high_water_mark()
    loaded = contender.load(dataset.folder / "series")
    peak = _high_water_mark()
    print(json.dumps({"peak": peak, "base": base, "array": loaded.array.nbytes}))


def _high_water_mark() -> int:
    """Peak resident memory of this process (bytes). Unlike ``ru_maxrss``, the kernel's VmHWM
    starts afresh at ``exec``, so it does not inherit the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _load_average() -> tuple[float, ...]:
    try:
        return os.getloadavg()
    except (AttributeError, OSError):  # not on this OS
        return ()


def describe_machine() -> dict[str, Any]:
    """CPU, cores, memory, Python and the versions of every library involved."""
    import importlib.metadata

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = next(int(line.split()[1]) * 1024
                      for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))
    except (OSError, StopIteration):
        memory = 0
    versions = {}
    for name in ("dicomio", "numpy", "pydicom", "imagecodecs", "pylibjpeg", "pylibjpeg-libjpeg",
                 "pylibjpeg-openjpeg", "pylibjpeg-rle", "python-gdcm", "SimpleITK", "vtk"):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "cores_used": usable_cores(),
        "memory_bytes": memory,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
        "load_average_at_start": _load_average(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="small series (40 slices of 256x256, 2000-file scan) and 3 repeats")
    parser.add_argument("--repeats", type=int, help="timed runs per contender (default 7; "
                        "3 with --quick)")
    parser.add_argument("--only", action="append", default=[], metavar="PATTERN",
                        help="run only the datasets and/or contenders matching this glob "
                             "(repeatable), e.g. 'ct300-jpegll', 'dicomio*', SimpleITK")
    parser.add_argument("--cores", type=int, default=0,
                        help="pin the benchmark (and every child process) to this many cores "
                             "(default: all usable cores)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-RSS processes")
    parser.add_argument("--data", type=Path, default=generate.DATA,
                        help="where the series are written and reused (default: %(default)s)")
    parser.add_argument("--results", type=Path,
                        help="write the results (JSON) here (default: benchmarks/results/"
                             "latest.json, or quick.json with --quick)")
    parser.add_argument("--write-readme", action="store_true",
                        help="write the results table into benchmarks/README.md")
    parser.add_argument("--lazy", action="store_true",
                        help="instead: peak memory of load_volume(lazy=True) reading one slice, "
                             "a mid-plane and the mean over 2,000 slices, against the eager "
                             "load (benchmarks/lazy.py)")
    parser.add_argument("--memory-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.lazy:
        import lazy

        return lazy.main(["--data", str(args.data)] + (["--quick"] if args.quick else []))
    if args.memory_child:
        _memory_child(args.memory_child[0], args.memory_child[1], args.quick, args.data)
        return 0
    if args.cores:
        if not hasattr(os, "sched_setaffinity"):
            parser.error("--cores needs an OS with CPU affinity (Linux)")
        usable = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, usable[:args.cores])
    repeats = args.repeats or (3 if args.quick else 7)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    all_datasets, all_contenders = generate.datasets(args.quick, args.data), peers.contenders()
    for pattern in args.only:
        if not any(fnmatch.fnmatchcase(i.name, pattern) for i in all_datasets + all_contenders):
            parser.error(f"--only {pattern!r} matches nothing; datasets: "
                         f"{', '.join(d.name for d in all_datasets)}; contenders: "
                         f"{', '.join(c.name for c in all_contenders)}")
    datasets = _select(all_datasets, args.only)
    contenders = _select(all_contenders, args.only)
    generate.ensure(datasets, log=log)
    results: dict[str, Any] = {"machine": describe_machine(), "repeats": repeats,
                               "quick": args.quick, "loads": {}, "scan": None}
    for dataset in datasets:
        if dataset.copies > 1:
            log(f"timing header scans of {dataset.name} ...")
            results["scan"] = {"dataset": dataset.name, "series": dataset.copies,
                               "methods": time_scan(dataset, repeats)}
            continue
        log(f"timing {dataset.name} ...")
        timings = time_dataset(dataset, contenders, repeats, log)
        if not args.no_memory:
            for timing in timings:
                if not timing.times:
                    continue
                contender = next(c for c in contenders if c.name == timing.contender)
                measured = measure_memory(dataset, contender, args.quick)
                if measured is not None:
                    timing.peak_rss, timing.base_rss = measured
        results["loads"][dataset.name] = {
            "role": dataset.role, "label": dataset.label, "shape": list(dataset.spec.shape),
            "syntax": dataset.syntax, "array_bytes": int(np.prod(dataset.spec.shape)) * 2,
            "compressed_bytes": sum(p.stat().st_size
                                    for p in (dataset.folder / "series").iterdir()),
            "timings": [t.as_dict() for t in timings]}
    results["machine"]["load_average_at_end"] = _load_average()
    results["targets"] = report.targets(results)

    output = args.results or RESULTS / ("quick.json" if args.quick else "latest.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=1))
    text = report.markdown(results)
    print(text)
    if args.write_readme:
        report.write_readme(HERE / "README.md", text)
    failed = [t for t in results["targets"] if t["passed"] is False]
    bad = [f"{d}: {t['contender']} {t['check']}" for d, r in results["loads"].items()
           for t in r["timings"] if t["contender"].startswith("dicomio")
           and t["check"] != "identical" and not t["check"].startswith("refuses")]
    for line in bad:
        log(f"NOT IDENTICAL: {line}")
    return 1 if bad or (failed and not args.quick) else 0


if __name__ == "__main__":
    raise SystemExit(main())
