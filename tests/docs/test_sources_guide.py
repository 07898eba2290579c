"""docs/sources.md: the block marked ``<!-- tested: orthanc -->`` runs as written against a real
Orthanc (tests/support/orthanc.py), its address and password those of the test server, and
every command in it succeeds and writes what it says."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.orthanc import PASSWORD, Orthanc, start_orthanc

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "sources.md"
MARKED = re.compile(r"^<!-- tested: orthanc -->\n```bash\n(?P<body>.*?)^```$",
                    re.MULTILINE | re.DOTALL)

pytest.importorskip("dicomweb_client", reason="DICOMweb needs dicomweb-client (extra dicomweb)")


@pytest.fixture
def orthanc(tmp_path: Path) -> Iterator[Orthanc]:
    server = start_orthanc(tmp_path / "orthanc")
    yield server
    server.stop()


def test_the_orthanc_commands_of_the_guide_run(orthanc: Orthanc, tmp_path: Path) -> None:
    if shutil.which("curl") is None:
        pytest.skip("the guide uploads with curl, which is not installed")
    match = MARKED.search(GUIDE.read_text(encoding="utf-8"))
    assert match, "docs/sources.md has no block marked <!-- tested: orthanc -->"
    body = match["body"]
    assert "localhost:8042" in body and "change-me" in body
    script = body.replace("localhost:8042", f"127.0.0.1:{orthanc.port}").replace(
        "change-me", PASSWORD)
    work = tmp_path / "work"
    work.mkdir()
    bin_folder = str(Path(sys.executable).parent)
    environment = {**os.environ, "PATH": f"{bin_folder}{os.pathsep}{os.environ['PATH']}",
                   "PYTHONPATH": str(GUIDE.parents[1])}
    environment = {k: v for k, v in environment.items() if not k.startswith("DICOMIO_DICOMWEB")}
    run = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=work, env=environment,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "passed: 1 of 1 series passed" in run.stdout
    assert "agree" in run.stdout
    assert (work / "preview.png").stat().st_size > 0
    assert (work / "out.nii.gz").stat().st_size > 0
    # Into a folder: the series under its host and study, not under its instances' URL.
    assert len(list((work / "out").glob(f"127.0.0.1_{orthanc.port}/*/*.nii.gz"))) == 1
    assert PASSWORD not in run.stdout + run.stderr
