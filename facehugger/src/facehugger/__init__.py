"""facehugger: manifests and lock files for Hugging Face Hub repositories."""

from importlib.metadata import version

__version__ = version("facehugger-lock")
