"""What one file may cost: the limits of reading a header, each a named constant.

A header holds a few hundred declarations; a damaged or hostile one can declare millions of
frames, nest sequences hundreds deep, fill megabytes with empty items, or deflate a few
megabytes into gigabytes. Every limit here keeps the memory and the time one file costs in
proportion to its size, far above what real files need; a file beyond one is refused with an
error naming it and the limit (:class:`~dicomio.errors.InvalidDicomError`, or
:class:`~dicomio.errors.CorruptDataError` for deflated data), so discovery lists it as an
unreadable file and every other file is read as usual. docs/robustness.md lists them with what
real files need.
"""

from __future__ import annotations

from dicomio.errors import InvalidDicomError

__all__ = ["DEFLATE_SLACK", "MAX_FRAMES", "MAX_HEADER_BYTES", "MAX_HEADER_ELEMENTS",
           "MAX_NESTING_DEPTH", "MIN_FRAME_BYTES", "SMALL_FRAME_COUNT", "max_elements",
           "max_fragments", "too_many_elements"]

MAX_HEADER_BYTES = 128 << 20
"""The most header bytes held at once (128 MiB): the longest element read whole (a sequence of
undefined length, such as a Per-frame Functional Groups Sequence of 40,000 frames at 3 KiB each,
or a wanted value), and for a deflated data set the most bytes inflated before its pixel data.
Elements of known length that are not wanted are skipped, not read: a 2 GiB encapsulated
document costs nothing. Peak memory of one header read stays under about twice this."""

MAX_HEADER_ELEMENTS = 5_000_000
"""The most elements, items and delimiters walked before the pixel data: 50,000 enhanced
frames of about 100 each (what an enhanced MR frame carries), read in about two seconds. Each
is at least 8 bytes, so a header needs 40 MB to reach it; 16 million empty items in 128 MB
would otherwise cost half a minute."""

MAX_NESTING_DEPTH = 32
"""Deepest nesting of sequences of undefined length. Images nest three or four deep, structured
reports about ten; without a limit a 20 KB file nested 500 deep exhausts Python's recursion."""

MAX_FRAMES = 100_000
"""Largest NumberOfFrames of one file. Every frame is placed and sorted (about 10 µs each, or a
second for the largest); real multi-frame images hold at most tens of thousands."""

SMALL_FRAME_COUNT = 1024
"""Up to this many frames a file is never refused for the size of its frames."""

MIN_FRAME_BYTES = 32
"""Beyond :data:`SMALL_FRAME_COUNT` frames, the pixel data bytes each frame must come with, so
that the work on a file's frames stays in proportion to its size (a million one-pixel frames in
a megabyte would cost twenty seconds). No real frame is smaller: an 8 × 8 byte image is 64 bytes,
a compressed frame carries at least a codec header."""

DEFLATE_SLACK = 1 << 20
"""Bytes a deflated data set may inflate to beyond what its header declares (1 MiB): its pixel
data may be this much longer than its frames need, and the elements after the pixel data
(trailing padding, a signature) this long. Beyond it, inflation stops and the file is refused:
three megabytes of a deflated file cannot make gigabytes."""


def max_fragments(number_of_frames: int, value_bytes: int) -> int:
    """The most items encapsulated pixel data may hold: 4,096, or 64 per frame, or one per KiB
    of the value, whichever is largest. Encoders split a frame into a handful of fragments
    (large images into fragments of tens of KiB); 128 MB of empty items, 16 million of them,
    would otherwise cost half a minute to walk."""
    return max(4096, 64 * number_of_frames, value_bytes // 1024)


def max_elements(number_of_frames: int) -> int:
    """The most elements, items and delimiters a header may hold for its NumberOfFrames:
    100,000, or 1,000 per frame, whichever is larger (and never more than
    :data:`MAX_HEADER_ELEMENTS`). Enhanced files carry one functional-groups item of about a
    hundred elements per frame; a million empty items beside ten frames would cost the parse of
    those groups (pydicom's) a quarter of a minute and most of a gigabyte."""
    return min(MAX_HEADER_ELEMENTS, max(100_000, 1_000 * number_of_frames))


def too_many_elements(limit: int) -> InvalidDicomError:
    """The error of a header walked past ``limit`` elements: :func:`max_elements` of the
    NumberOfFrames it declares (of one frame until the walk reaches NumberOfFrames).

    Without a path: the reader adds it.
    """
    return InvalidDicomError(
        f"more than {limit} elements and items before the pixel data for the frames it "
        f"declares: damaged or hostile; dicomio walks no more (max_elements, at most "
        f"MAX_HEADER_ELEMENTS)")
