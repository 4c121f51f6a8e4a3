"""Files shipped inside the library (prompts, taxonomy, sample seeds, benchmarks), found through importlib.resources."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def package_path(package: str, *parts: str) -> Path:
    """A data file or folder of ``package`` as a file-system path.

    Wheels install unzipped, so the traversable is a real path; readers that glob folders or hand paths to other
    tools (jinja2, evaluate) need one.
    """
    return Path(str(files(package).joinpath(*parts)))


def resource_path(*parts: str) -> Path:
    """A file or folder under ``boostqa/resources``."""
    return package_path("boostqa", "resources", *parts)
