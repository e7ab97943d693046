"""The public API, listed in one place: what plugins and users may rely on.

Anything named here changes only on purpose: ``tests/test_api_stability.py``
compares the live objects with these lists and fails on any difference, so a
change to ``harness.__all__``, to a hook's signature or to the fields of the
result types must come with an edit here (and a note in the release notes,
and a version bump when it breaks plugins). Everything not listed is internal.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

#: ``harness.__all__``.
PUBLIC_NAMES: tuple[str, ...] = (
    "AuditResult", "Check", "CheckOptions", "CheckResult", "ConfigError", "DataError", "DatasetBundle", "HarnessError",
    "Interval", "Metric", "ModelError", "ModelHandle", "N_", "Predictor", "ReportSection", "RunContext", "Split", "Threshold",
    "ThresholdOutcome", "TrainingReport", "UsageError", "audit", "bootstrap_interval", "clopper_pearson_interval",
    "collate", "did_you_mean", "encode", "hookimpl", "load_results", "run_command", "wilson_interval",
)

#: Every hookspec: name -> (signature with the quotes of postponed annotations removed, firstresult).
HOOKSPECS: dict[str, tuple[str, bool]] = {
    "harness_register_checks": ("(register: Callable[[type[Check]], None]) -> None", False),
    "harness_load_model": ("(spec: ModelConfig, ctx: RunContext) -> ModelHandle | None", True),
    "harness_load_dataset": ("(spec: DataConfig, ctx: RunContext) -> DatasetBundle | None", True),
    "harness_train": ("(model: ModelHandle, data: DatasetBundle, spec: ModelConfig, ctx: RunContext) -> TrainingReport | None", True),
    "harness_report_sections": ("(result: AuditResult, env: jinja2.Environment) -> list[ReportSection] | None", False),
    "harness_run_start": ("(ctx: RunContext) -> None", False),
    "harness_check_done": ("(result: CheckResult, ctx: RunContext) -> None", False),
    "harness_run_done": ("(result: AuditResult, ctx: RunContext) -> None", False),
    "harness_validate_config": ("(config: AuditConfig, base_dir: Path) -> None", False),
    "harness_register_commands": ("(cli: click.Group) -> None", False),
}

#: Dataclass fields (name -> annotation) of the result types plugins build and read.
FIELDS: dict[str, dict[str, str]] = {
    "CheckResult": {
        "id": "str", "title": "str", "status": "Status", "message": "str", "metrics": "tuple[Metric, ...]",
        "thresholds": "tuple[ThresholdOutcome, ...]", "evidence": "Mapping[str, Any]", "regulations": "tuple[str, ...]",
        "plugin": "str", "gated": "bool", "duration_s": "float", "inputs_key": "str", "error": "Mapping[str, Any] | None",
        "message_id": "str", "message_args": "Mapping[str, Any]",
    },
    "Metric": {"name": "str", "value": "float | None", "interval": "Interval | None", "description": "str", "n": "int | None"},
    "Interval": {"low": "float", "high": "float", "level": "float", "method": "str"},
    "Threshold": {"min": "float | None", "max": "float | None"},
}

#: Class attributes a Check subclass declares.
CHECK_ATTRIBUTES: tuple[str, ...] = (
    "Options", "default_thresholds", "description", "id", "languages", "primary_metric", "regulations", "title",
)


def live_api() -> dict[str, Any]:
    """The same four lists, read from the code as it is now (what the test compares)."""
    import harness
    from harness.plugin import hookspecs
    from harness.results.types import CheckResult, Metric
    from harness.stats.intervals import Interval
    from harness.plugin.checks import Check, Threshold

    specs = {}
    for name, function in inspect.getmembers(hookspecs, inspect.isfunction):
        options = getattr(function, f"{hookspecs.PROJECT_NAME}_spec", None)
        if options is not None:
            specs[name] = (str(inspect.signature(function)).replace("'", "").replace('"', ""), bool(options.get("firstresult")))
    fields = {
        cls.__name__: {f.name: str(f.type) for f in dataclasses.fields(cls)}
        for cls in (CheckResult, Metric, Interval, Threshold)
    }
    attributes = tuple(sorted(name for name in Check.__annotations__ if not name.startswith("_")))
    return {"names": tuple(sorted(harness.__all__)), "hookspecs": specs, "fields": fields, "check_attributes": attributes}


def listed_api() -> dict[str, Any]:
    return {"names": tuple(sorted(PUBLIC_NAMES)), "hookspecs": dict(HOOKSPECS), "fields": FIELDS, "check_attributes": tuple(sorted(CHECK_ATTRIBUTES))}
