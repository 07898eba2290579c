"""The benchmark series: what they are, and writing them once into ``benchmarks/data/``.

Each dataset is a folder of synthetic series written by :mod:`dicomio.testing.synthetic` (a CT body
phantom with noise, so compressed sizes are realistic), a ``truth.npy`` holding the expected
volume (modality values, in slice order) and a ``manifest.json`` describing what was written.
A folder whose manifest matches the dataset's definition and whose files are all present with
their recorded sizes is reused; anything else is rewritten.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from dicomio.testing import synthetic as syn
from dicomio.testing.synthetic import SeriesSpec

# The encoder's largest error at the quality dicomio.testing writes (92): the tolerance the
# conformance tests state for 12-bit lossy JPEG (tests/support/cases.py).
JPEG12_TOLERANCE = 24

# Bump when what is written changes (the phantom, the writer, the specs): old data is rewritten.
FORMAT = 1
DATA = Path(__file__).resolve().parent / "data"

CT = SeriesSpec(shape=(300, 512, 512), pixel_spacing=(0.7, 0.7), slice_spacing=1.0,
                origin=(-179.0, -179.0, -150.0), content="ct", description="benchmark CT")


@dataclass(frozen=True)
class Dataset:
    """One benchmark input: ``copies`` series of ``spec`` in one folder.

    A single series (``copies == 1``) is what the loaders are timed on; many copies make the
    large folder on which :func:`dicomio.list_series` is timed.
    """

    name: str
    # explicit, jpegll, j2k, rle (the main series); jpegls, htj2k, jpeg12 (measured and
    # listed); long (scaling); scan (header scan); info (the `dicomio info` command)
    role: str
    label: str
    spec: SeriesSpec
    copies: int = 1
    root: Path = DATA
    # The largest |value - truth| a right result may have: the encoder's error of a lossy
    # syntax (0: lossless, every voxel equal).
    tolerance: int = 0

    @property
    def folder(self) -> Path:
        return self.root / self.name

    @property
    def n_files(self) -> int:
        return self.spec.shape[0] * self.copies

    @property
    def syntax(self) -> str:
        return self.spec.transfer_syntax

    @property
    def missing(self) -> str | None:
        """Why this dataset cannot be written here (an encoder not installed), or None."""
        return syn.missing_encoder(self.syntax)

    def manifest(self) -> dict[str, Any]:
        return {"format": FORMAT, "name": self.name, "copies": self.copies,
                "spec": json.loads(json.dumps(asdict(self.spec)))}


def datasets(quick: bool = False, root: Path = DATA) -> list[Dataset]:
    """The benchmark datasets, under ``root``; ``quick`` makes small ones (a smoke test)."""
    slices, size, scan_series = (300, 512, 10) if not quick else (40, 256, 2)
    ct = CT.with_(shape=(slices, size, size))
    long = CT.with_(shape=(round(slices * 10 / 3), size, size))
    scan = CT.with_(shape=(1000, 128, 128))
    tag = "" if not quick else "-quick"
    found = [
        Dataset(f"ct{slices}-explicit{tag}", "explicit", "uncompressed", ct),
        Dataset(f"ct{slices}-jpegll{tag}", "jpegll", "JPEG lossless .70",
                ct.with_(transfer_syntax=syn.JPEG_LOSSLESS_SV1)),
        Dataset(f"ct{slices}-j2k{tag}", "j2k", "JPEG 2000 lossless .90",
                ct.with_(transfer_syntax=syn.J2K_LOSSLESS)),
        Dataset(f"ct{slices}-rle{tag}", "rle", "RLE", ct.with_(transfer_syntax=syn.RLE)),
        Dataset(f"ct{slices}-jpegls{tag}", "jpegls", "JPEG-LS lossless .80",
                ct.with_(transfer_syntax=syn.JPEG_LS)),
        Dataset(f"ct{slices}-htj2k{tag}", "htj2k", "HTJ2K lossless .201",
                ct.with_(transfer_syntax=syn.HTJ2K_LOSSLESS)),
        Dataset(f"ct{slices}-jpeg12{tag}", "jpeg12", "12-bit lossy JPEG .51",
                ct.with_(transfer_syntax=syn.JPEG_EXTENDED), tolerance=JPEG12_TOLERANCE),
        Dataset(f"ct{long.shape[0]}-explicit{tag}", "long", "uncompressed", long),
        Dataset(f"scan{scan_series * 1000}{tag}", "scan", "header scan", scan,
                copies=scan_series),
        Dataset(f"info40{tag}", "info", "`dicomio info` folder",
                CT.with_(shape=(40, size, size))),
    ]
    return [replace(d, root=root) for d in found]


def is_valid(dataset: Dataset) -> bool:
    """True when the folder holds exactly what ``dataset`` describes, as recorded."""
    manifest_path = dataset.folder / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        return False
    if manifest.get("definition") != dataset.manifest():
        return False
    files = manifest.get("files", {})
    if len(files) != dataset.n_files:
        return False
    try:
        return all((dataset.folder / name).stat().st_size == size for name, size in files.items())
    except OSError:
        return False


def truth(dataset: Dataset) -> np.ndarray:
    """The expected volume (modality values with the contract's dtype), memory-mapped."""
    return np.load(dataset.folder / "truth.npy", mmap_mode="r")


def _write_copy(dataset: Dataset, copy: int) -> tuple[Path, np.ndarray]:
    spec = dataset.spec.with_(series_number=copy + 1, seed=copy)
    target = dataset.folder / (f"series{copy:03d}" if dataset.copies > 1 else "series")
    written = syn.write_series(target, spec, naming="uid")
    expected = written.stored.astype(np.int32) + written.intercepts.astype(np.int32)[:, None, None]
    return target, expected.astype(np.int16)


def write(dataset: Dataset, workers: int = 2) -> None:
    """(Re)write ``dataset`` from scratch: the series, ``truth.npy`` and ``manifest.json``."""
    if dataset.folder.exists():
        shutil.rmtree(dataset.folder)
    dataset.folder.mkdir(parents=True)
    slopes = np.asarray(dataset.spec.rescale_slope)
    if np.any(slopes != 1):
        raise ValueError("benchmark truths assume RescaleSlope 1 (integer modality values)")
    if dataset.copies == 1:
        _, expected = _write_copy(dataset, 0)
        np.save(dataset.folder / "truth.npy", expected)
    else:
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(_write_copy, [dataset] * dataset.copies, range(dataset.copies)))
    files = {str(p.relative_to(dataset.folder)): p.stat().st_size
             for p in sorted(dataset.folder.rglob("*.dcm"))}
    manifest = {"definition": dataset.manifest(), "files": files}
    (dataset.folder / "manifest.json").write_text(json.dumps(manifest, indent=1))


def ensure(selected: Sequence[Dataset], workers: int = 2, log: Any = print) -> None:
    """Write each dataset that is missing or not valid, ``workers`` at a time; reuse the rest."""
    missing = [d for d in selected if d.missing is None and not is_valid(d)]
    for dataset in missing:
        log(f"writing {dataset.name} ({dataset.n_files} files) ...")
    single = [d for d in missing if d.copies == 1]
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(write, single))
    for dataset in missing:
        if dataset.copies > 1:
            write(dataset, workers)  # parallel over its copies
