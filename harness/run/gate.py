"""Thresholds and the verdict: the same rule for every check, applied by the core.

Checks report metrics; the gate compares them with the thresholds in force
(suite defaults, overridden by the config) and decides. A threshold on a
metric that carries a confidence interval has three outcomes, read from the
whole interval (an equivalence-test reading, the burden of proof on the
model): **pass** when the interval lies entirely on the allowed side,
**fail** when it lies entirely on the wrong side, **inconclusive** when it
contains the bound. ``gate_on: estimate`` (per check) compares the point
estimate alone. An undefined metric (``None``) never passes: a gate that
cannot be evaluated must not let a release through.

The verdict states what it covered: a gated check that could not decide
(inconclusive, skipped, not applicable) makes the run ``incomplete`` under the
default policy (``gate.inconclusive`` / ``gate.skipped``), never a plain pass.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Iterable

from harness.results.types import UNDECIDED, CheckResult, Metric, ThresholdOutcome
from harness.text.i18n import N_

if TYPE_CHECKING:
    from harness.config.plan import PlannedCheck

EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_ERROR = 0, 1, 2, 3
GATE_ON_DEFAULT = "interval"
#: The error of a check whose thresholds name a metric it does not report (a catalog msgid).
MISSING_METRIC_MESSAGE = N_("threshold set on metric(s) {missing} that this check does not report (it reports: {reported})")


def _finite(value: float | None) -> bool:
    return value is not None and isinstance(value, (int, float)) and math.isfinite(value)


def examples_needed(metric: Metric, op: str, bound: float) -> int | None:
    """About how many examples (per group for group metrics) would decide a straddling threshold.

    An interval's half-width shrinks like 1/sqrt(n): with ``h`` the distance
    from the estimate to the interval end facing the bound, ``n * (h / gap)^2``
    examples bring that end to the bound. None when it cannot be estimated
    (no sample size recorded, or the estimate sits on the bound itself).
    """
    if metric.n is None or metric.interval is None or not _finite(metric.value) or metric.n <= 0:
        return None
    value = float(metric.value)  # type: ignore[arg-type]
    gap = abs(value - bound)
    if gap < 1e-12:
        return None
    toward = metric.interval.high - value if bound > value else value - metric.interval.low
    if not toward > 0:
        return None
    return int(math.ceil(metric.n * (toward / gap) ** 2))


def compare(metric: Metric | None, name: str, op: str, bound: float, gate_on: str = GATE_ON_DEFAULT) -> ThresholdOutcome:
    """One threshold's outcome for one metric (see the module docstring)."""
    value = metric.value if metric is not None else None
    if not _finite(value):
        return ThresholdOutcome(metric=name, op=op, bound=bound, value=None, outcome="fail", gate_on="estimate")  # type: ignore[arg-type]
    interval = metric.interval if metric is not None else None
    usable = gate_on == "interval" and interval is not None and _finite(interval.low) and _finite(interval.high)
    if not usable:
        ok = value >= bound if op == "min" else value <= bound  # type: ignore[operator]
        return ThresholdOutcome(metric=name, op=op, bound=bound, value=value, outcome="pass" if ok else "fail", gate_on="estimate")  # type: ignore[arg-type]
    assert interval is not None and metric is not None
    low, high = float(interval.low), float(interval.high)
    if op == "min":
        outcome = "pass" if low >= bound else "fail" if high < bound else "inconclusive"
    else:
        outcome = "pass" if high <= bound else "fail" if low > bound else "inconclusive"
    needed = examples_needed(metric, op, bound) if outcome == "inconclusive" else None
    return ThresholdOutcome(metric=name, op=op, bound=bound, value=value, outcome=outcome,  # type: ignore[arg-type]
                            gate_on="interval", interval=(low, high), needed_n=needed, n=metric.n)


def apply_thresholds(result: CheckResult, planned: "PlannedCheck") -> CheckResult:
    """Return the result with threshold outcomes, final status and gating flag set.

    Any failed threshold fails the check; otherwise any inconclusive one makes
    it inconclusive; otherwise the check's own status stands (a check may
    itself say ``inconclusive``, e.g. an audit without the power to refute a claim).
    """
    result = dataclasses.replace(result, gated=planned.gated, plugin=planned.plugin)
    if result.status in ("error", "skipped", "not_applicable"):
        return result
    outcomes: list[ThresholdOutcome] = []
    missing: list[str] = []
    gate_on = getattr(planned, "gate_on", GATE_ON_DEFAULT)
    for metric_name, threshold in sorted(planned.thresholds.items()):
        metric = result.metric(metric_name)
        if metric is None:
            missing.append(metric_name)
            continue
        for op in ("min", "max"):
            bound = getattr(threshold, op)
            if bound is not None:
                outcomes.append(compare(metric, metric_name, op, bound, gate_on))
    if missing:
        reported = ", ".join(m.name for m in result.metrics) or "none"
        args = {"missing": ", ".join(missing), "reported": reported}
        return dataclasses.replace(
            result,
            status="error",
            thresholds=tuple(outcomes),
            message=MISSING_METRIC_MESSAGE.format(**args),
            message_id=MISSING_METRIC_MESSAGE,
            message_args=args,
        )
    failed = [o for o in outcomes if o.outcome == "fail"]
    undecided = [o for o in outcomes if o.outcome == "inconclusive"]
    message = result.message
    if failed:
        status = "fail"
        message = f"{'; '.join(o.sentence for o in failed)}. {message}".strip()
    elif undecided:
        status = "inconclusive"
        message = f"{'; '.join(o.sentence for o in undecided)}. {message}".strip()
    else:
        status = result.status
    return dataclasses.replace(result, status=status, thresholds=tuple(outcomes), message=message)


DEFAULT_FAIL_ON: tuple[str, ...] = ("fail", "error")


def verdict(
    checks: Iterable[CheckResult],
    plugin_failures: int = 0,
    fail_on: Iterable[str] = DEFAULT_FAIL_ON,
    regressions: int = 0,
    *,
    inconclusive: str = "fail",
    skipped: str = "fail",
) -> tuple[str, int]:
    """Overall verdict and exit code: an error outranks a failed gate, which outranks an undecided one.

    ``fail_on`` (config ``gate.fail_on`` or ``--fail-on``) says which statuses
    of gated checks fail the run: ``error`` -> exit 3, ``fail`` or ``warn`` ->
    exit 1. ``regressions`` counts significant regressions against a baseline
    (harness.compare.policy); any fails the gate. ``inconclusive`` (for inconclusive
    gated checks) and ``skipped`` (for skipped or not-applicable gated checks)
    are ``fail`` (verdict ``incomplete``, exit 1), ``warn`` (exit 0; the
    coverage line names them) or ``pass`` (treated as passed).
    """
    checks = list(checks)
    policy = set(fail_on)
    if "error" in policy and (plugin_failures or any(c.status == "error" for c in checks)):
        return "error", EXIT_ERROR
    if any(c.status in policy and c.status in ("fail", "warn") and c.gated for c in checks) or regressions:
        return "fail", EXIT_FAIL
    for check in checks:
        if check.gated and check.status in UNDECIDED:
            rule = inconclusive if check.status == "inconclusive" else skipped
            if rule == "fail":
                return "incomplete", EXIT_FAIL
    return "pass", EXIT_PASS
