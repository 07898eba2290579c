"""What every command shares: the consoles, exit codes and errors, JSON output, progress.

Results go to stdout (:data:`out`); errors, warnings and progress to stderr (:data:`err`).
JSON is written by :func:`print_json` as plain text, never through rich: it is never coloured
nor wrapped, whatever the terminal or ``FORCE_COLOR`` say, and it is standard JSON (a
non-finite number is ``null``, never ``NaN`` or ``Infinity``).

Text from the data (file names, descriptions, UIDs, error messages) never reaches the terminal
raw: every console here is a :class:`SafeConsole`, which shows control characters (an escape
sequence, a carriage return, a bidirectional override) as visible escapes (``\x1b``), whoever
printed them; and :func:`shown` escapes rich markup too, for text printed inside markup.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console, ConsoleOptions, RenderableType
from rich.markup import escape
from rich.segment import Segment
from rich.table import Table

from dicomio.errors import (
    ConfigError,
    DicomIOError,
    InternalError,
    InvalidArgumentError,
    MultipleSeriesError,
    NoDicomFilesError,
    SchedulerError,
    SeriesNotFoundError,
    UnreadableFilesError,
)

if TYPE_CHECKING:
    from rich.progress import Progress

__all__ = [
    "EXIT_FINDINGS",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "EXIT_USAGE",
    "USAGE_ERRORS",
    "SafeConsole",
    "completion_bar",
    "err",
    "exit_on_error",
    "fail",
    "out",
    "print_json",
    "print_table",
    "printable",
    "progress_bar",
    "progress_enabled",
    "shown",
    "status",
    "usage_error",
]

#: Exit codes: success; the data has a problem; usage or I/O error; dicomio failed
#: unexpectedly (an :class:`~dicomio.errors.InternalError`, or any other exception).
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
# The base of the usage errors of the click that typer runs on (typer 0.26 and later carry
# their own): found from typer's BadParameter, so no second click is imported at start-up.
_CLICK_ERROR: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")

# Bidirectional embeddings, overrides and isolates: they reorder what a terminal shows.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _visible(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control character (C0, DEL, C1: escape sequences, carriage
    returns, line breaks, bells), bidirectional control and undecodable byte of a file name
    (a lone surrogate) shown as a visible escape (``"\\x1b"``, ``"\\udcff"``), so that text
    from the data cannot move the cursor, recolour, retitle or clear the terminal, nor fake a
    line of output."""
    if text.isprintable() and not _BIDI.intersection(text):
        return text
    return "".join(_visible(c) if unicodedata.category(c) in ("Cc", "Cs") or c in _BIDI else c
                   for c in text)


def shown(text: object) -> str:
    """Text from the data, ready to go inside rich markup: :func:`printable`, markup
    escaped (a ``[/x]`` in a UID is shown, never parsed)."""
    return escape(printable(str(text)))


class SafeConsole(Console):
    """A rich console that never lets a control character of the text it is given through:
    what it renders goes through :func:`printable` (its own styles and cursor moves pass).
    """

    def render(self, renderable: RenderableType, options: ConsoleOptions | None = None
               ) -> Iterator[Segment]:
        for segment in super().render(renderable, options):
            text = segment.text
            if segment.control is None and not text.isprintable():
                # Line breaks are the console's own by now: the rest is shown escaped.
                text = "\n".join(printable(line) for line in text.split("\n"))
                segment = Segment(text, segment.style, segment.control)
            yield segment


#: Results, on stdout.
out = SafeConsole(highlight=False, soft_wrap=True)

#: Errors, warnings and progress, on stderr.
err = SafeConsole(stderr=True, highlight=False, soft_wrap=True)

#: The dicomio errors that mean the command was asked the wrong thing (a path without DICOM,
#: several series and no ``--series``, an unknown backend or another value a function does not
#: take, a bad configuration or scheduler): exit 2. Every other :class:`DicomIOError` is a
#: problem of the data: exit 1.
USAGE_ERRORS: tuple[type[DicomIOError], ...] = (
    NoDicomFilesError, MultipleSeriesError, SeriesNotFoundError, InvalidArgumentError,
    ConfigError, SchedulerError)


def fail(error: DicomIOError, code: int = EXIT_FINDINGS) -> NoReturn:
    """Print a dicomio error on stderr and exit.

    Parameters
    ----------
    error
        Printed as ``error: ClassName: message``.
    code
        The exit code.
    """
    from dicomio.cli.options import option_for

    # The remedies named as options (--irregular accept), never as Python arguments.
    err.print(f"[bold red]error[/]: {type(error).__name__}: "
              f"{escape(error.explained(option_for))}", markup=True, highlight=False)
    raise typer.Exit(code)


def _several_series(error: MultipleSeriesError) -> NoReturn:
    """Several series and no ``--series``: list them as the commands do (the library's message
    names Python's ``series=``), and exit 2."""
    from dicomio.cli.formatting import series_line

    where = ", ".join(str(p) for p in error.paths[:3]) + (" (and more)" if len(error.paths) > 3
                                                         else "")
    err.print(f"[bold red]error[/]: {type(error).__name__}: {shown(where + ': ' if where else '')}"
              f"found {len(error.series)} series; choose one with --series KEY (the first "
              f"column) or --series INDEX (the # of dicomio info):")
    for series in error.series:
        err.print(f"  {shown(series_line(series))}")
    raise typer.Exit(EXIT_USAGE)


