"""Run a fuzzing campaign: mutated DICOM inputs read in worker processes, every outcome counted.

Run from the repository root (docs/robustness.md reports the long campaigns)::

    python -m tools.fuzz_campaign --inputs 50000 --seed 1

The engine (mutations, oracle, isolated workers) is :mod:`tests.support.fuzzing`, which the test
suite runs on a few thousand inputs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from tests.support.corpus import CORPUS
from tests.support.fuzzing import corpus_seeds, generated_seeds, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--corpus", type=Path,
                        default=CORPUS)
    parser.add_argument("--keep", type=Path, help="copy violating inputs here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        seeds = generated_seeds(Path(folder))
    seeds.update(corpus_seeds(args.corpus))
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    campaign = run(seeds, args.inputs, seed=args.seed, timeout=args.timeout,
                   workers=args.workers, keep=args.keep)
    print(f"{campaign.inputs} inputs from {len(seeds)} seeds in {campaign.seconds:.0f} s "
          f"(seed {args.seed})")
    for kind, count in campaign.outcomes.most_common():
        print(f"  {kind:12} {count}")
    print("details:")
    for detail, count in campaign.details.most_common():
        print(f"  {count:6}  {detail}")
    for violation in campaign.violations[:30]:
        print("VIOLATION", *violation)
    return 1 if campaign.violated else 0


if __name__ == "__main__":
    sys.exit(main())
