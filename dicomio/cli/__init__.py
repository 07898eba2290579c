"""The ``dicomio`` command line: one module per command, formatting and exit codes only.

The logic lives in the library. :mod:`dicomio.cli.app` holds the Typer application; each command
module registers its command on it when imported, which this package does below, in the order
``dicomio --help`` lists them. :mod:`dicomio.cli.console` has what every command shares (exit
codes, JSON output that is never coloured, progress).

Exit codes (as dcm2niix and pytest do): 0 success, 1 the data has a problem (a finding, a
disagreement, a read error), 2 usage or I/O error.
"""

from __future__ import annotations

import sys

from dicomio.cli.app import app

# Each module registers its command on ``app``; ``--help`` lists them in this order.
# isort: off
from dicomio.cli import info, compare, validate, preview, convert, sample, load  # noqa: F401
from dicomio.cli import backends  # noqa: F401
# isort: on

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``dicomio`` script."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
