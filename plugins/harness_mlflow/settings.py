"""The ``mlflow:`` section of an audit config, checked before the run loads anything.

The core keeps the section for this plugin (``AuditConfig.mlflow``) and leaves
it out of provenance.config: where a run is tracked is not an input of the
audit, and a tracking URI may carry credentials.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any, Mapping

from harness import ConfigError, did_you_mean

KEYS: tuple[str, ...] = ("tracking_uri", "experiment", "run_name")
DEFAULT_EXPERIMENT = "audit-harness"
EXTRA = "mlflow"


@dataclass(frozen=True)
class MlflowSettings:
    tracking_uri: str
    experiment: str = DEFAULT_EXPERIMENT
    run_name: str | None = None


def _text(section: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    value = section.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        what = "is required" if value is None else f"must be a non-empty string (got {value!r})"
        raise ConfigError(f"mlflow.{key}: {what}")
    return value.strip()


def _installed(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it (MLflow takes seconds to import)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # ValueError: a module set to None in sys.modules (blocked)
        return False


def settings_of(config: Any) -> MlflowSettings | None:
    """The validated settings, or None when the config has no ``mlflow:`` section (tracking off).

    Raises :class:`harness.ConfigError` (exit 2) for unknown or bad keys, and
    when MLflow itself is not installed.
    """
    section = getattr(config, "mlflow", None)
    if section is None:
        return None
    if not isinstance(section, Mapping):
        raise ConfigError(f"mlflow: expected a mapping with {', '.join(KEYS)} (got {type(section).__name__})")
    for key in section:
        if key not in KEYS:
            raise ConfigError(f"mlflow.{key}: unknown key{did_you_mean(str(key), KEYS)}; expected one of: {', '.join(KEYS)}")
    settings = MlflowSettings(
        tracking_uri=_text(section, "tracking_uri", required=True) or "",
        experiment=_text(section, "experiment") or DEFAULT_EXPERIMENT,
        run_name=_text(section, "run_name"),
    )
    if not _installed("mlflow"):
        raise ConfigError(f"mlflow: logging runs to MLflow needs the optional extra: pip install 'audit-harness[{EXTRA}]'")
    return settings
