"""The pip hints work from where dicomio was installed: a checkout, a local folder, an index."""

from __future__ import annotations

import importlib.metadata
import json
import re
import shlex
from pathlib import Path

import pytest

import dicomio
from dicomio.backends.registry import backend_specs
from dicomio.extras import Origin, installed_origin, origin_of, pip_install

PACKAGE_ROOT = Path(dicomio.__file__).resolve().parent
SOURCES = PACKAGE_ROOT.rglob("*.py")


def checkout(root: Path, name: str = "dicomio") -> Path:
    """A source tree at ``root`` whose pyproject.toml declares ``name``; its package folder."""
    (root / "dicomio").mkdir(parents=True)
    (root / "pyproject.toml").write_text(f'[project]\nname = "{name}"\nversion = "0.1"\n',
                                         encoding="utf-8")
    return root / "dicomio"


def installed(site: Path, direct_url: dict | None) -> importlib.metadata.Distribution:
    """A real installed distribution (a dist-info folder), with ``direct_url.json`` if given."""
    info = site / "dicomio-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: dicomio\nVersion: 0.1\n",
                                   encoding="utf-8")
    if direct_url is not None:
        (info / "direct_url.json").write_text(json.dumps(direct_url), encoding="utf-8")
    return importlib.metadata.PathDistribution(info)


def test_an_index_install_gets_the_index_form(tmp_path: Path) -> None:
    package = tmp_path / "site" / "dicomio"
    package.mkdir(parents=True)
    origin = origin_of(package, installed(tmp_path / "site", None))
    assert origin == Origin()
    assert origin.command("sitk") == "pip install 'dicomio[sitk]'"
    assert origin.command("dask", version="1.2.3") == "pip install 'dicomio[dask]==1.2.3'"


def test_a_checkout_gets_its_own_folder_in_place(tmp_path: Path) -> None:
    root = tmp_path / "my clone's dicomio"  # a space and a quote: the shell must see one word
    origin = origin_of(checkout(root), None)
    assert origin == Origin(root, editable=True)
    command = origin.command("sitk")
    assert command.startswith("pip install -e ")
    assert shlex.split(command) == ["pip", "install", "-e", f"{root}[sitk]"]
    # A folder has the version it holds: no pin.
    assert shlex.split(origin.command("dask", version="1.2.3"))[-1] == f"{root}[dask]"


def test_a_pyproject_of_another_project_is_no_checkout(tmp_path: Path) -> None:
    package = checkout(tmp_path / "other", name="something-else")
    assert origin_of(package, None) == Origin()
    (tmp_path / "other" / "pyproject.toml").write_text("not [ toml", encoding="utf-8")
    assert origin_of(package, None) == Origin()


@pytest.mark.parametrize("editable", [True, False])
def test_an_install_from_a_local_folder_names_that_folder(tmp_path: Path,
                                                          editable: bool) -> None:
    source = tmp_path / "src tree"
    source.mkdir()
    package = tmp_path / "site" / "dicomio"
    package.mkdir(parents=True)
    url = source.as_uri()
    distribution = installed(tmp_path / "site", {"url": url, "dir_info": {"editable": editable}})
    origin = origin_of(package, distribution)
    assert origin == Origin(source, editable)
    expected = ["pip", "install", *(["-e"] if editable else []), f"{source}[nifti]"]
    assert shlex.split(origin.command("nifti")) == expected


@pytest.mark.parametrize("direct_url", [
    {"url": "https://example.org/dicomio-0.1.whl", "archive_info": {}},
    {"url": "git+https://example.org/dicomio.git", "vcs_info": {"vcs": "git"}},
    {"url": "file:///nowhere/any/more", "dir_info": {}},  # the folder is gone
    {"url": 3},
], ids=["archive", "vcs", "gone", "damaged"])
def test_other_installs_get_the_index_form(tmp_path: Path, direct_url: dict) -> None:
    package = tmp_path / "site" / "dicomio"
    package.mkdir(parents=True)
    assert origin_of(package, installed(tmp_path / "site", direct_url)) == Origin()


def test_this_dicomio_is_run_from_its_checkout() -> None:
    # The tests run from the source tree: the hints must install into it, not from PyPI.
    root = PACKAGE_ROOT.parent
    assert (root / "pyproject.toml").is_file()
    assert installed_origin() == Origin(root, editable=True)
    assert shlex.split(pip_install("sitk")) == ["pip", "install", "-e", f"{root}[sitk]"]


def extras_declared() -> set[str]:
    import tomllib

    data = tomllib.loads((PACKAGE_ROOT.parent / "pyproject.toml").read_text(encoding="utf-8"))
    return set(data["project"]["optional-dependencies"])


def test_every_hint_names_an_extra_that_exists() -> None:
    named = {spec.extra for spec in backend_specs() if spec.extra is not None}
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        named |= set(re.findall(r"pip_install\(['\"](\w+)['\"]", text))
        # Every hint goes through pip_install: no hand-written one is left.
        assert not re.search(r"pip install ['\"]?dicomio\[", text) or path.name == "extras.py", \
            f"{path} writes a pip hint by hand"
    assert {"sitk", "vtk", "plot", "dask", "dcm2niix"} <= named
    assert named <= extras_declared()
