"""From benchmark results (a dict, as saved in ``results/*.json``) to Markdown, and the targets
of issue 5 (kept in the JSON as ``targets_issue5``; the tables show issue 15's, from
:mod:`targets`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

MIB = 1 << 20
REFERENCE = "SimpleITK"
MAIN = "dicomio auto"
START, END = "<!-- results:start -->", "<!-- results:end -->"
SPEED_MARKERS = ("<!-- speed:start -->", "<!-- speed:end -->")  # in the top README.md

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


def _header(results: dict[str, Any]) -> list[str]:
    machine = results["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in machine["versions"].items())
    fresh = results.get("fresh_processes", 0)
    return [
        f"Run of {machine['date']}{' (--quick)' if results['quick'] else ''}: warm: "
        f"{results['repeats']} timed repeats in one process after a warm-up, contenders "
        f"alternating; fresh: {fresh} fresh processes per contender, each timing its first "
        "load after its imports; medians; files in the page cache.",
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


def _load_table(name: str, load: dict[str, Any]) -> list[str]:
    shape = "×".join(str(v) for v in load["shape"])
    lines = [
        f"### {name}: {load['label']}, {shape}, {load['compressed_bytes'] / MIB:.0f} MiB "
        f"of files, {load['array_bytes'] / MIB:.0f} MiB array",
        "",
        "| contender | fresh s | × SimpleITK | warm s | × SimpleITK | warm min – max s | "
        "CPU s fresh / warm | peak RSS MiB (after imports) | result vs truth |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    reference = _timing(load, REFERENCE)

    def ratio(value: float | None, key: str) -> str:
        base = reference.get(key) if reference else None
        return f"{value / base:.2f}" if value and base else "–"

    for t in load["timings"]:
        fresh = t.get("fresh_median")
        spread = f"{min(t['times']):.3f} – {max(t['times']):.3f}" if t["times"] else "–"
        rss = f"{_mib(t['peak_rss'])} ({_mib(t['base_rss'])})" if t["peak_rss"] else "–"
        name_cell = f"**{t['contender']}**" if t["contender"] == MAIN else t["contender"]
        check = t["check"]
        if t.get("fresh_check") and t["fresh_check"] != check:
            check += f"; fresh: {t['fresh_check']}"
        lines.append(f"| {name_cell} | {_seconds(fresh)} | {ratio(fresh, 'fresh_median')} | "
                     f"{_seconds(t['median'])} | {ratio(t['median'], 'median')} | {spread} | "
                     f"{_seconds(t.get('fresh_cpu_median'))} / {_seconds(t.get('cpu_median'))}"
                     f" | {rss} | {check} |")
    second = load.get("second_decoder")
    if second:
        failed = "".join(f" Could not: {why}." for why in second["failed"])
        used = ", ".join(second.get("dicomio_decoders", [])) or "?"
        found = (f"dicomio auto decoded with {used}; second decoder: {second['decoder']} "
                 f"(outside dicomio): largest difference {second['difference']} (allowed "
                 f"{second['tolerance']})." if second["decoder"] else "No second decoder.")
        lines += ["", found + failed]
    return [*lines, ""]


def markdown(results: dict[str, Any]) -> str:
    """The results as Markdown: machine, one table per series, header scan, whole commands,
    series not measured, the targets of issue 15."""
    lines = _header(results)
    for name, load in results["loads"].items():
        lines += _load_table(name, load)
    scan = results.get("scan")
    if scan:
        lines += [f"### Header scan: {scan['dataset']} ({scan['series']} series in sub-folders)",
                  "", "| method | files | median s | files/s |", "|---|---:|---:|---:|"]
        for m in scan["methods"]:
            lines.append(f"| {m['method']} | {m['files']} | {m['median']:.3f} | "
                         f"{m['files'] / m['median']:.0f} |")
        lines.append("")
    if results.get("commands"):
        lines += ["### Whole commands (fresh process, start to exit)", "",
                  "| command | median s | min – max s |", "|---|---:|---:|"]
        for c in results["commands"]:
            lines.append(f"| `{c['command']}` | {c['median']:.3f} | {min(c['times']):.3f} – "
                         f"{max(c['times']):.3f} |")
        lines.append("")
    for name, missing in results.get("not_measured", {}).items():
        lines.append(f"- {name}: not measured: {missing['why']}")
    lines += ["### Targets (issue 15)", "", "| target | goal | measured | met |",
              "|---|---|---:|---|"]
    for t in results["targets"]:
        met = {True: "yes", False: "**no**", None: "not run"}[t["passed"]]
        lines.append(f"| {t['target']} | {t['goal']} | {t['shown']} | {met} |")
    return "\n".join(lines) + "\n"


def speed_table(results: dict[str, Any]) -> str:
    """The short fresh-process table of README.md's Speed section."""
    machine = results["machine"]
    load_avg = machine.get("load_average_at_start") or [float("nan")]
    lines = [f"First load in a fresh process (imports excluded), median of "
             f"{results.get('fresh_processes', 0)}; {machine['cores_used']} cores, load "
             f"average {load_avg[0]:.1f} at the start; run of {machine['date']}:", "",
             f"| series | {MAIN}, fresh s | {REFERENCE}, fresh s | × {REFERENCE} | "
             f"× {REFERENCE} warm (in-process) | result |",
             "|---|---:|---:|---:|---:|---|"]
    for load in results["loads"].values():
        ours, theirs = _timing(load, MAIN), _timing(load, REFERENCE)
        a = ours.get("fresh_median") if ours else None
        b = theirs.get("fresh_median") if theirs else None
        shape = "×".join(str(v) for v in load["shape"])
        warm = (ours["median"] / theirs["median"]
                if ours and theirs and ours["median"] and theirs["median"] else None)
        lines.append(f"| {load['label']}, {shape} | {_seconds(a)} | {_seconds(b)} | "
                     f"{f'{a / b:.2f}' if a and b else '–'} | "
                     f"{f'{warm:.2f}' if warm else '–'} | {ours['check'] if ours else '–'} |")
    return "\n".join(lines) + "\n"


def write_readme(path: Path, text: str, markers: tuple[str, str] = (START, END)) -> None:
    """Replace the block of ``path`` between ``markers`` with ``text``."""
    start, end = markers
    readme = path.read_text()
    block = f"{start}\n{text}{end}"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if not pattern.search(readme):
        raise ValueError(f"{path} has no {start} ... {end} block")
    path.write_text(pattern.sub(lambda _: block, readme))
