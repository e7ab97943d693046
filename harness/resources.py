"""Find the folders shipped beside the code (templates/, suites/) in any install layout.

In a wheel they are the data packages ``harness.templates`` and
``harness.suites``; in an editable install setuptools does not make those
mapped sub-packages importable, so we fall back to the repository's top-level
folders next to ``harness/``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


def resource_dir(name: str) -> Path:
    """Folder of the shipped resource ``name`` ("templates" or "suites")."""
    try:
        spec = importlib.util.find_spec(f"harness.{name}")
    except ModuleNotFoundError:
        spec = None
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            if Path(location).is_dir():
                return Path(location)
    repo_dir = Path(__file__).resolve().parent.parent / name
    if repo_dir.is_dir():
        return repo_dir
    raise FileNotFoundError(f"the harness's {name}/ folder is missing from this installation")
