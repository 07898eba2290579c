"""The architecture of dicomio, kept true: the rules below are the layering, stated as data.

The import graph is read from the source (``tests.support.imports``), nothing is imported, and
every import counts except those under ``if TYPE_CHECKING:`` (an import inside a function is still
a dependency). The first tests check the checking functions themselves on small made-up graphs
and sources, so that a rule passing means the code keeps it, not that the check saw nothing.

Where the code does not keep a rule yet, the offenders are listed in an allow-list beside the rule,
each with its reason. An entry that no longer offends fails the test: the lists only shrink.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.imports import defined_names, find_cycle, import_graph, imports_of, modules


def within(module: str, prefixes: tuple[str, ...]) -> bool:
    """Whether ``module`` is one of ``prefixes`` or inside one of them."""
    return any(module == p or module.startswith(f"{p}.") for p in prefixes)


@dataclass(frozen=True)
class Rule:
    """The modules in ``importers`` (except those in ``exempt``) import nothing in ``forbidden``
    (except what is in ``allowed``). Each is a tuple of modules or packages (with what is in them).
    """

    why: str
    importers: tuple[str, ...]
    forbidden: tuple[str, ...]
    allowed: tuple[str, ...] = ()
    exempt: tuple[str, ...] = ()

    def broken_by(self, graph: dict[str, set[str]]) -> set[tuple[str, str]]:
        """Every ``(importer, imported)`` edge of ``graph`` against the rule."""
        return {(module, target) for module, targets in graph.items()
                if within(module, self.importers) and not within(module, self.exempt)
                for target in targets
                if within(target, self.forbidden) and not within(target, self.allowed)}


# --- the layering, as data ------------------------------------------------------------------

#: The reading pipeline, from headers to a Volume: knows nothing of what is built on it.
PIPELINE = ("dicomio.dicom", "dicomio.series", "dicomio.sources", "dicomio.geometry",
            "dicomio.pixels", "dicomio.backends", "dicomio.volume", "dicomio.errors",
            "dicomio._version")
#: What is built on the pipeline: commands, checks, comparisons, archives, files, test data.
APPLICATIONS = ("dicomio.cli", "dicomio.validate", "dicomio.compare", "dicomio.archive",
                "dicomio.io", "dicomio.testing")
#: The modules that wrap one toolkit each, reached through the registry by name as data (and
#: nifti_layout, the dcm2niix backend's own reading of a NIfTI).
BACKEND_MODULES = ("dicomio.backends.direct", "dicomio.backends.pydicom_backend",
                   "dicomio.backends.sitk_backend", "dicomio.backends.vtk_backend",
                   "dicomio.backends.dcm2niix_backend", "dicomio.backends.nifti_layout")

RULES = {
    "pipeline below applications": Rule(
        "the pipeline is usable (and testable) without the CLI, validation, compare, archives, "
        "writers or the synthetic writers",
        importers=PIPELINE, forbidden=APPLICATIONS),
    "dicom stands alone": Rule(
        "header parsing is plain data: it needs only the errors and the version",
        importers=("dicomio.dicom",), forbidden=("dicomio",),
        allowed=("dicomio.dicom", "dicomio.errors", "dicomio._version")),
    "backends by name only inside backends": Rule(
        "a backend is chosen through dicomio.backends.registry (its spec names the module), so "
        "that a toolkit is imported only when its backend reads",
        importers=("dicomio",), exempt=("dicomio.backends",), forbidden=BACKEND_MODULES),
}

#: The layers of docs/architecture.md, lowest first: a module imports its own layer and those
#: below it, never one above (``dicomio/__init__.py``, the public surface, sits on top; testing
#: beside, kept out of the pipeline by the rule above).
LAYERS = (
    ("dicomio._version", "dicomio.arguments", "dicomio.errors", "dicomio.extras", "dicomio.limits",
     "dicomio.parallel", "dicomio.volume"),
    ("dicomio.dicom",),
    ("dicomio.geometry",),
    ("dicomio.series", "dicomio.sources"),
    ("dicomio.pixels",),
    ("dicomio.backends",),
    ("dicomio.read", "dicomio.load", "dicomio.load_arguments"),
    ("dicomio.validate", "dicomio.compare", "dicomio.io"),
    ("dicomio.archive",),
    ("dicomio.cli",),
)
RULES.update({
    f"{' '.join(layer)} below what is above": Rule(
        "the pipeline is a stack of steps: each uses the steps before it, never one after it",
        importers=layer, forbidden=tuple(m for above in LAYERS[i + 1:] for m in above))
    for i, layer in enumerate(LAYERS[:-1])
})

#: Imports that break a rule on purpose, each with why.
KNOWN_LAYER_BREAKS = {
    # Volume.to_sitk / to_vtk / to_nibabel / from_* are conveniences over dicomio.io.convert,
    # imported inside those methods only (convert imports Volume for annotations only), so the
    # data type keeps its familiar methods without a cycle or an import-time cost.
    ("dicomio.volume", "dicomio.io.convert"),
}

#: A module has fewer lines than this: more, and it holds more than one concept.
LINE_LIMIT = 450
#: Modules over the limit today, with the length they must not grow past until they are split.
KNOWN_LONG_MODULES: dict[str, int] = {}

#: Packages that ``import dicomio`` must not import: toolkits, Dask, plotting, writers' libraries
#: (each is imported inside the function that needs it) and the CLI stack.
NOT_ON_IMPORT = ("SimpleITK", "vtk", "vtkmodules", "dask", "distributed", "matplotlib", "nibabel",
                 "nrrd", "typer", "rich")


# --- the checks checked, on made-up graphs and sources ------------------------------------------

def test_find_cycle_finds_a_cycle_and_only_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set(), "d": {"b", "c"}}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"x": {"y"}, "y": {"y"}}) == ["y", "y"]


def test_a_rule_reports_the_edges_that_break_it() -> None:
    graph = {"dicomio.dicom.header": {"dicomio.errors", "dicomio.series.info"},
             "dicomio.series.choose": {"dicomio.cli.console", "dicomio.dicom.header"},
             "dicomio.backends.registry": {"dicomio.backends.vtk_backend"},
             "dicomio.read": {"dicomio.backends.sitk_backend"}}
    assert RULES["dicom stands alone"].broken_by(graph) == {
        ("dicomio.dicom.header", "dicomio.series.info")}
    assert RULES["pipeline below applications"].broken_by(graph) == {
        ("dicomio.series.choose", "dicomio.cli.console")}
    assert RULES["backends by name only inside backends"].broken_by(graph) == {
        ("dicomio.read", "dicomio.backends.sitk_backend")}


def test_imports_are_read_resolved_and_type_checking_ones_left_out(tmp_path: Path) -> None:
    source = tmp_path / "choose.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "import dicomio.errors\n"
        "from . import group\n"
        "from .info import SeriesInfo\n"
        "from ..geometry import stack, _private\n"
        "if TYPE_CHECKING:\n"
        "    from dicomio.cli import app\n"
        "else:\n"
        "    from dicomio.io import convert\n"
        "def later():\n"
        "    from dicomio.compare.worker import run\n")
    assert set(imports_of("dicomio.series.choose", source)) == {
        ("typing", "TYPE_CHECKING"), ("dicomio.errors", None), ("dicomio.series", "group"),
        ("dicomio.series.info", "SeriesInfo"), ("dicomio.geometry", "stack"),
        ("dicomio.geometry", "_private"), ("dicomio.io", "convert"),
        ("dicomio.compare.worker", "run")}


# --- the rules, on dicomio ------------------------------------------------------------------------

def test_the_import_graph_has_no_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize("name", list(RULES))
def test_layering(name: str) -> None:
    rule = RULES[name]
    broken = rule.broken_by(import_graph())
    new = sorted(broken - KNOWN_LAYER_BREAKS)
    assert not new, f"{rule.why}; but: " + ", ".join(f"{a} imports {b}" for a, b in new)


def test_known_layer_breaks_still_break_a_rule() -> None:
    graph = import_graph()
    broken = set().union(*(rule.broken_by(graph) for rule in RULES.values()))
    fixed = sorted(KNOWN_LAYER_BREAKS - broken)
    assert not fixed, f"fixed, remove from KNOWN_LAYER_BREAKS: {fixed}"


def private_imports() -> set[tuple[str, str, str]]:
    """``(importer, module, name)`` for each private name a dicomio module imports from
    another dicomio module (dunder names, such as ``__version__``, are public)."""
    files = modules()
    return {(name, module, attribute) for name, path in files.items()
            for module, attribute in imports_of(name, path)
            if within(module, ("dicomio",)) and module != name and attribute is not None
            and attribute.startswith("_") and not attribute.endswith("__")
            and f"{module}.{attribute}" not in files}  # a private module is not a name


def test_no_module_imports_a_private_name_of_another() -> None:
    offenders = sorted(f"{importer} imports {module}.{attribute}"
                       for importer, module, attribute in private_imports())
    assert not offenders, "make the name public, or move the code: " + ", ".join(offenders)


def borrowed_imports() -> set[tuple[str, str, str]]:
    """``(importer, module, name)`` for each name a dicomio module imports from a module that
    does not define it but imports it itself: every name has one home, and is imported from
    there (a package's ``__init__`` is the exception: it is the package's public surface)."""
    files = modules()
    defined = {name: defined_names(path) for name, path in files.items()}
    return {(name, module, attribute) for name, path in files.items()
            for module, attribute in imports_of(name, path)
            if attribute is not None and module in files
            and files[module].name != "__init__.py" and f"{module}.{attribute}" not in files
            and attribute not in defined[module]}


def test_every_name_is_imported_from_its_home() -> None:
    offenders = sorted(f"{importer} imports {attribute} from {module}"
                       for importer, module, attribute in borrowed_imports())
    assert not offenders, "import it from the module that defines it: " + ", ".join(offenders)


def test_importing_dicomio_imports_no_toolkit_and_no_cli() -> None:
    code = "import json, sys, dicomio; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    imported = {module.split(".")[0] for module in json.loads(done.stdout)}
    assert "dicomio" in imported
    assert not imported & set(NOT_ON_IMPORT), sorted(imported & set(NOT_ON_IMPORT))


@pytest.mark.parametrize("syntax", ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2.4.70",
                                    "1.2.840.10008.1.2.4.90"])
def test_a_series_imagecodecs_decodes_loads_without_pydicom(tmp_path: Path, syntax: str) -> None:
    """The native load path (header walk, bytes read into the array) needs no pydicom, nor
    does imagecodecs decoding a frame: pydicom's pixel stack alone costs a fresh process about
    0.15 s (its plugins are listed only when imagecodecs fails)."""
    from dicomio.testing.synthetic import SeriesSpec, write_series

    written = write_series(tmp_path / "series",
                           SeriesSpec(shape=(4, 16, 12), transfer_syntax=syntax))
    code = ("import sys, dicomio\n"
            "volume = dicomio.load_volume(sys.argv[1])\n"
            "print(volume.provenance.backend, volume.array.shape,"
            " sorted(m for m in sys.modules if m.split('.')[0] == 'pydicom'))")
    done = subprocess.run([sys.executable, "-c", code, str(written.folder)],
                          capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["direct", "(4,", "16,", "12)", "[]"], done.stdout


def test_every_module_is_short() -> None:
    lengths = {name: len(path.read_text(encoding="utf-8").splitlines())
               for name, path in modules().items()}
    long = sorted(f"{name} ({n} lines)" for name, n in lengths.items()
                  if n >= LINE_LIMIT and n > KNOWN_LONG_MODULES.get(name, 0))
    assert not long, f"split by concept, under {LINE_LIMIT} lines: {', '.join(long)}"
    shortened = sorted(name for name in KNOWN_LONG_MODULES if lengths.get(name, 0) < LINE_LIMIT)
    assert not shortened, f"short now, remove from KNOWN_LONG_MODULES: {shortened}"
