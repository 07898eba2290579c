"""From benchmark results (a dict, as saved in ``results/*.json``) to targets and Markdown."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

MIB = 1 << 20
REFERENCE = "SimpleITK"
MAIN = "dicomio auto"
START, END = "<!-- results:start -->", "<!-- results:end -->"

# role -> (largest ratio of dicomio auto's time to SimpleITK's, how the issue words it)
RATIO_TARGETS = {"explicit": (0.25, "≤ 0.25 × SimpleITK"), "jpegll": (0.4, "≤ 0.4 × SimpleITK"),
                 "j2k": (1.0, "faster than SimpleITK"), "rle": (1.0, "faster than SimpleITK")}
MEMORY_MARGIN = 150 * MIB
SCALING = 3.5
SCAN_RATE = 3000.0


def _timing(load: dict[str, Any], contender: str) -> dict[str, Any] | None:
    return next((t for t in load["timings"] if t["contender"] == contender), None)


def _median(load: dict[str, Any] | None, contender: str) -> float | None:
    timing = _timing(load, contender) if load is not None else None
    return timing["median"] if timing is not None else None


def _by_role(results: dict[str, Any], role: str) -> tuple[str, dict[str, Any]] | None:
    return next(((name, load) for name, load in results["loads"].items()
                 if load["role"] == role), None)


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of issue 5 with the measured value and whether it is met (None: not run)."""
    found: list[dict[str, Any]] = []

    def add(what: str, target: str, value: float | None, passed: bool | None,
            unit: str = "") -> None:
        shown = "not run" if value is None else f"{value:.3g}{unit}"
        found.append({"target": what, "goal": target, "value": value, "shown": shown,
                      "passed": passed if value is not None else None})

    for role, (limit, wording) in RATIO_TARGETS.items():
        entry = _by_role(results, role)
        ours = _median(entry[1], MAIN) if entry else None
        theirs = _median(entry[1], REFERENCE) if entry else None
        ratio = ours / theirs if ours and theirs else None
        label = entry[1]["label"] if entry else role
        add(f"{label}: {MAIN} / {REFERENCE}", wording, ratio,
            ratio is not None and (ratio <= limit if limit < 1 else ratio < limit), " ×")
    for name, load in results["loads"].items():
        timing = _timing(load, MAIN)
        peak = timing["peak_rss"] if timing else None
        extra = (peak - load["array_bytes"]) / MIB if peak else None
        add(f"{name}: peak RSS of {MAIN} above the array", "≤ 150 MiB", extra,
            extra is not None and extra <= MEMORY_MARGIN / MIB, " MiB")
    short, long = _by_role(results, "explicit"), _by_role(results, "long")
    if short and long:
        a, b = _median(short[1], MAIN), _median(long[1], MAIN)
        scale = b / a if a and b else None
        add(f"{long[0]} / {short[0]} time ({MAIN})", f"≤ {SCALING} ×", scale,
            scale is not None and scale <= SCALING, " ×")
    scan = results.get("scan")
    if scan:
        method = next(m for m in scan["methods"] if m["method"] == "dicomio list_series")
        rate = method["files"] / method["median"]
        add(f"list_series on {method['files']} files", f"≥ {SCAN_RATE:.0f} files/s", rate,
            rate >= SCAN_RATE, " files/s")
    for name, load in results["loads"].items():
        ours = _median(load, MAIN)
        # Peers that return the pixels (possibly in another layout): not zeros, not errors.
        others = [t for t in load["timings"] if not t["contender"].startswith("dicomio")
                  and t["median"] is not None and t["check"] != "all zeros"]
        fastest = min(others, key=lambda t: t["median"], default=None)
        ratio = ours / fastest["median"] if ours and fastest else None
        add(f"{name}: {MAIN} / fastest peer returning the pixels "
            f"({fastest['contender'] if fastest else '-'})", "< 1 ×", ratio,
            ratio is not None and ratio < 1, " ×")
    return found


def _mib(value: int | None) -> str:
    return "–" if value is None else f"{value / MIB:.0f}"


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def markdown(results: dict[str, Any]) -> str:
    """The results as Markdown: machine, one table per series, header scan, targets."""
    machine = results["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in machine["versions"].items())
    lines = [
        f"Run of {machine['date']}{' (--quick)' if results['quick'] else ''}: "
        f"{results['repeats']} timed repeats after a warm-up, median wall time, contenders "
        f"alternating; files in the page cache.",
        "",
        f"- **Machine**: {machine['cpu']}, {machine['cores_used']} of {machine['cores']} "
        f"cores used, {machine['memory_bytes'] / (1 << 30):.0f} GiB RAM, "
        f"{machine['platform']}",
        f"- **Python** {machine['python']}; {versions}",
        f"- **Load average** (1, 5, 15 min) at start "
        f"{', '.join(f'{v:.2f}' for v in machine['load_average_at_start']) or '?'}, at end "
        f"{', '.join(f'{v:.2f}' for v in machine['load_average_at_end']) or '?'}",
        "",
    ]
    for name, load in results["loads"].items():
        shape = "×".join(str(v) for v in load["shape"])
        lines += [
            f"### {name}: {load['label']}, {shape}, {load['compressed_bytes'] / MIB:.0f} MiB "
            f"of files, {load['array_bytes'] / MIB:.0f} MiB array",
            "",
            "| contender | median s | × SimpleITK | min – max s | CPU s | peak RSS MiB (after "
            "imports) | result vs truth |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        reference = _median(load, REFERENCE)
        for t in load["timings"]:
            ratio = f"{t['median'] / reference:.2f}" if t["median"] and reference else "–"
            spread = (f"{min(t['times']):.3f} – {max(t['times']):.3f}" if t["times"] else "–")
            rss = f"{_mib(t['peak_rss'])} ({_mib(t['base_rss'])})" if t["peak_rss"] else "–"
            name_cell = f"**{t['contender']}**" if t["contender"] == MAIN else t["contender"]
            lines.append(f"| {name_cell} | {_seconds(t['median'])} | {ratio} | {spread} | "
                         f"{_seconds(t.get('cpu_median'))} | {rss} | {t['check']} |")
        lines.append("")
    scan = results.get("scan")
    if scan:
        lines += [f"### Header scan: {scan['dataset']} ({scan['series']} series in sub-folders)",
                  "", "| method | files | median s | files/s |", "|---|---:|---:|---:|"]
        for m in scan["methods"]:
            lines.append(f"| {m['method']} | {m['files']} | {m['median']:.3f} | "
                         f"{m['files'] / m['median']:.0f} |")
        lines.append("")
    lines += ["### Targets (issue 5)", "", "| target | goal | measured | met |",
              "|---|---|---:|---|"]
    for t in results["targets"]:
        met = {True: "yes", False: "**no**", None: "not run"}[t["passed"]]
        lines.append(f"| {t['target']} | {t['goal']} | {t['shown']} | {met} |")
    return "\n".join(lines) + "\n"


def write_readme(path: Path, text: str) -> None:
    """Replace the results block of ``path`` (between the markers) with ``text``."""
    readme = path.read_text()
    block = f"{START}\n{text}{END}"
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(readme):
        raise ValueError(f"{path} has no {START} ... {END} block")
    path.write_text(pattern.sub(lambda _: block, readme))
