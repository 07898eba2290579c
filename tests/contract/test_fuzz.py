"""Fuzzing in the test suite: mutated series through every entry point, judged by pydicom's own
reading of the same bytes (the long campaigns are in docs/robustness.md).

``DICOMIO_FUZZ_INPUTS`` sets how many inputs the campaign test runs (300 by default, about half
a minute; CI runs a few thousand). The other tests prove that the fuzzer can fail: the oracle
agrees with every unchanged seed, and each failure class is recognised when a deliberately
broken dicomio produces it.
"""

from __future__ import annotations

import os
import random
import struct
import time
import zlib

import numpy as np
import pytest

import dicomio
import dicomio.validate
from dicomio.backends.registry import register
from tests.support import fake_backends, fuzzing
from tests.support.corpus import CORPUS
from tests.support.fuzz_bombs import BOMBS, deep_nesting, deflate_bomb
from tests.support.fuzz_elements import DicomBytes, NotApplicable
from tests.support.fuzz_inputs import FuzzInput
from tests.support.fuzz_mutations import MUTATIONS
from tests.support.fuzz_seeds import Seed, corpus_seeds, generated_seeds
from tests.support.fuzz_series import SERIES_MUTATIONS
from tests.support.fuzz_worker import Options

INPUTS = int(os.environ.get("DICOMIO_FUZZ_INPUTS", "300"))


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> list[Seed]:
    found = generated_seeds(tmp_path_factory.mktemp("seeds")) + corpus_seeds(CORPUS)
    assert len(found) >= 12, "the generated seeds need the test extra's encoders"
    return found


def _unchanged(seed: Seed, **options: object) -> FuzzInput:
    chosen = {"four_d": seed.four_d, **options}
    return FuzzInput(0, seed.name, dict(seed.files), Options(**chosen))  # type: ignore[arg-type]


def _seed(seeds: list[Seed], name: str) -> Seed:
    return next(s for s in seeds if s.name == name)


# --- the campaign -----------------------------------------------------------------------------

def test_damaged_inputs_end_as_a_result_or_a_dicomio_error(seeds: list[Seed]) -> None:
    campaign = fuzzing.run(seeds, INPUTS, seed=20261126, timeout=20.0, process_cli=0.02)
    assert campaign.inputs == INPUTS
    failures = "\n".join(
        f"#{r.input.index} {r.input.description}: "
        + "; ".join(f"{n}: {s['outcome']}: {s.get('detail')}" for n, s in r.failures)
        for r in campaign.failed[:15])
    assert not campaign.violated, f"{dict(campaign.outcomes)}\n{failures}"
    # The run must exercise both outcomes and the oracle, or it proves nothing.
    assert campaign.steps[("load_volume", "ok")] > INPUTS // 10
    assert campaign.steps[("load_volume", "refused")] > INPUTS // 10
    judged = sum(c for d, c in campaign.details.items()
                 if d.startswith("load_volume: ok: equal to pydicom's"))
    assert judged > INPUTS // 10


def test_every_unchanged_seed_reads_as_the_oracle_says(seeds: list[Seed]) -> None:
    """Without damage, every volume equals pydicom's reading (the oracle is not blind)."""
    refused = {"enhanced-philips-two-types": "MultipleSeriesError",
               "deflated-frames": "UnsupportedTransferSyntaxError"}
    for seed in seeds:
        result = fuzzing.run_input(_unchanged(seed))
        assert not result.failures, (seed.name, result.steps)
        for name in ("load_volume", "load_4d") if seed.four_d else ("load_volume",):
            step = result.steps[name]
            if seed.name in refused or (seed.four_d and name == "load_volume"):
                assert step["outcome"] == "refused", (seed.name, name, step)
                continue
            assert step["outcome"] == "ok", (seed.name, name, step)
            assert step["detail"].startswith("equal to pydicom's"), (seed.name, name, step)
        for refusal in (s for s in refused if s == seed.name):
            assert result.steps["load_volume"]["detail"] == refused[refusal]


