"""Checks of the compression options that need the file system: run before anything loads (exit 2).

The option values themselves (method, amount) are validated by
:class:`~harness_compression.options.CompressionOptions` when the plan is
built; whether ``model: PATH`` names a folder that exists can only be decided
with the folder relative paths are read from (the config file's), which the
``harness_validate_config`` hook receives as ``base_dir``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from harness import ConfigError

if TYPE_CHECKING:
    from harness.config.settings import AuditConfig

__all__ = ["validate_config", "local_model_folder"]


def local_model_folder(path: str, base_dir: Path | None) -> Path | None:
    """The folder ``path`` names when it is local (as ``model.path`` decides), else ``None`` (a hub id or package)."""
    if path.startswith("package:"):
        return None
    local = Path(path).expanduser()
    if not local.is_absolute() and base_dir is not None:
        local = base_dir / local
    if local.exists() or path.startswith((".", "/", "~")) or path.count("/") > 1:
        return local
    return None  # "owner/name" or "name": a hub id, as model.path reads it


def validate_config(config: "AuditConfig", base_dir: Path) -> None:
    for check_id, settings in sorted(config.checks.items()):
        if not check_id.startswith("compression.") or not settings or not isinstance(settings.get("model"), str):
            continue
        path = settings["model"]
        folder = local_model_folder(path, base_dir)
        if folder is None:
            continue
        if not folder.exists():
            raise ConfigError(f"checks.{check_id}.model: {path} does not exist (relative paths are read from the config file's folder)")
        if not folder.is_dir() or not (folder / "config.json").is_file():
            raise ConfigError(f"checks.{check_id}.model: {path} is not a model folder (expected a directory with config.json)")
