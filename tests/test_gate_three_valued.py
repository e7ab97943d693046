"""Three-valued gates: pass / fail / inconclusive read from the whole interval, and a verdict that states its coverage."""

from __future__ import annotations

import math

import pytest

from harness.plugin.checks import Check, Threshold
from harness.run.gate import apply_thresholds, compare, examples_needed, verdict
from harness.config.plan import PlannedCheck
from harness.results.types import AuditResult, CheckResult, Coverage, Metric, ThresholdOutcome
from harness.stats.intervals import Interval


def _planned(thresholds: dict[str, Threshold], gate_on: str = "interval", gated: bool = True) -> PlannedCheck:
    return PlannedCheck("x.y", Check, "p", Check.Options(), thresholds, gated, gate_on=gate_on)


def _metric(value: float, low: float, high: float, n: int | None = None) -> Metric:
    return Metric("d", value, Interval(low, high, 0.95, "wilson"), n=n)


@pytest.mark.parametrize(
    "op,bound,interval,expected",
    [
        ("max", 0.1, (0.02, 0.08), "pass"),       # all of it allowed
        ("max", 0.1, (0.12, 0.30), "fail"),       # all of it beyond the limit
        ("max", 0.1, (0.079, 0.351), "inconclusive"),  # the demo's straddling disparity
        ("max", 0.1, (0.05, 0.10), "pass"),       # touching the limit is allowed
        ("min", 0.8, (0.82, 0.95), "pass"),
        ("min", 0.8, (0.60, 0.79), "fail"),
        ("min", 0.8, (0.55, 0.90), "inconclusive"),
    ],
)
def test_interval_outcomes(op: str, bound: float, interval: tuple[float, float], expected: str) -> None:
    value = sum(interval) / 2
    outcome = compare(_metric(value, *interval), "d", op, bound)
    assert outcome.outcome == expected and outcome.gate_on == "interval"
    assert outcome.passed is (expected == "pass")


def test_point_estimate_gate_and_no_interval() -> None:
    metric = _metric(0.168, 0.079, 0.351)
    assert compare(metric, "d", "max", 0.2, gate_on="estimate").outcome == "pass"
    assert compare(metric, "d", "max", 0.1, gate_on="estimate").outcome == "fail"
    # a metric without an interval can only be read on its estimate
    bare = Metric("d", 0.05)
    outcome = compare(bare, "d", "max", 0.1)
    assert outcome.outcome == "pass" and outcome.gate_on == "estimate"
    assert compare(Metric("d", None), "d", "max", 0.1).outcome == "fail"
    assert compare(Metric("d", math.nan, Interval(0, 1)), "d", "max", 0.1).outcome == "fail"


def test_inconclusive_sentence_and_examples_needed() -> None:
    metric = _metric(0.168, 0.079, 0.351, n=60)
    outcome = compare(metric, "demographic_parity_difference", "max", 0.1)
    assert outcome.outcome == "inconclusive"
    # the interval end facing the bound is 0.089 below the estimate, the bound 0.068 below it:
    # n * (0.089 / 0.068)^2 examples per group bring that end to the bound
    expected = math.ceil(60 * ((0.168 - 0.079) / (0.168 - 0.1)) ** 2)
    assert outcome.needed_n == expected == examples_needed(metric, "max", 0.1)
    assert outcome.sentence.startswith(
        "the interval [0.079, 0.351] of demographic_parity_difference contains the limit 0.1: more examples are needed"
    )
    assert f"(about {expected} examples would decide it, where the interval rests on 60 now)" in outcome.sentence
    assert examples_needed(Metric("d", 0.1, Interval(0.05, 0.2), n=50), "max", 0.1) is None  # on the bound: more data cannot tell
    assert examples_needed(_metric(0.168, 0.079, 0.351), "max", 0.1) is None  # no sample size recorded


def test_apply_thresholds_combines_outcomes() -> None:
    result = CheckResult(id="x.y", title="X", status="pass", metrics=(_metric(0.168, 0.079, 0.351, n=60), Metric("e", 0.5, Interval(0.45, 0.55))))
    inconclusive = apply_thresholds(result, _planned({"d": Threshold(max=0.1)}))
    assert inconclusive.status == "inconclusive" and "contains the limit 0.1" in inconclusive.message
    failed = apply_thresholds(result, _planned({"d": Threshold(max=0.1), "e": Threshold(min=0.6)}))
    assert failed.status == "fail"  # a failed threshold outranks an inconclusive one
    estimate = apply_thresholds(result, _planned({"d": Threshold(max=0.2)}, gate_on="estimate"))
    assert estimate.status == "pass" and estimate.thresholds[0].gate_on == "estimate"
    # a check may say inconclusive on its own; thresholds that pass do not turn it into a pass
    own = CheckResult(id="x.y", title="X", status="inconclusive", message="no power", metrics=(Metric("e", 0.5, Interval(0.45, 0.55)),))
    assert apply_thresholds(own, _planned({"e": Threshold(min=0.4)})).status == "inconclusive"
    # not applicable stays as it is
    na = CheckResult(id="x.y", title="X", status="not_applicable", message="no identity terms")
    assert apply_thresholds(na, _planned({"d": Threshold(max=0.1)})).status == "not_applicable"


