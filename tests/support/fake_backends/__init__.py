"""Backends that misbehave on purpose, to test that ``compare`` and ``validate`` survive them.

Each module holds one ``Reader``; :func:`spec` describes it as a registered backend would be.
"""

from __future__ import annotations

from dicomio.backends import pydicom_backend
from dicomio.backends.base import BackendSpec

# What a fake can read: what the pydicom backend reads.
decodable = pydicom_backend.SPEC.syntaxes
able = pydicom_backend.SPEC.unable


def spec(name: str) -> BackendSpec:
    """A spec for the fake backend in ``tests.support.fake_backends.<name>``."""
    return BackendSpec(name=f"fake-{name}", module=f"tests.support.fake_backends.{name}",
                       requires=("numpy",), distribution="numpy", extra=None,
                       summary=f"test backend that {name}s", syntaxes=decodable, unable=able)
