"""The direct backend: dicomio's own reader, built for speed without giving up a voxel.

- The headers were already read once, by discovery; their pixel-data offsets are reused here.
- Native (uncompressed) frames are read with ``readinto`` straight into their slice of the
  preallocated output, then masked, sign-extended and rescaled in place.
- Compressed frames are decoded by the fastest installed decoder (:mod:`dicomio.pixels.decoders`).
- Files are processed by a pool of threads: file reads, NumPy and imagecodecs release the GIL.
- What this reader does not do itself (deflated data sets, colour needing YBR conversion) goes
  through pydicom, file by file.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from dicomio.backends.base import (
    BackendSpec,
    ReadOptions,
    ReadResult,
    slots_by_file,
    volume_dtype,
)
from dicomio.dicom.types import FileHeader, PixelFormat
from dicomio.errors import CorruptDataError
from dicomio.parallel import decode_workers
from dicomio.pixels.decoders import (
    DecoderOrder,
    choose_decoder,
    decodable_uids,
    decodes_syntax,
)
from dicomio.pixels.encapsulated import EncodedPixels, read_pixel_value
from dicomio.pixels.pydicom_read import Slot, read_file_with_pydicom
from dicomio.pixels.values import finish_frame, to_stored
from dicomio.series.info import SeriesInfo

__all__ = ["SPEC", "Reader", "chosen_decoders", "mappable", "read_into"]


def _direct_unable(series: SeriesInfo) -> str | None:
    fmt = series.pixel
    if fmt.bits_allocated % 8:
        return f"BitsAllocated {fmt.bits_allocated} is not a whole number of bytes"
    return None


SPEC = BackendSpec(
    name="direct",
    module="dicomio.backends.direct",
    requires=("numpy", "pydicom"),
    distribution="dicomio",
    extra=None,
    summary="dicomio's own reader: header scan once, bytes read straight into the array, "
            "frames decoded in parallel threads (imagecodecs, else pydicom's plugins)",
    syntaxes=decodable_uids,
    decodes=decodes_syntax,
    unable=_direct_unable,
)


def _needs_pydicom(header: FileHeader) -> bool:
    fmt = header.pixel
    assert fmt is not None
    if header.pixel_data_offset is None:  # deflated data set: no offset into the file
        return True
    colour_conversion = fmt.samples_per_pixel > 1 and fmt.photometric_interpretation != "RGB"
    return header.transfer_syntax.native and colour_conversion


class Reader:
    """Read a series with dicomio's own reader."""

    def read(self, series: SeriesInfo, options: ReadOptions) -> ReadResult:
        out = np.empty(series.shape, dtype=volume_dtype(series, options))
        decoders, warnings = read_into(series, options, out)
        return ReadResult(out, decoders=decoders, warnings=warnings)