# --- the oracle catches what it must ---------------------------------------------------------

@pytest.mark.parametrize(("fake", "name"), [
    ("shuffle", "gen-explicit"), ("shuffle", "gen-rle"), ("shuffle", "gen-enhanced"),
    ("shuffle", "enhanced-xa10-4d"), ("shuffle", "gen-classic-4d"),
    ("shuffle", "gen-mosaic-descending-4d"), ("nudge", "gen-explicit"),
    ("nudge", "gen-jpeg-ls"), ("nudge", "gen-mosaic"), ("nudge", "mosaic-rle"),
    ("nudge", "siemens-mr"), ("nudge", "gen-enhanced-4d"),
])
def test_a_wrong_but_plausible_volume_is_caught(seeds: list[Seed], name: str, fake: str,
                                               restore_registry: None) -> None:
    """A backend that swaps two stored images, or adds one to one voxel: each volume is wrong.

    (A mosaic is one stored image whose tiles dicomio cuts: swapping the stored images of a
    one-file mosaic changes nothing, so mosaics are nudged.)
    """
    register(fake_backends.spec(fake))
    result = fuzzing.run_input(_unchanged(_seed(seeds, name), backend=f"fake-{fake}"))
    step = result.steps["load_4d" if name.endswith("4d") else "load_volume"]
    assert step["outcome"] == "wrong-but-plausible", step
    if name == "gen-mosaic-descending-4d":  # two mosaics: the swap swaps the volumes
        assert "volumes out of order" in step["detail"]
    elif fake == "shuffle" and not name.endswith("4d"):
        assert "slices out of order" in step["detail"]


