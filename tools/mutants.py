"""The bugs :mod:`tools.mutation_check` plants in dicomio, each as one exact source edit.

Each :class:`Mutant` names a file of the package, a snippet that must occur in it exactly once,
what replaces it, and the bug that edit plants. A snippet that no longer matches (the code was
rewritten) is an error (:class:`StaleMutantError`), never a skipped mutant: update the mutant
to plant the same bug in the new code.

``quick`` lists the tests the CI-sized run (``--quick``) gives each mutant: at least one
real-data and one generated-data test that the full run showed failing under it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["MUTANTS", "Mutant", "StaleMutantError", "apply", "check_snippets"]


class StaleMutantError(RuntimeError):
    """A mutant's snippet does not occur exactly once in its file."""


@dataclass(frozen=True)
class Mutant:
    """One planted bug.

    Attributes
    ----------
    name
        A short stable name (the table's first column, ``--mutant NAME``).
    path
        The file, relative to the repository root.
    original
        Source text that must occur exactly once in ``path``.
    replacement
        What replaces it.
    description
        The bug, in one line.
    quick
        Test node ids for ``--quick``: at least one real-data and one generated-data test.
    """

    name: str
    path: str
    original: str
    replacement: str
    description: str
    quick: tuple[str, ...] = ()


def _occurrences(root: Path, mutant: Mutant) -> int:
    path = root / mutant.path
    if not path.is_file():
        return 0
    return path.read_text(encoding="utf-8").count(mutant.original)


def check_snippets(root: Path, mutants: tuple[Mutant, ...]) -> None:
    """Raise :class:`StaleMutantError` naming every mutant whose snippet does not occur exactly
    once in its file under ``root``."""
    stale = [f"{m.name}: {m.path} holds its snippet {_occurrences(root, m)} times, not once:\n"
             f"{m.original}" for m in mutants if _occurrences(root, m) != 1]
    if stale:
        raise StaleMutantError("stale mutants (the code they edit has changed; make each plant "
                               "its bug in the new code):\n" + "\n".join(stale))


def apply(root: Path, mutant: Mutant) -> None:
    """Plant ``mutant`` in the copy of the repository at ``root``."""
    check_snippets(root, (mutant,))
    path = root / mutant.path
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(mutant.original, mutant.replacement), encoding="utf-8")


_TRUTH = "tests/contract/test_conformance.py::test_backend_returns_the_truth"
_REFERENCE = "tests/contract/test_agreement.py::test_agrees_with_the_reference"
_AT_POSITIONS = ("tests/contract/test_corpus.py::"
                 "test_corpus_slices_are_the_files_at_the_affine_positions")
_CORPUS = "tests/contract/test_corpus.py"
_TWELVE_BIT = f"{_CORPUS}::test_twelve_bit_high_bits_are_masked_and_sign_extended"
_SYNTAXES = f"{_CORPUS}::test_same_pixels_in_every_syntax_decode_identically"
_NON_ISOTROPIC = f"{_REFERENCE}[dicom2nifti/generic/anatomical/002_non_isotropic-direct]"

MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "normal-sign",
        "dicomio/geometry/conventions.py",
        "    normal = np.cross(iop[:3], iop[3:6])\n",
        "    normal = np.cross(iop[3:6], iop[:3])\n",
        "slice normal taken as column × row cosine: its sign flipped, slices sorted the "
        "other way",
        (f"{_TRUTH}[axial-direct]", f"{_AT_POSITIONS}[anatomical/001]"),
    ),
    Mutant(
        "pixel-spacing-order",
        "dicomio/geometry/conventions.py",
        "    affine[:3, 1] = iop[3:6] * float(pixel_spacing[0])\n"
        "    affine[:3, 2] = iop[0:3] * float(pixel_spacing[1])\n",
        "    affine[:3, 1] = iop[3:6] * float(pixel_spacing[1])\n"
        "    affine[:3, 2] = iop[0:3] * float(pixel_spacing[0])\n",
        "PixelSpacing read as (column, row) spacing: [0] and [1] swapped",
        (f"{_TRUTH}[non-square-anisotropic-direct]", _NON_ISOTROPIC),
    ),
    Mutant(
        "cosines-swapped",
        "dicomio/geometry/conventions.py",
        "    affine[:3, 1] = iop[3:6] * float(pixel_spacing[0])\n"
        "    affine[:3, 2] = iop[0:3] * float(pixel_spacing[1])\n",
        "    affine[:3, 1] = iop[0:3] * float(pixel_spacing[0])\n"
        "    affine[:3, 2] = iop[3:6] * float(pixel_spacing[1])\n",
        "row and column cosines of ImageOrientationPatient swapped in the affine",
        (f"{_TRUTH}[oblique-direct]", f"{_AT_POSITIONS}[anatomical/001]"),
    ),
    Mutant(
        "instance-number-order",
        "dicomio/series/group.py",
        "    return [frames[i] for i in geometry.order], geometry, None\n",
        "    return sorted(frames, key=_stored_order), geometry, None\n",
        "slices sorted by InstanceNumber instead of their position along the normal",
        (f"{_TRUTH}[reversed-direct]", f"{_AT_POSITIONS}[failing/slicecount/001]"),
    ),
    Mutant(
        "origin-last-slice",
        "dicomio/geometry/stack.py",
        "    affine = affine_from(orientation, pixel_spacing, points[0], slice_step)\n",
        "    affine = affine_from(orientation, pixel_spacing, points[-1], slice_step)\n",
        "origin taken from the last slice's ImagePositionPatient instead of the first's",
        (f"{_TRUTH}[axial-direct]", f"{_AT_POSITIONS}[anatomical/001]"),
    ),
    Mutant(
        "spacing-from-thickness",
        "dicomio/geometry/stack.py",
        "        spacing = nominal\n"
        "        slice_step = normal * nominal\n",
        "        spacing = slice_thickness or nominal\n"
        "        slice_step = normal * spacing\n",
        "slice spacing taken from SliceThickness instead of the positions",
        (f"{_TRUTH}[thick-slices-overlap-direct]",
         f"{_REFERENCE}[dcm_qa/sag_asc_35sl-direct]"),
    ),
    Mutant(
        "no-sign-extension",
        "dicomio/pixels/values.py",
        "        if fmt.signed:\n"
        "            values <<= spare\n"
        "            signed = values.view(fmt.stored_dtype)\n"
        "            signed >>= spare  # arithmetic shift: sign-extends\n"
        "            return signed\n",
        "",
        "signed stored values (PixelRepresentation 1, BitsStored < BitsAllocated) masked but "
        "not sign-extended",
        (f"{_TRUTH}[12-bit-signed-garbage-direct]", _TWELVE_BIT),
    ),
    Mutant(
        "high-bits-kept",
        "dicomio/pixels/values.py",
        "        values &= (1 << fmt.bits_stored) - 1\n",
        "",
        "bits above BitsStored not masked off unsigned stored values",
        (f"{_TRUTH}[12-bit-garbage-high-bits-direct]", _TWELVE_BIT),
    ),
    Mutant(
        "monochrome1-inverted",
        "dicomio/backends/sitk_backend.py",
        "        stored = ~stored.astype(np.int64)\n",
        "        stored = stored.astype(np.int64)\n",
        "MONOCHROME1 returned inverted: GDCM's inversion not undone (SimpleITK backend)",
        ("tests/contract/test_conformance.py::test_monochrome1_is_returned_as_stored[12-bit-sitk]",
         "tests/contract/test_monochrome1_corpus.py::"
         "test_monochrome1_corpus_images_are_returned_as_stored"
         "[pydicom_testfiles/test_files/dicomdirtests/77654033/CR1/6154-sitk]"),
    ),
    Mutant(
        "big-endian-direct",
        "dicomio/backends/direct.py",
        "            if not header.transfer_syntax.little_endian and unsigned.itemsize > 1:\n"
        "                target.byteswap(inplace=True)\n",
        "",
        "big-endian pixel data not byte-swapped (direct backend)",
        (f"{_TRUTH}[ts-1.2.2-direct]", f"{_SYNTAXES}[MR_small-direct]"),
    ),
    Mutant(
        "big-endian-pydicom",
        "dicomio/pixels/values.py",
        "    if not values.dtype.isnative:  # pydicom returns big-endian data in big-endian "
        "dtypes\n"
        "        values = values.astype(values.dtype.newbyteorder(\"=\"))\n",
        "",
        "big-endian arrays from pydicom reinterpreted as native without swapping their bytes",
        (f"{_TRUTH}[ts-1.2.2-pydicom]", f"{_SYNTAXES}[MR_small-pydicom]"),
    ),
    Mutant(
        "slope-ignored",
        "dicomio/pixels/values.py",
        "    if slope != 1:\n"
        "        exact *= slope\n",
        "",
        "RescaleSlope ignored (only the intercept applied)",
        (f"{_TRUTH}[float-rescale-direct]", _NON_ISOTROPIC),
    ),
    Mutant(
        "first-slice-rescale",
        "dicomio/backends/base.py",
        "        entry[1].append((frame.index, k, frame.slope, frame.intercept))\n",
        "        entry[1].append((frame.index, k, series.frames[0].slope,\n"
        "                         series.frames[0].intercept))\n",
        "the first slice's RescaleSlope/RescaleIntercept applied to every slice",
        (f"{_TRUTH}[per-slice-intercepts-direct]", _NON_ISOTROPIC),
    ),
)
