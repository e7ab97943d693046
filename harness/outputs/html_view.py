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

from harness.outputs.localize import check_message, limitation_text
from harness.plugin.regulation import Clause, describe
from harness.results.types import UNDECIDED, AuditResult, CheckResult, suite_of
from harness.text.i18n import N_, PLAIN, Plain, translator

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


def verdict_sentence(result: AuditResult, language: str = "en", style: Plain = PLAIN) -> str:
    """The verdict in plain words, as the first thing a reviewer reads."""
    tr = translator(language)
    _ = tr.gettext
    counts = result.counts
    total = len(result.checks)
    if not result.complete:
        return style.format(_("The audit did not finish: {total} checks have results so far; the verdict is not final."), total=total)
    if result.verdict == "error":
        broken = counts["error"]
        failures = len(result.provenance.get("plugin_failures") or [])
        parts = []
        if broken:
            parts.append(style.format(_("{broken} of {total} checks could not be completed"), broken=broken, total=total))
        if failures:
            parts.append(style.format(_("{failures} plugin(s) failed to load"), failures=failures))
        return style.format(_("The audit is incomplete: {reasons}. Its results cannot support a release decision until this is fixed."),
                            reasons=style.join(_(" and "), parts))
    if result.verdict == "fail":
        regressions = len((result.comparison or {}).get("regressions") or [])
        failed = len(failed_gated(result))
        reasons = [style.format(_("{failed} gated check(s) did not meet their thresholds"), failed=failed)] if failed else []
        if regressions:
            reasons.append(style.format(_("{regressions} metric(s) regressed significantly against the baseline (see the comparison)"),
                                        regressions=regressions))
        return style.format(_("The release gate says no: {reasons}."),
                            reasons=style.join(_(" and "), reasons) if reasons else _("the gate policy failed the run"))
    findings = len(informational_findings(result))
    undecided = undecided_gated(result)
    if result.verdict == "incomplete":
        sentence = style.format(_("The audit could not decide: {undecided} gated check(s) are inconclusive, skipped or not applicable, "
                                  "so there is no evidence that the model meets those bars. Nothing failed outright."), undecided=len(undecided))
    elif undecided:
        sentence = style.format(_("No gated check failed, but {undecided} gated check(s) could not decide and the gate policy lets that pass "
                                  "({settings}): this is not evidence that the model meets those bars."),
                                undecided=len(undecided), settings=style.data("gate.inconclusive / gate.skipped"))
    else:
        sentence = style.format(_("Every gated check met its thresholds ({passed} passed of {total})."), passed=counts["pass"], total=total)
    if findings:
        extra = style.format(_("{findings} informational check(s) with findings are reported but do not gate."), findings=findings)
        sentence = style.format(_("{sentence} {more}"), sentence=sentence, more=extra)
    return sentence


#: How each interval method (``Interval.method``; longest matching prefix) is computed, for the report's method notes.
INTERVAL_METHODS: dict[str, str] = {
    "wilson": N_("Wilson score interval for a proportion: closed form, good coverage for small n and rates near 0 or 1, never of zero width."),
    "wilson-bonferroni-min": N_("Worst-class recall: a Wilson interval for each class's recall at level 1 - alpha/k (Bonferroni over the k classes); the bounds are the minima, so the worst class's true recall is covered at the stated level."),
    "clopper-pearson": N_("Clopper-Pearson exact binomial interval: conservative, coverage at least the stated level."),
    "bootstrap-percentile": N_("Percentile bootstrap: examples resampled with replacement, the statistic recomputed on each resample, the central quantiles taken."),
    "bootstrap-percentile-stratified": N_("Class-stratified percentile bootstrap: class counts held fixed in every resample; used only for statistics defined per class (balanced accuracy, ROC-AUC), which are undefined when a resample loses a class."),
    "bootstrap-error-bound": N_("Error bound: the estimate plus or minus the 95% bootstrap quantile of the summed absolute per-bin errors, which bounds the estimate's own error by the triangle inequality (conservative, reaches 0 for a calibrated model)."),
    "newcombe-bonferroni-pairs": N_("Largest gap between groups: Newcombe's interval (Wilson limits combined by MOVER) for each pair of groups, Bonferroni over the pairs; the gap's interval runs from the largest lower to the largest upper bound, so it covers by construction and can reach 0."),
    "newcombe-bonferroni-groups": N_("Worst-group gap: Newcombe's interval for each group against the rest, scaled by the rest's share, Bonferroni over the groups."),
    "mover-log-wilson-bonferroni-pairs": N_("Lowest over highest rate: MOVER on the log scale from Wilson limits for each pair of groups, Bonferroni over the pairs."),
    "delong": N_("DeLong's interval for ROC-AUC from its asymptotic variance."),
    "worst over attributes": N_("Worst over attributes: [worst lower bound, worst upper bound] of the per-attribute intervals; it holds the worst true value whenever each attribute's interval holds its own."),
    "normal": N_("Normal approximation from the estimate and its standard error."),
    "prv-accountant": N_("Numerical error bounds of the PRV accountant's epsilon (not a sampling interval): the gate reads the upper bound, so the claim holds even at the accountant's worst rounding."),
}


