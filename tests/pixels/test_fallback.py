"""When a decoder cannot decode a sound frame, the next one does, and the provenance says so;
with ``backend="auto"``, when no decoder of a backend can, the next backend reads the series.

Truth comes from outside dicomio: the synthetic writer's stored values, and SimpleITK (GDCM)
reading the corpus' 12-bit lossy JPEG files itself. A decoder failing on a sound frame is a
fault no installed decoder shows on the data here but one (pylibjpeg on the 12-bit files):
imagecodecs' failure is simulated by replacing its function in the decoder table.
"""

from __future__ import annotations

import numpy as np
import pytest

import dicomio
from dicomio.dicom import transfer_syntax as ts
from dicomio.pixels import decoders as decode
from dicomio.testing.synthetic import JPEG_LOSSLESS_SV1, SeriesSpec

SMALL = SeriesSpec(shape=(4, 24, 20))

#: 12-bit lossy JPEG (.51) that pylibjpeg refuses (libjpeg error -1038) and GDCM decodes.
TWELVE_BIT_LOSSY = ("pydicom_testfiles/test_files/JPEG-lossy.dcm",
                    "pylibjpeg_data/ds/JPEGExtended/RG2_JPLY.dcm")


def _failing(data: bytes, fmt: object, out: object, *, threads: int = 1) -> np.ndarray:
    raise RuntimeError("simulated decoder failure")


def _imagecodecs_fails(monkeypatch: pytest.MonkeyPatch, uid: str) -> None:
    entry = decode.DECODERS[uid]
    monkeypatch.setitem(decode.DECODERS, uid, decode.SyntaxDecoders(_failing, entry.plugins))


def _sitk_reading(path) -> np.ndarray:
    sitk = pytest.importorskip("SimpleITK")
    return sitk.GetArrayFromImage(sitk.ReadImage(str(path)))


@pytest.mark.parametrize("name", TWELVE_BIT_LOSSY)
def test_twelve_bit_lossy_jpeg_reads_by_default_as_gdcm_reads_it(corpus, name: str) -> None:
    path = corpus(name)
    volume = dicomio.load_volume(path)
    assert volume.provenance.decoders == ("imagecodecs",)
    expected = _sitk_reading(path)
    assert volume.array.shape == expected.shape
    np.testing.assert_array_equal(volume.array.astype(np.float64), expected.astype(np.float64))


def test_a_frame_a_decoder_fails_on_is_decoded_by_the_next(make_series, monkeypatch) -> None:
    truth = make_series(SMALL.with_(transfer_syntax=JPEG_LOSSLESS_SV1))
    _imagecodecs_fails(monkeypatch, JPEG_LOSSLESS_SV1)
    volume = dicomio.load_volume(truth.folder, backend="direct", rescale=False)
    np.testing.assert_array_equal(volume.array, truth.stored)
    assert volume.provenance.decoders == ("pydicom/pylibjpeg",)
    (said,) = volume.provenance.warnings  # one warning for every file it happened to
    assert said.startswith("frame 0 decoded by pydicom/pylibjpeg, tried first: ")
    assert "with imagecodecs: RuntimeError: simulated decoder failure" in said
    assert f"({len(truth.files)} files: {truth.files[0]}," in said


def test_a_decoder_asked_for_by_name_never_falls_back(make_series, monkeypatch) -> None:
    truth = make_series(SMALL.with_(transfer_syntax=JPEG_LOSSLESS_SV1))
    _imagecodecs_fails(monkeypatch, JPEG_LOSSLESS_SV1)
    with pytest.raises(dicomio.DecoderFailedError, match="simulated decoder failure") as info:
        dicomio.load_volume(truth.folder, backend="direct", decoder="imagecodecs")
    assert info.value.path in truth.files


def test_a_damaged_frame_is_refused_not_passed_to_the_next_decoder(make_series) -> None:
    truth = make_series(SMALL.with_(transfer_syntax=JPEG_LOSSLESS_SV1))
    data = truth.files[1].read_bytes()
    truth.files[1].write_bytes(data[:-40])  # the stream loses its end-of-image marker
    with pytest.raises(dicomio.CorruptDataError) as info:
        dicomio.load_volume(truth.folder, backend="direct")
    assert not isinstance(info.value, dicomio.DecoderFailedError)


def test_every_plugin_of_the_pydicom_backend_is_tried_and_named(corpus) -> None:
    path = corpus(TWELVE_BIT_LOSSY[0])
    plugins = [d.name for d in decode.decoders_for(ts.lookup(ts.JPEG_EXTENDED_12BIT))
               if d.plugin is not None]
    with pytest.raises(dicomio.DecoderFailedError) as info:
        dicomio.load_volume(path, backend="pydicom")
    assert info.value.path == path
    assert all(name in str(info.value) for name in plugins), (plugins, str(info.value))


def test_auto_reads_with_the_next_backend_when_no_decoder_of_one_can(corpus,
                                                                     monkeypatch) -> None:
    """imagecodecs fails (simulated), pydicom's plugins all fail (really), GDCM decodes."""
    path = corpus(TWELVE_BIT_LOSSY[0])
    expected = _sitk_reading(path)
    _imagecodecs_fails(monkeypatch, ts.JPEG_EXTENDED_12BIT)
    volume = dicomio.load_volume(path)
    assert volume.provenance.backend == "sitk"
    passed = dict(volume.provenance.skipped_backends)
    assert "failed to decode" in passed["direct"] and "failed to decode" in passed["pydicom"]
    np.testing.assert_array_equal(volume.array.astype(np.float64), expected.astype(np.float64))


def test_a_named_backend_never_falls_back(corpus, monkeypatch) -> None:
    path = corpus(TWELVE_BIT_LOSSY[0])
    _imagecodecs_fails(monkeypatch, ts.JPEG_EXTENDED_12BIT)
    with pytest.raises(dicomio.DecoderFailedError):
        dicomio.load_volume(path, backend="direct")
