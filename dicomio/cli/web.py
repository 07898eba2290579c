"""The DICOMweb options every command that takes a path has, and its retrieval progress bar.

:func:`takes_dicomweb` gives a command ``--dicomweb-user``, ``--dicomweb-password`` and
``--dicomweb-token``, which feed :func:`dicomio.dicomweb_settings` while it runs (an option
left out: the environment's ``DICOMIO_DICOMWEB_*``, as for a Python caller), and a progress bar
on stderr while instances are retrieved when the command shows progress (its ``--progress``,
never with ``--quiet``). The values are never shown: the settings keep them out of their
``repr``, the errors scrub them, provenance names files by URL only.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Annotated, Any, TypeVar

import typer

__all__ = ["DicomWebPassword", "DicomWebToken", "DicomWebUser", "dicomweb_options",
           "takes_dicomweb"]

_Command = TypeVar("_Command", bound=Callable[..., Any])

DicomWebUser = Annotated[str | None, typer.Option(
    "--dicomweb-user", metavar="NAME", show_default=False,
    help="User name for a DICOMweb URL (HTTP basic) [default: $DICOMIO_DICOMWEB_USER].")]

DicomWebPassword = Annotated[str | None, typer.Option(
    "--dicomweb-password", metavar="PASSWORD", show_default=False,
    help="Password for a DICOMweb URL [default: $DICOMIO_DICOMWEB_PASSWORD, which is safer: a "
         "command line is seen by other users (ps) and kept in the shell's history].")]

DicomWebToken = Annotated[str | None, typer.Option(
    "--dicomweb-token", metavar="TOKEN", show_default=False,
    help="Bearer token for a DICOMweb URL, instead of a user and password "
         "[default: $DICOMIO_DICOMWEB_TOKEN].")]


class _RetrievalBar:
    """The progress of a DICOMweb retrieval (``progress`` of the settings): a bar on stderr
    opened at the first instance retrieved, and closed when the last one is."""

    def __init__(self) -> None:
        self._open = ExitStack()
        self._update: Callable[[int, int, str], None] | None = None

    def __call__(self, done: int, total: int) -> None:
        from rich.errors import LiveError

        from dicomio.cli.console import completion_bar

        if self._update is None:
            try:
                self._update = self._open.enter_context(
                    completion_bar("retrieving instances", True))
            except LiveError:  # rich < 14 draws one live display at a time: the spinner's
                self._update = lambda done, total, label: None
        self._update(done, total, "DICOMweb")
        if done >= total:
            self.close()

    def close(self) -> None:
        """Take the bar off the screen (a next retrieval opens another)."""
        self._open.close()
        self._update = None


@contextmanager
def dicomweb_options(user: str | None, password: str | None, token: str | None,
                     show: bool = False) -> Iterator[None]:
    """Run the block with the command's DICOMweb options as :func:`dicomio.dicomweb_settings`.

    Parameters
    ----------
    user, password, token
        ``--dicomweb-user``, ``--dicomweb-password``, ``--dicomweb-token`` (None: the
        environment's, else none).
    show
        Show a progress bar on stderr while instances are retrieved.
    """
    from dicomio.cli.console import exit_on_error
    from dicomio.sources.web_settings import dicomweb_settings

    bar = _RetrievalBar() if show else None
    with ExitStack() as stack:
        if bar is not None:
            stack.callback(bar.close)
        with exit_on_error():  # a setting of the environment out of range: exit 2
            stack.enter_context(dicomweb_settings(user=user, password=password, token=token,
                                                  progress=bar))
        yield


#: The parameters :func:`takes_dicomweb` adds, and their options.
_OPTIONS = {"dicomweb_user": DicomWebUser, "dicomweb_password": DicomWebPassword,
            "dicomweb_token": DicomWebToken}


def takes_dicomweb(command: _Command) -> _Command:
    """``command`` with the DICOMweb options (:data:`DicomWebUser`, :data:`DicomWebPassword`,
    :data:`DicomWebToken`) after its own, run inside :func:`dicomweb_options`; a progress bar
    is shown when its ``progress`` and ``quiet`` parameters say so
    (:func:`~dicomio.cli.console.progress_enabled`). Put it under ``@app.command()``."""
    from dicomio.cli.console import progress_enabled

    signature = inspect.signature(command, eval_str=True)
    added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None,
                               annotation=option) for name, option in _OPTIONS.items()]

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        user, password, token = (kwargs.pop(name) for name in _OPTIONS)
        show = ("progress" in kwargs
                and progress_enabled(kwargs["progress"], bool(kwargs.get("quiet"))))
        with dicomweb_options(user, password, token, show):
            return command(*args, **kwargs)

    run.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), *added])
    run.__annotations__ = {**command.__annotations__, **_OPTIONS}
    return run  # type: ignore[return-value]
