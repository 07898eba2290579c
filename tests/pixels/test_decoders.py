"""The direct backend's decoding path: frame splitting, decoder fallbacks, decoding in place."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.encaps import encapsulate

import dicomio
from dicomio.dicom import transfer_syntax as ts
from dicomio.dicom.header import read_header
from dicomio.dicom.transfer_syntax import TRANSFER_SYNTAXES
from dicomio.dicom.types import PixelFormat
from dicomio.pixels import decoders as decode
from dicomio.pixels import imagecodecs_decoders as fast
from dicomio.pixels.decoders import DecoderInfo, choose_decoder
from dicomio.pixels.encapsulated import EncodedPixels, read_pixel_value
from dicomio.testing.synthetic import J2K_LOSSLESS, JPEG_LOSSLESS_SV1, RLE, SeriesSpec
from tests.support.dicom_files import rewrite

SMALL = SeriesSpec(shape=(5, 24, 20))

imagecodecs = pytest.importorskip("imagecodecs")


def _encoded(path):
    header = read_header(path)
    return header, EncodedPixels(header, read_pixel_value(header))


def _refragment(truth, pieces: int) -> None:
    """Rewrite every file with its frame split over ``pieces`` fragments."""
    for path in truth.files:
        ds = pydicom.dcmread(path)
        _, encoded = _encoded(path)
        frame = encoded.frame_bytes(0)
        ds.PixelData = encapsulate([frame], fragments_per_frame=pieces)
        ds.save_as(path)


@pytest.mark.parametrize("syntax", [JPEG_LOSSLESS_SV1, J2K_LOSSLESS, RLE])
def test_frame_split_over_fragments_is_joined(make_series, syntax: str) -> None:
    truth = make_series(SMALL.with_(transfer_syntax=syntax))
    single = [_encoded(p)[1].frame_bytes(0) for p in truth.files]
    _refragment(truth, 3)
    for path, expected in zip(truth.files, single, strict=True):
        assert _encoded(path)[1].frame_bytes(0) == expected
    volume = dicomio.load_volume(truth.folder, backend="direct")
    np.testing.assert_array_equal(volume.array, truth.modality_values())


@pytest.mark.parametrize(("cut", "message"), [(-30, "truncated"), (None, "expected an item")])
def test_broken_encapsulation_names_the_file(make_series, cut, message) -> None:
    truth = make_series(SMALL.with_(transfer_syntax=RLE))
    header, encoded = _encoded(truth.files[2])
    data = bytearray(truth.files[2].read_bytes())
    if cut is None:  # overwrite the tag of the first fragment
        start = header.pixel_data_offset + 8 + int.from_bytes(encoded.value[4:8], "little")
        data[start:start + 4] = b"\x10\x00\x10\x00"
    else:  # the last fragment ends early (and no sequence delimiter)
        data = data[:cut]
    truth.files[2].write_bytes(bytes(data))
    with pytest.raises(dicomio.CorruptDataError, match=message) as info:
        dicomio.load_volume(truth.folder, backend="direct", decoder="imagecodecs")
    assert truth.files[2].name in str(info.value)


@pytest.mark.parametrize("syntax", [JPEG_LOSSLESS_SV1, J2K_LOSSLESS])
def test_frames_decode_straight_into_the_output(make_series, syntax: str) -> None:
    truth = make_series(SMALL.with_(transfer_syntax=syntax))
    header, encoded = _encoded(truth.files[0])
    decoder = choose_decoder(header.transfer_syntax, header.pixel, prefer="imagecodecs")
    target = np.zeros((24, 20), dtype=np.int16).view(np.uint16)
    decoded = encoded.decode(0, decoder, out=target)
    assert decoded is target
    np.testing.assert_array_equal(decoded, encoded.decode(0, decoder))


def test_an_output_the_decoder_cannot_fill_gets_a_new_array(make_series) -> None:
    truth = make_series(SMALL.with_(transfer_syntax=JPEG_LOSSLESS_SV1))
    header, encoded = _encoded(truth.files[0])
    decoder = choose_decoder(header.transfer_syntax, header.pixel, prefer="imagecodecs")
    for wrong in (np.zeros((24, 20), np.uint8), np.zeros((24, 21), np.uint16)):
        decoded = encoded.decode(0, decoder, out=wrong)
        assert decoded is not wrong
        np.testing.assert_array_equal(decoded, encoded.decode(0, decoder))


def _record_functions(monkeypatch, options: list | None = None) -> list[str]:
    """Record the names of the imagecodecs functions that decode (and, into ``options``, the
    keywords each call was given)."""
    used: list[str] = []
    real = fast._imagecodecs_function

    def recording(name: str):
        function = real(name)

        def call(*args, **kwargs):
            used.append(name)
            if options is not None:
                options.append({k: v for k, v in kwargs.items() if k != "out"})
            return function(*args, **kwargs)

        return call

    monkeypatch.setattr(fast, "_imagecodecs_function", recording)
    return used


@pytest.mark.parametrize("turbo", [True, False])
def test_lossless_jpeg_with_and_without_libjpeg_turbo(make_series, monkeypatch, turbo) -> None:
    truth = make_series(SMALL.with_(transfer_syntax=JPEG_LOSSLESS_SV1, bits_stored=16,
                                    signed=True, rescale_intercept=0))
    monkeypatch.setattr(fast, "_turbo_decodes_lossless", lambda: turbo)
    used = _record_functions(monkeypatch)
    volume = dicomio.load_volume(truth.folder, backend="direct", decoder="imagecodecs")
    assert set(used) == {"jpeg8_decode" if turbo else "ljpeg_decode"}
    np.testing.assert_array_equal(volume.array, truth.stored)


def test_this_imagecodecs_decodes_lossless_jpeg_with_libjpeg_turbo() -> None:
    fast._turbo_decodes_lossless.cache_clear()
    assert fast._turbo_decodes_lossless()  # imagecodecs >= 2024.1.1 ships libjpeg-turbo 3


def test_imagecodecs_without_the_function_is_a_clear_error(make_series, monkeypatch) -> None:
    truth = make_series(SMALL.with_(transfer_syntax=JPEG_LOSSLESS_SV1))
    monkeypatch.setattr(fast, "_imagecodecs_function", lambda name: None)
    with pytest.raises(dicomio.MissingDecoderError, match="imagecodecs has no") as info:
        dicomio.load_volume(truth.folder, backend="direct", decoder="imagecodecs")
    assert info.value.path in truth.files


def test_the_fastest_decoder_is_the_default(make_series) -> None:
    truth = make_series(SMALL.with_(transfer_syntax=JPEG_LOSSLESS_SV1))
    volume = dicomio.load_volume(truth.folder)
    assert volume.provenance.backend == "direct"
    assert volume.provenance.decoders == ("imagecodecs",)


@pytest.mark.parametrize("syntax", [ts.EXPLICIT_VR_LITTLE_ENDIAN, RLE])
def test_colour_read_in_place_is_never_rescaled(make_series, syntax: str) -> None:
    truth = make_series(SMALL.with_(samples_per_pixel=3, transfer_syntax=syntax))
    rewrite(truth.files, RescaleIntercept="-100")  # must not shift colour values
    for backend in ("direct", "pydicom"):
        volume = dicomio.load_volume(truth.folder, backend=backend)
        np.testing.assert_array_equal(volume.array, truth.stored)


# --- the decoder table ----------------------------------------------------------------------

def test_the_table_has_every_compressed_syntax_dicomio_supports() -> None:
    compressed = {uid for uid, syntax in TRANSFER_SYNTAXES.items()
                  if syntax.supported and not syntax.native}
    assert set(decode.DECODERS) == compressed


@pytest.mark.parametrize("uid", sorted(decode.DECODERS))
def test_the_table_lists_every_plugin_pydicom_has_installed(uid: str) -> None:
    from pydicom.pixels.decoders.base import get_decoder

    assert set(get_decoder(uid).available_plugins) <= set(decode.DECODERS[uid].plugins)


def test_imagecodecs_decodes_grey_dct_jpeg_first() -> None:
    """libjpeg-turbo (imagecodecs) decodes baseline and 12-bit lossy JPEG as GDCM does
    (tests/pixels/test_fallback.py checks the values); colour keeps pydicom's YBR path."""
    for uid in (ts.JPEG_BASELINE_8BIT, ts.JPEG_EXTENDED_12BIT):
        syntax = ts.lookup(uid)
        assert decode.DECODERS[uid].imagecodecs is fast.dct_jpeg
        assert decode.decoders_for(syntax)[0].name == "imagecodecs"
        colour = PixelFormat(8, 8, 8, 8, 7, 0, samples_per_pixel=3,
                             photometric_interpretation="YBR_FULL_422")
        assert "imagecodecs" not in [d.name for d in decode.decoders_for(syntax, colour)]


