"""dicomio's version (a leaf: it imports nothing). pyproject.toml reads it from here, so the
package and its metadata agree without importing ``importlib.metadata`` at start-up."""

__version__ = "0.1.0"
