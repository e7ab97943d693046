"""Facts about the environment a reviewer needs to reproduce or trust a run."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterable, Mapping

PACKAGES: tuple[str, ...] = (
    "audit-harness", "torch", "transformers", "tokenizers", "safetensors", "numpy", "scipy",
    "scikit-learn", "pandas", "pyarrow", "datasets", "pluggy", "pydantic", "jinja2", "click", "pyyaml", "matplotlib",
)


def package_versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    versions: dict[str, str] = {"python": platform.python_version()}
    for name in (*PACKAGES, *extra):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


#: Libraries whose version can change a computed result (model outputs, training, attacks, statistics).
RESULT_LIBRARIES: tuple[str, ...] = (
    "audit-harness", "torch", "transformers", "tokenizers", "safetensors", "numpy", "scipy", "scikit-learn",
    "fairlearn", "textattack", "opacus",
)


def library_versions(names: Iterable[str] = RESULT_LIBRARIES) -> dict[str, str | None]:
    """Installed versions of ``names`` (``None`` for one not installed), plus the Python version."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def result_key(fields: Mapping[str, Any], libraries: Iterable[str] = RESULT_LIBRARIES) -> str:
    """The sha256 that names one computed result: ``fields`` plus the versions of ``libraries``.

    Every cache or checkpoint that stands for "this result" is keyed by this, so
    a stored result is reused only for the same inputs (weights sha256, data
    fingerprint, options, seed: whatever ``fields`` names) computed by the same
    library versions; anything else is a miss and is computed again. ``fields``
    is digested as canonical JSON (sorted keys; non-JSON values through ``str``).
    """
    payload = {"fields": dict(fields), "libraries": library_versions(libraries)}
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def files_sha256(location: "str | Path") -> str:
    """sha256 over a file, or over every regular file under a folder (relative name and bytes, sorted by name).

    Names a local model by its contents rather than its path, so a folder
    retrained or replaced in place is a different input.
    """
    root = Path(location)
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for path in files:
        digest.update(f"{path.relative_to(root).as_posix() if path != root else path.name}\n".encode("utf-8"))
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\n")
    return digest.hexdigest()


def git_commit(folder: Path) -> dict[str, Any] | None:
    """Commit (and dirty flag) of the project being audited, if it is a git checkout."""
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if not commit:
        return None
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status), "root": git("rev-parse", "--show-toplevel")}


def machine() -> dict[str, Any]:
    import os

    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "python_executable": sys.executable,
    }