def test_a_pydicom_decoder_names_its_plugin() -> None:
    chosen = choose_decoder(ts.lookup(ts.JPEG2000_LOSSLESS), prefer="pylibjpeg")
    assert chosen == DecoderInfo("pydicom/pylibjpeg", "pylibjpeg", False, plugin="pylibjpeg")
    fastest = choose_decoder(ts.lookup(ts.JPEG2000_LOSSLESS))
    assert fastest is not None and fastest.name == "imagecodecs" and fastest.plugin is None


def test_frames_are_decoded_by_the_table_entry_not_by_the_decoder_name(make_series,
                                                                      monkeypatch) -> None:
    truth = make_series(SMALL.with_(transfer_syntax=RLE))
    _, encoded = _encoded(truth.files[0])
    marker = np.full((24, 20), 7, dtype=np.uint16)
    monkeypatch.setitem(decode.DECODERS, RLE,
                        decode.SyntaxDecoders(lambda data, fmt, out, threads=1: marker,
                                              ("pydicom",)))
    # Whatever it is called, a decoder without a pydicom plugin decodes with the entry's
    # imagecodecs function...
    assert encoded.decode(0, DecoderInfo("renamed", "imagecodecs", True)) is marker
    # ... and one with a plugin through pydicom, with that plugin.
    by_plugin = encoded.decode(0, DecoderInfo("also renamed", "pydicom", False, plugin="pydicom"))
    np.testing.assert_array_equal(by_plugin, truth.stored[0])


