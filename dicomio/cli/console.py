"""What every command shares: the consoles, exit codes, JSON output, progress."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from dicomio.errors import (
    DicomIOError,
)

if TYPE_CHECKING:
    pass


EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


out = Console(highlight=False, soft_wrap=True)


err = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(error: DicomIOError, code: int = EXIT_FINDINGS) -> NoReturn:
    """Print a dicomio error on stderr and exit with ``code``."""
    err.print(f"[bold red]error[/]: {type(error).__name__}: {escape(str(error))}", markup=True,
              highlight=False)
    raise typer.Exit(code)


def _progress_enabled(flag: bool | None, quiet: bool) -> bool:
    if quiet:
        return False
    return err.is_terminal if flag is None else flag


def _progress_console() -> Console:
    """stderr; when progress was asked for on something that is not a terminal (a pipe to
    ``tee``), drawn as if it were one."""
    if err.is_terminal:
        return err
    return Console(stderr=True, force_terminal=True, highlight=False)


@contextmanager
def _status(message: str, enabled: bool) -> Iterator[None]:
    """A spinner on stderr while something without measurable progress runs."""
    if not enabled:
        yield
        return
    with _progress_console().status(escape(message)):
        yield


def _new_progress() -> Progress:
    """A transient progress display on stderr. Lines printed on stdout while it runs go above
    it when stdout is the same terminal, and straight to stdout when it is a pipe or a file."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("[dim]{task.fields[label]}"), TimeElapsedColumn(),
                    console=_progress_console(), transient=True,
                    redirect_stdout=out.is_terminal, redirect_stderr=False)


@contextmanager
def _progress_bar(
    description: str, total: int, enabled: bool
) -> Iterator[Callable[..., None]]:
    """A progress bar on stderr; yields ``step(label, total=None)``, to call before each item
    (``total`` when it is known only once the work has started)."""
    if not enabled:
        yield lambda label, total=None: None
        return
    with _new_progress() as progress:
        task = progress.add_task(description, total=total, label="")
        started = False

        def step(label: str, total: int | None = None) -> None:
            nonlocal started
            if started:
                progress.advance(task)
            started = True
            progress.update(task, label=escape(label), total=total or None)

        yield step


@contextmanager
def _completion_bar(description: str, enabled: bool) -> Iterator[Callable[[int, int, str],
                                                                          None]]:
    """A progress bar on stderr; yields ``update(done, total, label)``, to call as each item
    finishes (in any order)."""
    if not enabled:
        yield lambda done, total, label: None
        return
    with _new_progress() as progress:
        task = progress.add_task(description, total=None, label="")

        def update(done: int, total: int, label: str) -> None:
            progress.update(task, completed=done, total=total, label=escape(label))

        yield update


def _print_table(table: Table) -> None:
    """A table fits the terminal; piped into a file or a CI log it is never squeezed."""
    if out.is_terminal:
        out.print(table)
    else:
        Console(highlight=False, width=400).print(table)


def _print_json(data: Any) -> None:
    """JSON on stdout, never coloured or wrapped (it is for machines)."""
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def _usage_error(message: str) -> NoReturn:
    err.print(f"[bold red]error[/]: {escape(message)}")
    raise typer.Exit(EXIT_USAGE)
