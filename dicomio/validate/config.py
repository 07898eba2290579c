"""Configuration of ``dicomio validate``: thresholds, severities, what to check.

Read from a TOML file given explicitly (``--config FILE``), or else found by searching upward
from the validated paths (their common folder, then each parent) for the first folder holding
either a ``dicomio.toml`` or a ``pyproject.toml`` with a ``[tool.dicomio]`` table. The search
stops at the root of a project (a folder holding ``.git``, ``.hg`` or ``.svn``), at the home
folder, and before any folder that every user may write into (such as ``/tmp``, where anyone
could leave a file that changes the verdict); the file used is named in every report (text,
JSON, JUnit). In
``dicomio.toml`` the tables sit at the top level (``[validate]``); in ``pyproject.toml`` under
``[tool.dicomio]`` (``[tool.dicomio.validate]``)::

    [tool.dicomio.validate]
    fail-on = "warning"          # or "error" (the default)
    pixels = true                # decode the pixel data (DECODE_FAILED, ALL_ZERO_PIXELS, ...)
    cross-check = false          # read with every installed backend and compare
    timeout = 300                # seconds per backend, for the cross-check
    tolerance = 0                # largest voxel difference between backends still accepted

    [tool.dicomio.validate.thresholds]
    spacing-relative = 0.01      # see dicomio.GeometryTolerances
    tilt-fraction = 0.1

    [tool.dicomio.validate.severity]
    MULTIPLE_SERIES = "error"    # "error", "warning", "info" or "off"
    THICKNESS_SPACING_MISMATCH = "off"

Unknown keys are errors: a misspelt threshold must not be silently ignored, nor a value out of
its range (numbers must be finite: ``nan`` would pass every check). The ranges:

==================== =========== ================================================================
key                  range       why the bound
==================== =========== ================================================================
spacing-relative     0 to 0.5    a missing slice doubles a gap: a larger tolerance could hide it
spacing-absolute     0 to 1 mm   the same, for thin slices
duplicate            0 to 1 mm   slices further apart than this are not at one position
tilt-fraction        0 to 10     a drift of ten pixels over the stack is tilt, whatever the series
thickness-relative   0 to 10     a thickness ten times the spacing is no longer overlapping slices
orientation          0 to 0.1    an error of 0.1 on the cosines is already a 6° skew
timeout              above 0     seconds
tolerance            0 or above  a voxel difference
==================== =========== ================================================================

A file larger than 1 MB, not UTF-8, nested too deeply, or not a regular file is refused
(:class:`~dicomio.errors.ConfigError`, exit code 2 on the command line).
"""

from __future__ import annotations

import math
import os
import stat
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from dicomio.errors import ConfigError, Remedy, advice
from dicomio.geometry.stack import TOLERANCE_RANGES, GeometryTolerances
from dicomio.validate.findings import CODES, SEVERITIES, Finding, Severity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["ValidationConfig", "find_config", "load_config"]

_OFF = "off"

#: The largest configuration file read (bytes).
_MAX_BYTES = 1 << 20

#: (lowest, highest) of each threshold (see the module docstring).

#: What marks the root of a project: the upward search stops there.
_PROJECT_MARKERS = (".git", ".hg", ".svn")


