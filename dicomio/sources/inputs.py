"""What discovery was given, turned into what it reads: folders to walk, files, and sources.

:func:`as_inputs` splits what a caller passes (a path, a sequence of paths, pydicom data sets,
``bytes`` or binary file objects, sources) into paths and sources; :func:`file_entries`
expands a given file that is more than one file (a zip or tar archive, a DICOMDIR, a DICOMweb
URL) or that names an archive's member (``study.zip!/DICOM/IM1``); :func:`web_instances`
fetches the DICOMweb instance URLs given (a Volume's files) together.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dicomio.dicom.source import Source
from dicomio.series.inventory import SkippedFile
from dicomio.sources.archives import SEPARATOR, archive_kind, list_archive, member_source
from dicomio.sources.dicomdir import is_dicomdir, list_dicomdir
from dicomio.sources.memory import is_memory_item, memory_name, memory_source
from dicomio.sources.web_address import as_path, is_web_address, parse_address

__all__ = ["as_inputs", "file_entries", "holds", "named", "web_instances"]


def as_inputs(given: Any) -> list[Path | Source | SkippedFile]:
    """The paths and in-memory sources in ``given``, in order (an item in memory named by its
    place in the sequence)."""
    if isinstance(given, (str, os.PathLike)):
        return [as_path(given)]
    if isinstance(given, Source):
        return [given]
    if is_memory_item(given):
        return [memory_source(0, given)]
    items: Sequence[Any] = list(given)
    return [as_path(item) if isinstance(item, (str, os.PathLike))
            else item if isinstance(item, Source) else memory_source(index, item)
            for index, item in enumerate(items)]


def named(given: Any) -> Path | list[Path]:
    """What errors call ``given``: its path (or paths), an item in memory by its place."""
    if isinstance(given, (str, os.PathLike)):
        return as_path(given)
    if isinstance(given, Source):
        return given.name
    if is_memory_item(given):
        return memory_name(0)
    names = [as_path(item) if isinstance(item, (str, os.PathLike))
             else item.name if isinstance(item, Source) else memory_name(index)
             for index, item in enumerate(given)]
    return names[0] if len(names) == 1 else names


def web_instances(given: Sequence[Path | Source | SkippedFile], headers_only: bool = False
                  ) -> dict[Path, Source]:
    """The sources of the DICOMweb instance URLs among ``given`` (the files of a Volume, or of
    an archive's job), by URL: retrieved together, in parallel (or only their headers, from
    their series' metadata, when ``headers_only``)."""
    urls = [item for item in given if isinstance(item, Path) and is_web_address(item)
            and parse_address(item).instance is not None]
    if not urls:
        return {}
    from dicomio.sources.dicomweb import instance_sources  # requests only when a URL is read

    return dict(zip(urls, instance_sources(urls, headers_only=headers_only), strict=True))


def file_entries(path: Path, headers_only: bool = False
                 ) -> list[Path | Source | SkippedFile] | None:
    """The files a given file ``path`` stands for when it is more than itself: an archive's
    members, a DICOMDIR's files, the archive member it names, the instances of a DICOMweb
    URL (only their headers, from metadata, when ``headers_only``: nothing else reads pixel
    data in the header walk); None for a plain file (or nothing at all)."""
    if is_web_address(path):
        from dicomio.sources.dicomweb import web_sources  # requests only when a URL is read

        return list(web_sources(path, headers_only=headers_only))
    if not path.exists():
        found = member_source(str(path)) if SEPARATOR in str(path) else None
        return None if found is None else [found]
    if not path.is_file():
        return None
    if archive_kind(path) is not None:
        return list(list_archive(path))
    if path.name.upper() == "DICOMDIR" and is_dicomdir(path):  # the name the standard gives
        return list(list_dicomdir(path))
    return None


def holds(root: Path, path: Path) -> bool:
    """Whether the file or member ``path`` was found under the given ``root`` (a folder, a
    file, an archive, a DICOMDIR)."""
    if path == root or root in path.parents:
        return True
    if str(path).startswith(f"{root}{SEPARATOR}"):
        return True
    return root.name.upper() == "DICOMDIR" and root.parent in path.parents
