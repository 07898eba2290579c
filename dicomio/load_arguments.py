"""The arguments of :func:`dicomio.load_volume` and :func:`dicomio.load_4d`, checked before any
file is read (:mod:`dicomio.arguments` has the checks)."""

from __future__ import annotations

from typing import get_args

import numpy as np

from dicomio.arguments import check_choice, check_count, check_flag, check_instance
from dicomio.backends.registry import get_spec
from dicomio.geometry.stack import GeometryTolerances
from dicomio.pixels.decoders import check_decoder
from dicomio.read import Irregular

__all__ = ["check_load_arguments"]


def check_load_arguments(backend: object, series: object, rescale: object, irregular: object,
                         ignore_unreadable: object, workers: object, decoder: object,
                         tolerances: object, follow_symlinks: object) -> None:
    """Refuse what :func:`~dicomio.load_volume` does not take, each argument as it names it.

    Raises
    ------
    InvalidArgumentError
        An unknown ``irregular`` or ``decoder`` (``"Resample"``, ``"nonsense"``), ``workers``
        below 1, a flag that is not a bool (``rescale="no"``), a ``series`` that is neither an
        index nor a key, ``tolerances`` that are not :class:`GeometryTolerances`.
    UnknownBackendError
        No backend of that name is registered (an :class:`InvalidArgumentError` too).
    """
    check_instance("backend", backend, str, "a backend's name")
    if backend != "auto":
        get_spec(str(backend))  # lists the registered backends
    check_instance("series", series, (int, np.integer, str, type(None)),
                   "an index, a SeriesInstanceUID (or uid#stack key) or None")
    check_flag("rescale", rescale)
    check_choice("irregular", irregular, get_args(Irregular))
    check_flag("ignore_unreadable", ignore_unreadable)
    check_count("workers", workers, none="the usable cores")
    check_decoder(decoder)
    check_instance("tolerances", tolerances, GeometryTolerances, "a GeometryTolerances")
    check_flag("follow_symlinks", follow_symlinks)
