"""The process that reads one series with one backend for :mod:`dicomio.compare.side_by_side`.

:func:`dicomio.compare.side_by_side.run_backend` starts a fresh interpreter that calls
:func:`main` with a folder: it reads ``request.pickle`` there, loads the series and leaves
``array.npy`` and ``result.json`` (which appears whole or not at all). Whatever the toolkit
prints goes to the log the parent set up; if the toolkit crashes or hangs, only this process
dies and the parent reports it.
"""

from __future__ import annotations

import json
import os
import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dicomio.backends.base import BackendSpec
from dicomio.backends.registry import register
from dicomio.errors import DicomIOError, Remedy
from dicomio.load import load_4d, load_volume
from dicomio.read import Irregular
from dicomio.series.info import SeriesInfo
from dicomio.series.layout import lay_out

__all__ = ["Request", "main"]


@dataclass(frozen=True)
class Request:
    """What the parent asks: the series, the backend, and how to read.

    ``spec`` is sent when it can be pickled, so that a backend registered at run time (a
    plugin, a test double) exists in this fresh interpreter too. ``irregular`` is as for
    :func:`dicomio.load_volume`; ``name_remedy`` names the argument a failure's reason offers
    (the command line: its option, :func:`dicomio.cli.options.option_for`).
    """

    series: SeriesInfo
    backend: str
    spec: BackendSpec | None
    rescale: bool
    irregular: Irregular = "accept"
    name_remedy: Callable[[Remedy], str] = Remedy.python


def run(request: Request, folder: Path) -> dict[str, Any]:
    """Load the series (with :func:`dicomio.load_4d` when it is 4-D); save the array; return
    the JSON-able result."""
    if request.spec is not None:
        register(request.spec)  # the parent's spec, of a backend registered at run time too
    try:
        start = time.perf_counter()
        # What the series is decides the loader: a 4-D series is compared volume by volume.
        four_d = lay_out(request.series).kind == "4d"
        load = load_4d if four_d else load_volume
        volume = load(request.series, request.backend, rescale=request.rescale,
                      irregular=request.irregular)
        seconds = time.perf_counter() - start
    except DicomIOError as exc:
        return {"status": "failed",
                "reason": f"{type(exc).__name__}: {exc.explained(request.name_remedy)}"}
    except Exception as exc:  # a toolkit's own exception: still a row, not a dead command
        return {"status": "failed", "reason": f"unexpected {type(exc).__name__}: {exc}"}
    np.save(folder / "array.npy", volume.array)
    provenance = volume.provenance
    reported = provenance.reported_geometry if provenance else None
    return {
        "status": "ok",
        "seconds": seconds,
        "dtype": str(volume.dtype),
        "shape": list(volume.shape),
        "volumes": len(volume.array) if four_d else None,  # compared volume by volume
        "decoders": list(provenance.decoders if provenance else ()),
        "warnings": list(provenance.warnings if provenance else ()),
        "affine": volume.affine.tolist(),
        # Whole: per-slice positions (pydicom, dcm2niix) and whether it has a direction (VTK).
        "reported": None if reported is None else reported.to_dict(),
    }


def main(folder: str) -> None:
    """Serve the request in ``folder``."""
    where = Path(folder)
    request = pickle.loads((where / "request.pickle").read_bytes())
    result = run(request, where)
    partial = where / "result.json.part"
    partial.write_text(json.dumps(result), encoding="utf-8")
    os.replace(partial, where / "result.json")
