"""Where the real DICOM corpus is: the one definition every test and tool uses.

``DICOMIO_CORPUS`` names it; by default it is ``shared/corpus`` beside the repository. Tests that
need it skip, with the reason, where it is absent (a user's fresh clone).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("DICOMIO_CORPUS", REPOSITORY.parent / "shared" / "corpus"))


def corpus_path(relative: str) -> Path:
    """A path inside the corpus; skips the test (with the reason) when it is absent."""
    path = CORPUS / relative
    if not path.exists():
        pytest.skip(f"corpus not found at {path} (set DICOMIO_CORPUS to the corpus folder)")
    return path
