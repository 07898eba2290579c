"""No command prints a Python argument (issue 16): every command, on inputs whose messages
offer a way past them (a 4-D series, two series, a gap, an unreadable file beside good ones, a
series split into stacks), names the command line's options (``--irregular accept``,
``--series uid#stack``, the commands that read 4-D) and never ``irregular=``, ``series=``,
``ignore_unreadable=``, ``rescale=`` or ``load_4d(``, in text, JSON and JUnit alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dicomio.cli import app
from dicomio.testing.multiframe import write_4d
from dicomio.testing.synthetic import CORONAL, SeriesSpec, write_series

runner = CliRunner()

PYTHON_SPELLINGS = ("irregular=", "ignore_unreadable=", "series=", "load_4d(", "rescale=")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad")
    write_4d(root / "four_d", SeriesSpec(shape=(3, 10, 12)), volumes=2)
    write_series(root / "two", SeriesSpec(shape=(3, 10, 12), series_number=1))
    write_series(root / "two", SeriesSpec(shape=(3, 8, 8), series_number=2))
    write_series(root / "gap", SeriesSpec(shape=(5, 10, 12)), skip=[2])
    good = write_series(root / "unreadable", SeriesSpec(shape=(4, 10, 12)))
    (good.folder / "truncated.dcm").write_bytes(good.files[0].read_bytes()[:300])
    write_series(root / "split", SeriesSpec(shape=(3, 10, 12), series_uid="1.2.3.4.5"),
                 naming="uid")
    write_series(root / "split", SeriesSpec(shape=(3, 10, 12), series_uid="1.2.3.4.5",
                                            orientation=CORONAL), naming="uid")
    return {path.name: path for path in root.iterdir()}


COMMANDS = {
    "info": ["info", "{in}"],
    "info-json": ["info", "{in}", "--format", "json"],
    "load": ["load", "{in}"],
    "load-json": ["load", "{in}", "--json"],
    "preview": ["preview", "{in}", "-o", "{tmp}/p.png", "--irregular", "raise"],
    "convert": ["convert", "{in}", "{tmp}/v.nii.gz"],
    "convert-folder": ["convert", "{in}", "{tmp}/folder", "--workers", "1"],
    "convert-folder-json": ["convert", "{in}", "{tmp}/folder", "--workers", "1", "--json"],
    "convert-named": ["convert", "{in}", "{tmp}/named", "--name", "%s"],
    "compare": ["compare", "{in}", "--backends", "pydicom,direct", "--irregular", "raise"],
    "compare-json": ["compare", "{in}", "--backends", "direct", "--irregular", "raise",
                     "--format", "json"],
    "validate": ["validate", "{in}", "--workers", "1"],
    "validate-json": ["validate", "{in}", "--workers", "1", "--format", "json"],
    "validate-junit": ["validate", "{in}", "--workers", "1", "--format", "junit"],
}


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
@pytest.mark.parametrize("name", ["four_d", "two", "gap", "unreadable", "split"])
def test_no_output_spells_a_python_argument(inputs: dict[str, Path], name: str,
                                            command: list[str], tmp_path: Path) -> None:
    if command[0] == "preview":
        pytest.importorskip("matplotlib")
    args = [a.replace("{in}", str(inputs[name])).replace("{tmp}", str(tmp_path))
            for a in command]
    result = runner.invoke(app, args)
    assert result.exit_code in (0, 1, 2), result.output  # never an unexpected failure
    said = result.stdout + result.stderr
    assert not [s for s in PYTHON_SPELLINGS if s in said], said


def _said(*args: str) -> str:
    result = runner.invoke(app, list(args))
    return result.stdout + result.stderr


def test_validate_names_the_options_of_its_remedies(inputs: dict[str, Path]) -> None:
    """The remedies are said, as options: the test above cannot pass by saying nothing."""
    split = _said("validate", str(inputs["split"]), "--workers", "1")
    assert "--series uid#stack" in " ".join(split.split())
    split_json = _said("validate", str(inputs["split"]), "--workers", "1", "--format", "json")
    assert "--series uid#stack" in split_json
    four_d = " ".join(_said("validate", str(inputs["four_d"]), "--workers", "1").split())
    assert "FOUR_D" in four_d and "dicomio load, convert" in four_d
    junit = _said("validate", str(inputs["four_d"]), "--workers", "1", "--format", "junit",
                  "--fail-on", "warning")
    assert "dicomio load, convert" in junit
    gap = _said("convert", str(inputs["gap"]), "--workers", "1", "-q",
                str(inputs["gap"].parent / "gap-out"))
    assert "--irregular accept" in " ".join(gap.split())


def test_python_users_keep_the_python_spelling(inputs: dict[str, Path]) -> None:
    import dicomio
    from dicomio.validate.report import validate

    with pytest.raises(dicomio.RepeatedPositionsError, match=r"dicomio\.load_4d\(\)"):
        dicomio.load_volume(inputs["four_d"])
    report = validate([inputs["split"], inputs["four_d"]])
    messages = [f.message for f in report.all_findings]
    assert any("series='uid#stack'" in m for m in messages), messages
    assert any("dicomio.load_4d()" in m for m in messages), messages