def test_threshold_outcome_round_trips() -> None:
    outcome = compare(_metric(0.168, 0.079, 0.351, n=60), "d", "max", 0.1)
    assert ThresholdOutcome.from_dict(outcome.to_dict()) == outcome
    legacy = {"metric": "a", "op": "min", "bound": 0.5, "value": 0.7, "passed": True, "comparison": "a = 0.7 >= 0.5"}
    assert ThresholdOutcome.from_dict(legacy).outcome == "pass"


def _check(status: str, gated: bool = True, message: str = "") -> CheckResult:
    return CheckResult(id=f"demo.{status}_{int(gated)}", title=status, status=status, gated=gated, message=message)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "statuses,policy,expected",
    [
        (["pass", "inconclusive"], {}, ("incomplete", 1)),
        (["pass", "not_applicable"], {}, ("incomplete", 1)),
        (["pass", "skipped"], {}, ("incomplete", 1)),
        (["pass", "inconclusive"], {"inconclusive": "warn"}, ("pass", 0)),
        (["pass", "inconclusive"], {"inconclusive": "pass"}, ("pass", 0)),
        (["pass", "skipped"], {"skipped": "warn"}, ("pass", 0)),
        (["pass", "skipped", "inconclusive"], {"skipped": "warn"}, ("incomplete", 1)),
        (["fail", "inconclusive"], {}, ("fail", 1)),    # a failed gate outranks an undecided one
        (["error", "inconclusive"], {}, ("error", 3)),
    ],
)
def test_undecided_checks_keep_the_verdict_from_pass(statuses: list[str], policy: dict[str, str], expected: tuple[str, int]) -> None:
    assert verdict([_check(s) for s in statuses], **policy) == expected


def test_ungated_undecided_checks_do_not_gate() -> None:
    assert verdict([_check("pass"), _check("inconclusive", gated=False), _check("skipped", gated=False)]) == ("pass", 0)


def test_coverage_line_counts_decided_and_informational() -> None:
    checks = (
        _check("pass"), _check("fail"),
        CheckResult(id="fairness.counterfactual", title="C", status="not_applicable", message="no identity term occurs\nmore"),
        _check("fail", gated=False), _check("pass", gated=False),
    )
    coverage = Coverage.of(checks)
    assert (coverage.gated, coverage.decided, coverage.informational, coverage.informational_findings) == (3, 2, 2, 1)
    assert coverage.line == (
        "2 of 3 gated checks decided; fairness.counterfactual: not applicable, no identity term occurs; "
        "2 informational checks (1 with findings) not gated"
    )
    result = AuditResult(verdict="incomplete", exit_code=1, checks=checks, provenance={})
    data = result.to_dict()
    assert data["coverage"]["line"] == coverage.line and data["counts"]["not_applicable"] == 1


def test_method_notes_describe_every_built_in_interval_method() -> None:
    """The report's method notes name every interval method the built-in checks report."""
    from harness_accuracy.metrics import INTERVAL_METHODS as ACCURACY
    from harness_fairness.metrics import DISPARITY_INTERVAL_METHODS, GROUP_INTERVAL_METHODS

    from harness.outputs.html_view import describe_method, method_notes

    fallback = describe_method("no such method")
    methods = {*ACCURACY.values(), *DISPARITY_INTERVAL_METHODS.values(), *GROUP_INTERVAL_METHODS.values(),
               "delong", "prv-accountant numerical bounds", "worst over attributes of newcombe-bonferroni-pairs"}
    undescribed = sorted(m for m in methods if describe_method(m) == fallback)
    assert not undescribed
    result = AuditResult(verdict="pass", exit_code=0, provenance={}, checks=(
        CheckResult(id="a.b", title="A", status="pass", metrics=(_metric(0.5, 0.4, 0.6), Metric("m", 0.2, Interval(0.1, 0.3, 0.95, "delong")))),))
    assert [m for m, _ in method_notes(result)] == ["delong", "wilson"]
