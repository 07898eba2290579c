"""The backend registry, as data, and the rules that pick one.

Each backend module holds its :class:`BackendSpec` (``SPEC``) and the rules of what it can
read: whether it is installed and what it can decode are known without importing its toolkit.
The registry only lists them, in the order ``backend="auto"`` tries them: ``auto`` skips each
one that is not installed or cannot read the series (recording why), and the first survivor
reads. A backend named explicitly never falls back to another.

The order is fastest and most capable first: ``direct`` (dicomio's own reader, threads,
imagecodecs), ``pydicom`` (the reference, file by file), then the toolkits, which read fewer
series and whose values dicomio has to convert back: ``sitk`` (GDCM decodes every common
syntax) and last ``vtk`` (uncompressed little-endian grey or RGB only). ``dcm2niix`` (the
reference converter, run as a program on a copy of the series' files) is registered but never
tried by ``auto``: it is read only when named, to compare with.

The registry is one ordered mapping, changed only by :func:`register` and :func:`unregister`;
:func:`backend_specs`, :func:`auto_order` and :func:`get_spec` read it when called, so whatever
asks sees the backends registered at that moment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dicomio.backends.base import BackendSpec, not_on_disk
from dicomio.backends.dcm2niix_backend import SPEC as DCM2NIIX
from dicomio.backends.direct import SPEC as DIRECT
from dicomio.backends.pydicom_backend import SPEC as PYDICOM
from dicomio.backends.sitk_backend import SPEC as SITK
from dicomio.backends.vtk_backend import SPEC as VTK
from dicomio.dicom.transfer_syntax import TRANSFER_SYNTAXES, lookup
from dicomio.errors import (
    BackendCannotReadError,
    BackendUnavailableError,
    MissingDecoderError,
    NotOnDiskError,
    UnknownBackendError,
    UnsupportedTransferSyntaxError,
)
from dicomio.pixels.decoders import choose_decoder
from dicomio.series.info import SeriesInfo

__all__ = [
    "BackendInfo",
    "auto_order",
    "backend_specs",
    "describe_backends",
    "get_spec",
    "register",
    "select",
    "unregister",
]


@dataclass(frozen=True)
class _Entry:
    spec: BackendSpec
    auto: bool  # tried by backend="auto"


# Every registered backend by name: auto's, in the order it tries them, then the others in the
# order they were registered. Changed in place, never rebound.
_REGISTRY: dict[str, _Entry] = {
    **{spec.name: _Entry(spec, auto=True) for spec in (DIRECT, PYDICOM, SITK, VTK)},
    DCM2NIIX.name: _Entry(DCM2NIIX, auto=False),
}


def backend_specs() -> tuple[BackendSpec, ...]:
    """Every registered backend, installed or not: ``auto``'s in the order it tries them, then
    those it never tries."""
    return tuple(entry.spec for entry in _REGISTRY.values())


def auto_order() -> tuple[str, ...]:
    """The names of the backends ``backend="auto"`` tries, in order."""
    return tuple(name for name, entry in _REGISTRY.items() if entry.auto)


def get_spec(name: str) -> BackendSpec:
    """The spec of backend ``name``.

    Raises
    ------
    UnknownBackendError
        No backend of that name is registered (the message lists those that are).
    """
    try:
        return _REGISTRY[name].spec
    except KeyError:
        if name == "auto":  # a choice of load_volume's, not a backend: here one is named
            raise UnknownBackendError(f"'auto' is no backend of its own (loading picks one); "
                                      f"name one of {', '.join(_REGISTRY)}") from None
        known = ", ".join(["auto", *_REGISTRY])
        raise UnknownBackendError(f"unknown backend {name!r}; choose one of {known}") from None


def register(spec: BackendSpec, *, auto_position: int | None = None) -> None:
    """Add a backend, or replace the one of the same name.

    Parameters
    ----------
    spec
        The backend, described as data.
    auto_position
        Where ``backend="auto"`` tries it (0: first; as :meth:`list.insert` counts). None: a
        new backend is only read when named; a replaced one keeps its place.
    """
    previous = _REGISTRY.get(spec.name)
    if auto_position is None and previous is not None:
        _REGISTRY[spec.name] = _Entry(spec, previous.auto)
        return
    rest = [(name, entry) for name, entry in _REGISTRY.items() if name != spec.name]
    auto = [item for item in rest if item[1].auto]
    others = [item for item in rest if not item[1].auto]
    if auto_position is None:
        others.append((spec.name, _Entry(spec, auto=False)))
    else:
        auto.insert(auto_position, (spec.name, _Entry(spec, auto=True)))
    _REGISTRY.clear()
    _REGISTRY.update(auto + others)


def unregister(name: str) -> BackendSpec:
    """Remove backend ``name`` from the registry (and from ``auto``); return its spec.

    Raises
    ------
    UnknownBackendError
        No backend of that name is registered.
    """
    spec = get_spec(name)
    del _REGISTRY[name]
    return spec


@dataclass(frozen=True)
class BackendInfo:
    """One backend as ``dicomio backends`` reports it (plain data, JSON-able).

    Attributes
    ----------
    name
        What to pass as ``backend=``.
    installed, version
        Whether its toolkit is importable, and the toolkit's version (None if absent).
    extra, install
        The pip extra that installs it (None: always installed) and the command.
    auto_rank
        Its place in ``auto``'s order (1 = tried first), None if ``auto`` never tries it.
    summary
        How it reads.
    transfer_syntaxes
        UIDs of the transfer syntaxes it decodes (as installed now, for dicomio's own).
    """

    name: str
    installed: bool
    version: str | None
    extra: str | None
    install: str
    auto_rank: int | None
    summary: str
    transfer_syntaxes: tuple[str, ...]


def describe_backends() -> list[BackendInfo]:
    """Every registered backend, installed or not, without importing any toolkit."""
    order = auto_order()
    infos = []
    for spec in backend_specs():
        installed = spec.installed()
        infos.append(BackendInfo(
            name=spec.name,
            installed=installed,
            version=spec.version() if installed else None,
            extra=spec.extra,
            install=spec.install_hint(),
            auto_rank=order.index(spec.name) + 1 if spec.name in order else None,
            summary=spec.summary,
            transfer_syntaxes=tuple(uid for uid in TRANSFER_SYNTAXES if uid in spec.syntaxes()),
        ))
    return infos


def select(series: SeriesInfo, backend: str = "auto", *,
           failed: Sequence[tuple[str, str]] = ()) -> tuple[BackendSpec, list[tuple[str, str]]]:
    """Choose the backend that reads ``series``.

    ``failed``: ``(name, reason)`` of the backends ``auto`` already tried on it that failed to
    decode it; it passes them over, with their reasons, and takes the next one that can.

    Returns
    -------
    spec, skipped
        The chosen backend, and ``(name, reason)`` for each one ``auto`` passed over.

    Raises
    ------
    UnknownBackendError
        No backend of that name is registered.
    BackendUnavailableError
        The named backend is not installed (the message names the pip extra).
    BackendCannotReadError
        The named backend cannot read this series (the message names those that can); or, with
        ``auto``, none can.
    """
    if backend != "auto":
        spec = get_spec(backend)
        if not spec.installed():
            raise BackendUnavailableError(
                f"backend {spec.name!r} is not installed: {spec.install_hint()}")
        reason = spec.cannot_read(series)
        if reason is not None:
            able = [s.name for s in backend_specs()
                    if s.name != spec.name and s.cannot_read(series) is None]
            error = NotOnDiskError if spec.files_only and not_on_disk(series) else \
                BackendCannotReadError
            raise error(
                f"backend {spec.name!r} cannot read series {series.key}: {reason}; "
                f"backends that can: {', '.join(able) or 'none installed'}",
                path=series.frames[0].path)
        return spec, []
    skipped: list[tuple[str, str]] = list(failed)
    tried = {name for name, _ in failed}
    for name in auto_order():
        if name in tried:
            continue
        spec = get_spec(name)
        reason = spec.cannot_read(series)
        if reason is None:
            return spec, skipped
        skipped.append((name, reason))
    _raise_undecodable(series)
    details = "; ".join(f"{name}: {reason}" for name, reason in skipped)
    raise BackendCannotReadError(f"no installed backend can read series {series.key} ({details})",
                                 path=series.frames[0].path)


def _raise_undecodable(series: SeriesInfo) -> None:
    """Raise the precise error when a syntax of the series cannot be decoded at all."""
    for uid in series.transfer_syntaxes:
        try:
            choose_decoder(lookup(uid), series.pixel)
        except (UnsupportedTransferSyntaxError, MissingDecoderError) as exc:
            first = next(f.path for f in series.frames
                         if f.header.transfer_syntax.uid == uid)
            raise type(exc)(exc.message, path=first) from None
