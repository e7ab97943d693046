"""What the HTML report shows, worked out from the AuditResult alone.

The template only lays out what this module decides: which gated checks
failed and why, how checks group into suites, what was not tested
(limitations), which clause each check is evidence for, and the appendix of
every metric. Keeping the logic here (not in Jinja) makes it testable and
keeps the template readable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.plugin.regulation import Clause, describe
from harness.results.types import UNDECIDED, AuditResult, CheckResult, suite_of

#: Below this many evaluation examples, intervals are wide enough to say so.
SMALL_EVAL_SPLIT = 100


@dataclass
class SuiteView:
    name: str
    checks: list[CheckResult]
    check_sections: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sections: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for check in self.checks:
            counts[check.status] = counts.get(check.status, 0) + 1
        return counts


def group_by_suite(result: AuditResult) -> list[SuiteView]:
    suites: dict[str, SuiteView] = {}
    for check in result.checks:
        suites.setdefault(suite_of(check.id), SuiteView(suite_of(check.id), [])).checks.append(check)
    return list(suites.values())


def failed_gated(result: AuditResult) -> list[CheckResult]:
    return [c for c in result.checks if c.status == "fail" and c.gated]


def undecided_gated(result: AuditResult) -> list[CheckResult]:
    """Gated checks that decided nothing: inconclusive, skipped or not applicable."""
    return [c for c in result.checks if c.gated and c.status in UNDECIDED]


def informational_findings(result: AuditResult) -> list[CheckResult]:
    """Checks with ``gate: false`` whose findings are reported apart from gate failures."""
    return [c for c in result.checks if not c.gated and c.status in ("fail", "warn", "inconclusive")]


def verdict_sentence(result: AuditResult) -> str:
    """The verdict in plain words, as the first thing a reviewer reads."""
    counts = result.counts
    total = len(result.checks)
    if not result.complete:
        return f"The audit did not finish: {total} checks have results so far; the verdict is not final."
    if result.verdict == "error":
        broken = counts["error"]
        failures = len(result.provenance.get("plugin_failures") or [])
        parts = []
        if broken:
            parts.append(f"{broken} of {total} checks could not be completed")
        if failures:
            parts.append(f"{failures} plugin(s) failed to load")
        return "The audit is incomplete: " + " and ".join(parts) + ". Its results cannot support a release decision until this is fixed."
    if result.verdict == "fail":
        regressions = len((result.comparison or {}).get("regressions") or [])
        reasons = [f"{len(failed_gated(result))} gated check(s) did not meet their thresholds"] if failed_gated(result) else []
        if regressions:
            reasons.append(f"{regressions} metric(s) regressed significantly against the baseline (see the comparison)")
        return "The release gate says no: " + (" and ".join(reasons) or "the gate policy failed the run") + "."
    findings = len(informational_findings(result))
    extra = f" {findings} informational check(s) with findings are reported but do not gate." if findings else ""
    undecided = undecided_gated(result)
    if result.verdict == "incomplete":
        return (f"The audit could not decide: {len(undecided)} gated check(s) are inconclusive, skipped or not applicable, "
                f"so there is no evidence that the model meets those bars. Nothing failed outright.{extra}")
    if undecided:
        return (f"No gated check failed, but {len(undecided)} gated check(s) could not decide and the gate policy lets that pass "
                f"(gate.inconclusive / gate.skipped): this is not evidence that the model meets those bars.{extra}")
    return f"Every gated check met its thresholds ({counts['pass']} passed of {total}).{extra}"


#: How each interval method (``Interval.method``; longest matching prefix) is computed, for the report's method notes.
INTERVAL_METHODS: dict[str, str] = {
    "wilson": "Wilson score interval for a proportion: closed form, good coverage for small n and rates near 0 or 1, never of zero width.",
    "wilson-bonferroni-min": "Worst-class recall: a Wilson interval for each class's recall at level 1 - alpha/k (Bonferroni over the k classes); the bounds are the minima, so the worst class's true recall is covered at the stated level.",
    "clopper-pearson": "Clopper-Pearson exact binomial interval: conservative, coverage at least the stated level.",
    "bootstrap-percentile": "Percentile bootstrap: examples resampled with replacement, the statistic recomputed on each resample, the central quantiles taken.",
    "bootstrap-percentile-stratified": "Class-stratified percentile bootstrap: class counts held fixed in every resample; used only for statistics defined per class (balanced accuracy, ROC-AUC), which are undefined when a resample loses a class.",
    "bootstrap-error-bound": "Error bound: the estimate plus or minus the 95% bootstrap quantile of the summed absolute per-bin errors, which bounds the estimate's own error by the triangle inequality (conservative, reaches 0 for a calibrated model).",
    "newcombe-bonferroni-pairs": "Largest gap between groups: Newcombe's interval (Wilson limits combined by MOVER) for each pair of groups, Bonferroni over the pairs; the gap's interval runs from the largest lower to the largest upper bound, so it covers by construction and can reach 0.",
    "newcombe-bonferroni-groups": "Worst-group gap: Newcombe's interval for each group against the rest, scaled by the rest's share, Bonferroni over the groups.",
    "mover-log-wilson-bonferroni-pairs": "Lowest over highest rate: MOVER on the log scale from Wilson limits for each pair of groups, Bonferroni over the pairs.",
    "delong": "DeLong's interval for ROC-AUC from its asymptotic variance.",
    "worst over attributes": "Worst over attributes: [worst lower bound, worst upper bound] of the per-attribute intervals; it holds the worst true value whenever each attribute's interval holds its own.",
    "normal": "Normal approximation from the estimate and its standard error.",
    "prv-accountant": "Numerical error bounds of the PRV accountant's epsilon (not a sampling interval): the gate reads the upper bound, so the claim holds even at the accountant's worst rounding.",
}


def describe_method(method: str) -> str:
    for prefix, text in sorted(INTERVAL_METHODS.items(), key=lambda item: -len(item[0])):
        if method.lower().startswith(prefix):
            return text
    return "as named by the plugin that reported it."


def method_notes(result: AuditResult) -> list[tuple[str, str]]:
    """Every interval method the report shows, with how it is computed (the report's method notes)."""
    methods = sorted({m.interval.method for c in result.checks for m in c.metrics if m.interval is not None})
    return [(method, describe_method(method)) for method in methods]


def limitations(result: AuditResult) -> list[str]:
    """What was not tested or cannot be relied on, stated plainly."""
    notes: list[str] = []
    prov = result.provenance
    if not result.complete:
        notes.append("The run did not complete; checks missing from this report were not run.")
    for failure in prov.get("plugin_failures") or []:
        notes.append(f"Plugin {failure['name']} failed to load ({failure['stage']}): {failure['error']}. Its checks did not run.")
    for check in result.checks:
        if check.status == "error":
            notes.append(f"{check.id} errored and measured nothing: {check.message}")
        elif check.status == "skipped":
            notes.append(f"{check.id} was skipped: {check.message or 'no reason given'}")
        elif check.status == "not_applicable":
            notes.append(f"{check.id} is not applicable to this data or model: {check.message or 'no reason given'}")
        elif check.status == "inconclusive":
            notes.append(f"{check.id} is inconclusive: {check.message or 'no reason given'}")
        if not check.gated:
            notes.append(f"{check.id} is informational (gate: false): its outcome does not affect the verdict.")
        for note in check.evidence.get("limitations", []) if isinstance(check.evidence, dict) else []:
            notes.append(f"{check.id}: {note}")
    ran = {c.id for c in result.checks}
    available = prov.get("available_checks") or {}
    not_run: dict[str, list[str]] = {}
    for check_id in sorted(available):
        if check_id not in ran:
            not_run.setdefault(suite_of(check_id), []).append(check_id)
    for suite, ids in not_run.items():
        if any(suite_of(c) == suite for c in ran):
            notes.append(f"Checks of the {suite} suite installed but not selected: {', '.join(ids)}.")
        else:
            notes.append(f"The {suite} suite was not run (installed checks: {', '.join(ids)}).")
    data = prov.get("data") or {}
    eval_split = (data.get("splits") or {}).get(data.get("eval_split", "test")) or {}
    size = eval_split.get("size")
    if isinstance(size, int) and size < SMALL_EVAL_SPLIT:
        notes.append(f"The evaluation split has only {size} examples: intervals are wide and small differences are not meaningful.")
    if data.get("synthetic"):
        notes.append("The data is synthetic: results show how the pipeline and model behave on generated notes, not on real patients.")
    if not (prov.get("fine_tuning") or prov.get("model")):
        notes.append("No model provenance was recorded.")
    return notes


@dataclass(frozen=True)
class MappingRow:
    check: CheckResult
    clauses: tuple[Clause, ...]


def regulatory_mapping(result: AuditResult) -> list[MappingRow]:
    """Each check with the clauses it declared itself as evidence for."""
    return [MappingRow(check, tuple(describe(r) for r in check.regulations)) for check in result.checks]


def clause_index(result: AuditResult) -> list[tuple[Clause, list[CheckResult]]]:
    """Each clause with the checks that evidence it (the reviewer's view by clause)."""
    index: dict[str, tuple[Clause, list[CheckResult]]] = {}
    for check in result.checks:
        for identifier in check.regulations:
            clause = describe(identifier)
            index.setdefault(clause.id, (clause, []))[1].append(check)
    return sorted(index.values(), key=lambda item: (item[0].framework, item[0].clause))


def appendix(result: AuditResult) -> list[dict[str, Any]]:
    return [
        {"check": check.id, "status": check.status, "metric": metric}
        for check in result.checks
        for metric in check.metrics
    ]
