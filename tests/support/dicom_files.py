"""Change written DICOM files in place, as tests do to make a series show one problem."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate


def rewrite(files: Path | Iterable[Path], change: Callable[[Dataset], object] | None = None,
            /, **attributes: object) -> None:
    """Read each file with pydicom, change it and save it back to the same path.

    Parameters
    ----------
    files
        One file, or several (a written series' ``files``).
    change
        Called with each dataset before ``attributes`` are set, for changes that keywords
        cannot say (file meta, encapsulated pixel data, values computed from the dataset).
    **attributes
        Keyword → new value; ``None`` deletes the attribute.

    Examples
    --------
    >>> rewrite(truth.files, PhotometricInterpretation="MONOCHROME1")  # doctest: +SKIP
    >>> rewrite(truth.files[1], ImagePositionPatient=None)  # doctest: +SKIP
    """
    paths = [Path(files)] if isinstance(files, (str, os.PathLike)) else list(files)
    for path in paths:
        dataset = pydicom.dcmread(path)
        if change is not None:
            change(dataset)
        for keyword, value in attributes.items():
            if value is None:
                delattr(dataset, keyword)
            else:
                setattr(dataset, keyword, value)
        dataset.save_as(path)


#: MPEG2 Main Profile / Main Level: a video syntax no dicomio decoder reads.
MPEG2 = "1.2.840.10008.1.2.4.100"


def as_mpeg2(dataset: Dataset) -> None:
    """Relabel ``dataset`` as MPEG2 video, its pixels encapsulated as they are (a change for
    :func:`rewrite`): a transfer syntax that no dicomio decoder reads."""
    dataset.PixelData = encapsulate([dataset.PixelData])
    dataset.file_meta.TransferSyntaxUID = MPEG2