@dataclass(frozen=True)
class ValidationConfig:
    """What ``validate`` checks and how severe each finding is.

    Attributes
    ----------
    fail_on
        Findings at or above this severity make the validation fail (exit code 1).
    pixels
        Decode the pixel data (DECODE_FAILED, ALL_ZERO_PIXELS, VALUES_OUT_OF_RANGE); False
        checks the headers only.
    cross_check
        Also read every series with every installed backend and compare (BACKEND_MISMATCH).
    timeout, tolerance
        Of the cross-check: seconds per backend, largest voxel difference accepted.
    tolerances
        Thresholds of the geometry checks.
    severity
        Code → severity (or ``"off"``) overriding the defaults of
        :data:`dicomio.validate.findings.CODES`.
    source
        The file this configuration was read from, if any.
    decode_threads
        Threads each series is decoded with (None: the usable cores). How, not what: never read
        from a file; :mod:`dicomio.archive` sets 1 when series run side by side in processes.
    """

    fail_on: Severity = "error"
    pixels: bool = True
    cross_check: bool = False
    timeout: float = 300.0
    tolerance: float = 0.0
    tolerances: GeometryTolerances = field(default_factory=GeometryTolerances)
    severity: Mapping[str, str] = field(default_factory=dict)
    source: Path | None = None
    decode_threads: int | None = None

    def severity_of(self, code: str, default: Severity) -> Severity | None:
        """The configured severity of ``code`` (``default`` unless set); None when off."""
        chosen = self.severity.get(code, default)
        return None if chosen == _OFF else chosen  # type: ignore[return-value]

    def finding(
        self,
        code: str,
        message: str,
        files: Iterable[str | os.PathLike[str]] = (),
        series: str | None = None,
        default: Severity | None = None,
        remedies: Sequence[Remedy] = (),
    ) -> list[Finding]:
        """A finding with its configured severity: ``[finding]``, or ``[]`` when the code is
        off. ``remedies`` (what gets past it) end the message, in Python
        (:attr:`Finding.remedies`)."""
        severity = self.severity_of(code, CODES[code][0] if code in CODES else default or "error")
        if severity is None:
            return []
        said = advice(remedies)
        return [Finding(code, severity, f"{message} {said}" if said else message,
                        tuple(dict.fromkeys(str(f) for f in files)), series,
                        remedies=tuple(remedies))]

    def with_(self, **changes: Any) -> ValidationConfig:
        """A copy with some fields changed."""
        return replace(self, **changes)


def _key(name: str) -> str:
    return name.replace("-", "_")


def _check_severity(value: Any, where: str) -> str:
    if value not in (*SEVERITIES, _OFF):
        raise ConfigError(f"{where} must be one of {', '.join((*SEVERITIES, _OFF))}, "
                          f"not {value!r}")
    return str(value)


def _number(value: Any, where: str, high: float = math.inf, positive: bool = False) -> float:
    """``value`` as a float: a finite number >= 0 (> 0 when ``positive``), at most ``high``."""
    bound = f" and <= {high:g}" if math.isfinite(high) else ""
    low = "> 0" if positive else ">= 0"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where} must be a number {low}{bound}, not {value!r}")
    number = float(value)
    if not math.isfinite(number) or number < 0 or number > high or (positive and number == 0):
        raise ConfigError(f"{where} must be a finite number {low}{bound}, not {value!r}")
    return number


def _boolean(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where} must be true or false, not {value!r}")
    return value


def from_mapping(table: Mapping[str, Any], source: Path | None = None) -> ValidationConfig:
    """Build a configuration from the ``validate`` table of a TOML document.

    Raises
    ------
    ConfigError
        An unknown key, an unknown finding code or a value of the wrong type.
    """
    where = str(source) if source else "configuration"
    config = ValidationConfig(source=source)
    changes: dict[str, Any] = {}
    for raw_key, value in table.items():
        key = _key(raw_key)
        label = f"{where}: validate.{raw_key}"
        if key == "fail_on":
            if value not in ("error", "warning"):
                raise ConfigError(f"{label} must be 'error' or 'warning', not {value!r}")
            changes[key] = value
        elif key in ("pixels", "cross_check"):
            changes[key] = _boolean(value, label)
        elif key in ("timeout", "tolerance"):
            changes[key] = _number(value, label, positive=key == "timeout")
        elif key == "thresholds":
            changes["tolerances"] = _tolerances(value, label)
        elif key == "severity":
            if not isinstance(value, Mapping):
                raise ConfigError(f"{label} must be a table of CODE = severity")
            unknown = sorted(set(value) - set(CODES))
            if unknown:
                raise ConfigError(f"{label}: unknown finding code(s) {', '.join(unknown)}; "
                                  f"known: {', '.join(CODES)}")
            changes[key] = {code: _check_severity(v, f"{label}.{code}")
                            for code, v in value.items()}
        else:
            raise ConfigError(f"{where}: unknown key validate.{raw_key}")
    return config.with_(**changes)


