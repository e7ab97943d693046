"""Thresholds and the verdict: the same rule for every check, applied by the core.

Checks report metrics; the gate compares them with the thresholds in force
(suite defaults, overridden by the config) and decides pass / fail. An
undefined metric (``None``) never passes a threshold: a gate that cannot be
evaluated must not let a release through.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Iterable

from harness.plan import PlannedCheck
from harness.results import CheckResult, ThresholdOutcome

EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_ERROR = 0, 1, 2, 3


def _compare(metric: str, op: str, bound: float, value: float | None) -> ThresholdOutcome:
    defined = value is not None and math.isfinite(value)
    passed = defined and (value >= bound if op == "min" else value <= bound)  # type: ignore[operator]
    return ThresholdOutcome(metric=metric, op=op, bound=bound, value=value if defined else None, passed=bool(passed))  # type: ignore[arg-type]


def apply_thresholds(result: CheckResult, planned: PlannedCheck) -> CheckResult:
    """Return the result with threshold outcomes, final status and gating flag set."""
    result = dataclasses.replace(result, gated=planned.gated, plugin=planned.plugin)
    if result.status in ("error", "skipped"):
        return result
    outcomes: list[ThresholdOutcome] = []
    missing: list[str] = []
    for metric_name, threshold in sorted(planned.thresholds.items()):
        metric = result.metric(metric_name)
        if metric is None:
            missing.append(metric_name)
            continue
        for op in ("min", "max"):
            bound = getattr(threshold, op)
            if bound is not None:
                outcomes.append(_compare(metric_name, op, bound, metric.value))
    if missing:
        reported = ", ".join(m.name for m in result.metrics) or "none"
        return dataclasses.replace(
            result,
            status="error",
            thresholds=tuple(outcomes),
            message=f"threshold set on metric(s) {', '.join(missing)} that this check does not report (it reports: {reported})",
        )
    failed = [o for o in outcomes if not o.passed]
    status = "fail" if failed else result.status
    message = result.message
    if failed:
        reasons = "; ".join(
            f"{o.metric} is undefined, so its threshold cannot be met" if o.value is None else f"{o.comparison} is false"
            for o in failed
        )
        message = f"{reasons}. {message}".strip()
    return dataclasses.replace(result, status=status, thresholds=tuple(outcomes), message=message)


DEFAULT_FAIL_ON: tuple[str, ...] = ("fail", "error")


def verdict(
    checks: Iterable[CheckResult], plugin_failures: int = 0, fail_on: Iterable[str] = DEFAULT_FAIL_ON, regressions: int = 0
) -> tuple[str, int]:
    """Overall verdict and exit code: an incomplete audit (errors) outranks a failed gate.

    ``fail_on`` (config ``gate.fail_on`` or ``--fail-on``) says which statuses
    of gated checks fail the run: ``error`` -> exit 3, ``fail`` or ``warn`` ->
    exit 1. A status left out is still reported, it just does not set the exit
    code. ``regressions`` counts significant regressions against a baseline
    (harness.compare); any fails the gate.
    """
    checks = list(checks)
    policy = set(fail_on)
    if "error" in policy and (plugin_failures or any(c.status == "error" for c in checks)):
        return "error", EXIT_ERROR
    if any(c.status in policy and c.status in ("fail", "warn") and c.gated for c in checks) or regressions:
        return "fail", EXIT_FAIL
    return "pass", EXIT_PASS