def _unreadable(error: UnreadableFilesError) -> NoReturn:
    """Files of the series could not be read: list them, say the option that goes on
    (``--ignore-unreadable``), and exit 1."""
    from dicomio.cli.options import option_for
    from dicomio.errors import advice

    err.print(f"[bold red]error[/]: {type(error).__name__}: {len(error.skipped)} DICOM file(s) "
              f"could not be read, so the volume could be incomplete:")
    for skipped in error.skipped:
        err.print(f"  {shown(str(skipped.path))}: {shown(skipped.reason)}")
    if error.remedies:
        err.print(escape(advice(error.remedies, option_for)))
    raise typer.Exit(EXIT_FINDINGS)


def usage_error(message: str) -> NoReturn:
    """Print ``message`` on stderr and exit with :data:`EXIT_USAGE`."""
    err.print(f"[bold red]error[/]: {escape(message)}")
    raise typer.Exit(EXIT_USAGE)


@contextmanager
def exit_on_error() -> Iterator[None]:
    """End the command when the library raises, with the error's exit code.

    The one place where the command line turns errors into exit codes: :data:`USAGE_ERRORS`
    exit 2; an :class:`~dicomio.errors.InternalError`, or any exception that is not a dicomio
    error (a failure dicomio did not foresee), exits 3 with a one-line message naming its type,
    never a traceback; an ``OSError`` (a file that cannot be read or written) exits 2; any
    other :class:`DicomIOError` exits 1. The command line's own exits
    (``typer.Exit``, click's usage errors), ``KeyboardInterrupt`` and ``SystemExit`` pass.
    """
    try:
        yield
    except MultipleSeriesError as exc:
        _several_series(exc)
    except UnreadableFilesError as exc:
        _unreadable(exc)
    except USAGE_ERRORS as exc:
        fail(exc, EXIT_USAGE)
    except InternalError as exc:
        fail(exc, EXIT_INTERNAL)
    except DicomIOError as exc:
        fail(exc)
    except (typer.Exit, typer.Abort, _CLICK_ERROR):
        raise
    except OSError as exc:  # a file or folder that cannot be read or written: I/O
        err.print(f"[bold red]error[/]: {type(exc).__name__}: {escape(str(exc))}", markup=True,
                  highlight=False)
        raise typer.Exit(EXIT_USAGE) from None
    except Exception as exc:  # never a traceback: a clear line and its own exit code
        err.print(f"[bold red]internal error[/]: {type(exc).__name__}: {escape(str(exc))} "
                  f"(dicomio failed unexpectedly: please report it, with the input if you "
                  f"can)", markup=True, highlight=False)
        raise typer.Exit(EXIT_INTERNAL) from None


def print_json(data: Any) -> None:
    """Write ``data`` as indented JSON on stdout: plain text, never coloured nor wrapped."""
    from dicomio.io.jsonsafe import safe_dumps

    sys.stdout.write(safe_dumps(data, indent=2) + "\n")


def print_table(table: Table) -> None:
    """Print ``table`` on stdout: fitted to a terminal, never squeezed in a file or a CI log."""
    if out.is_terminal:
        out.print(table)
    else:
        SafeConsole(highlight=False, width=400).print(table)


def progress_enabled(flag: bool | None, quiet: bool) -> bool:
    """Whether to show progress: never with ``--quiet``, else as ``--progress/--no-progress``
    say (``flag``), by default when stderr is a terminal."""
    if quiet:
        return False
    return err.is_terminal if flag is None else flag


#: stderr drawn as a terminal, for progress asked for on something that is not one.
_forced_err = SafeConsole(stderr=True, force_terminal=True, highlight=False)


def _progress_console() -> Console:
    """stderr; when progress was asked for on something that is not a terminal (a pipe to
    ``tee``), drawn as if it were one. One console either way, so that a display started
    inside another (the DICOMweb retrieval's bar inside a spinner) is drawn with it."""
    return err if err.is_terminal else _forced_err


@contextmanager
def status(message: str, enabled: bool) -> Iterator[None]:
    """Show a spinner with ``message`` on stderr while the block runs (when ``enabled``)."""
    if not enabled:
        yield
        return
    with _progress_console().status(escape(message)):
        yield


def _new_progress() -> Progress:
    """A transient progress display on stderr. Lines printed on stdout while it runs go above
    it when stdout is the same terminal, and straight to stdout when it is a pipe or a file."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("[dim]{task.fields[label]}"), TimeElapsedColumn(),
                    console=_progress_console(), transient=True,
                    redirect_stdout=out.is_terminal, redirect_stderr=False)


@contextmanager
def progress_bar(description: str, total: int, enabled: bool) -> Iterator[Callable[..., None]]:
    """A progress bar on stderr over items done one after another.

    Yields
    ------
    step(label, total=None)
        To call before each item; ``total`` when it is known only once the work has started.
        Does nothing when not ``enabled``.
    """
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
def completion_bar(description: str, enabled: bool) -> Iterator[Callable[[int, int, str], None]]:
    """A progress bar on stderr over items that finish in any order.

    Yields
    ------
    update(done, total, label)
        To call as each item finishes. Does nothing when not ``enabled``.
    """
    if not enabled:
        yield lambda done, total, label: None
        return
    with _new_progress() as progress:
        task = progress.add_task(description, total=None, label="")

        def update(done: int, total: int, label: str) -> None:
            progress.update(task, completed=done, total=total, label=escape(label))

        yield update