def describe_method(method: str, language: str = "en") -> str:
    _ = translator(language).gettext
    for prefix, text in sorted(INTERVAL_METHODS.items(), key=lambda item: -len(item[0])):
        if method.lower().startswith(prefix):
            return _(text)
    return _("as named by the plugin that reported it.")


def method_notes(result: AuditResult, language: str = "en") -> list[tuple[str, str]]:
    """Every interval method the report shows, with how it is computed (the report's method notes)."""
    methods = sorted({m.interval.method for c in result.checks for m in c.metrics if m.interval is not None})
    return [(method, describe_method(method, language)) for method in methods]


def limitations(result: AuditResult, language: str = "en", style: Plain = PLAIN) -> list[str]:
    """What was not tested or cannot be relied on, stated plainly."""
    _ = translator(language).gettext
    data_ = style.data
    notes: list[str] = []
    prov = result.provenance
    if not result.complete:
        notes.append(_("The run did not complete; checks missing from this report were not run."))
    for failure in prov.get("plugin_failures") or []:
        notes.append(style.format(_("Plugin {name} failed to load ({stage}): {error}. Its checks did not run."),
                                  name=data_(failure["name"]), stage=data_(failure["stage"]), error=style.english(failure["error"])))
    for check in result.checks:
        message = check_message(check, language, style)
        check_id = data_(check.id)
        if check.status == "error":
            notes.append(style.format(_("{check} errored and measured nothing: {message}"), check=check_id, message=message))
        elif check.status == "skipped":
            notes.append(style.format(_("{check} was skipped: {message}"), check=check_id, message=message or _("no reason given")))
        elif check.status == "not_applicable":
            notes.append(style.format(_("{check} is not applicable to this data or model: {message}"), check=check_id,
                                      message=message or _("no reason given")))
        elif check.status == "inconclusive":
            notes.append(style.format(_("{check} is inconclusive: {message}"), check=check_id, message=message or _("no reason given")))
        if not check.gated:
            notes.append(style.format(_("{check} is informational ({setting}): its outcome does not affect the verdict."),
                                      check=check_id, setting=data_("gate: false")))
        for note in check.evidence.get("limitations", []) if isinstance(check.evidence, dict) else []:
            notes.append(style.format(_("{check}: {note}"), check=check_id, note=limitation_text(note, language, style)))
    ran = {c.id for c in result.checks}
    available = prov.get("available_checks") or {}
    not_run: dict[str, list[str]] = {}
    for check_id in sorted(available):
        if check_id not in ran:
            not_run.setdefault(suite_of(check_id), []).append(check_id)
    for suite, ids in not_run.items():
        listed = style.join(_(", "), [data_(i) for i in ids])
        if any(suite_of(c) == suite for c in ran):
            notes.append(style.format(_("Checks of the {suite} suite installed but not selected: {checks}."), suite=data_(suite), checks=listed))
        else:
            notes.append(style.format(_("The {suite} suite was not run (installed checks: {checks})."), suite=data_(suite), checks=listed))
    data = prov.get("data") or {}
    eval_split = (data.get("splits") or {}).get(data.get("eval_split", "test")) or {}
    size = eval_split.get("size")
    if isinstance(size, int) and size < SMALL_EVAL_SPLIT:
        notes.append(style.format(_("The evaluation split has only {size} examples: intervals are wide and small differences are not meaningful."),
                                  size=size))
    if data.get("synthetic"):
        notes.append(_("The data is synthetic: results show how the pipeline and model behave on generated notes, not on real patients."))
    if not (prov.get("fine_tuning") or prov.get("model")):
        notes.append(_("No model provenance was recorded."))
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
