"""Write files atomically: a temporary file beside the target, renamed when complete."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import IO

__all__ = ["write_atomically", "write_bytes_atomically", "write_text_atomically"]


def _temporary_beside(target: Path) -> tuple[int, Path]:
    """Create a new, empty, hidden file next to ``target`` (mode from the umask, like open)."""
    for _ in range(100):
        candidate = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        try:
            return os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), candidate
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a temporary file next to {target}")


def write_atomically(
    target: str | os.PathLike[str], write: Callable[[IO[bytes]], None]
) -> Path:
    """Call ``write(handle)`` on a temporary file beside ``target``, then rename it over.

    The rename is atomic on one file system: readers see the old file or the whole new one.
    On any failure (an exception, Ctrl-C) the temporary file is removed.
    """
    where = Path(target)
    descriptor, temporary = _temporary_beside(where)
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


def write_bytes_atomically(target: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically (see :func:`write_atomically`)."""

    def write(handle: IO[bytes]) -> None:
        handle.write(data)

    return write_atomically(target, write)


def write_text_atomically(target: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 ``text`` to ``target`` atomically (see :func:`write_atomically`)."""
    return write_bytes_atomically(target, text.encode("utf-8"))
