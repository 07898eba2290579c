"""Whole archives: series and files per second of ``dicomio validate`` and ``dicomio convert``,
serial, on local worker processes and on a Dask LocalCluster, on generated archives.

    python benchmarks/archive.py                      # print the tables
    python benchmarks/archive.py --write              # and update benchmarks/README.md

Two archives: many small uncompressed series (where fixed costs show: starting processes, Dask's
messages, reading headers), and CT-sized JPEG 2000 series (where decoding dominates, as in
compressed archives).

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
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "benchmarks" / "README.md"
SECTION = "## Whole archives"


@dataclass(frozen=True)
class Archive:
    """What to generate, and which commands to time on it."""

    series: int
    slices: int
    size: int
    syntax: str = "1.2.840.10008.1.2.1"
    commands: tuple[str, ...] = ("validate", "convert")

    @property
    def files(self) -> int:
        return self.series * self.slices

    def describe(self) -> str:
        from dicomio.dicom.transfer_syntax import lookup

        return (f"{self.series} series of {self.slices} slices of {self.size}×{self.size} "
                f"12-bit CT, {lookup(self.syntax).name} ({self.files} files")

    def write(self, folder: Path) -> None:
        """Ten series per patient folder."""
        from dicomio.testing.synthetic import SeriesSpec, write_series

        for i in range(self.series):
            spec = SeriesSpec(shape=(self.slices, self.size, self.size), uid_seed=f"bench {i}",
                              series_number=i, seed=i, transfer_syntax=self.syntax)
            write_series(folder / f"patient{i // 10:03d}" / f"series{i % 10}", spec)


SMALL = Archive(300, 20, 128)
CT_J2K = Archive(24, 10, 512, "1.2.840.10008.1.2.4.90", ("validate",))


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
    """The machine, with the load averages when the timing started and ended (other work on
    the machine slows the parallel modes first)."""
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


def time_archive(archive: Archive, scratch: Path, repeats: int) -> list[str]:
    """Generate ``archive``, time every command in every mode; the Markdown lines."""
    from distributed import LocalCluster

    folder = scratch / "archive"
    shutil.rmtree(folder, ignore_errors=True)
    archive.write(folder)
    size_mib = sum(p.stat().st_size for p in folder.rglob("*")) / 2**20
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
            "validate": ["validate", str(folder), "-f", "json", "--reproducible"],
            "convert": ["convert", str(folder), "{out}", "--json", "--reproducible"],
        }
        commands = {name: commands[name] for name in archive.commands}
        run(["validate", str(folder), "-q", "--scheduler", cluster.scheduler_address])  # warm
        times: dict[tuple[str, str], list[float]] = {}
        digests: dict[str, set[str]] = {command: set() for command in commands}
        load_at_start = _load()
        for _ in range(repeats):
            for command, arguments in commands.items():
                for mode, where in modes.items():
                    out = scratch / "out"
                    filled = [str(out) if a == "{out}" else a for a in arguments]
                    seconds, digest = run(filled + where, out)
                    times.setdefault((command, mode), []).append(seconds)
                    digests[command].add(digest)
    for command, seen in digests.items():
        if len(seen) != 1:
            raise SystemExit(f"{command}: the reports differ between modes: {seen}")
    lines = [
        f"**{archive.describe()}, {size_mib:.0f} MiB)**, ten series per patient folder. "
        f"Median of {repeats}; {machine(load_at_start)}.",
        "",
        "| command | where | seconds | series/s | files/s | vs serial |",
        "|---|---|---|---|---|---|",
    ]
    for command in commands:
        serial = statistics.median(times[command, next(iter(modes))])
        for mode in modes:
            seconds = statistics.median(times[command, mode])
            lines.append(f"| {command} | {mode} | {seconds:.2f} | "
                         f"{archive.series / seconds:.1f} | {archive.files / seconds:.0f} | "
                         f"{serial / seconds:.2f}× |")
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="update benchmarks/README.md")
    options = parser.parse_args()

    lines = [
        SECTION,
        "",
        "`python benchmarks/archive.py`: the wall time of the whole command, as a user types "
        "it, in a fresh process (interpreter start-up, planning and, for `--scheduler local`, "
        "starting the cluster included; \"running cluster\" passes the address of a "
        "LocalCluster started before the timing, as with a real cluster). Modes alternate; "
        "every mode gave the same JSON report, byte for byte. Files in the page cache. "
        "`validate` decodes every pixel (the default); `convert` writes .nii.gz.",
        "",
    ]
    with tempfile.TemporaryDirectory(prefix="dicomio-archive-bench-") as scratch:
        for archive in (SMALL, CT_J2K):
            lines += time_archive(archive, Path(scratch), options.repeats)
    lines += ["\"Serial\" is one series after another in the command's process, each decoded "
              "with a thread per core as `load_volume` does (JPEG 2000 decoders release the GIL, "
              "so it already uses both cores while decoding); worker processes decode with one "
              "thread each and add parallelism across series. On 2 cores the command itself, "
              "Dask's messaging and the machine's other work (see the load averages) share the "
              "cores with the two workers, so two workers cannot reach 2×; fixed costs "
              "(starting processes: ~0.3 s; importing Dask and connecting: ~0.5 s; starting a "
              "LocalCluster: ~2 s) weigh on short runs. See docs/archives.md."]
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
