"""dicomio's version, as installed (a leaf: it imports nothing of dicomio)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dicomio")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