def test_an_all_zero_volume_is_a_silent_zero(seeds: list[Seed],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    real = dicomio.load_volume

    def zeros(*args: object, **options: object) -> dicomio.Volume:
        volume = real(*args, **options)  # type: ignore[arg-type]
        volume.array[...] = 0
        return volume

    monkeypatch.setattr(dicomio, "load_volume", zeros)
    result = fuzzing.run_input(_unchanged(_seed(seeds, "siemens-mr")))
    assert result.steps["load_volume"]["outcome"] == "silent zero"


def test_a_wrong_affine_is_caught(seeds: list[Seed], monkeypatch: pytest.MonkeyPatch) -> None:
    real = dicomio.load_volume

    def shifted(*args: object, **options: object) -> dicomio.Volume:
        volume = real(*args, **options)  # type: ignore[arg-type]
        volume.affine = volume.affine @ np.diag([-1.0, 1, 1, 1])  # the slices go backwards
        return volume

    monkeypatch.setattr(dicomio, "load_volume", shifted)
    result = fuzzing.run_input(_unchanged(_seed(seeds, "gen-explicit")))
    step = result.steps["load_volume"]
    assert step["outcome"] == "wrong-but-plausible" and "slice step" in step["detail"]


# --- each failure class is recognised ----------------------------------------------------------

def _break(monkeypatch: pytest.MonkeyPatch, target: object, name: str, action: object) -> None:
    monkeypatch.setattr(target, name, action)


def _raise_type_error(*args: object, **options: object) -> None:
    raise TypeError("a bug")


def _raise_internal(path: object, *args: object, **options: object) -> None:
    """What dicomio's safety net raises for an exception it did not expect."""
    from dicomio.errors import InternalError

    raise InternalError("listing failed unexpectedly: TypeError: a bug", path=str(path),
                        original_type="TypeError", original_message="a bug")


def _abort(*args: object, **options: object) -> None:
    os.abort()


def _sleep(*args: object, **options: object) -> None:
    time.sleep(60)


def _allocate(*args: object, **options: object) -> None:
    np.ones(3 << 30, dtype=np.uint8)


@pytest.mark.parametrize(("action", "outcome"), [
    (_raise_type_error, "foreign exception"),
    (_raise_internal, "foreign exception"),
    (_abort, "crash"),
    (_sleep, "hang"),
    (_allocate, "over budget"),
])
def test_each_failure_of_list_series_is_classified(seeds: list[Seed], action: object,
                                                   outcome: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _break(monkeypatch, dicomio, "list_series", action)
    result = fuzzing.run_input(_unchanged(_seed(seeds, "gen-explicit")), timeout=3.0)
    assert result.steps["list_series"]["outcome"] == outcome, result.steps
    assert result.steps["load_volume"]["outcome"] == "ok"


def test_a_report_that_leaves_files_out_is_incomplete(seeds: list[Seed],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    real = dicomio.validate.validate

    def forgetful(*args: object, **options: object) -> object:
        report = real(*args, **options)  # type: ignore[arg-type]
        report.series = report.series[1:]
        report.findings = []
        return report

    monkeypatch.setattr(dicomio.validate, "validate", forgetful)
    result = fuzzing.run_input(_unchanged(_seed(seeds, "gen-explicit")))
    assert result.steps["validate"]["outcome"] == "report incomplete", result.steps


def test_the_command_runs_as_a_real_process_too(seeds: list[Seed]) -> None:
    result = fuzzing.run_input(_unchanged(_seed(seeds, "gen-explicit"), cli="process"))
    assert result.steps["cli"]["outcome"] == "ok", result.steps
    assert result.steps["cli"]["detail"] == "exit 0"


def test_a_command_that_fails_is_a_foreign_exception(seeds: list[Seed],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import dicomio.cli.archive

    monkeypatch.setattr(dicomio.cli.archive, "run_validation", _raise_type_error)
    result = fuzzing.run_input(_unchanged(_seed(seeds, "gen-explicit")))
    assert result.steps["cli"]["outcome"] == "foreign exception", result.steps


# --- the mutations ------------------------------------------------------------------------------

def test_file_mutations_change_the_file(seeds: list[Seed]) -> None:
    rng = random.Random(0)
    files = [data for s in seeds for data in s.files.values() if isinstance(data, bytes)]
    for name, mutate in {**MUTATIONS, **BOMBS}.items():
        changed = applied = 0
        for data in rng.sample(files, 30):
            try:
                changed += mutate(data, rng) != data
                applied += 1
            except NotApplicable:
                continue
        assert applied and changed >= applied - 1, (name, applied, changed)


def test_series_mutations_change_the_series(seeds: list[Seed]) -> None:
    rng = random.Random(1)
    for name, mutate in SERIES_MUTATIONS.items():
        changed = applied = 0
        for seed in rng.sample(list(seeds), 20):
            try:
                changed += mutate(dict(seed.files), rng) != seed.files
                applied += 1
            except NotApplicable:
                continue
        assert applied >= 2 and changed >= applied - 1, (name, applied, changed)


def test_a_deflate_bomb_inflates_to_what_it_claims(seeds: list[Seed]) -> None:
    data = _seed(seeds, "gen-explicit").files["slice_000.dcm"]
    assert isinstance(data, bytes)
    bomb = deflate_bomb(data, random.Random(3))
    parsed = DicomBytes.parse(bomb)
    assert b"1.2.840.10008.1.2.1.99" in parsed.meta and len(bomb) < 4 << 20
    inflater, total, rest = zlib.decompressobj(-zlib.MAX_WBITS), 0, bomb[len(parsed.meta):]
    while rest:
        total += len(inflater.decompress(rest, 64 << 20))
        rest = inflater.unconsumed_tail
    assert total >= 256 << 20 and inflater.eof


def test_deep_nesting_is_as_deep_as_it_says(seeds: list[Seed]) -> None:
    data = _seed(seeds, "gen-explicit").files["slice_000.dcm"]
    assert isinstance(data, bytes)
    nested = deep_nesting(data, random.Random(5))
    item = struct.pack("<HH", 0xFFFE, 0xE000)
    assert nested.count(item) - data.count(item) >= 16
