"""decoder_library: the codec library each decoder runs, as the cross-check names them."""

from __future__ import annotations

import subprocess

import pytest

from dicomio.backends.registry import get_spec
from dicomio.pixels.libraries import UNCOMPRESSED, decoder_library

# The transfer syntax UIDs, as PS3.6 lists them.
IMPLICIT_LE, EXPLICIT_LE = "1.2.840.10008.1.2", "1.2.840.10008.1.2.1"
JPEG_BASELINE, JPEG_LOSSLESS_SV1 = "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.70"
JPEG_LS_LOSSLESS, J2K_LOSSLESS = "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.90"
HTJ2K_LOSSLESS, RLE = "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.5"


def test_libraries_shared_by_decoders_of_different_names() -> None:
    assert {decoder_library(d, J2K_LOSSLESS)
            for d in ("imagecodecs", "pydicom/pylibjpeg", "SimpleITK/GDCM")} == {"OpenJPEG"}
    assert decoder_library("imagecodecs", EXPLICIT_LE) == UNCOMPRESSED
    assert decoder_library("a new decoder", J2K_LOSSLESS) == "a new decoder"


def test_dcm2niix_is_looked_up_whatever_its_version() -> None:
    decoder = "dcm2niix v1.0.20260724"
    assert decoder_library(decoder, J2K_LOSSLESS) == "OpenJPEG"
    assert decoder_library(decoder, HTJ2K_LOSSLESS) == "OpenJPEG"
    assert decoder_library(decoder, JPEG_LS_LOSSLESS) == "CharLS"
    assert decoder_library(decoder, JPEG_LOSSLESS_SV1) == "dcm2niix lossless JPEG (jpg_0XC3)"
    assert decoder_library(decoder, JPEG_BASELINE) == "NanoJPEG (dcm2niix)"
    assert decoder_library(decoder, RLE) == "dcm2niix RLE"
    assert decoder_library("dcm2niix v0.9", IMPLICIT_LE) == UNCOMPRESSED


def test_the_installed_dcm2niix_says_it_runs_openjpeg_and_charls() -> None:
    """The table's OpenJPEG and CharLS for dcm2niix are what its build prints in its help."""
    spec = get_spec("dcm2niix")
    if not spec.installed():
        pytest.skip(f"dcm2niix is not installed: {spec.install_hint()}")
    import dcm2niix

    done = subprocess.run([str(dcm2niix.bin), "-h"], capture_output=True, text=True,
                          check=False, stdin=subprocess.DEVNULL)
    banner = (done.stdout + done.stderr).splitlines()[0]
    assert "(JP2:OpenJPEG)" in banner and "(JP-LS:CharLS)" in banner
