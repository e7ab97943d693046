"""From config + suite + registry to the list of checks to run, with options and thresholds.

A suite file (``suites/NAME.yaml`` or a path) says which checks run with which
settings; the config's ``checks:`` section overrides or adds to it. Each
check's entry may hold:

- ``min`` / ``max``: a bound on the check's primary metric;
- ``thresholds: {metric: {min: .., max: ..}}``: bounds on any of its metrics;
- ``gate: false``: report the check but never let it decide the verdict;
- ``gate_on: interval`` (default) or ``estimate``: read a threshold against the
  metric's whole confidence interval (pass / fail / inconclusive) or against
  its point estimate alone (pass / fail);
- ``enabled: false``: drop a check the suite selected;
- ``timeout: SECONDS`` (or ``null`` for none): stop waiting for the check after
  that long and mark it ``error`` (default :data:`DEFAULT_TIMEOUT_S`);
- anything else: the check's own options, validated by its ``Options`` model.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.plugin.checks import Check, CheckOptions, CheckRegistry, Threshold
from harness.config.settings import AuditConfig, format_validation_error, read_yaml
from harness.text.suggest import did_you_mean
from harness.errors import ConfigError
from harness.resources import resource_dir

RESERVED_KEYS = ("min", "max", "thresholds", "gate", "gate_on", "enabled", "timeout")
GATE_ON = ("interval", "estimate")
#: Seconds a check may run before the runner stops waiting for it: generous, it
#: is there to stop a hung third-party check from holding the whole audit.
DEFAULT_TIMEOUT_S = 3600.0


class SuiteFile(BaseModel):
    """A suite: a named selection of checks with their settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    checks: dict[str, dict[str, Any] | None] = Field(default_factory=dict)


@dataclass(frozen=True)
class PlannedCheck:
    """One check as it will run: class, validated options, thresholds in force."""

    id: str
    check_class: type[Check]
    plugin: str
    options: CheckOptions
    thresholds: Mapping[str, Threshold]
    gated: bool
    timeout: float | None = DEFAULT_TIMEOUT_S
    gate_on: str = "interval"

    def settings_digest(self) -> str:
        """A stable digest of what decides this check's outcome (for ``--resume``)."""
        payload = {
            "id": self.id,
            "options": self.options.model_dump(mode="json"),
            "thresholds": {k: [t.min, t.max] for k, t in sorted(self.thresholds.items())},
            "gated": self.gated,
            "gate_on": self.gate_on,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Plan:
    suite: SuiteFile
    suite_source: str
    checks: tuple[PlannedCheck, ...]


def available_suites() -> list[str]:
    return sorted(p.stem for p in resource_dir("suites").glob("*.yaml"))


def load_suite(name_or_path: str, base_dir: Path, where: str = "suite") -> tuple[SuiteFile, str]:
    """A suite by name (a file in suites/) or by path (relative to the config).

    ``where`` says where the name came from (``audit.yaml: suite`` or
    ``--suite``) so the error points at the line to fix.
    """
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or "/" in name_or_path:
        path = candidate if candidate.is_absolute() else base_dir / candidate
        if not path.exists():
            raise ConfigError(f"{where}: suite file {path} not found")
    else:
        path = resource_dir("suites") / f"{name_or_path}.yaml"
        if not path.exists():
            known = available_suites()
            raise ConfigError(
                f"{where}: unknown suite {name_or_path!r}{did_you_mean(name_or_path, known)}; "
                f"available: {', '.join(known)} (or a path to a .yaml suite file)"
            )
    data = read_yaml(path, "suite file")
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: expected a mapping with 'name' and 'checks'")
    try:
        return SuiteFile.model_validate(dict(data)), str(path)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, str(path), SuiteFile)) from None


def _threshold(raw: Any, where: str) -> Threshold:
    if not isinstance(raw, Mapping) or not raw or set(raw) - {"min", "max"}:
        raise ConfigError(f"{where}: expected a mapping with 'min' and/or 'max' (got {raw!r})")
    values = {}
    for key in ("min", "max"):
        if key in raw and raw[key] is not None:
            if isinstance(raw[key], bool) or not isinstance(raw[key], (int, float)):
                raise ConfigError(f"{where}.{key}: expected a number (got {raw[key]!r})")
            values[key] = float(raw[key])
    return Threshold(**values)


