"""Whole archives: series and files per second of ``dicomio validate`` and ``dicomio convert``,
serial, on local worker processes and on a Dask LocalCluster, on one generated archive.

    python benchmarks/archive.py                      # print the table
    python benchmarks/archive.py --write              # and update benchmarks/README.md

Each run is the command a user types (``python -m dicomio ...`` in a fresh process), timed from
start to exit, so interpreter start-up, planning and, for ``--scheduler local``, starting the
cluster are included; "running cluster" passes the address of a LocalCluster started before
the timing, as a user of a real cluster would. The modes alternate, each is run ``--repeats``
times and the median is reported. Every run's JSON report (``--reproducible``) must be
identical, byte for byte, or the benchmark fails.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "benchmarks" / "README.md"
SECTION = "## Whole archives"


def make_archive(folder: Path, series: int, slices: int, size: int) -> int:
    """``series`` CT series of ``slices`` slices of ``size``², ten per patient folder; returns
    the number of files."""
    from dicomio.synthetic import SeriesSpec, write_series

    for i in range(series):
        spec = SeriesSpec(shape=(slices, size, size), uid_seed=f"bench {i}", series_number=i,
                          seed=i)
        write_series(folder / f"patient{i // 10:03d}" / f"series{i % 10}", spec)
    return series * slices


def run(arguments: list[str], output: Path | None = None) -> tuple[float, str]:
    """Run ``python -m dicomio ARGUMENTS``; return the wall time and the digest of stdout."""
    if output is not None and output.exists():
        shutil.rmtree(output)
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "dicomio", *arguments], capture_output=True,
                          env=environment, check=False)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"dicomio {' '.join(arguments)} exited {done.returncode}:\n"
                         f"{done.stderr.decode()[-2000:]}")
    report = re.sub(rb'"output": "[^"]*",', b"", done.stdout)  # convert: the folder differs
    return seconds, hashlib.sha256(report).hexdigest()


def machine(load_at_start: float) -> str:
    """One line describing the machine, with the load averages when the timing started and
    ended (other work on the machine slows the parallel modes first)."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 2**20:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    import dask
    import distributed

    return (f"{model}, {len(os.sched_getaffinity(0))} usable cores{memory}; "
            f"{platform.system()} {platform.release()}; Python {platform.python_version()}, "
            f"dask {dask.__version__}, distributed {distributed.__version__}; one-minute load "
            f"average {load_at_start:.1f} when the timing started, {_load():.1f} when it ended")


def _load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=200)
    parser.add_argument("--slices", type=int, default=20)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="update benchmarks/README.md")
    options = parser.parse_args()

    from distributed import LocalCluster

    with tempfile.TemporaryDirectory(prefix="dicomio-archive-bench-") as scratch:
        archive = Path(scratch) / "archive"
        files = make_archive(archive, options.series, options.slices, options.size)
        size_mib = sum(p.stat().st_size for p in archive.rglob("*")) / 2**20
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=":0") as cluster:
            modes = {
                "serial (`--workers 1`)": ["--workers", "1"],
                "`--workers 2`": ["--workers", "2"],
                "`--scheduler local --workers 2` (starts the cluster)":
                    ["--scheduler", "local", "--workers", "2"],
                "running 2-worker LocalCluster (`--scheduler tcp://...`)":
                    ["--scheduler", cluster.scheduler_address],
            }
            commands = {
                "validate": ["validate", str(archive), "-f", "json", "--reproducible"],
                "convert": ["convert", str(archive), "{out}", "--json", "--reproducible"],
            }
            times: dict[tuple[str, str], list[float]] = {}
            load_at_start = _load()
            digests: dict[str, set[str]] = {command: set() for command in commands}
            for _ in range(options.repeats):
                for command, arguments in commands.items():
                    for mode, where in modes.items():
                        out = Path(scratch) / "out"
                        filled = [str(out) if a == "{out}" else a for a in arguments]
                        seconds, digest = run(filled + where, out)
                        times.setdefault((command, mode), []).append(seconds)
                        digests[command].add(digest)
        for command, seen in digests.items():
            if len(seen) != 1:
                raise SystemExit(f"{command}: the reports differ between modes: {seen}")

    serial = {c: statistics.median(times[c, next(iter(modes))]) for c in commands}
    lines = [
        SECTION,
        "",
        f"`python benchmarks/archive.py` on {options.series} series of {options.slices} "
        f"slices of {options.size}×{options.size} 16-bit CT ({files} files, "
        f"{size_mib:.0f} MiB, ten series per patient folder), files in the page cache. "
        f"Wall time of the whole command in a fresh process (median of {options.repeats}, "
        f"modes alternating); every mode gave the same JSON report, byte for byte.",
        "",
        f"Machine: {machine(load_at_start)}.",
        "",
        "| command | where | seconds | series/s | files/s | vs serial |",
        "|---|---|---|---|---|---|",
    ]
    for command in commands:
        for mode in modes:
            seconds = statistics.median(times[command, mode])
            lines.append(f"| {command} | {mode} | {seconds:.2f} | "
                         f"{options.series / seconds:.0f} | {files / seconds:.0f} | "
                         f"{serial[command] / seconds:.2f}× |")
    lines += ["", "`validate` decodes every pixel (the default); `convert` writes .nii.gz. "
              "Starting a LocalCluster costs a few seconds, which a running cluster does not "
              "pay: see docs/archives.md."]
    table = "\n".join(lines) + "\n"
    print(table)
    if options.write:
        _write(table)


def _write(section: str) -> None:
    """Replace (or append) the "Whole archives" section of benchmarks/README.md."""
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    start = text.find(SECTION)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + section + ("" if end < 0 else text[end:])
    README.write_text(text)


if __name__ == "__main__":
    main()
