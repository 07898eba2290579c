"""docs/ci.md: the blocks it marks ``<!-- tested: NAME -->`` run as written and do what it says.

Each marked block is taken from the guide as it stands: shell blocks are run with bash, in a
temporary folder holding ``data/`` (a synthetic series written by ``dicomio sample``, clean or
with its middle slice deleted), TOML blocks are written where the guide says they go, the
GitHub Actions workflow is parsed. The expected exit codes and reports are those the guide
states; the broken series is made with pydicom, which also confirms the clean one is regular.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import pydicom
import pytest

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "ci.md"
#: A marked block: the marker on the line just before its opening fence.
MARKED = re.compile(r"^<!-- tested: (?P<name>[\w.-]+) -->\n```(?P<lang>\w+)\n(?P<body>.*?)^```$",
                    re.MULTILINE | re.DOTALL)
#: The marked shell blocks that run ``dicomio validate data/`` with the default configuration.
RUNS = ("script", "fail-on-warning", "headers-only", "json", "workers")
#: Every marked block, with its language: each is checked below.
MARKED_BLOCKS = {**dict.fromkeys(RUNS, "bash"), "github-actions": "yaml",
                 "dicomio.toml": "toml", "pyproject.toml": "toml"}


@dataclass(frozen=True)
class Block:
    """A fenced block of the guide: its language and its text."""

    lang: str
    body: str


def guide_blocks() -> dict[str, Block]:
    """The marked blocks of docs/ci.md, by name."""
    blocks: dict[str, Block] = {}
    for match in MARKED.finditer(GUIDE.read_text(encoding="utf-8")):
        assert match["name"] not in blocks, f"two blocks marked {match['name']!r}"
        blocks[match["name"]] = Block(match["lang"], match["body"])
    return blocks


BLOCKS = guide_blocks()


@dataclass(frozen=True)
class Run:
    """What a shell block did: its exit code, its output, and the folder it ran in."""

    code: int
    stdout: str
    stderr: str
    folder: Path

    def junit(self, name: str = "dicomio-junit.xml") -> ET.Element:
        """The JUnit report the block wrote, parsed."""
        path = self.folder / name
        assert path.is_file(), f"no {name}; stderr: {self.stderr}"
        return ET.parse(path).getroot()


def environment() -> dict[str, str]:
    """This interpreter's scripts first on PATH (the ``dicomio`` command), no forced colour."""
    env = {k: v for k, v in os.environ.items() if k != "FORCE_COLOR"}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["NO_COLOR"] = "1"
    env["COLUMNS"] = "200"
    return env


def run_bash(script: str, folder: Path) -> Run:
    """Run ``script`` with bash in ``folder``, as a CI step would."""
    path = folder / "guide-block.sh"
    path.write_text(script, encoding="utf-8")
    done = subprocess.run(["bash", str(path)], cwd=folder, env=environment(),
                          capture_output=True, text=True, timeout=300)
    return Run(done.returncode, done.stdout, done.stderr, folder)


