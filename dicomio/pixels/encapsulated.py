"""The encapsulated pixel data of one file: its value read, split into frames, each frame
checked (:mod:`dicomio.pixels.codestream`) and decoded by the decoder
:mod:`dicomio.pixels.decoders` chose."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from typing import Any

from numpy.typing import NDArray

from dicomio.dicom.budgets import max_fragments
from dicomio.dicom.types import FileHeader, PixelFormat
from dicomio.errors import CorruptDataError, DecoderFailedError, MissingDecoderError
from dicomio.pixels.codestream import CodestreamError, check_frame
from dicomio.pixels.decoders import DECODERS, DecoderInfo

__all__ = ["EncodedPixels", "is_decoder_failure", "read_pixel_value"]

_ITEM, _SEQUENCE_END = (0xFFFE, 0xE000), (0xFFFE, 0xE0DD)
_ITEM_HEADER = struct.Struct("<HHL")


def read_pixel_value(header: FileHeader) -> bytes:
    """Read the pixel data value of a file (for encapsulated data: up to the end of file).

    Raises
    ------
    CorruptDataError
        The file is shorter than the pixel data it declares.
    """
    assert header.pixel_data_offset is not None
    source = header.origin
    with source.open() as handle:
        available = max(source.size() - header.pixel_data_offset, 0)
        if header.pixel_data_length is not None and header.pixel_data_length > available:
            # Refused before reading: a forged length must not become a huge allocation.
            raise CorruptDataError(
                f"pixel data truncated: {available} of {header.pixel_data_length} bytes "
                f"present", path=header.path)
        handle.seek(header.pixel_data_offset)
        if header.pixel_data_length is None:
            return handle.read()
        return handle.read(header.pixel_data_length)


def is_decoder_failure(exc: BaseException) -> bool:
    """Whether an exception raised inside a decoder means "this data cannot be decoded".

    Decoders raise anything from ValueError to their own types; the Rust ones (pylibjpeg-rle)
    raise ``pyo3_runtime.PanicException``, which derives from BaseException. Interrupts and
    exits are never swallowed.
    """
    if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
        return False
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


class EncodedPixels:
    """The encapsulated pixel data of one file, split into frames on demand."""

    def __init__(self, header: FileHeader, value: bytes) -> None:
        assert header.pixel is not None
        self.header = header
        self.fmt: PixelFormat = header.pixel
        self.value = value
        self._frames: list[bytes] | None = None

    def frame_bytes(self, index: int) -> bytes:
        """The encoded bytes of frame ``index``."""
        if self._frames is None:
            self._frames = self._split()
        if index >= len(self._frames):
            raise CorruptDataError(
                f"frame {index} requested but the pixel data holds {len(self._frames)} frame(s)",
                path=self.header.path)
        return self._frames[index]

    def checked_frame(self, index: int) -> bytes:
        """The encoded bytes of frame ``index``, refused with :class:`CorruptDataError` when
        their structure is damaged (see :mod:`dicomio.pixels.codestream`): most decoders decode a
        truncated stream without error, into a partly blank image."""
        frame = self.frame_bytes(index)
        syntax = self.header.transfer_syntax
        try:
            check_frame(frame, self.fmt, syntax.uid)
        except CodestreamError as exc:
            raise CorruptDataError(f"frame {index} is damaged ({syntax.name}): {exc}",
                                   path=self.header.path) from None
        return frame

    def _split(self) -> list[bytes]:
        _check_item_count(self.value, self.fmt.number_of_frames, self.header)
        if self.fmt.number_of_frames == 1:
            # The common case, in one pass: every fragment belongs to the one frame.
            return [b"".join(_fragments(self.value, self.header))]
        return list(self._generate_frames())

    def _generate_frames(self) -> Iterator[bytes]:
        from pydicom.encaps import generate_frames

        try:
            yield from generate_frames(self.value, number_of_frames=self.fmt.number_of_frames)
        except (ValueError, KeyError, IndexError, OSError, EOFError, struct.error) as exc:
            raise CorruptDataError(f"cannot split the encapsulated pixel data: {exc}",
                                   path=self.header.path) from None

    def decode(
        self, index: int, decoder: DecoderInfo, out: NDArray[Any] | None = None, *,
        threads: int = 1,
    ) -> NDArray[Any]:
        """Decode frame ``index`` with ``decoder``.

        Raises :class:`~dicomio.errors.CorruptDataError` for a damaged frame (its structure,
        :mod:`dicomio.pixels.codestream`), :class:`~dicomio.errors.DecoderFailedError` when the
        decoder fails on a sound one or returns the wrong number of values.

        Parameters
        ----------
        out
            Optional array of the frame's shape with the itemsize of the stored values: the
            decoder writes straight into it where it can (imagecodecs), and ``out`` itself is
            returned. Otherwise a new array is returned (and ``out`` may have been written to).
        threads
            Threads the codec itself may use on the frame (see
            :class:`~dicomio.pixels.imagecodecs_decoders.FrameDecode`).
        """
        syntax = self.header.transfer_syntax
        frame = self.checked_frame(index)
        try:
            if decoder.plugin is not None:
                array = _pydicom_decode(self.value, index, self.fmt, syntax.uid, decoder.plugin)
            else:
                decode = DECODERS[syntax.uid].imagecodecs
                assert decode is not None  # decoders_for offers imagecodecs only then
                array = decode(frame, self.fmt, out, threads=threads)
        except CorruptDataError:
            raise
        except MissingDecoderError as exc:
            raise MissingDecoderError(exc.message, path=self.header.path) from None
        except CodestreamError as exc:  # imagecodecs' strict RLE decoder
            raise CorruptDataError(f"frame {index} is damaged ({syntax.name}): {exc}",
                                   path=self.header.path) from None
        except BaseException as exc:  # decoders raise anything, Rust ones a BaseException panic
            if not is_decoder_failure(exc):
                raise
            raise DecoderFailedError(
                f"cannot decode frame {index} ({syntax.name}) with {decoder.name}: "
                f"{type(exc).__name__}: {exc}", path=self.header.path) from None
        expected = self.fmt.rows * self.fmt.columns * self.fmt.samples_per_pixel
        if array.size != expected:
            raise DecoderFailedError(
                f"frame {index} decoded by {decoder.name} has {array.size} values, expected "
                f"{self.fmt.rows}x{self.fmt.columns}x{self.fmt.samples_per_pixel}",
                path=self.header.path)
        return array


    def decode_first(
        self, index: int, decoders: Iterable[DecoderInfo], out: NDArray[Any] | None = None, *,
        threads: int = 1,
    ) -> tuple[NDArray[Any], DecoderInfo, list[str]]:
        """Decode frame ``index`` with the first of ``decoders`` that can (see :meth:`decode`).

        Returns
        -------
        tuple
            The frame, the decoder that decoded it, and why each decoder before it failed.

        Raises
        ------
        CorruptDataError
            The frame is damaged: no decoder is tried.
        DecoderFailedError
            Every decoder failed (the message gives each one's reason).
        """
        failures: list[str] = []
        for decoder in decoders:
            try:
                return self.decode(index, decoder, out, threads=threads), decoder, failures
            except DecoderFailedError as exc:
                failures.append(exc.message)
        raise DecoderFailedError("; ".join(failures) or f"no decoder for frame {index}",
                                 path=self.header.path)


def _check_item_count(value: bytes, number_of_frames: int, header: FileHeader) -> None:
    """Refuse encapsulated pixel data of more items than :func:`max_fragments` allows, having
    walked no more than that many item headers."""
    limit = max_fragments(number_of_frames, len(value))
    pos, end, count = 0, len(value), 0
    while pos + 8 <= end:
        group, element, length = _ITEM_HEADER.unpack_from(value, pos)
        if (group, element) != _ITEM:
            return  # the end, or damage that splitting the fragments reports
        count += 1
        if count > limit:
            raise CorruptDataError(
                f"encapsulated pixel data holds more than {limit} items for "
                f"{number_of_frames} frame(s) in {len(value)} bytes", path=header.path)
        pos += 8 + length


def _fragments(value: bytes, header: FileHeader) -> list[memoryview]:
    """The fragments of an encapsulated value (views into it), without the offset table."""
    view = memoryview(value)
    items: list[memoryview] = []
    pos, end = 0, len(value)
    while pos + 8 <= end:
        group, element, length = _ITEM_HEADER.unpack_from(value, pos)
        if (group, element) == _SEQUENCE_END:
            break
        if (group, element) != _ITEM:
            raise CorruptDataError(
                f"encapsulated pixel data: expected an item at byte {pos} of the value, found "
                f"({group:04X},{element:04X})", path=header.path)
        pos += 8
        if pos + length > end:
            raise CorruptDataError(
                f"encapsulated pixel data truncated: item {len(items)} needs {length} bytes, "
                f"{end - pos} are left", path=header.path)
        items.append(view[pos:pos + length])
        pos += length
    if len(items) < 2:  # the first item is the Basic Offset Table
        raise CorruptDataError("encapsulated pixel data holds no fragment", path=header.path)
    return items[1:]


def _pydicom_decode(
    value: bytes, index: int, fmt: PixelFormat, uid: str, plugin: str
) -> NDArray[Any]:
    from pydicom.pixels.decoders.base import get_decoder

    options: dict[str, Any] = {
        "rows": fmt.rows,
        "columns": fmt.columns,
        "samples_per_pixel": fmt.samples_per_pixel,
        "bits_allocated": fmt.bits_allocated,
        "bits_stored": fmt.bits_stored,
        "pixel_representation": fmt.pixel_representation,
        "photometric_interpretation": fmt.photometric_interpretation,
        "planar_configuration": fmt.planar_configuration,
        "number_of_frames": fmt.number_of_frames,
    }
    array, _ = get_decoder(uid).as_array(value, index=index, decoding_plugin=plugin, **options)
    return array
