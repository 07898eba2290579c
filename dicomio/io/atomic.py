"""Write files atomically and safely: a temporary file beside the target, renamed when complete.

The temporary file is hidden and named ``.<target name>.dicomio-<8 hex digits>.part``. Its
writer holds an exclusive lock on it (``flock``) until it is renamed, so a file of that name
whose lock is free was left by a writer that died (``kill -9``, a power cut): a *stale* partial
file. Each write removes the stale partial files of its own target, and
:func:`remove_stale_parts` those of a whole folder (the output folder of an archive conversion,
before it is written into). Where there are no file locks (Windows), a partial file counts as
stale after a day untouched.

Given ``within`` (a folder the caller owns: the output folder of an archive conversion), the
folders from ``within`` down to the target are opened one at a time without following symbolic
links (and created when missing), and the file is created and renamed inside the last of them:
a symlink inside ``within``, planted before or during the write, can never redirect it. A
symlink at the target's own name is replaced, the link itself, never what it points to.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

__all__ = ["is_partial_file", "remove_stale_parts", "write_atomically",
           "write_bytes_atomically", "write_text_atomically"]

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_PART = re.compile(r"\.(?P<name>.+)\.dicomio-[0-9a-f]{8}\.part")

#: Without file locks, a partial file untouched for this long is stale (seconds).
_STALE_AFTER = 24 * 3600.0

_SAFE_FOLDERS = (fcntl is not None and hasattr(os, "O_NOFOLLOW")
                 and hasattr(os, "O_DIRECTORY") and os.open in os.supports_dir_fd)


def is_partial_file(name: str) -> bool:
    """Whether ``name`` is that of a partial file of dicomio's (see the module docstring)."""
    return _PART.fullmatch(name) is not None


def _try_lock(descriptor: int) -> bool:
    """Take the exclusive lock of an open file without waiting: False when another process
    holds it."""
    if fcntl is None:  # pragma: no cover - Windows
        return True
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def _remove_stale_in(folder: int | Path, only: str | None = None) -> int:
    """Remove the stale partial files in ``folder`` (an open folder, or a path), those of the
    target named ``only`` when given. Returns how many were removed."""
    where = {"dir_fd": folder} if isinstance(folder, int) else {}
    base = "" if isinstance(folder, int) else f"{folder}{os.sep}"
    removed = 0
    with os.scandir(folder) as entries:
        names = [e.name for e in entries if e.is_file(follow_symlinks=False)]
    for name in names:
        match = _PART.fullmatch(name)
        if match is None or (only is not None and match["name"] != only):
            continue
        try:
            descriptor = os.open(base + name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0),
                                 **where)
        except OSError:
            continue  # gone meanwhile, or not ours to open
        try:
            stale = _try_lock(descriptor) if fcntl is not None else (
                time.time() - os.fstat(descriptor).st_mtime > _STALE_AFTER)
            if stale:
                os.unlink(base + name, **where)
                removed += 1
        except OSError:
            pass
        finally:
            os.close(descriptor)
    return removed


def remove_stale_parts(folder: str | os.PathLike[str]) -> int:
    """Remove the partial files that writers which died left under ``folder`` (its subfolders
    included, symlinks never followed). Returns how many were removed."""
    removed = 0
    for current, _, _ in os.walk(folder, followlinks=False):
        try:
            removed += _remove_stale_in(Path(current))
        except OSError:
            continue
    return removed


def _refuse_link(path: Path) -> OSError:
    return FileExistsError(errno.EEXIST, "a symbolic link or a file where a folder is "
                           "needed: refusing to write through it", str(path))


