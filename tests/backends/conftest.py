"""Fixtures of the backend tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dicomio.backends.registry import auto_order, backend_specs, register, unregister


@pytest.fixture
def restore_registry() -> Iterator[None]:
    """Let a test register, replace, move and remove backends: the registry is put back as it
    was afterwards (through the public functions only)."""
    specs, order = backend_specs(), auto_order()
    yield
    for spec in backend_specs():
        unregister(spec.name)
    for spec in specs:
        register(spec, auto_position=len(auto_order()) if spec.name in order else None)