def _tolerances(table: Any, label: str) -> GeometryTolerances:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{label} must be a table")
    known = {f.name for f in fields(GeometryTolerances)}
    values = {}
    for raw_key, value in table.items():
        key = _key(raw_key)
        if key not in known:
            raise ConfigError(f"{label}: unknown threshold {raw_key!r}; known: "
                              f"{', '.join(sorted(k.replace('_', '-') for k in known))}")
        values[key] = _number(value, f"{label}.{raw_key}", TOLERANCE_RANGES[key][1])
    return GeometryTolerances(**values)


def _read_bytes(path: Path) -> bytes:
    """The content of a regular file of at most :data:`_MAX_BYTES` (never blocking on a pipe)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", path=path) from None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise ConfigError("not a regular file", path=path)
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            data = handle.read(_MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", path=path) from None
    finally:
        os.close(descriptor)
    if len(data) > _MAX_BYTES:
        raise ConfigError(f"larger than {_MAX_BYTES // (1 << 20)} MB: not a configuration file",
                          path=path)
    return data


def _read_toml(path: Path) -> dict[str, Any]:
    data = _read_bytes(path)
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not valid TOML: not UTF-8 text ({exc.reason} at byte {exc.start})",
                          path=path) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=path) from None
    except RecursionError:
        raise ConfigError("not valid TOML for dicomio: nested too deeply", path=path) from None


def _dicomio_table(path: Path, document: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The table that holds dicomio's settings: ``[tool.dicomio]`` of a pyproject.toml, else
    the whole document."""
    if path.name == "pyproject.toml":
        tool = document.get("tool", {})
        table = tool.get("dicomio") if isinstance(tool, Mapping) else None
        return table if isinstance(table, Mapping) else None
    return document


def load_config(path: str | os.PathLike[str]) -> ValidationConfig:
    """Read the ``validate`` settings of a ``dicomio.toml`` (or any TOML file laid out like it)
    or of a ``pyproject.toml``'s ``[tool.dicomio]``.

    Raises
    ------
    ConfigError
        The file cannot be read, is not TOML, has no dicomio settings or a wrong one.
    """
    where = Path(path)
    table = _dicomio_table(where, _read_toml(where))
    if table is None:
        raise ConfigError("has no [tool.dicomio] table", path=where)
    unknown = sorted(set(table) - {"validate"})
    if unknown:
        raise ConfigError(f"unknown section(s) {', '.join(unknown)} (dicomio reads "
                          f"'validate')", path=where)
    validate = table.get("validate", {})
    if not isinstance(validate, Mapping):
        raise ConfigError("'validate' must be a table", path=where)
    return from_mapping(validate, where)


def find_config(paths: Sequence[str | os.PathLike[str]]) -> Path | None:
    """The configuration file that applies to ``paths``, or None.

    Searches their common folder and then each parent for ``dicomio.toml``, or a
    ``pyproject.toml`` holding ``[tool.dicomio]`` (one without it is passed over). In one
    folder ``dicomio.toml`` wins. The search ends at the root of a project (``.git``, ``.hg``,
    ``.svn``) or the home folder, and before a folder every user may write into (``/tmp``).

    Raises
    ------
    ConfigError
        A ``pyproject.toml`` on the way is not valid TOML (it might hold the settings).
    """
    resolved = [Path(p).resolve() for p in paths] or [Path.cwd()]
    folders = [p if p.is_dir() else p.parent for p in resolved]
    start = Path(os.path.commonpath([str(f) for f in folders]))
    for folder in _search_folders(start):
        candidate = folder / "dicomio.toml"
        if candidate.is_file():
            return candidate
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and _dicomio_table(candidate, _read_toml(candidate)) is not None:
            return candidate
    return None


def _search_folders(start: Path) -> list[Path]:
    """The folders :func:`find_config` looks in: ``start`` and its parents, up to the root of
    a project or the home folder, stopping before one that every user may write into."""
    try:
        home: Path | None = Path.home().resolve()
    except (RuntimeError, KeyError, OSError):  # no home folder known
        home = None
    found = []
    for folder in (start, *start.parents):
        try:
            if folder.stat().st_mode & stat.S_IWOTH:
                break
        except OSError:
            break
        found.append(folder)
        if folder == home or any((folder / marker).exists() for marker in _PROJECT_MARKERS):
            break
    return found
