"""``--help`` of every command shows its help strings as written: no markup eats ``[...]``."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from dicomio.cli import app

runner = CliRunner()

GROUP: Any = typer.main.get_command(app)  # a click group (typer's own copy of click)
COMMANDS: dict[str, Any] = {"": GROUP, **GROUP.commands}


def bracketed(command: Any) -> list[str]:
    """Every ``[...]`` in the help strings of ``command`` and its parameters, as written."""
    texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
    return [" ".join(found.split()) for text in texts
            for found in re.findall(r"\[[^\[\]]*\]", text)]


def test_the_help_strings_hold_brackets_to_check() -> None:
    found = {text for command in COMMANDS.values() for text in bracketed(command)}
    # Those the issue reported: if none is found any more, this test checks nothing.
    assert {"[plot]", "[tool.dicomio]", "[default: error]", "[dask]"} <= found


@pytest.mark.parametrize("name", list(COMMANDS), ids=lambda n: n or "dicomio")
def test_every_bracketed_text_of_the_help_is_shown(name: str) -> None:
    result = runner.invoke(app, [name, "--help"] if name else ["--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    shown = " ".join(result.stdout.split())  # the lines are wrapped anywhere
    missing = [text for text in bracketed(COMMANDS[name]) if text not in shown]
    assert not missing, f"dicomio {name} --help loses {missing}:\n{result.stdout}"
