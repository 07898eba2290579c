"""``dicomio preview -o`` writes the format its ending names, or refuses it: never PNG data under
another name."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import dicomio
from dicomio.cli import app
from dicomio.io.preview import PREVIEW_FORMATS, render_preview
from dicomio.testing.synthetic import SeriesSpec, write_series

pytest.importorskip("matplotlib", reason="preview needs matplotlib (the plot extra)")

runner = CliRunner()

#: What each format's files start with (written here by hand, not by the code under test).
MAGIC = {
    ".png": [b"\x89PNG\r\n\x1a\n"],
    ".jpg": [b"\xff\xd8\xff"],
    ".jpeg": [b"\xff\xd8\xff"],
    ".tif": [b"II*\x00", b"MM\x00*"],
    ".tiff": [b"II*\x00", b"MM\x00*"],
    ".pdf": [b"%PDF-"],
    ".svg": [b"<?xml", b"<svg"],
}


def webp(data: bytes) -> bool:
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP"


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("preview formats") / "series"
    write_series(folder, SeriesSpec(shape=(4, 16, 12)))
    return folder


def test_every_format_offered_is_checked() -> None:
    assert set(PREVIEW_FORMATS) == set(MAGIC) | {".webp"}


@pytest.mark.parametrize("suffix", [*PREVIEW_FORMATS, ".JPG"])
def test_the_file_holds_the_format_its_ending_names(series: Path, tmp_path: Path,
                                                    suffix: str) -> None:
    output = tmp_path / f"preview{suffix}"
    result = runner.invoke(app, ["preview", str(series), "-o", str(output)])
    assert result.exit_code == 0, result.output
    data = output.read_bytes()
    if suffix.lower() == ".webp":
        assert webp(data), data[:16]
    else:
        assert any(data.startswith(magic) for magic in MAGIC[suffix.lower()]), data[:16]


@pytest.mark.parametrize("name", ["preview.bmp", "preview.gif", "preview", "preview.png.txt"])
def test_an_ending_it_cannot_write_is_refused_before_loading(tmp_path: Path,
                                                             name: str) -> None:
    # The path holds no DICOM: the refusal comes before any read (which would exit 2 too,
    # with another message).
    output = tmp_path / name
    result = runner.invoke(app, ["preview", str(tmp_path), "-o", str(output)])
    assert result.exit_code == 2, result.output
    message = " ".join(result.stderr.split())
    assert message.startswith("error: --output:"), message
    assert all(suffix in message for suffix in PREVIEW_FORMATS), message
    assert not output.exists()


def test_the_library_refuses_it_too(series: Path, tmp_path: Path) -> None:
    volume = dicomio.load_volume(series)
    with pytest.raises(ValueError, match=r"\.png, \.jpg"):
        render_preview(volume, tmp_path / "preview.bmp")
    assert not (tmp_path / "preview.bmp").exists()