def _flag(settings: Mapping[str, Any], key: str, where: str) -> bool:
    """A boolean setting (``gate``, ``enabled``); a string like "no" would be truthy, so refuse it."""
    value = settings.get(key, True)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}.{key}: expected true or false (got {value!r})")
    return value


def _timeout(settings: Mapping[str, Any], where: str) -> float | None:
    """The ``timeout`` setting: positive seconds, or ``null`` for no limit."""
    if "timeout" not in settings:
        return DEFAULT_TIMEOUT_S
    value = settings["timeout"]
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ConfigError(f"{where}.timeout: expected a number of seconds > 0, or null for no limit (got {value!r})")
    return float(value)


def _plan_one(check_id: str, registered: Any, settings: Mapping[str, Any], origins: Mapping[str, str]) -> PlannedCheck | None:
    """Validate one check's merged settings; errors name the file that set the key at fault.

    ``origins`` maps each settings key to the file (suite or config) it came
    from, and ``""`` to the first file that selected the check.
    """
    check_class: type[Check] = registered.check_class

    def where(key: str = "") -> str:
        return f"{origins.get(key, origins.get('', '<config>'))}: checks.{check_id}"

    if not _flag(settings, "enabled", where("enabled")):
        return None
    thresholds: dict[str, Threshold] = dict(check_class.default_thresholds)
    if "min" in settings or "max" in settings:
        key = "min" if "min" in settings else "max"
        if check_class.primary_metric is None:
            raise ConfigError(f"{where(key)}: this check has no primary metric; use 'thresholds: {{metric: {{min/max}}}}'")
        bound = _threshold({k: settings[k] for k in ("min", "max") if k in settings}, where(key))
        thresholds[check_class.primary_metric] = bound
    by_metric = settings.get("thresholds") or {}
    if not isinstance(by_metric, Mapping):
        raise ConfigError(f"{where('thresholds')}.thresholds: expected a mapping of metric -> {{min/max}} (got {by_metric!r})")
    for metric, raw in by_metric.items():
        thresholds[str(metric)] = _threshold(raw, f"{where('thresholds')}.thresholds.{metric}")
    gate = _flag(settings, "gate", where("gate"))
    gate_on = settings.get("gate_on", "interval")
    if gate_on not in GATE_ON:
        raise ConfigError(f"{where('gate_on')}.gate_on: expected one of {', '.join(GATE_ON)} (got {gate_on!r})")
    timeout = _timeout(settings, where("timeout"))
    raw_options = {k: v for k, v in settings.items() if k not in RESERVED_KEYS}
    try:
        options = check_class.Options.model_validate(raw_options)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        origin = where(str(first["loc"][0]) if first["loc"] else "")
        if first["type"] == "extra_forbidden":
            allowed = [*RESERVED_KEYS, *check_class.Options.model_fields]
            raise ConfigError(
                f"{origin}.{key}: unknown option{did_you_mean(key, allowed)}; expected one of: {', '.join(allowed)}"
            ) from None
        raise ConfigError(f"{origin}.{key}: {first['msg']} (got {first.get('input')!r})") from None
    return PlannedCheck(check_id, check_class, registered.plugin, options, thresholds, gate, timeout, gate_on)


def build_plan(config: AuditConfig, registry: CheckRegistry, *, suite: str | None, base_dir: Path, source: str) -> Plan:
    """Resolve the suite and overrides against the registry; every id must exist."""
    where = "--suite" if suite else f"{source}: suite"
    suite_file, suite_source = load_suite(suite or config.suite, base_dir, where)
    merged: dict[str, dict[str, Any]] = {}
    origins: dict[str, dict[str, str]] = {}
    for origin, entries in ((suite_source, suite_file.checks), (source, config.checks)):
        for check_id, settings in entries.items():
            if registry.get(check_id) is None:
                raise ConfigError(
                    f"{origin}: checks.{check_id}: unknown check id{did_you_mean(check_id, registry.ids())}"
                    f" (run 'harness checks' to list them)"
                )
            merged.setdefault(check_id, {}).update(settings or {})
            check_origins = origins.setdefault(check_id, {})
            check_origins.update({str(key): origin for key in settings or {}})
            check_origins.setdefault("", origin)
    planned = []
    for check_id, settings in merged.items():
        item = _plan_one(check_id, registry.get(check_id), settings, origins[check_id])
        if item is not None:
            planned.append(item)
    if not planned:
        raise ConfigError(f"{source}: no checks selected (suite {suite_file.name!r} and overrides leave none)")
    return Plan(suite_file, suite_source, tuple(planned))
