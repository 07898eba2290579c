"""The machine a benchmark ran on: CPU, cores, memory, library versions and load average."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path
from typing import Any

from dicomio.parallel import usable_cores

__all__ = ["compile_bytecode", "describe", "importable", "load_average"]


def importable(module: str) -> bool:
    """Whether ``module`` is installed (without importing it)."""
    import importlib.util

    return importlib.util.find_spec(module) is not None


def load_average() -> tuple[float, ...]:
    """The 1, 5 and 15-minute load averages (empty where the OS has none)."""
    try:
        return os.getloadavg()
    except (AttributeError, OSError):  # not on this OS
        return ()


def compile_bytecode() -> str:
    """Compile dicomio's modules to bytecode, as installing a wheel does.

    From a checkout (an editable install), Python writes the bytecode at the first import,
    unless ``PYTHONDONTWRITEBYTECODE`` is set: then every fresh process would compile every
    module again (about 0.2 s), and the start-up measured would be no user's.
    """
    import compileall

    import dicomio

    package = Path(dicomio.__file__).parent
    compiled = compileall.compile_dir(package, quiet=1)
    return f"compiled ({package})" if compiled else f"compiling {package} failed"


def describe() -> dict[str, Any]:
    """CPU, cores, memory, Python and the versions of every library involved."""
    import importlib.metadata

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = next(int(line.split()[1]) * 1024
                      for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))
    except (OSError, StopIteration):
        memory = 0
    versions = {}
    for name in ("dicomio", "numpy", "pydicom", "imagecodecs", "pylibjpeg", "pylibjpeg-libjpeg",
                 "pylibjpeg-openjpeg", "pylibjpeg-rle", "python-gdcm", "SimpleITK", "vtk"):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "cores_used": usable_cores(),
        "memory_bytes": memory,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
        "dicomio_bytecode": compile_bytecode(),
        "load_average_at_start": load_average(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }
