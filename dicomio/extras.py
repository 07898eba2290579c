"""The pip command that installs dicomio's optional extras, from where dicomio was installed.

Every hint dicomio gives for a missing optional package (a backend's toolkit, a writer's library,
matplotlib, Dask) is :func:`pip_install`'s, so that it works where it is printed:

- dicomio runs from a source checkout (the package lies beside the ``pyproject.toml`` that
  declares it: an editable install, or a clone on ``sys.path``):
  ``pip install -e '/path/to/clone[sitk]'``;
- dicomio was installed from a local folder (the distribution's ``direct_url.json``, PEP 610,
  names a folder that still exists): ``pip install '/path/to/folder[sitk]'``, with ``-e`` if
  that install was editable;
- otherwise (an index such as PyPI, a wheel): ``pip install 'dicomio[sitk]'``.

``pip install 'dicomio[sitk]'`` in a source checkout would install the released dicomio from
PyPI over the checkout, or fail for a version that was never released.
"""

from __future__ import annotations

import functools
import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

if TYPE_CHECKING:
    from importlib.metadata import Distribution

__all__ = ["Origin", "installed_origin", "origin_of", "pip_install"]

#: The distribution's name, as in pyproject.toml.
DISTRIBUTION = "dicomio"


@dataclass(frozen=True)
class Origin:
    """Where dicomio was installed from.

    Attributes
    ----------
    path
        The local folder (a source checkout), or None for a package index.
    editable
        The folder is installed in place (``pip install -e``), or run from directly.
    """

    path: Path | None = None
    editable: bool = False

    def requirement(self, extra: str | None = None, version: str | None = None) -> str:
        """What to give pip, quoted for a POSIX shell: ``'dicomio[sitk]'``,
        ``'/path/to/clone[sitk]'``; ``version`` pins an index's release (a folder has the
        version it holds)."""
        extras = f"[{extra}]" if extra else ""
        if self.path is None:
            return shlex.quote(f"{DISTRIBUTION}{extras}" + (f"=={version}" if version else ""))
        return shlex.quote(f"{self.path}{extras}")

    def command(self, extra: str | None = None, version: str | None = None) -> str:
        """The pip command line installing ``extra``."""
        return f"pip install {'-e ' if self.editable else ''}{self.requirement(extra, version)}"


def _declares_dicomio(pyproject: Path) -> bool:
    """Whether ``pyproject`` is dicomio's own (``[project] name = "dicomio"``)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    project = data.get("project")
    return isinstance(project, dict) and project.get("name") == DISTRIBUTION


def _local_folder(distribution: Distribution) -> Origin | None:
    """The folder ``distribution`` was installed from (PEP 610), if it still exists."""
    try:
        text = distribution.read_text("direct_url.json")
        record = json.loads(text) if text else None
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("dir_info"), dict):
        return None  # an index, an archive or a version-control URL
    url = urlparse(str(record.get("url", "")))
    if url.scheme != "file":
        return None
    from urllib.request import url2pathname  # not at import: it imports http and email

    folder = Path(url2pathname(unquote(url.path)))
    if not folder.is_dir():
        return None
    return Origin(folder, bool(record["dir_info"].get("editable", False)))


def origin_of(package: Path, distribution: Distribution | None) -> Origin:
    """Where the dicomio whose package folder is ``package`` came from.

    Parameters
    ----------
    package
        The folder of the ``dicomio`` package being run.
    distribution
        Its installed distribution (None: not installed, run from a clone).

    Returns
    -------
    Origin
        The checkout ``package`` lies in (editable: it runs in place); else the local folder
        ``distribution`` was installed from; else an index.
    """
    root = package.parent
    if _declares_dicomio(root / "pyproject.toml"):
        return Origin(root, editable=True)
    if distribution is not None:
        folder = _local_folder(distribution)
        if folder is not None:
            return folder
    return Origin()


@functools.cache
def installed_origin() -> Origin:
    """Where the running dicomio came from (looked up once)."""
    from importlib import metadata  # not at import: it costs a fresh process ~20 ms

    package = Path(__file__).resolve().parent
    try:
        distribution: Distribution | None = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        distribution = None
    return origin_of(package, distribution)


def pip_install(extra: str | None = None, version: str | None = None) -> str:
    """The pip command that installs dicomio's ``extra`` (None: dicomio and its own
    dependencies) from where the running dicomio came from.

    >>> pip_install("sitk")  # doctest: +SKIP
    "pip install 'dicomio[sitk]'"
    >>> pip_install("sitk")  # in a source checkout  # doctest: +SKIP
    "pip install -e '/home/me/dicomio[sitk]'"
    """
    return installed_origin().command(extra, version)