@contextmanager
def _open_folder(folder: Path, within: Path | None) -> Iterator[int]:
    """The target's folder, open: ``folder`` as it is, or each folder from ``within`` down to
    it opened without following symlinks (created when missing)."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    parts: Sequence[str] = ()
    start = folder
    if within is not None:
        parts = folder.relative_to(within).parts
        if any(part in ("", os.curdir, os.pardir) for part in parts):
            raise ValueError(f"{folder} is not a plain folder under {within}")
        start = within
    descriptor = os.open(start, flags)
    try:
        reached = start
        for part in parts:
            reached = reached / part
            with suppress(FileExistsError):
                os.mkdir(part, dir_fd=descriptor)
            try:
                child = os.open(part, flags | os.O_NOFOLLOW, dir_fd=descriptor)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise _refuse_link(reached) from None
                raise
            os.close(descriptor)
            descriptor = child
        yield descriptor
    finally:
        os.close(descriptor)


def _create_partial(folder: int, name: str) -> tuple[int, str]:
    """Create and lock a new partial file for the target ``name`` in the open ``folder``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(100):
        candidate = f".{name}.dicomio-{secrets.token_hex(4)}.part"
        try:
            descriptor = os.open(candidate, flags, 0o666, dir_fd=folder)
        except FileExistsError:
            continue
        # A cleaner may have taken it between its creation and the lock: then start again.
        if _try_lock(descriptor) and _same_inode(folder, candidate, descriptor):
            return descriptor, candidate
        os.close(descriptor)
    raise FileExistsError(f"cannot create a temporary file next to {name}")


def _same_inode(folder: int, name: str, descriptor: int) -> bool:
    try:
        named = os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return named.st_ino == os.fstat(descriptor).st_ino


def _write_with_paths(where: Path, write: Callable[[IO[bytes]], None],
                      within: Path | None) -> Path:  # pragma: no cover - Windows
    """:func:`write_atomically` where folders cannot be opened (no ``dir_fd``): the same
    checks, on paths."""
    if within is not None:
        reached = within
        for part in where.parent.relative_to(within).parts:
            reached = reached / part
            if reached.is_symlink() or (reached.exists() and not reached.is_dir()):
                raise _refuse_link(reached)
            reached.mkdir(exist_ok=True)
    with suppress(OSError):
        _remove_stale_in(where.parent, where.name)
    for _ in range(100):
        temporary = where.with_name(f".{where.name}.dicomio-{secrets.token_hex(4)}.part")
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"cannot create a temporary file next to {where}")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, where)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return where


def write_atomically(
    target: str | os.PathLike[str], write: Callable[[IO[bytes]], None], *,
    within: str | os.PathLike[str] | None = None,
) -> Path:
    """Call ``write(handle)`` on a temporary file beside ``target``, then rename it over.

    The rename is atomic on one file system: readers see the old file or the whole new one.
    On any failure (an exception, Ctrl-C) the temporary file is removed; the stale ones of
    earlier writers that died are removed first (see the module docstring).

    Parameters
    ----------
    target
        The file to write.
    write
        Writes the content into the handle it is given.
    within
        A folder holding ``target``: the folders below it are created when missing, and
        never a symbolic link (nor a file) among them is written through.

    Raises
    ------
    FileExistsError
        A folder between ``within`` and ``target`` is a symbolic link or a file.
    ValueError
        ``target`` is not under ``within``.
    """
    where = Path(target)
    base = None if within is None else Path(within)
    if not _SAFE_FOLDERS:  # pragma: no cover - Windows
        return _write_with_paths(where, write, base)
    with _open_folder(where.parent, base) as folder:
        with suppress(OSError):  # a folder that cannot be listed can still be written into
            _remove_stale_in(folder, where.name)
        descriptor, temporary = _create_partial(folder, where.name)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                write(handle)
                handle.flush()
                os.fsync(handle.fileno())
                # Renamed while still locked: no cleaner can take it for a stale one.
                os.replace(temporary, where.name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(temporary, dir_fd=folder)
            raise
    return where


def write_bytes_atomically(target: str | os.PathLike[str], data: bytes, *,
                           within: str | os.PathLike[str] | None = None) -> Path:
    """Write ``data`` to ``target`` atomically (see :func:`write_atomically`)."""

    def write(handle: IO[bytes]) -> None:
        handle.write(data)

    return write_atomically(target, write, within=within)


def write_text_atomically(target: str | os.PathLike[str], text: str, *,
                          within: str | os.PathLike[str] | None = None) -> Path:
    """Write UTF-8 ``text`` to ``target`` atomically (see :func:`write_atomically`)."""
    return write_bytes_atomically(target, text.encode("utf-8"), within=within)
