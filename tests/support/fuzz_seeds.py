"""The seeds the fuzzer mutates: generated series and real ones from the corpus, of every kind
dicomio reads (classic, mosaic, enhanced, RT dose; native, deflated, RLE, JPEG family, JPEG
2000; 3-D and 4-D).

Seeds are read into memory (file name → bytes): the corpus is only ever read, and every input is
written to a scratch folder of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.support.fuzz_series import Files


@dataclass(frozen=True)
class Seed:
    """A series to mutate.

    Attributes
    ----------
    name
        Short and stable (it names kept inputs).
    files
        Relative file name → bytes.
    four_d
        Whether the series is 4-D: ``load_4d`` reads it (``load_volume`` must refuse it).
    weight
        How often it is chosen, relative to the others (large seeds cost more per input).
    """

    name: str
    files: Files
    four_d: bool = False
    weight: float = 1.0

    @property
    def size(self) -> int:
        return sum(len(data) for data in self.files.values())


def _read_folder(folder: Path) -> Files:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def generated_seeds(folder: Path) -> list[Seed]:
    """Small generated series: classic in 13 syntaxes and pixel formats, enhanced and mosaic
    (3-D and 4-D), classic 4-D. A kind whose encoder is not installed is left out."""
    from dicomio.testing import multiframe as m
    from dicomio.testing import synthetic as s

    base = s.SeriesSpec(shape=(4, 12, 16))
    mr = base.with_(modality="MR", rescale_intercept=0.0)
    makers: dict[str, tuple[Callable[[Path], object], bool]] = {
        "gen-explicit": (lambda f: s.write_series(f, base), False),
        "gen-implicit": (lambda f: s.write_series(f, base.with_(transfer_syntax=s.IMPLICIT_LE)),
                         False),
        "gen-big-endian": (lambda f: s.write_series(
            f, base.with_(transfer_syntax=s.EXPLICIT_BE)), False),
        "gen-deflated": (lambda f: s.write_series(f, base.with_(transfer_syntax=s.DEFLATED)),
                         False),
        "gen-signed-garbage": (lambda f: s.write_series(
            f, base.with_(signed=True, high_bit_garbage=True, rescale_slope=0.5)), False),
        "gen-rle": (lambda f: s.write_series(f, base.with_(transfer_syntax=s.RLE)), False),
        "gen-jpeg-lossless": (lambda f: s.write_series(
            f, base.with_(transfer_syntax=s.JPEG_LOSSLESS_SV1)), False),
        "gen-jpeg-ls": (lambda f: s.write_series(f, base.with_(transfer_syntax=s.JPEG_LS)),
                        False),
        "gen-j2k": (lambda f: s.write_series(f, base.with_(transfer_syntax=s.J2K_LOSSLESS)),
                    False),
        "gen-jpeg-baseline": (lambda f: s.write_series(f, base.with_(
            transfer_syntax=s.JPEG_BASELINE, bits_allocated=8, bits_stored=8,
            rescale_intercept=0)), False),
        "gen-rgb": (lambda f: s.write_series(f, base.with_(samples_per_pixel=3)), False),
        "gen-enhanced": (lambda f: m.write_enhanced(f, mr), False),
        "gen-enhanced-4d": (lambda f: m.write_enhanced(f, mr, volumes=2, files=2), True),
        "gen-mosaic": (lambda f: m.write_mosaic(f), False),
        "gen-mosaic-descending-4d": (lambda f: m.write_mosaic(f, volumes=2, descending=True),
                                     True),
        "gen-classic-4d": (lambda f: m.write_4d(f, base, volumes=2), True),
    }
    seeds = []
    for name, (make, four_d) in makers.items():
        target = folder / name
        try:
            make(target)
        except Exception:  # an encoder that is not installed
            continue
        seeds.append(Seed(name, _read_folder(target), four_d))
    return seeds


#: Real seeds: name → (path in the corpus, 4-D, weight). A folder is one series.
CORPUS_SEEDS: dict[str, tuple[str, bool, float]] = {
    "siemens-mr": ("dicom2nifti/data/siemens/anatomical/001", False, 1.0),
    "hitachi-mr": ("dicom2nifti/data/hitachi/anatomical/001", False, 1.0),
    "ge-fmri-4d": ("dicom2nifti/data/ge/fmri/001", True, 1.0),
    "generic-j2k": ("dicom2nifti/data/generic/compressed/001", False, 1.0),
    "generic-jpeg-lossless": ("dicom2nifti/data/generic/compressed_jpeg/001", False, 1.0),
    "generic-jpeg-ls": ("dicom2nifti/data/generic/compressed_jpegls/001", False, 1.0),
    "generic-rle": ("dicom2nifti/data/generic/compressed_rle/001", False, 1.0),
    "generic-rgb-j2k": ("dicom2nifti/data/generic/rgb/001", False, 1.0),
    "ct-small": ("pydicom_testfiles/test_files/CT_small.dcm", False, 1.0),
    "mr-big-endian": ("pydicom_testfiles/test_files/MR_small_bigendian.dcm", False, 1.0),
    "12bit-signed": ("dcm_qa_12bit/In/12bitSigned_0x0F0F.dcm", False, 1.0),
    "mosaic-explicit": ("dcm_qa_ts/In/1.dcm", False, 1.0),
    "mosaic-rle": ("dcm_qa_ts/In/4.dcm", False, 1.0),
    "mosaic-big-endian": ("dcm_qa_ts/In/3.dcm", False, 0.5),
    "mosaic-j2k": ("dcm_qa_ts/In/9.dcm", False, 0.5),
    "enhanced-xa10-4d": ("dcm_qa_enh/In/Siemens/XA10", True, 1.0),
    "enhanced-xa30": ("dcm_qa_xa30/In/5_anat-T1w_acq-tfl", False, 0.3),
    "enhanced-ct": ("pydicom_data/data/eCT_Supplemental.dcm", False, 0.5),
    "enhanced-philips-two-types": ("dcm_qa_enh/In/Philips", False, 0.3),
    "deflate": ("pydicom_testfiles/test_files/image_dfl.dcm", False, 1.0),
    "deflated-frames": ("pydicom_data/data/liver_deflate.dcm", False, 0.5),
    "multiframe-j2k": ("pydicom_data/data/emri_small_jpeg_2k_lossless.dcm", False, 0.5),
    "jpeg-ybr": ("pydicom_testfiles/test_files/SC_rgb_jpeg_dcmtk.dcm", False, 0.5),
    "jpeg-ls-near": ("pydicom_testfiles/test_files/JPEGLSNearLossless_16.dcm", False, 0.5),
    "rt-dose": ("pydicom_testfiles/test_files/rtdose.dcm", False, 0.5),
}


def corpus_seeds(corpus: Path, names: list[str] | None = None) -> list[Seed]:
    """The real seeds found under ``corpus`` (all of :data:`CORPUS_SEEDS`, or ``names``)."""
    seeds = []
    for name in names or list(CORPUS_SEEDS):
        relative, four_d, weight = CORPUS_SEEDS[name]
        path = corpus / relative
        if path.is_dir():
            seeds.append(Seed(name, _read_folder(path), four_d, weight))
        elif path.is_file():
            seeds.append(Seed(name, {path.name: path.read_bytes()}, four_d, weight))
    return seeds
