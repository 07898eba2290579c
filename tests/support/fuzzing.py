"""Mutation fuzzing of ``load_volume``: damaged copies of real and generated series.

The invariant: every input ends as a correct :class:`~dicomio.Volume` or a
:class:`~dicomio.DicomIOError` subclass — never another exception, never a crash or a hang,
never an all-zero or garbage volume presented as a result. "Garbage" is checked the only way it
can be without the truth: the direct backend's volume must equal what the independent pydicom
backend reads from the same damaged files. One kind of damage no decoder can see is counted
apart (``undetected``): bytes changed inside the entropy-coded data of a compressed frame whose
structure stays valid. Each decoder then returns its own guess; two decoders disagree, which is
what ``dicomio validate --cross-check`` reports (BACKEND_MISMATCH).

Each input is loaded in a persistent worker process, so a segfault in a decoder is a counted
outcome (``crash``) and a hang is killed after a timeout (``hang``).

Run a long campaign (figures go in docs/robustness.md)::

    python -m tools.fuzz_campaign --inputs 20000 --seed 1
"""

from __future__ import annotations

import multiprocessing as mp
import random
import shutil
import struct
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

Files = dict[str, bytes]

# Tags worth damaging: geometry, pixel format, rescale, pixel data.
_TARGET_TAGS = [
    (0x0020, 0x0032), (0x0020, 0x0037), (0x0028, 0x0030), (0x0028, 0x0010), (0x0028, 0x0011),
    (0x0028, 0x0100), (0x0028, 0x0101), (0x0028, 0x0102), (0x0028, 0x0103), (0x0028, 0x0002),
    (0x0028, 0x0004), (0x0028, 0x0008), (0x0028, 0x1052), (0x0028, 0x1053), (0x0002, 0x0010),
    (0x0020, 0x000E), (0x0008, 0x0018), (0x7FE0, 0x0010),
]
_FUNNY_TEXT = [b"nan", b"inf", b"-inf", b"1e308", b"0", b"-1", b"", b"\\", b"1\\2\\3\\4\\5\\6\\7",
               b"abc", b"1.2.840.10008.1.2.4.102", b"9" * 16, b"\x00\x00", b"-0"]


# --- mutations ---------------------------------------------------------------------------------

def _tag_offsets(data: bytes, group: int, element: int) -> list[int]:
    needle = struct.pack("<HH", group, element)
    found, start = [], 0
    while (at := data.find(needle, start)) >= 0:
        found.append(at)
        start = at + 1
    return found


def bit_flips(data: bytes, rng: random.Random) -> bytes:
    buffer = bytearray(data)
    for _ in range(rng.choice([1, 1, 2, 4, 16])):
        at = rng.randrange(len(buffer))
        buffer[at] ^= 1 << rng.randrange(8)
    return bytes(buffer)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data))]


def overwrite(data: bytes, rng: random.Random) -> bytes:
    buffer = bytearray(data)
    at = rng.randrange(len(buffer))
    size = rng.choice([1, 4, 16, 256, 4096])
    buffer[at:at + size] = bytes(rng.getrandbits(8) for _ in range(min(size, len(buffer) - at)))
    return bytes(buffer)


def tag_value(data: bytes, rng: random.Random) -> bytes:
    """Rewrite the value of a geometry/pixel-format tag (explicit VR short form)."""
    group, element = rng.choice(_TARGET_TAGS)
    offsets = _tag_offsets(data, group, element)
    if not offsets:
        return bit_flips(data, rng)
    at = rng.choice(offsets)
    vr = data[at + 4:at + 6]
    if vr.isalpha() and vr not in (b"OB", b"OW", b"SQ", b"UN", b"UT"):
        length = struct.unpack_from("<H", data, at + 6)[0]
        value = rng.choice(_FUNNY_TEXT) if vr in (b"DS", b"IS", b"UI", b"CS") else \
            struct.pack("<H", rng.choice([0, 1, 7, 8, 12, 16, 17, 32, 64, 255, 65535]))
        value += b" " * (len(value) % 2)
        return (data[:at + 6] + struct.pack("<H", len(value)) + value
                + data[at + 8 + length:])
    return length_field(data, rng, at)


def length_field(data: bytes, rng: random.Random, at: int | None = None) -> bytes:
    """Forge a length field: huge, zero, odd or off by a little."""
    if at is None:
        group, element = rng.choice(_TARGET_TAGS)
        offsets = _tag_offsets(data, group, element)
        if not offsets:
            return truncate(data, rng)
        at = rng.choice(offsets)
    buffer = bytearray(data)
    vr = bytes(buffer[at + 4:at + 6])
    if vr in (b"OB", b"OW", b"SQ", b"UN", b"UT"):
        value = rng.choice([0xFFFFFFF0, 0x7FFFFFFF, 0, 1, 3, 0xFFFFFFFF, 1 << 30])
        struct.pack_into("<L", buffer, at + 8, value)
    else:
        struct.pack_into("<H", buffer, at + 6, rng.choice([0xFFFF, 0, 1, 0xFFFE, 255]))
    return bytes(buffer)


