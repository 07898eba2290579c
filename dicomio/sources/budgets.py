"""What one archive or DICOMDIR may cost: the limits of reading files in place, each a named
constant.

An archive is read where it lies: a member's bytes are read when its header or its pixels
are, never extracted. A damaged or hostile archive can still declare millions of members,
members of terabytes (a zip bomb: a few megabytes that inflate to gigabytes), names that leave
the archive (``../../etc/passwd``), or hold archives inside archives. Each limit keeps the memory
and the time an archive costs bounded, far above what real studies need; an archive beyond one
is skipped as unreadable with a reason naming the limit, and a member beyond one is skipped on
its own, so discovery reports it and goes on. docs/robustness.md lists them.
"""

from __future__ import annotations

__all__ = ["MAX_DICOMDIR_BYTES", "MAX_DICOMDIR_DEPTH", "MAX_INFLATED_TAR_BYTES", "MAX_MEMBERS",
           "MAX_MEMBER_BYTES"]

MAX_MEMBERS = 250_000
"""The most members an archive may list (files and folders). Listing a member costs about a
kilobyte of memory (its name and offsets), so the listing stays under a few hundred megabytes;
a study on a CD holds thousands of files, a whole collection tens of thousands."""

MAX_MEMBER_BYTES = 4 << 30
"""The largest member read (4 GiB, as its archive declares it). A zip bomb's member declares
the size it inflates to: beyond this it is never opened. Below it, a header read costs what a
file's does (:mod:`dicomio.dicom.budgets`), and a zip member never inflates past its declared
size."""

MAX_INFLATED_TAR_BYTES = 2 << 30
"""The most bytes a compressed tar (``.tar.gz``, ``.tgz``) may inflate to (2 GiB). A gzip stream
has no index: to read members in any order, dicomio inflates it once into memory, and stops
beyond this limit (decompress it to a ``.tar`` with ``gunzip``: a plain tar is read in place
at any size)."""

MAX_DICOMDIR_BYTES = 128 << 20
"""The largest DICOMDIR read (128 MiB): a record is a few hundred bytes, so this indexes
hundreds of thousands of files."""

MAX_DICOMDIR_DEPTH = 8
"""How many levels of directory files a DICOMDIR's records are followed through (Philips
writes one per study and one per series: two levels)."""
