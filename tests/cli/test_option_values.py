"""Every option value a command cannot use is a usage error (exit 2, a message naming the option),
never a traceback, an internal error, or a silent substitute."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from dicomio.cli import app
from dicomio.testing import synthetic as s
from dicomio.testing.synthetic import SeriesSpec, write_series

runner = CliRunner()

COMMANDS: dict[str, Any] = typer.main.get_command(app).commands  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("option values") / "series"
    write_series(folder, SeriesSpec(shape=(3, 16, 12)))
    return folder


#: The options of ``convert`` that apply when it writes into a folder.
INTO_A_FOLDER = ("--workers", "--scheduler", "--series-timeout", "--worker-memory")


def base_arguments(command: str, series: Path, scratch: Path, option: str) -> list[str]:
    """Arguments with which ``command`` works with ``option``; each test adds the option."""
    output = scratch / ("folder" if option in INTO_A_FOLDER else "o.npz")
    return {
        "info": [str(series)],
        "compare": [str(series), "--backends", "direct"],
        "validate": [str(series)],
        "preview": [str(series), "-o", str(scratch / "p.png"), "--force"],
        "convert": [str(series), str(output), "--force"],
        "load": [str(series)],
        "sample": [str(scratch / "sample"), "--slices", "2", "--size", "8"],
        "backends": [],
    }[command]


def run(arguments: list[str]) -> tuple[int, str]:
    result = runner.invoke(app, arguments)
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "internal error" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), output
    return result.exit_code, output


#: The names of click's parameter types that take a number.
NUMBERS = {"integer", "float", "int range", "float range"}


#: Options whose value is any text: a name template with no placeholder is a name; a user
#: name, password or token is checked by the server it is sent to, if any.
FREE_TEXT = {"--name", "--dicomweb-user", "--dicomweb-password", "--dicomweb-token"}


def options(kind: str) -> list[tuple[str, str]]:
    """``(command, option)`` for every option of every command taking a number (``kind``
    "number") or a word: free text or a choice, not a path (``kind`` "word")."""
    found = []
    for name, command in COMMANDS.items():
        for parameter in command.params:
            if not parameter.opts[0].startswith("--") or parameter.opts[0] == "--help":
                continue
            kind_name = parameter.type.name  # click's: "integer", "boolean", "path", ...
            if kind_name in ("boolean", "path", "file", "directory") or \
                    parameter.opts[0] in FREE_TEXT:
                continue
            number = kind_name in NUMBERS
            if number == (kind == "number"):
                found.append((name, parameter.opts[0]))
    return found


def test_the_walk_finds_the_options() -> None:
    assert {("sample", "--slices"), ("validate", "--workers"), ("compare", "--timeout")} \
        <= set(options("number"))
    assert {("sample", "--syntax"), ("backends", "--format"), ("compare", "--reference"),
            ("load", "--backend"), ("convert", "--to")} <= set(options("word"))


@pytest.mark.parametrize("value", ["-1", "nan", "-inf", "1e400x"])
@pytest.mark.parametrize(("command", "option"), options("number"))
def test_a_number_no_option_takes_is_refused(series: Path, tmp_path: Path, command: str,
                                             option: str, value: str) -> None:
    # Every count, duration, size and tolerance of the command line is a number >= 0.
    code, output = run([command, *base_arguments(command, series, tmp_path, option), option, value])
    assert code == 2, output
    assert option in output, output


@pytest.mark.parametrize(("command", "option"), options("number"))
def test_a_huge_number_is_used_or_refused_never_a_crash(series: Path, tmp_path: Path,
                                                        command: str, option: str) -> None:
    arguments = base_arguments(command, series, tmp_path, option)
    code, output = run([command, *arguments, option, "1e300"])
    assert code in (0, 2), output
    if code == 2:
        assert option in output, output


@pytest.mark.parametrize(("command", "option"), options("word"))
def test_an_unknown_word_is_refused(series: Path, tmp_path: Path, command: str,
                                    option: str) -> None:
    code, output = run([command, *base_arguments(command, series, tmp_path, option), option,
                        "no-such-thing"])
    assert code == 2, output
    assert "no-such-thing" in output, output


# --- sample -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("arguments", "message"), [
    (["--syntax", "1.2.3"], "--syntax 1.2.3 is not a transfer syntax"),
    (["--slices", "0"], "--slices"),
    (["--size", "-5"], "--size"),
    (["--size", "1"], "--size"),  # no column left
])
def test_sample_refuses_what_it_cannot_write(tmp_path: Path, arguments: list[str],
                                             message: str) -> None:
    code, output = run(["sample", str(tmp_path / "out"), *arguments])
    assert code == 2 and message in output, output
    assert not (tmp_path / "out").exists()


def test_sample_lists_the_syntaxes_it_writes(tmp_path: Path) -> None:
    code, output = run(["sample", str(tmp_path / "out"), "--syntax", "1.2.3"])
    assert code == 2
    for uid in s.ENCODABLE_SYNTAXES:
        assert uid in " ".join(output.split()), uid


@pytest.mark.parametrize(("syntax", "module", "package"), [
    (s.JPEG_LOSSLESS, "gdcm", "python-gdcm"),
    (s.J2K_LOSSLESS, "imagecodecs", "imagecodecs"),
])
def test_sample_names_the_missing_encoder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          syntax: str, module: str, package: str) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # what an absent package looks like
    code, output = run(["sample", str(tmp_path / "out"), "--syntax", syntax])
    assert code == 2, output
    assert f"needs {package}" in output and "[test]" in output, output
    assert not (tmp_path / "out").exists()


def test_sample_writes_a_compressed_syntax_when_its_encoder_is_there(tmp_path: Path) -> None:
    code, output = run(["sample", str(tmp_path / "out"), "--syntax", s.JPEG_LS, "--slices",
                        "2", "--size", "16"])
    assert code == 0, output
    code, output = run(["info", str(tmp_path / "out"), "-f", "json"])
    assert json.loads(output)["series"][0]["transfer_syntaxes"][0]["uid"] == s.JPEG_LS


@pytest.mark.parametrize("target", ["a file", "a file/below it"])
def test_sample_into_a_file_is_a_usage_error(tmp_path: Path, target: str) -> None:
    (tmp_path / "a file").write_text("not a folder")
    code, output = run(["sample", str(tmp_path / target), "--slices", "2", "--size", "8"])
    assert code == 2, output
    assert "a file" in output


# --- compare --reference ------------------------------------------------------------------------

def test_a_reference_left_out_of_the_backends_is_refused(series: Path) -> None:
    code, output = run(["compare", str(series), "--backends", "direct,vtk", "--reference",
                        "pydicom"])
    assert code == 2, output
    assert "--reference pydicom is not among --backends direct,vtk" in " ".join(output.split())


@pytest.mark.parametrize(("backends", "reference"), [("direct,pydicom", "pydicom"),
                                                     ("direct", "direct")])
def test_without_reference_it_is_pydicom_or_the_first_backend(series: Path, backends: str,
                                                              reference: str) -> None:
    code, output = run(["compare", str(series), "--backends", backends, "-f", "json"])
    assert code == 0, output
    assert json.loads(output)["reference"] == reference


@pytest.mark.parametrize("option", ["--backends", "--reference"])
def test_auto_is_no_backend_to_compare(series: Path, option: str) -> None:
    code, output = run(["compare", str(series), option, "auto"])
    assert code == 2, output
    assert "'auto' is no backend of its own" in output and "choose one of auto" not in output
