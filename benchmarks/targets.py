"""The targets of issue 15, from benchmark results (a dict, as saved in ``results/*.json``).

Every ratio is between two numbers of one run. "Fresh" is the median first load of fresh
processes (imports excluded), "warm" the median in-process load after a warm-up.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ISSUE", "issue15"]

ISSUE = "issue 15"
MIB = 1 << 20
REFERENCE = "SimpleITK"
MAIN = "dicomio auto"

# role -> (kind of timing, largest ratio of dicomio auto to SimpleITK)
RATIOS = (("explicit", "fresh", 0.25), ("explicit", "warm", 0.15), ("jpegll", "fresh", 0.30),
          ("j2k", "fresh", 0.85))
FIRST_CALL = 1.3  # dicomio auto's first call (fresh) / its warm call, uncompressed
LISTED = ("jpegls", "rle", "htj2k", "jpeg12")  # measured, listed and checked twice
SCAN_RATIO = 0.3  # list_series / pydicom dcmread(stop_before_pixels=True) on every file
INFO_RATIO = 2.5  # `dicomio info` on 40 files / `python -c "import numpy"`, whole commands
MEMORY_MARGIN = 100 * MIB  # peak RSS above the array, every syntax and backend
SCALING = 3.5  # 1000 slices / 300 slices


def _timing(load: dict[str, Any], contender: str) -> dict[str, Any] | None:
    return next((t for t in load["timings"] if t["contender"] == contender), None)


def _value(load: dict[str, Any] | None, contender: str, kind: str) -> float | None:
    timing = _timing(load, contender) if load is not None else None
    if timing is None:
        return None
    value: float | None = timing.get("fresh_median") if kind == "fresh" else timing["median"]
    return value


def _by_role(results: dict[str, Any], role: str) -> tuple[str, dict[str, Any]] | None:
    return next(((name, load) for name, load in results["loads"].items()
                 if load["role"] == role), None)


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def issue15(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of issue 15 with the measured value and whether it is met (None: not run)."""
    found: list[dict[str, Any]] = []

    def add(what: str, goal: str, value: float | None, limit: float, unit: str = " ×",
            shown: str | None = None, passed: bool | None = None) -> None:
        text = shown or ("not run" if value is None else f"{value:.3g}{unit}")
        met = (value <= limit if passed is None else passed) if value is not None else None
        found.append({"target": what, "goal": goal, "value": value, "shown": text,
                      "passed": met})

    for role, kind, limit in RATIOS:
        entry = _by_role(results, role)
        load = entry[1] if entry else None
        label = load["label"] if load else role
        add(f"{label}, {kind}: {MAIN} / {REFERENCE}", f"≤ {limit} ×",
            _ratio(_value(load, MAIN, kind), _value(load, REFERENCE, kind)), limit)
    entry = _by_role(results, "explicit")
    load = entry[1] if entry else None
    add(f"uncompressed: {MAIN} first call (fresh) / warm call", f"≤ {FIRST_CALL} ×",
        _ratio(_value(load, MAIN, "fresh"), _value(load, MAIN, "warm")), FIRST_CALL)
    for role in LISTED:
        found.append(_listed(results, role))
    _scan_and_command(results, add)
    for contender in sorted({t["contender"] for load in results["loads"].values()
                             for t in load["timings"] if t["contender"].startswith("dicomio")}):
        above = [(t["peak_rss"] - load["array_bytes"], name)
                 for name, load in results["loads"].items()
                 if (t := _timing(load, contender)) and t.get("peak_rss")]
        worst = max(above, default=None)
        add(f"{contender}: peak RSS above the array, worst series"
            f"{f' ({worst[1]})' if worst else ''}", f"≤ {MEMORY_MARGIN // MIB} MiB",
            worst[0] / MIB if worst else None, MEMORY_MARGIN / MIB, " MiB")
    short, long = _by_role(results, "explicit"), _by_role(results, "long")
    for kind in ("fresh", "warm"):
        scale = _ratio(_value(long[1], MAIN, kind), _value(short[1], MAIN, kind)) \
            if short and long else None
        add(f"{long[0] if long else 'long'} / {short[0] if short else 'short'} time "
            f"({MAIN}, {kind})", f"≤ {SCALING} ×", scale, SCALING)
    return found


def _listed(results: dict[str, Any], role: str) -> dict[str, Any]:
    """A series measured and listed: right against the truth and against a second decoder."""
    entry = _by_role(results, role)
    missing = results.get("not_measured", {})
    name = next((n for n, why in missing.items() if why["role"] == role), None)
    if entry is None:
        why = f"not measured: {missing[name]['why']}" if name else "not run"
        return {"target": f"{role}: {MAIN} right, checked by a second decoder",
                "goal": "measured and listed", "value": None, "shown": why, "passed": None}
    load = entry[1]
    timing = _timing(load, MAIN)
    second = load.get("second_decoder")
    tolerance = load.get("tolerance", 0)
    goal = ("identical to the truth and to a second decoder" if not tolerance else
            f"within {tolerance} of the truth, within {second['tolerance'] if second else '?'} "
            "of a second decoder")
    if timing is None or second is None or second["decoder"] is None:
        why = "not run" if timing is None else "no second decoder installed decodes it" + (
            f" ({'; '.join(second['failed'])})" if second and second["failed"] else "")
        return {"target": f"{load['label']}: {MAIN} right, checked by a second decoder",
                "goal": goal, "value": None, "shown": why, "passed": None}
    right = timing["check"] == "identical" or timing["check"].startswith("within ")
    fresh = _ratio(timing.get("fresh_median"), _value(load, REFERENCE, "fresh"))
    shown = (f"{timing['check']}; {second['decoder']}: largest difference "
             f"{second['difference']}" + (f"; fresh {fresh:.3g} × {REFERENCE}" if fresh else ""))
    return {"target": f"{load['label']}: {MAIN} right, checked by a second decoder",
            "goal": goal, "value": second["difference"], "shown": shown,
            "passed": right and second["difference"] <= second["tolerance"]}


def _scan_and_command(results: dict[str, Any], add: Any) -> None:
    scan = results.get("scan")
    methods = {m["method"]: m for m in scan["methods"]} if scan else {}
    ours = methods.get("dicomio list_series")
    theirs = methods.get("pydicom dcmread(stop_before_pixels=True)")
    add(f"list_series / pydicom dcmread(stop_before_pixels=True), "
        f"{ours['files'] if ours else '?'} files", f"≤ {SCAN_RATIO} ×",
        _ratio(ours["median"] if ours else None, theirs["median"] if theirs else None),
        SCAN_RATIO)
    commands = results.get("commands") or []
    info = next((c for c in commands if c["command"].startswith("dicomio info")), None)
    numpy = next((c for c in commands if "import numpy" in c["command"]), None)
    add(f"{info['command'] if info else 'dicomio info'}, whole command / "
        f"python -c \"import numpy\"", f"≤ {INFO_RATIO} ×",
        _ratio(info["median"] if info else None, numpy["median"] if numpy else None),
        INFO_RATIO)
