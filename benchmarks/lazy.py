"""Big series without a big machine: peak memory of a lazy load against the eager one.

    python benchmarks/lazy.py                  # 2,000 slices of 512×512 (1 GB of int16)
    python benchmarks/lazy.py --quick          # 200 slices of 256×256: a smoke test
    python benchmarks/run.py --lazy            # the same, from the main benchmark script

The series is an uncompressed synthetic CT written once into ``benchmarks/data/`` (git-ignored)
with its truth (``truth.npy``, the modality values) by :mod:`generate`. Each measurement runs in
a fresh process: import dicomio (and Dask), load, do one thing, read the process's peak resident
memory (``VmHWM`` of ``/proc/self/status``), and only then check the result against the truth
(the truth is memory-mapped: reading it would count in the peak). The things done:

- ``eager``: ``load_volume(folder)``, the whole array in memory;
- ``lazy, one slice``: ``load_volume(folder, lazy=True).array[k].compute()``, k the middle;
- ``lazy, mid-plane``: ``array[:, rows // 2, :]``, a coronal plane through every slice;
- ``lazy, mean over slices``: ``array.mean(axis=0)``, every voxel read once;
- the same with ``chunks=16`` (16 slices per chunk: fewer Dask tasks, more memory per task).

"after imports" is the resident memory before loading (Python, NumPy, dicomio, and for the lazy
runs Dask with dask.distributed, which Dask's ``compute`` imports when it is installed): what
the load itself adds is the difference.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
MIB = 1 << 20
MODES = ("eager", "lazy, one slice", "lazy, mid-plane", "lazy, mean over slices",
         "lazy, mean over slices, chunks=16")


def dataset(quick: bool, root: Path = generate.DATA) -> generate.Dataset:
    """The uncompressed CT series measured: 2,000 × 512 × 512 (quick: 200 × 256 × 256)."""
    slices, size = (200, 256) if quick else (2000, 512)
    spec = generate.CT.with_(shape=(slices, size, size))
    name = f"ct{slices}-lazy" + ("-quick" if quick else "")
    return generate.Dataset(name, "lazy", "uncompressed", spec, root=root)


def _status(field: str) -> int:
    """A memory figure of this process from /proc/self/status, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} is not in /proc/self/status (Linux only)")


def child(mode: str, folder: Path) -> dict[str, Any]:
    """Do ``mode`` in this (fresh) process; measure, then check against the truth."""
    import dicomio

    if mode != "eager":  # counted in "after imports", as in a user's session
        import dask.array  # noqa: F401
        with contextlib.suppress(ImportError):
            import distributed  # noqa: F401  (Dask's compute imports it when installed)
    base = _status("VmRSS")
    start = time.perf_counter()
    chunks = int(mode.rpartition("chunks=")[2]) if "chunks=" in mode else None
    volume = dicomio.load_volume(folder / "series", lazy=mode != "eager", chunks=chunks)
    array = volume.array
    n, rows, _ = array.shape
    if mode == "eager":
        result = array
    elif mode == "lazy, one slice":
        result = array[n // 2].compute()
    elif mode == "lazy, mid-plane":
        result = array[:, rows // 2, :].compute()
    else:  # a mean over slices
        result = array.mean(axis=0).compute()
    seconds = time.perf_counter() - start
    peak = _status("VmHWM")
    truth = np.load(folder / "truth.npy", mmap_mode="r")
    if mode == "eager":
        expected: Any = truth
    elif mode == "lazy, one slice":
        expected = truth[n // 2]
    elif mode == "lazy, mid-plane":
        expected = truth[:, rows // 2, :]
    else:  # a mean over slices
        total = np.zeros(truth.shape[1:], dtype=np.float64)
        for k in range(n):  # slice by slice: the truth's mean without its own 1 GB copy
            total += truth[k]
        expected = total / n
    same = np.allclose(result, expected, rtol=1e-12, atol=1e-9) if "mean" in mode \
        else result.dtype == truth.dtype and np.array_equal(result, expected)
    return {"mode": mode, "seconds": seconds, "base_rss": base, "peak_rss": peak,
            "result_shape": list(np.shape(result)), "check": "identical" if same else "DIFFERS"}


def measure(folder: Path, quick: bool, log: Any) -> list[dict[str, Any]]:
    """Each mode in its own fresh process."""
    rows = []
    for mode in MODES:
        log(f"measuring {mode} ...")
        done = subprocess.run([sys.executable, __file__, "--child", mode, str(folder)]
                              + (["--quick"] if quick else []),
                              check=True, capture_output=True, text=True)
        rows.append(json.loads(done.stdout.splitlines()[-1]))
    return rows


def markdown(data: generate.Dataset, rows: list[dict[str, Any]]) -> str:
    """The results table."""
    slices, size, _ = data.spec.shape
    array = int(np.prod(data.spec.shape)) * 2
    files = sum(p.stat().st_size for p in (data.folder / "series").iterdir())
    lines = [f"{slices} slices of {size}×{size}, uncompressed: {files / MIB:,.0f} MiB of files, "
             f"a {array / MIB:,.0f} MiB int16 array.", "",
             "| what | peak RSS (VmHWM) | after imports | added by the load | time | check |",
             "|---|---:|---:|---:|---:|---|"]
    for row in rows:
        lines.append(f"| {row['mode']} | {row['peak_rss'] / MIB:,.0f} MiB | "
                     f"{row['base_rss'] / MIB:,.0f} MiB | "
                     f"{(row['peak_rss'] - row['base_rss']) / MIB:,.0f} MiB | "
                     f"{row['seconds']:.1f} s | {row['check']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 slices of 256×256")
    parser.add_argument("--data", type=Path, default=generate.DATA,
                        help="where the series is written and reused (default: %(default)s)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]))))
        return 0

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    data = dataset(args.quick, args.data)
    generate.ensure([data], log=log)
    rows = measure(data.folder, args.quick, log)
    output = RESULTS / ("lazy-quick.json" if args.quick else "lazy.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({"dataset": data.name, "shape": list(data.spec.shape),
                                  "date": time.strftime("%Y-%m-%d %H:%M"), "rows": rows},
                                 indent=1))
    print(markdown(data, rows))
    return 0 if all(row["check"] == "identical" for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
