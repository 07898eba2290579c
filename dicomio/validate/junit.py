"""The validation report as JUnit XML, the format CI systems display as test results.

One ``<testcase>`` per series (its folder as ``classname``, its key and description as
``name``), plus one for the findings about files and folders. A test case fails when it has a
finding at or above ``fail_on``; its ``<failure>`` lists those findings, and ``<system-out>``
lists every finding of the case.
"""

from __future__ import annotations

import re
import socket
from datetime import datetime, timezone
from xml.etree import ElementTree as ET

from dicomio._version import __version__
from dicomio.validate.findings import Finding, at_least
from dicomio.validate.report import ValidationReport

__all__ = ["to_junit_xml"]

SUITE = "dicomio validate"
# Characters XML 1.0 cannot hold, even escaped (control characters from a header, a file name).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _lines(findings: list[Finding]) -> str:
    lines = []
    for f in findings:
        lines.append(f"{f.severity.upper()} {f.code}: {f.message}")
        lines += [f"    {path}" for path in f.files]
        if f.n_files > len(f.files):
            lines.append(f"    ... and {f.n_files - len(f.files)} more file(s)")
    return _clean("\n".join(lines))


def _testcase(parent: ET.Element, classname: str, name: str, findings: list[Finding],
              fail_on: str, seconds: float | None) -> bool:
    """Add a test case (``seconds`` None: without a time); return whether it failed."""
    case = ET.SubElement(parent, "testcase", classname=_clean(classname), name=_clean(name))
    if seconds is not None:
        case.set("time", f"{seconds:.3f}")
    failing = [f for f in findings if at_least(f.severity, fail_on)]  # type: ignore[arg-type]
    if failing:
        failure = ET.SubElement(case, "failure", type=failing[0].code,
                                message=_clean("; ".join(f"{f.code}: {f.message}"
                                                         for f in failing)))
        failure.text = _lines(failing)
    if findings:
        ET.SubElement(case, "system-out").text = _lines(findings)
    return bool(failing)


def to_junit_xml(report: ValidationReport, reproducible: bool = False) -> str:
    """Serialise ``report`` as a JUnit XML document (``<testsuites>`` with one suite).

    ``reproducible`` leaves out what changes from run to run (times, timestamp, host name): the
    same files then give the same document, byte for byte.
    """
    fail_on = report.config.fail_on
    root = ET.Element("testsuites", name=SUITE)
    suite = ET.SubElement(root, "testsuite", name=SUITE)
    if not reproducible:
        suite.set("timestamp", datetime.now(timezone.utc).isoformat(timespec="seconds"))
        suite.set("hostname", socket.gethostname())
    properties = ET.SubElement(suite, "properties")
    for name, value in [("dicomio.version", __version__), ("fail_on", fail_on),
                        ("config", str(report.config.source or "")),
                        ("paths", " ".join(str(p) for p in report.paths))]:
        ET.SubElement(properties, "property", name=name, value=_clean(value))
    failures = int(_testcase(suite, "dicomio", "files and folders", report.findings, fail_on,
                             None if reproducible else 0.0))
    for entry in report.series:
        series = entry.series
        name = f"{series.key} {series.description}".strip()
        failures += _testcase(suite, str(series.folder), name, entry.findings,
                              fail_on, None if reproducible else entry.seconds)
    tests = len(report.series) + 1
    for element in (root, suite):
        element.set("tests", str(tests))
        element.set("failures", str(failures))
        element.set("errors", "0")
        element.set("skipped", "0")
        if not reproducible:
            element.set("time", f"{report.seconds:.3f}")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
