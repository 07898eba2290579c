"""Run a fuzzing campaign: mutated series through every dicomio entry point, judged by pydicom.

Run from the repository root (docs/robustness.md reports the campaigns)::

    python -m tools.fuzz_campaign --inputs 20000 --seed 1 --workers 1 --keep /tmp/fuzz-failures

prints the outcome of every input and step, and each failing class with the kept input that
shows it; replay one with::

    python -m tools.fuzz_campaign --replay /tmp/fuzz-failures/000123-foreign-exception-validate

The engine (seeds, mutations, oracle, worker processes) is :mod:`tests.support.fuzzing`; the
test suite runs a few hundred inputs of it (``DICOMIO_FUZZ_INPUTS`` sets how many).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

# Before NumPy is imported: one thread per worker process.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from tests.support.corpus import CORPUS
from tests.support.fuzz_inputs import make_input
from tests.support.fuzz_seeds import Seed, corpus_seeds, generated_seeds
from tests.support.fuzzing import (
    FAILURES,
    GIB,
    OUTCOMES,
    Campaign,
    Result,
    prepare,
    replay,
    run,
    run_input,
)

STEPS = ("load_volume", "load_4d", "list_series", "validate", "cli")


def _share(seeds: list[Seed], count: int, args: argparse.Namespace, part: int) -> Campaign:
    """Inputs ``part``, ``part + workers``, ... (one worker process's share)."""
    campaign = Campaign()
    started = time.perf_counter()
    for index in range(part, count, args.workers):
        fuzz = make_input(seeds, index, args.seed, process_cli=args.process_cli)
        campaign.add(run_input(fuzz, timeout=args.timeout, memory=int(args.memory * GIB),
                               keep=args.keep))
    campaign.seconds = time.perf_counter() - started
    return campaign


def _progress(campaign: Campaign) -> None:
    if campaign.inputs % 100 == 0:
        bad = sum(campaign.outcomes[f] for f in FAILURES)
        print(f"  ... {campaign.inputs} inputs, {bad} failing", file=sys.stderr, flush=True)


def print_report(campaign: Campaign, seeds: list[Seed], args: argparse.Namespace) -> None:
    print(f"{campaign.inputs} inputs from {len(seeds)} seeds, campaign seed {args.seed}, "
          f"{args.workers} worker process(es), {campaign.seconds:.0f} s; timeout "
          f"{args.timeout:g} s, memory budget {args.memory:g} GiB per input")
    print("\ninputs by their worst outcome:")
    for outcome in OUTCOMES:
        print(f"  {outcome:22} {campaign.outcomes[outcome]:7}")
    print("\nsteps:" + "".join(f"{s:>13}" for s in STEPS))
    for outcome in OUTCOMES:
        counts = [campaign.steps[(s, outcome)] for s in STEPS]
        if any(counts):
            print(f"  {outcome:20}" + "".join(f"{c:13}" for c in counts))
    judged = Counter[str]()
    for detail, count in campaign.details.items():
        step, outcome, text = ([*detail.split(": ", 2), "", ""])[:3]
        if step in ("load_volume", "load_4d") and outcome == "ok":
            judged["equal to pydicom's" if text.startswith("equal") else
                   text.split(":")[0] + ": " + text.split(": ", 1)[-1][:70]] += count
    print("\nvolumes returned, as the oracle judged them:")
    for text, count in judged.most_common(12):
        print(f"  {count:7}  {text}")
    refusals = Counter[str]()
    for detail, count in campaign.details.items():
        if detail.startswith("load_volume: refused: "):
            refusals[detail.removeprefix("load_volume: refused: ")] += count
    print("\nload_volume's refusals:")
    for text, count in refusals.most_common(8):
        print(f"  {count:7}  {text}")
    translated = Counter[str]()
    for detail, count in campaign.details.items():
        if ": refused: " in detail and (" from " in detail or "names no file" in detail):
            translated[detail.split(": refused: ", 1)[1]] += count
    if translated:
        print("\nrefusals raised from a bug-like exception, or naming no file:")
        for text, count in translated.most_common(10):
            print(f"  {count:7}  {text}")
    print("\nmutations (an input may have several): inputs giving a volume, a refusal, a "
          "failure; the most seconds and MiB one cost")
    for kind in sorted(campaign.costs):
        tally = {o: campaign.mutations[(kind, o)] for o in ("volume", "refused")}
        failed = sum(campaign.mutations[(kind, f)] for f in FAILURES)
        seconds, mib = campaign.costs[kind]
        print(f"  {kind:22} {tally['volume']:6} {tally['refused']:6} {failed:6}  "
              f"{seconds:6.1f} s {mib:7.0f} MiB")
    print(f"\npeak resident size of a worker: {campaign.peak_mib:.0f} MiB; slowest inputs:")
    for seconds, index, description in campaign.slowest:
        print(f"  {seconds:6.1f} s  #{index} {description[:90]}")
    _print_failures(campaign)


def _print_failures(campaign: Campaign) -> None:
    classes: dict[tuple[str, str, str], list[Result]] = {}
    for result in campaign.failed:
        for step, found in result.failures:
            kind = found.get("detail", "").split(" (")[0].split(":")[0][:60]
            classes.setdefault((found["outcome"], step, kind), []).append(result)
    print(f"\n{len(campaign.failed)} failing inputs in {len(classes)} classes"
          + (":" if classes else "."))
    for (outcome, step, kind), results in sorted(classes.items(), key=lambda c: -len(c[1])):
        first = results[0]
        message = first.steps[step].get("message") or first.steps[step].get("detail", "")
        print(f"\n  [{len(results)}] {outcome} in {step}: {kind}")
        print(f"      e.g. #{first.input.index} {first.input.description[:100]}")
        print(f"      {str(message).splitlines()[0][:160] if message else ''}")
        if first.kept is not None:
            print(f"      replay: python -m tools.fuzz_campaign --replay {first.kept}")


def _replay(path: Path, args: argparse.Namespace) -> int:
    result = replay(path, timeout=args.timeout, memory=int(args.memory * GIB))
    print(f"#{result.input.index} {result.input.description}")
    print(f"options: {json.dumps(result.input.options.to_dict())}")
    for step, outcome in result.steps.items():
        print(f"\n{step}: {outcome['outcome']}: {outcome.get('detail', '')}")
        for key in ("message", "traceback"):
            if outcome.get(key):
                print(outcome[key])
    return 1 if result.failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0, help="the campaign's seed")
    parser.add_argument("--workers", type=int, default=1,
                        help="inputs read side by side (each in its own processes)")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per input")
    parser.add_argument("--memory", type=float, default=2.0, help="GiB per input")
    parser.add_argument("--process-cli", type=float, default=0.05,
                        help="share of inputs whose command line runs as a real process")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--keep", type=Path, help="keep the failing inputs here")
    parser.add_argument("--replay", type=Path, help="run one kept input again")
    args = parser.parse_args(argv)
    if args.replay is not None:
        return _replay(args.replay, args)
    with tempfile.TemporaryDirectory() as folder:
        seeds = generated_seeds(Path(folder)) + corpus_seeds(args.corpus)
    if args.keep is not None:
        args.keep = args.keep.resolve()
        args.keep.mkdir(parents=True, exist_ok=True)
    prepare()
    if args.workers == 1:
        campaign = run(seeds, args.inputs, seed=args.seed, timeout=args.timeout,
                       memory=int(args.memory * GIB), keep=args.keep,
                       process_cli=args.process_cli, progress=_progress)
    else:
        import multiprocessing

        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(args.workers, mp_context=context) as pool:
            parts = list(pool.map(_share, [seeds] * args.workers,
                                  [args.inputs] * args.workers, [args] * args.workers,
                                  range(args.workers)))
        campaign = Campaign.merge(parts)
    print_report(campaign, seeds, args)
    return 1 if campaign.violated else 0


if __name__ == "__main__":
    sys.exit(main())
