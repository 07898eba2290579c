"""A bounded fuzzing run in the test suite (the long campaign is in docs/robustness.md)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support import fuzzing
from tests.support.corpus import CORPUS

INPUTS = int(os.environ.get("DICOMIO_FUZZ_INPUTS", "4000"))


@pytest.mark.slow
def test_damaged_inputs_end_as_a_volume_or_a_dicomio_error(tmp_path: Path) -> None:
    seeds = fuzzing.generated_seeds(tmp_path / "seeds")
    seeds.update(fuzzing.corpus_seeds(CORPUS))
    campaign = fuzzing.run(seeds, INPUTS, seed=20261126, timeout=30.0, workers=2)
    assert campaign.inputs == INPUTS
    report = "\n".join(" ".join(v) for v in campaign.violations[:20])
    assert not campaign.violated, f"{dict(campaign.outcomes)}\n{report}"
    # The run must exercise both outcomes, or it proves nothing.
    assert campaign.outcomes["volume"] > INPUTS // 10
    assert campaign.outcomes["error"] > INPUTS // 10


def test_mutations_change_the_input() -> None:
    import random

    data = bytes(range(256)) * 8
    rng = random.Random(0)
    for name, mutate in fuzzing.MUTATORS.items():
        changed = sum(mutate(data, rng) != data for _ in range(20))
        assert changed >= 15, name
