"""``dicomio convert PATH... FOLDER --name TEMPLATE``: each series (or the one ``--series``
names) written into FOLDER under the name the template gives, as dcm2niix's ``-o`` and
``-f`` do, one after another in this process."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from dicomio.cli.console import exit_on_error, usage_error
from dicomio.cli.convert_series import WriteOptions, load_to_write, print_written, write_series
from dicomio.cli.loading import print_warnings
from dicomio.dicom.source import read_dataset
from dicomio.dicom.types import FileHeader

__all__ = ["convert_named", "output_name"]

_ENDINGS = {"nifti": (".nii.gz", ".nii"), "nrrd": (".nrrd", ".nrrd"), "npz": (".npz", ".npz")}


def output_name(template: str, first: FileHeader) -> str:
    """The file name (without ending) ``template`` gives for the series whose first image
    is ``first``, made safe for file systems; an unknown placeholder is a usage error."""
    from dicomio.io.naming import expand, safe_name

    dataset = read_dataset(first.origin, stop_before_pixels=True)
    try:
        return safe_name(expand(template, dataset, first.path.parent.name))
    except ValueError as exc:
        usage_error(f"--name: {exc}")


def convert_named(paths: Sequence[Path], folder: Path, template: str, options: WriteOptions,
                  gzip: bool, quiet: bool, show: bool) -> None:
    """Write the series under ``paths`` into ``folder`` under the names ``template`` gives
    (see :mod:`dicomio.io.naming`); each name unique in the folder (``a``, ``b``...
    appended, as dcm2niix does)."""
    from dicomio.io.naming import expand, unique_path
    from dicomio.series.choose import list_series

    try:
        expand(template, {}, "")  # an unknown placeholder: before anything is read
    except ValueError as exc:
        usage_error(f"--name: {exc}")
    if folder.exists() and not folder.is_dir():
        usage_error(f"{folder} is not a folder: with --name, OUTPUT is the folder to write into")
    folder.mkdir(parents=True, exist_ok=True)
    if options.load.series is not None:
        keys = [options.load.series]
    else:
        with exit_on_error():
            keys = [s.key for s in list_series(list(paths),
                                               follow_symlinks=options.load.follow_symlinks)]
    suffix = _ENDINGS[options.format][0 if gzip else 1]
    taken: set[Path] = set()
    for key in keys:
        loaded, scaling = load_to_write(list(paths), replace(
            options, load=replace(options.load, series=key)), show)
        print_warnings(loaded, quiet)
        stem = output_name(template, loaded.layout.volumes[0][0].header)
        target = unique_path(folder, stem, suffix, taken)
        taken.add(target)
        written = write_series(loaded, target, options, scaling)
        if not quiet:
            print_written(loaded, written, options.format, scaling)