def test_a_flood_of_empty_items_is_refused_without_walking_it(make_series) -> None:
    """200,000 empty items before the one real fragment: 1.6 MB that would take seconds to
    walk, for a frame that needs one item."""
    truth = make_series(SMALL.with_(transfer_syntax=RLE))
    empty = b"\xfe\xff\x00\xe0\x00\x00\x00\x00"

    def flood(ds: pydicom.Dataset) -> None:
        frame = pydicom.encaps.get_frame(ds.PixelData, 0, number_of_frames=1)
        item = b"\xfe\xff\x00\xe0" + len(frame).to_bytes(4, "little") + frame
        ds.PixelData = empty + empty * 200_000 + item + b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"

    rewrite(truth.files[1:2], flood)
    with pytest.raises(dicomio.CorruptDataError, match="more than 4096 items") as info:
        dicomio.load_volume(truth.folder, backend="direct")
    assert truth.files[1].name in str(info.value)


def test_a_forged_pixel_data_length_is_refused_before_reading(make_series) -> None:
    """An encapsulated Pixel Data element declaring 4 GiB in a file of a few hundred bytes: the
    read is refused from the file's size, never attempted (it was a MemoryError)."""
    truth = make_series(SMALL.with_(transfer_syntax=RLE))
    header, _ = _encoded(truth.files[2])
    data = bytearray(truth.files[2].read_bytes())
    length_at = header.pixel_data_offset - 4  # explicit VR OB: the 4-byte length before it
    data[length_at:length_at + 4] = (0xFFFFFFFE).to_bytes(4, "little")
    truth.files[2].write_bytes(bytes(data))
    forged = read_header(truth.files[2])
    assert forged.pixel_data_length == 0xFFFFFFFE
    with pytest.raises(dicomio.CorruptDataError, match="4294967294") as info:
        read_pixel_value(forged)
    assert info.value.path == truth.files[2]


def test_the_frames_of_one_multi_frame_file_decode_on_every_core(tmp_path, monkeypatch) -> None:
    """One enhanced file of compressed frames is one file: its frames, not files, are shared
    out to the decoding threads; the values are the writer's."""
    import threading
    import time

    from dicomio.testing.multiframe import write_enhanced

    truth = write_enhanced(tmp_path / "enhanced",
                           SeriesSpec(shape=(12, 32, 24), modality="MR",
                                      transfer_syntax=J2K_LOSSLESS))
    threads: set[str] = set()
    decode_frame = EncodedPixels.decode

    def recording(self, *args, **kwargs):
        threads.add(threading.current_thread().name)
        time.sleep(0.02)  # a frame takes long enough for the other thread to take the next
        return decode_frame(self, *args, **kwargs)

    monkeypatch.setattr(EncodedPixels, "decode", recording)
    volume = dicomio.load_volume(truth.folder, backend="direct", rescale=False, workers=2)
    np.testing.assert_array_equal(volume.array, truth.stored[0])
    assert len(threads) == 2 and all(name.startswith("dicomio-frames") for name in threads)
    threads.clear()
    dicomio.load_volume(truth.folder, backend="direct", workers=1)
    assert threads == {threading.current_thread().name}


@pytest.mark.parametrize(("files", "workers", "expected"), [(1, 2, 2), (2, 2, 1), (1, 1, 1)])
def test_openjpeg_splits_a_frame_only_when_frames_are_fewer_than_cores(
        make_series, monkeypatch, files: int, workers: int, expected: int) -> None:
    truth = make_series(SeriesSpec(shape=(files, 64, 48), transfer_syntax=J2K_LOSSLESS))
    options: list[dict] = []
    _record_functions(monkeypatch, options)
    volume = dicomio.load_volume(truth.folder, backend="direct", rescale=False, workers=workers)
    np.testing.assert_array_equal(volume.array, truth.stored)
    assert options and all(o == {"numthreads": expected} for o in options), options