def read_into(series: SeriesInfo, options: ReadOptions, out: NDArray[Any]
              ) -> tuple[tuple[str, ...], list[str]]:
    """Read the frames of ``series`` into ``out`` (one slice each, in order); return the names
    of the decoders used and the warnings (a frame a decoder failed on and the next decoded).

    ``out`` has the series' shape and the dtype of the volume it belongs to: the lazy reader
    (:mod:`dicomio.backends.lazy`) reads a few slices of a volume at a time, in the volume's
    dtype (:func:`~dicomio.backends.base.volume_dtype` of the whole series, which the dtype of
    those slices alone could differ from).
    """
    jobs = slots_by_file(series)
    decoders = _choose_decoders(jobs, options)
    cores = options.workers or decode_workers()
    workers = min(cores, len(jobs))
    # Fewer files than cores (one enhanced multi-frame file): the frames of a file share the
    # cores left.
    frame_threads = max(1, cores // max(workers, 1))

    def run(job: tuple[FileHeader, list[Slot]]) -> tuple[set[str], list[str]]:
        header, slots = job
        return _read_file(header, slots, out, options, decoders[_decoder_key(header)],
                          frame_threads)

    if workers <= 1:
        done = [run(job) for job in jobs]
    else:
        with ThreadPoolExecutor(workers, thread_name_prefix="dicomio") as pool:
            done = list(pool.map(run, jobs))
    used = set().union(*(names for names, _ in done))
    return tuple(sorted(used)), [w for _, warnings in done for w in warnings]


def chosen_decoders(series: SeriesInfo, options: ReadOptions) -> tuple[str, ...]:
    """The names of the decoders :func:`read_into` would use for ``series``, chosen from the
    headers without decoding anything: ``"native"`` for uncompressed data, ``"pydicom"``
    where pydicom reads the file (which of its plugins is known only once it has decoded)."""
    jobs = slots_by_file(series)
    decoders = _choose_decoders(jobs, options)
    names: set[str] = set()
    for header, _ in jobs:
        chosen = decoders[_decoder_key(header)]
        names.add("pydicom" if _needs_pydicom(header) else
                  "native" if header.transfer_syntax.native or chosen is None else
                  chosen.first.name)
    return tuple(sorted(names))


def mappable(header: FileHeader) -> bool:
    """Whether the frames of ``header``'s file are its stored bytes as they are: native, little
    endian, at a known offset (no deflated data set) and needing no colour conversion; the
    lazy reader maps them into memory instead of reading them."""
    return (header.transfer_syntax.native and header.transfer_syntax.little_endian
            and not _needs_pydicom(header))


def _decoder_key(header: FileHeader) -> tuple[str, PixelFormat | None]:
    return header.transfer_syntax.uid, header.pixel


def _choose_decoders(
    jobs: Sequence[tuple[FileHeader, Sequence[Slot]]], options: ReadOptions
) -> dict[tuple[str, PixelFormat | None], DecoderOrder | None]:
    """The decoders of each (transfer syntax, pixel format) in the series, chosen once: the
    first choice, then the other installed ones a frame falls back to when it fails (none
    when one decoder was asked for by name); None where no decoder of dicomio's is used."""
    chosen: dict[tuple[str, PixelFormat | None], DecoderOrder | None] = {}
    for header, _ in jobs:
        key = _decoder_key(header)
        if key in chosen:
            continue
        first = None if _needs_pydicom(header) else choose_decoder(
            header.transfer_syntax, header.pixel, prefer=options.decoder)
        chosen[key] = None if first is None else DecoderOrder(
            first, header.transfer_syntax, header.pixel, fallback=options.decoder is None)
    return chosen


def _read_file(
    header: FileHeader,
    slots: Sequence[Slot],
    out: NDArray[Any],
    options: ReadOptions,
    decoders: DecoderOrder | None,
    frame_threads: int = 1,
) -> tuple[set[str], list[str]]:
    """Fill the slices of ``out`` that come from one file (its compressed frames decoded by
    up to ``frame_threads`` threads); return the names of the decoders used and the warnings
    (a decoder that failed on a frame another one decoded)."""
    if _needs_pydicom(header):
        return {read_file_with_pydicom(header, slots, out, rescale=options.rescale,
                                       keep_high_bits=options.keep_high_bits)}, []
    if header.transfer_syntax.native:
        _read_native(header, slots, out, options)
        return {"native"}, []
    assert decoders is not None  # chosen for every encapsulated file pydicom does not read
    return _read_encoded(header, slots, out, options, decoders, frame_threads)


def _in_place(fmt: PixelFormat, out: NDArray[Any]) -> np.dtype[Any] | None:
    """The unsigned dtype to decode a frame straight into its slice of ``out`` with, or None.

    That works when the output is an integer dtype of the stored width: once masked (and
    sign-extended) the stored bits are the output values, up to the intercept. Colour planes
    stored one after the other (PlanarConfiguration 1) must be interleaved first.
    """
    planar = fmt.samples_per_pixel > 1 and fmt.planar_configuration == 1
    if fmt.float_data or planar or out.dtype.kind not in "iu":
        return None
    unsigned = np.dtype(f"uint{fmt.bits_allocated}")
    return unsigned if out.dtype.itemsize == unsigned.itemsize else None


def _finish_in_place(
    bits: NDArray[Any], fmt: PixelFormat, out: NDArray[Any], intercept: float,
    options: ReadOptions,
) -> None:
    """``bits`` is a view of ``out`` holding a frame's stored bit patterns: make them values."""
    to_stored(bits, fmt, keep_high_bits=options.keep_high_bits)
    if options.rescale and intercept and fmt.samples_per_pixel == 1:  # colour is never rescaled
        out += int(intercept)


def _read_encoded(
    header: FileHeader,
    slots: Sequence[Slot],
    out: NDArray[Any],
    options: ReadOptions,
    decoders: DecoderOrder,
    frame_threads: int = 1,
) -> tuple[set[str], list[str]]:
    encoded = EncodedPixels(header, read_pixel_value(header))
    fmt = encoded.fmt
    unsigned = _in_place(fmt, out)
    threads = min(frame_threads, len(slots))
    # Fewer frames than threads (a few large JPEG 2000 images): the codec splits each frame.
    codec_threads = max(1, frame_threads // len(slots))

    def decode(slot: Slot) -> tuple[str, str | None]:
        index, k, slope, intercept = slot
        target = out[k].view(unsigned) if unsigned is not None else None
        decoded, decoder, failures = encoded.decode_first(index, decoders, out=target,
                                                          threads=codec_threads)
        if target is not None and decoded is target:
            _finish_in_place(target, fmt, out[k], intercept, options)
        else:
            finish_frame(decoded, fmt, out[k], slope=slope, intercept=intercept,
                         rescale=options.rescale, keep_high_bits=options.keep_high_bits)
        warning = (f"{header.path}: frame {index} decoded by {decoder.name}, tried first: "
                   f"{'; '.join(failures)}") if failures else None
        return decoder.name, warning

    if threads > 1 and decoders.first.releases_gil:
        encoded.frame_bytes(slots[0][0])  # split into frames once, before the threads share it
        with ThreadPoolExecutor(threads, thread_name_prefix="dicomio-frames") as pool:
            done = list(pool.map(decode, slots))
    else:
        done = [decode(slot) for slot in slots]
    return {name for name, _ in done}, [warning for _, warning in done if warning]


def _read_native(
    header: FileHeader, slots: Sequence[Slot], out: NDArray[Any], options: ReadOptions
) -> None:
    fmt = header.pixel
    assert fmt is not None and header.pixel_data_offset is not None
    nbytes = fmt.frame_nbytes  # the lengths were checked before reading (dicomio.dicom.checks)
    unsigned = np.dtype(f"uint{fmt.bits_allocated}") if not fmt.float_data else fmt.stored_dtype
    planar = fmt.samples_per_pixel > 1 and fmt.planar_configuration == 1
    # The file is read straight into the output slice when its dtype has the stored width.
    in_place = _in_place(fmt, out) is not None
    layout = (fmt.samples_per_pixel, fmt.rows, fmt.columns) if planar else fmt.frame_shape
    scratch = np.empty(0 if in_place else layout, dtype=unsigned)
    # Every source opens as a buffered binary file (a file, an archive member, memory).
    with cast("io.BufferedIOBase", header.origin.open()) as handle:
        for index, k, slope, intercept in slots:
            target = out[k].view(unsigned) if in_place else scratch
            handle.seek(header.pixel_data_offset + index * nbytes)
            got = handle.readinto(target.data.cast("B"))
            if got != nbytes:
                raise CorruptDataError(
                    f"pixel data truncated: frame {index} has {got} of {nbytes} bytes",
                    path=header.path)
            if not header.transfer_syntax.little_endian and unsigned.itemsize > 1:
                target.byteswap(inplace=True)
            if in_place:
                _finish_in_place(target, fmt, out[k], intercept, options)
            else:
                frame = target.transpose(1, 2, 0) if planar else target
                finish_frame(frame, fmt, out[k], slope=slope, intercept=intercept,
                             rescale=options.rescale, keep_high_bits=options.keep_high_bits)
