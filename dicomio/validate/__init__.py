"""Checking datasets: checks → findings with stable codes → one report → JSON or JUnit.

- :mod:`~dicomio.validate.findings`: ``Finding`` and the table of codes with default severities;
- :mod:`~dicomio.validate.config`: thresholds and severities from TOML or ``[tool.dicomio]``;
- :mod:`~dicomio.validate.checks`: the checks of files, grouping, geometry and pixels;
- :mod:`~dicomio.validate.report`: ``validate()`` and the one place a report is assembled;
- :mod:`~dicomio.validate.junit`: the report as JUnit XML for CI systems.
"""

from dicomio.validate.checks import validate_series
from dicomio.validate.config import ValidationConfig, find_config, load_config
from dicomio.validate.findings import CODES, Finding
from dicomio.validate.junit import to_junit_xml
from dicomio.validate.report import SeriesReport, ValidationReport, build_report, validate

__all__ = [
    "CODES",
    "Finding",
    "SeriesReport",
    "ValidationConfig",
    "ValidationReport",
    "build_report",
    "find_config",
    "load_config",
    "to_junit_xml",
    "validate",
    "validate_series",
]
