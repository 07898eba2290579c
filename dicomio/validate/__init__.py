"""Checking datasets: checks → findings with stable codes → one report → JSON or JUnit.

- :mod:`~dicomio.validate.findings`: ``Finding`` and the table of codes with default severities;
- :mod:`~dicomio.validate.config`: thresholds and severities from TOML or ``[tool.dicomio]``;
- :mod:`~dicomio.validate.checks`: the checks of files, grouping, geometry and pixels;
- :mod:`~dicomio.validate.report`: ``validate()`` and the one place a report is assembled;
- :mod:`~dicomio.validate.junit`: the report as JUnit XML for CI systems.
"""
