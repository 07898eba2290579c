"""Backends: the readers that turn a chosen series' files into the contract's array.

One module per toolkit (:mod:`~dicomio.backends.direct`, :mod:`~dicomio.backends.pydicom_backend`,
:mod:`~dicomio.backends.sitk_backend`, :mod:`~dicomio.backends.vtk_backend`), each holding its
``SPEC`` and the rules of what it can read, and importing its toolkit only when it reads;
:mod:`~dicomio.backends.base` holds the types they share and :mod:`~dicomio.backends.registry`
the registry as data and the rules that pick one.
"""

from __future__ import annotations

from dicomio.backends.base import Backend, BackendSpec, ReadOptions, ReadResult, ReportedGeometry
from dicomio.backends.registry import (
    BackendInfo,
    auto_order,
    backend_specs,
    describe_backends,
    get_spec,
    register,
    select,
    unregister,
)

__all__ = [
    "Backend",
    "BackendInfo",
    "BackendSpec",
    "ReadOptions",
    "ReadResult",
    "ReportedGeometry",
    "auto_order",
    "backend_specs",
    "describe_backends",
    "get_spec",
    "register",
    "select",
    "unregister",
]