def write_dataset(folder: Path, *, broken: bool) -> None:
    """``folder/data/ct``: 8 evenly spaced axial slices, or 7 with the middle one deleted."""
    series = folder / "data" / "ct"
    done = subprocess.run(["dicomio", "sample", str(series), "--slices", "8", "--size", "32"],
                          env=environment(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    by_position = sorted(
        (float(pydicom.dcmread(p, stop_before_pixels=True).ImagePositionPatient[2]), p)
        for p in series.glob("*.dcm"))
    heights = [z for z, _ in by_position]
    assert len(heights) == 8
    step = heights[1] - heights[0]
    assert step > 0
    assert all(b - a == pytest.approx(step) for a, b in pairwise(heights))
    if broken:
        by_position[4][1].unlink()


@pytest.fixture(params=[False, True], ids=["clean", "broken"])
def broken(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def failures(report: ET.Element) -> list[str]:
    """The ``type`` of each ``<failure>`` of a JUnit report."""
    return [f.get("type", "") for f in report.iter("failure")]


def config_property(report: ET.Element) -> str:
    """The configuration file a JUnit report names ("" for the defaults)."""
    found = [p.get("value", "") for p in report.iter("property") if p.get("name") == "config"]
    assert len(found) == 1
    return found[0]


def junit_file(command: str) -> str | None:
    """The file given to ``--junit-xml`` on a ``dicomio validate`` line, if any."""
    words = shlex.split(command)
    return words[words.index("--junit-xml") + 1] if "--junit-xml" in words else None


def validate_line(block: str) -> str:
    """The one ``dicomio validate`` line of a block."""
    lines = [line.strip() for line in block.splitlines()
             if line.strip().startswith("dicomio validate")]
    assert len(lines) == 1, block
    return lines[0]


# --- the guide's blocks ---------------------------------------------------------------------------

def test_the_marked_blocks_are_those_checked_here() -> None:
    assert {name: block.lang for name, block in BLOCKS.items()} == MARKED_BLOCKS


def test_the_options_used_are_options_of_validate() -> None:
    done = subprocess.run(["dicomio", "validate", "--help"], env=environment(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    known = set(re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", done.stdout))
    text = GUIDE.read_text(encoding="utf-8")
    used = set(re.findall(r"(?<![\w-])(--[a-z][\w-]*)", text))  # long ones, in prose too
    used |= {word for line in re.findall(r"dicomio validate[^\n`]*", text)
             for word in line.split() if word.startswith("-")}
    assert {"--junit-xml", "-f"} <= used, "the guide's options were not found"
    assert used <= known, f"not options of dicomio validate: {sorted(used - known)}"


# --- running them ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", RUNS)
def test_a_run_passes_a_clean_series_and_fails_a_missing_slice(
        name: str, broken: bool, tmp_path: Path) -> None:
    write_dataset(tmp_path, broken=broken)
    done = run_bash(BLOCKS[name].body, tmp_path)
    assert done.code == (1 if broken else 0), done.stdout + done.stderr
    junit = junit_file(validate_line(BLOCKS[name].body))
    if junit is not None:
        report = done.junit(junit)
        assert failures(report) == (["MISSING_SLICE"] if broken else [])
        assert config_property(report) == ""
    if name == "json":
        report_json = json.loads((tmp_path / "dicomio-report.json").read_text(encoding="utf-8"))
        assert report_json["schema"] == "dicomio.validate/1"
        assert report_json["passed"] is not broken
        codes = [f["code"] for s in report_json["series"] for f in s["findings"]]
        assert codes == (["MISSING_SLICE"] if broken else [])


def test_the_script_exits_2_without_a_report_on_a_usage_error(tmp_path: Path) -> None:
    done = run_bash(BLOCKS["script"].body, tmp_path)  # there is no data/
    assert done.code == 2, done.stdout + done.stderr
    assert not (tmp_path / "dicomio-junit.xml").exists()


@pytest.mark.parametrize("name", ["dicomio.toml", "pyproject.toml"])
def test_the_configuration_turns_a_missing_slice_into_a_warning(name: str,
                                                                tmp_path: Path) -> None:
    write_dataset(tmp_path, broken=True)
    (tmp_path / name).write_text(BLOCKS[name].body, encoding="utf-8")

    done = run_bash(BLOCKS["script"].body, tmp_path)
    assert done.code == 0, done.stdout + done.stderr
    assert re.search(r"warning\s+MISSING_SLICE", done.stdout), done.stdout
    report = done.junit()
    assert failures(report) == []
    assert Path(config_property(report)).name == name
    assert "MISSING_SLICE" in "".join(e.text or "" for e in report.iter("system-out"))

    stricter = run_bash(BLOCKS["fail-on-warning"].body, tmp_path)
    assert stricter.code == 1, stricter.stdout + stricter.stderr
    assert failures(stricter.junit()) == ["MISSING_SLICE"]


def test_a_misspelt_code_in_the_configuration_is_a_usage_error(tmp_path: Path) -> None:
    write_dataset(tmp_path, broken=True)
    documented = BLOCKS["dicomio.toml"].body
    assert "MISSING_SLICE =" in documented
    (tmp_path / "dicomio.toml").write_text(documented.replace("MISSING_SLICE =",
                                                              "MISSING_SLICES ="))
    done = run_bash(BLOCKS["script"].body, tmp_path)
    assert done.code == 2, done.stdout + done.stderr
    assert "MISSING_SLICES" in done.stderr
    assert not (tmp_path / "dicomio-junit.xml").exists()


# --- the workflow ---------------------------------------------------------------------------------

def test_the_workflow_runs_the_script_and_keeps_the_report_when_it_fails() -> None:
    yaml = pytest.importorskip("yaml")
    workflow: dict[Any, Any] = yaml.safe_load(BLOCKS["github-actions"].body)
    steps = workflow["jobs"]["validate"]["steps"]
    runs = [step for step in steps if "dicomio validate" in step.get("run", "")]
    assert len(runs) == 1
    assert runs[0]["run"].strip() == validate_line(BLOCKS["script"].body)
    uploads = [step for step in steps
               if step.get("uses", "").startswith("actions/upload-artifact@")]
    assert len(uploads) == 1
    assert steps.index(uploads[0]) > steps.index(runs[0])
    assert uploads[0]["if"] == "always()"
    assert uploads[0]["with"]["path"] == junit_file(runs[0]["run"]) == "dicomio-junit.xml"