def fragment(data: bytes, rng: random.Random) -> bytes:
    """Damage encapsulated pixel data: fragment lengths, offset table, codestream bytes."""
    items = _tag_offsets(data, 0xFFFE, 0xE000)
    if not items:
        return overwrite(data, rng)
    at = rng.choice(items)
    buffer = bytearray(data)
    choice = rng.randrange(3)
    if choice == 0:
        length = rng.choice([0, 2, 0xFFFFFFF0, rng.randrange(1 << 20)])
        struct.pack_into("<L", buffer, at + 4, length)
    elif choice == 1:
        start = at + 8 + rng.randrange(64)
        buffer[start:start + 32] = bytes(rng.getrandbits(8) for _ in range(32))
    else:
        return data[:at + 8 + rng.randrange(256)]
    return bytes(buffer)


MUTATORS: dict[str, Callable[..., bytes]] = {
    "bit_flips": bit_flips, "truncate": truncate, "overwrite": overwrite,
    "tag_value": tag_value, "length_field": length_field, "fragment": fragment,
}


def mutate(files: Files, rng: random.Random) -> tuple[Files, str]:
    """Damage one or two files of a series; return the new files and what was done."""
    damaged = dict(files)
    done = []
    for name in rng.sample(sorted(files), k=min(len(files), rng.choice([1, 1, 1, 2]))):
        kind = rng.choice(list(MUTATORS))
        damaged[name] = MUTATORS[kind](files[name], rng) if files[name] else files[name]
        done.append(kind)
    return damaged, "+".join(done)


# --- seeds -------------------------------------------------------------------------------------

def generated_seeds(folder: Path) -> dict[str, Files]:
    """Small generated series in several syntaxes (needs the test extra's encoders)."""
    from dicomio.testing import synthetic as s

    seeds = {}
    base = s.SeriesSpec(shape=(4, 12, 16))
    for name, spec in {
        "explicit": base, "implicit": base.with_(transfer_syntax=s.IMPLICIT_LE),
        "big-endian": base.with_(transfer_syntax=s.EXPLICIT_BE),
        "signed-rescaled": base.with_(signed=True, rescale_slope=0.5),
        "rle": base.with_(transfer_syntax=s.RLE),
        "jpeg-lossless": base.with_(transfer_syntax=s.JPEG_LOSSLESS_SV1),
        "jpeg-ls": base.with_(transfer_syntax=s.JPEG_LS),
        "j2k": base.with_(transfer_syntax=s.J2K_LOSSLESS),
        "jpeg-baseline": base.with_(transfer_syntax=s.JPEG_BASELINE, bits_allocated=8,
                                    bits_stored=8, rescale_intercept=0),
        "rgb": base.with_(samples_per_pixel=3),
    }.items():
        written = s.write_series(folder / name, spec)
        seeds[name] = {p.name: p.read_bytes() for p in written.files}
    return seeds


def corpus_seeds(corpus: Path) -> dict[str, Files]:
    """Small real series and single files from the corpus (where it is present)."""
    wanted = {
        "siemens-anatomical": "dicom2nifti/data/siemens/anatomical/001",
        "hitachi": "dicom2nifti/data/hitachi/anatomical/001",
        "generic-jpegls": "dicom2nifti/data/generic/compressed_jpegls/001",
        "generic-rle": "dicom2nifti/data/generic/compressed_rle/001",
        "emri-j2k": "pydicom_data/data/emri_small_jpeg_2k_lossless.dcm",
        "mr-small-be": "pydicom_testfiles/test_files/MR_small_bigendian.dcm",
    }
    seeds = {}
    for name, relative in wanted.items():
        path = corpus / relative
        if path.is_dir():
            seeds[name] = {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.is_file()}
        elif path.is_file():
            seeds[name] = {path.name: path.read_bytes()}
    return seeds


# --- the worker --------------------------------------------------------------------------------

