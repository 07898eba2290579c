"""One fuzzing input: a seed, the mutations applied to it and how it is read.

Input ``i`` of a campaign depends only on the campaign's seed and ``i`` (its own
:class:`random.Random`), so a campaign is reproducible whatever the number of workers, and an
input can be made again from those two numbers.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.fuzz_bombs import BOMBS
from tests.support.fuzz_elements import NotApplicable
from tests.support.fuzz_mutations import MUTATIONS, WEIGHTS
from tests.support.fuzz_seeds import Seed
from tests.support.fuzz_series import SERIES_MUTATIONS, Files, quiet_pydicom
from tests.support.fuzz_worker import Options

#: The mutations that act on one kind of seed only (the others pass) are chosen more often.
SERIES_WEIGHTS = {"mosaic_header": 4.0, "enhanced_frames": 4.0}
#: Where a symbolic link "out of the folder" points: a file beside the input's folder.
OUTSIDE = "outside"


@dataclass
class FuzzInput:
    """A mutated series and how to read it."""

    index: int
    seed: str
    files: Files
    options: Options
    mutations: list[str] = field(default_factory=list)
    outside: bytes = b""  # the file a link "out of the folder" reaches

    @property
    def description(self) -> str:
        return f"{self.seed}: {' + '.join(self.mutations) or 'unchanged'}"

    def write(self, folder: Path) -> None:
        """Write the files (FIFOs and links as such) into ``folder``, and ``input.json``
        beside it."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder.parent / OUTSIDE).write_bytes(self.outside)
        for name, data in sorted(self.files.items()):
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(data, bytes):
                path.write_bytes(data)
            elif data == "fifo":
                os.mkfifo(path)
            elif data.startswith("symlink:"):
                os.symlink(data.removeprefix("symlink:"), path)
        (folder.parent / "input.json").write_text(json.dumps(self.describe(), indent=1))

    def describe(self) -> dict[str, Any]:
        return {"index": self.index, "seed": self.seed, "mutations": self.mutations,
                "options": self.options.to_dict()}


def make_input(seeds: Sequence[Seed], index: int, campaign: int, *,
               process_cli: float = 0.0, backend: str = "auto",
               mutate: bool = True) -> FuzzInput:
    """Input ``index`` of campaign ``campaign``.

    ``process_cli`` is the share of inputs whose command line runs as a real process;
    ``mutate`` False gives the seeds unchanged (to check the oracle agrees with them).
    """
    rng = random.Random(f"{campaign}:{index}")
    seed = rng.choices(list(seeds), weights=[s.weight for s in seeds])[0]
    irregular = rng.choices(["accept", "raise", "resample"], weights=[5, 4, 1])[0]
    options = Options(
        irregular=irregular,
        paths="files" if rng.random() < 0.2 else "folder",
        four_d=seed.four_d,
        backend=backend,
        cli="process" if rng.random() < process_cli else "runner",
    )
    other = rng.choice(list(seeds))
    outside = next((d for d in other.files.values() if isinstance(d, bytes)), b"")
    fuzz = FuzzInput(index, seed.name, dict(seed.files), options, outside=outside)
    if mutate:
        with quiet_pydicom():
            _mutate(fuzz, rng)
    return fuzz


def _mutate(fuzz: FuzzInput, rng: random.Random) -> None:
    series_level = rng.random() < 0.45
    file_level = rng.random() < 0.7 or not series_level
    bomb = rng.random() < 0.08
    if series_level:
        for _ in range(rng.choice([1, 1, 2])):
            _apply(fuzz, rng, SERIES_MUTATIONS, SERIES_WEIGHTS)
    images = [n for n, d in fuzz.files.items() if isinstance(d, bytes) and d]
    if file_level and images:
        for _ in range(rng.choice([1, 1, 1, 2])):
            _apply(fuzz, rng, MUTATIONS, WEIGHTS, rng.choice(images))
    images = [n for n, d in fuzz.files.items() if isinstance(d, bytes) and d]
    if bomb and images:
        _apply(fuzz, rng, BOMBS, {"deflate_bomb": 2.0}, rng.choice(images))


def _apply(fuzz: FuzzInput, rng: random.Random, pool: Mapping[str, Any],
           weights: Mapping[str, float], target: str | None = None) -> None:
    """Apply one mutation of ``pool`` (to the file ``target``, or to the whole series); one
    that finds nothing to act on is replaced by another."""
    names = sorted(pool)
    for _ in range(10):
        name = rng.choices(names, weights=[weights.get(n, 1.0) for n in names])[0]
        try:
            if target is None:
                fuzz.files = pool[name](fuzz.files, rng)
            else:
                data = fuzz.files[target]
                assert isinstance(data, bytes)
                fuzz.files[target] = pool[name](data, rng)
        except NotApplicable:
            continue
        except Exception as exc:  # the fuzzer's own bug: noted, and the input goes on
            fuzz.mutations.append(f"{name} (failed: {type(exc).__name__}: {exc})"[:120])
            return
        fuzz.mutations.append(name if target is None else f"{name}({target})")
        return