def _load(folder: str) -> tuple[str, str]:
    """Load a folder with the direct and pydicom backends; classify the outcome."""
    import dicomio
    from dicomio.dicom.transfer_syntax import lookup

    try:
        volume = dicomio.load_volume(folder, backend="direct", irregular="accept")
    except dicomio.DicomIOError as exc:
        return "error", type(exc).__name__
    except Exception as exc:  # the invariant's violation
        return "foreign", f"{type(exc).__name__}: {exc}"[:300]
    if not volume.array.any() and not any("every voxel is zero" in w
                                          for w in volume.provenance.warnings):
        return "zero-volume", "all-zero volume without a warning"
    if volume.array.dtype.kind == "f" and not np.isfinite(volume.array).all():
        return "garbage", "non-finite values"
    try:
        reference = dicomio.load_volume(folder, backend="pydicom", irregular="accept")
    except dicomio.DicomIOError as exc:
        return "volume", f"pydicom refuses ({type(exc).__name__})"
    except Exception:
        return "volume", "pydicom raises a foreign exception"
    same = (reference.array.shape == volume.array.shape
            and np.array_equal(reference.array, volume.array)
            and np.allclose(reference.affine, volume.affine))
    if same:
        return "volume", "agrees with pydicom"
    if all(lookup(uid).native for uid in volume.provenance.transfer_syntaxes):
        return "garbage", "differs from pydicom"
    # Damage inside entropy-coded data that leaves every structure intact: each decoder
    # "succeeds" with its own guess, and no reader can tell without a second decoder.
    return "undetected", "decoders disagree on damaged entropy-coded data"


def _serve(connection: Connection) -> None:
    while True:
        try:
            folder = connection.recv()
        except EOFError:
            return
        connection.send(_load(folder))


@dataclass
class _Worker:
    process: Any
    connection: Connection

    @classmethod
    def start(cls) -> _Worker:
        parent, child = mp.Pipe()
        process = mp.get_context("fork").Process(target=_serve, args=(child,), daemon=True)
        process.start()
        child.close()
        return cls(process, parent)

    def stop(self) -> None:
        self.process.kill()
        self.process.join()


@dataclass
class Campaign:
    """Counts by outcome, and examples of every violation."""

    outcomes: Counter[str] = field(default_factory=Counter)
    details: Counter[str] = field(default_factory=Counter)
    violations: list[tuple[str, str, str, str]] = field(default_factory=list)
    inputs: int = 0
    seconds: float = 0.0

    VIOLATIONS = ("foreign", "crash", "hang", "zero-volume", "garbage")

    @property
    def violated(self) -> bool:
        return any(self.outcomes[v] for v in self.VIOLATIONS)


def _inputs(seeds: dict[str, Files], count: int, seed: int) -> Iterator[tuple[str, str, Files]]:
    rng = random.Random(seed)
    names = sorted(seeds)
    for _ in range(count):
        name = rng.choice(names)
        damaged, how = mutate(seeds[name], rng)
        yield name, how, damaged


def run(seeds: dict[str, Files], count: int, *, seed: int = 0, timeout: float = 20.0,
        workers: int = 2, keep: Path | None = None) -> Campaign:
    """Run ``count`` damaged inputs through ``load_volume``; return what happened."""
    campaign = Campaign()
    started = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="dicomio-fuzz-"))
    pool = [_Worker.start() for _ in range(workers)]
    busy: dict[int, tuple[str, str, Path, float]] = {}
    pending = _inputs(seeds, count, seed)
    try:
        index = 0
        while True:
            for slot, worker in enumerate(pool):
                if slot in busy:
                    continue
                item = next(pending, None)
                if item is None:
                    continue
                name, how, files = item
                folder = scratch / f"{index:06d}"
                index += 1
                folder.mkdir()
                for file_name, data in files.items():
                    (folder / file_name).write_bytes(data)
                worker.connection.send(str(folder))
                busy[slot] = (name, how, folder, time.perf_counter())
            if not busy:
                break
            for slot in list(busy):
                worker = pool[slot]
                name, how, folder, sent = busy[slot]
                outcome: tuple[str, str] | None = None
                if worker.connection.poll(0.005):
                    try:
                        outcome = worker.connection.recv()
                    except EOFError:
                        outcome = ("crash", f"worker died (exit code {worker.process.exitcode})")
                elif not worker.process.is_alive():
                    outcome = ("crash", f"worker died (exit code {worker.process.exitcode})")
                elif time.perf_counter() - sent > timeout:
                    outcome = ("hang", f"no answer in {timeout:g} s")
                if outcome is None:
                    continue
                if outcome[0] in ("crash", "hang"):
                    worker.stop()
                    pool[slot] = _Worker.start()
                kind, detail = outcome
                campaign.inputs += 1
                campaign.outcomes[kind] += 1
                campaign.details[f"{kind}: {detail.split(':')[0]}"] += 1
                if kind in Campaign.VIOLATIONS:
                    campaign.violations.append((name, how, kind, detail))
                    if keep is not None:
                        shutil.copytree(folder, keep / folder.name, dirs_exist_ok=True)
                shutil.rmtree(folder, ignore_errors=True)
                del busy[slot]
    finally:
        for worker in pool:
            worker.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    campaign.seconds = time.perf_counter() - started
    return campaign
