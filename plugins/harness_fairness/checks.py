"""The fairness checks: five disparity measures, the group table, counterfactual swaps and the opt-in mitigation.

The disparity checks and the group table read one :class:`~harness_fairness.analysis.FairnessAnalysis`
per run (``analysis.py``); the counterfactual check swaps identity terms
(``terms.py``, ``counterfactual.py``; Chinese texts ``terms_zh.py``,
``counterfactual_zh.py``); the mitigation check fits Fairlearn's
ThresholdOptimizer (``mitigation.py``). Heavy libraries are imported when a
check runs, so registering them keeps ``harness --help`` light.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pydantic import Field

from harness import Check, CheckOptions, CheckResult, Interval, Metric, Threshold
from harness_fairness.analysis import FAIRNESS_CLAUSES, FairnessOptions, class_name, fairness_analysis, limitations, worst_interval
from harness import N_  # marks a message id for extraction (babel.cfg); the report translates it

if TYPE_CHECKING:
    from harness import RunContext


#: The checks' messages as catalog msgids (``{name}`` placeholders; numbers passed already formatted).
NO_SENSITIVE = N_("no sensitive attributes configured ({setting})")  # setting: data.sensitive
NOTHING_JUDGED = N_("no attribute could be judged: fewer than two groups large enough to judge")
SINGLE_VALUE = N_("no attribute could be judged: attribute {column} has a single value ({value}) in the {split} split")
WORST = N_("worst {measure} {value} ({name})")
WORST_INTERVAL = N_("worst {measure} {value} ({name}), 95% interval [{low}, {high}]")
GROUP_TABLES = {  # (some groups insufficient, some values unknown) -> msgid
    (False, False): N_("{tables} group tables ({judged} groups judged)"),
    (True, False): N_("{tables} group tables ({judged} groups judged, {insufficient} with insufficient data)"),
    (False, True): N_("{tables} group tables ({judged} groups judged); missing sensitive values were grouped as '{group}'"),
    (True, True): N_("{tables} group tables ({judged} groups judged, {insufficient} with insufficient data); "
                     "missing sensitive values were grouped as '{group}'"),
}
NO_IDENTITY_TERM = N_("no identity term of the swap lists occurs in the evaluation texts")
WORST_FLIP = N_("worst flip rate {rate} when swapping {attribute} terms ({flips} of {texts} texts)")
NOT_REQUESTED = N_("mitigation not requested (set {setting})")  # setting: mitigate: threshold_optimizer
NOT_BINARY = N_("{method} needs a binary task; this one has {labels} labels")  # method: ThresholdOptimizer
NO_VALIDATION = N_("needs a sensitive attribute and a validation split to fit the thresholds on")
MITIGATED = N_("demographic parity difference on {attribute}: {before} before, {after} after; thresholds saved to {artifact}")


def _said(template: str, **args: object) -> dict[str, object]:
    """``message``, ``message_id`` and ``message_args`` of ``self.result`` for ``template`` filled with ``args``."""
    return {"message": template.format(**args), "message_id": template, "message_args": args}


__all__ = [
    "DemographicParityDifference", "DemographicParityRatio", "EqualizedOddsDifference", "EqualOpportunityDifference",
    "WorstGroupAccuracyGap", "GroupMetricsCheck", "CounterfactualOptions", "CounterfactualCheck",
    "MitigationOptions", "MitigationCheck", "CHECKS",
]


class _DisparityCheck(Check):
    """One disparity measure over every judged attribute (and class, one-vs-rest); the worst one decides.

    The headline metric is the worst point estimate over attributes, with the
    interval ``[worst low, worst high]`` of the per-attribute intervals: it
    holds the worst true disparity whenever each attribute's interval holds
    its own. The core gate reads that whole interval (pass only when all of
    it meets the threshold, fail only when all of it misses, inconclusive
    otherwise), so a small group's wide interval can no longer pass by
    default. ``n`` is the smallest judged group, for the gate's estimate of
    the examples per group needed to decide. ``gate_on: estimate`` gates the
    point estimate alone.
    """

    Options = FairnessOptions
    regulations = FAIRNESS_CLAUSES
    measure: str = ""
    worst: str = "max"   # "max" for differences (bigger is worse), "min" for ratios

    def run(self, ctx: "RunContext", options: FairnessOptions) -> CheckResult:  # type: ignore[override]
        data = ctx.require_data()
        if not data.sensitive_columns and not options.attributes:
            return self.result(status="skipped", **_said(NO_SENSITIVE, setting="data.sensitive"))
        analysis = fairness_analysis(ctx, options)
        metrics: list[Metric] = []
        rows = []
        for (attrs, positive), disparity in analysis.disparities.items():
            value = getattr(disparity, self.measure)
            interval = disparity.intervals.get(self.measure)
            judged_counts = [int(r.count) for r in analysis.groups.get((attrs, positive), []) if r.group in disparity.judged_groups]
            name = f"{self.measure}[{' & '.join(attrs)}" + (f", class={class_name(analysis.labels, positive)}]" if len(analysis.classes) > 1 else "]")
            metrics.append(Metric(name, value, disparity.interval(self.measure), n=min(judged_counts) if judged_counts else None))
            rows.append({"attribute": " & ".join(attrs), "class": class_name(analysis.labels, positive), "value": value,
                         "interval": list(interval) if interval else None, "judged_groups": list(disparity.judged_groups),
                         "insufficient_groups": [list(g) for g in disparity.insufficient_groups], "worst_group": disparity.worst_group})
        defined = [m for m in metrics if m.value is not None and math.isfinite(m.value)]
        evidence = {"by_attribute": rows, "limitations": limitations(analysis), "min_group_size": options.min_group_size}
        if not defined:
            reasons = "; ".join(analysis.skipped.values()) or "fewer than two groups large enough to judge"
            message = f"no attribute could be judged: {reasons}"
            said = {"message": message}  # several reasons: one English sentence each, shown as written
            if not analysis.skipped:
                said = _said(NOTHING_JUDGED)
            elif len(analysis.skipped_args) == 1 and len(analysis.skipped) == 1:
                said = _said(SINGLE_VALUE, **analysis.skipped_args[0])
            return self.result(status="not_applicable", evidence=evidence, **said)
        pick = max if self.worst == "max" else min
        chosen = pick(defined, key=lambda m: m.value)
        headline = Metric(self.measure, chosen.value, worst_interval(defined, pick, options.level),
                          description=f"worst over attributes: {chosen.name}",
                          n=min((m.n for m in defined if m.n is not None), default=None))
        args = {"measure": self.measure, "value": f"{chosen.value:.3f}", "name": chosen.name}
        if chosen.interval is None:
            return self.result(metrics=[headline, *metrics], evidence=evidence, **_said(WORST, **args))
        args.update(low=f"{chosen.interval.low:.3f}", high=f"{chosen.interval.high:.3f}")
        return self.result(metrics=[headline, *metrics], evidence=evidence, **_said(WORST_INTERVAL, **args))


class DemographicParityDifference(_DisparityCheck):
    id = "fairness.demographic_parity_difference"
    title = N_("Demographic parity difference")
    description = "Largest gap in positive-prediction rate between groups of a sensitive attribute (0 = equal)."
    measure = "demographic_parity_difference"
    primary_metric = "demographic_parity_difference"
    default_thresholds = {primary_metric: Threshold(max=0.1)}


class DemographicParityRatio(_DisparityCheck):
    id = "fairness.demographic_parity_ratio"
    title = N_("Demographic parity ratio")
    description = "Lowest over highest group positive-prediction rate (1 = equal; the four-fifths rule asks >= 0.8)."
    measure = "demographic_parity_ratio"
    primary_metric = "demographic_parity_ratio"
    default_thresholds = {primary_metric: Threshold(min=0.8)}
    worst = "min"


class EqualizedOddsDifference(_DisparityCheck):
    id = "fairness.equalized_odds_difference"
    title = N_("Equalized odds difference")
    description = "Largest gap between groups in true or false positive rate (0 = equal error rates)."
    measure = "equalized_odds_difference"
    primary_metric = "equalized_odds_difference"
    default_thresholds = {primary_metric: Threshold(max=0.1)}


class EqualOpportunityDifference(_DisparityCheck):
    id = "fairness.equal_opportunity_difference"
    title = N_("Equal opportunity difference")
    description = "Largest gap between groups in true positive rate: who is missed when they need the positive outcome."
    measure = "equal_opportunity_difference"
    primary_metric = "equal_opportunity_difference"
    default_thresholds = {primary_metric: Threshold(max=0.1)}


class WorstGroupAccuracyGap(_DisparityCheck):
    id = "fairness.worst_group_accuracy_gap"
    title = N_("Worst-group accuracy gap")
    description = "Overall accuracy minus the accuracy of the worst-served group."
    measure = "worst_group_accuracy_gap"
    primary_metric = "worst_group_accuracy_gap"
    default_thresholds = {primary_metric: Threshold(max=0.1)}


class GroupMetricsCheck(Check):
    id = "fairness.group_metrics"
    title = N_("Group metrics (alone and intersected)")
    description = "Count, selection rate, accuracy, TPR, FPR, FNR per group, each with an interval (Wilson, or a vectorised bootstrap)."
    Options = FairnessOptions
    regulations = FAIRNESS_CLAUSES

    def run(self, ctx: "RunContext", options: FairnessOptions) -> CheckResult:  # type: ignore[override]
        data = ctx.require_data()
        if not data.sensitive_columns and not options.attributes:
            return self.result(status="skipped", **_said(NO_SENSITIVE, setting="data.sensitive"))
        analysis = fairness_analysis(ctx, options)
        tables = [
            {"attribute": " & ".join(attrs), "class": class_name(analysis.labels, positive), "groups": [row.to_dict() for row in rows]}
            for (attrs, positive), rows in analysis.groups.items()
        ]
        insufficient = sorted({(t["attribute"], g["group"]) for t in tables for g in t["groups"] if not g["sufficient"]})
        judged = sum(1 for t in tables for g in t["groups"] if g["sufficient"])
        args = {"tables": len(tables), "judged": judged, **({"insufficient": len(insufficient)} if insufficient else {}),
                **({"group": "unknown"} if analysis.unknown else {})}
        status = "warn" if analysis.unknown else "pass"
        said = _said(GROUP_TABLES[bool(insufficient), bool(analysis.unknown)], **args)
        return self.result(status=status, evidence={"tables": tables, "limitations": limitations(analysis)}, **said)


class CounterfactualOptions(CheckOptions):
    swaps: dict[str, list[list[str]]] = Field(default_factory=dict, description="extra term pairs per attribute, e.g. {sex: [[nurse, nurse]]}")
    top_k: int = Field(5, ge=0, le=100, description="worst examples kept for the report")
    n_boot: int = Field(1000, ge=100, le=100_000)


class CounterfactualCheck(Check):
    """Swap identity terms in each evaluation text and count prediction flips.

    English texts are swapped with :mod:`harness_fairness.terms` on letter
    boundaries, Chinese texts with :mod:`harness_fairness.terms_zh` on the
    words of a Chinese segmenter; each text's language is the one the run
    detected (``ctx.languages.per_text``), by script where that is neither.
    """

    id = "fairness.counterfactual"
    title = N_("Counterfactual identity-term swaps")
    description = "Swap identity terms (gendered words, names, age and ethnicity words) in each text: how often does the prediction flip?"
    primary_metric = "flip_rate"
    default_thresholds = {"flip_rate": Threshold(max=0.05)}
    Options = CounterfactualOptions
    regulations = FAIRNESS_CLAUSES
    languages = ("en", "zh")

    def run(self, ctx: "RunContext", options: CounterfactualOptions) -> CheckResult:  # type: ignore[override]
        from harness_fairness.counterfactual import flip_statistics, make_variants, swap_languages
        from harness_fairness.terms import DEFAULT_SWAPS, merge_swaps
        from harness_fairness.terms_zh import DEFAULT_SWAPS_ZH

        data = ctx.require_data()
        texts = list(data.eval.texts)
        detected = ctx.languages.per_text if ctx.languages is not None else None
        languages, by_script = swap_languages(texts, detected)
        variants = make_variants(texts, merge_swaps(DEFAULT_SWAPS, options.swaps), languages=languages,
                                 swaps_zh=merge_swaps(DEFAULT_SWAPS_ZH, options.swaps))
        chinese = languages.count("zh")
        # Only where Chinese lists were used: an English run's evidence stays as it was.
        swapped_in = {"en": languages.count("en"), "zh": chinese, "by_script": by_script,
                      "zh_segmenter": _segmenter_name()} if chinese else None
        if not variants:
            if swapped_in:
                return self.result(status="not_applicable", evidence={"languages": swapped_in}, **_said(NO_IDENTITY_TERM))
            return self.result(status="not_applicable", **_said(NO_IDENTITY_TERM))
        predictor = ctx.require_predictor()
        original = predictor.probabilities([v.original for v in variants])  # served from the cache
        swapped = predictor.probabilities([v.swapped for v in variants])
        seed = int(ctx.rng("fairness.counterfactual").integers(0, 2**31 - 1))
        stats = flip_statistics(variants, original, swapped, data.label_names, positive=1, top_k=options.top_k, n_boot=options.n_boot, seed=seed)
        metrics = []
        for s in stats:
            metrics.append(Metric(f"flip_rate[{s.attribute}]", s.flip_rate, Interval(*s.flip_interval, method="wilson") if s.flip_interval else None, n=s.n_texts))
            metrics.append(Metric(f"mean_score_change[{s.attribute}]", s.mean_score_change, Interval(*s.score_change_interval) if s.score_change_interval else None))
        rated = [s for s in stats if s.flip_rate is not None]
        worst = max(rated, key=lambda s: s.flip_rate)
        flip_metrics = [m for m in metrics if m.name.startswith("flip_rate[") and m.value is not None]
        # gated on [worst low, worst high] over attributes, as the disparities: every attribute must be shown to meet the bar
        headline = Metric("flip_rate", worst.flip_rate, worst_interval(flip_metrics, max, 0.95),
                          description=f"worst attribute: {worst.attribute}", n=min(m.n or 0 for m in flip_metrics) or None)
        attributes = [s.to_dict() for s in stats]
        for attribute in attributes:  # worst examples are data-derived text: personal data masked
            attribute["worst"] = [_redacted_example(ctx, e) for e in attribute.get("worst", [])]
        evidence = {"attributes": attributes, "variants": len(variants), "texts": len(texts)}
        if swapped_in:
            evidence["languages"] = swapped_in
        said = _said(WORST_FLIP, rate=f"{worst.flip_rate:.3f}", attribute=worst.attribute, flips=worst.flips, texts=worst.n_texts)
        return self.result(metrics=[headline, *metrics], evidence=evidence, **said)


def _redacted_example(ctx: "RunContext", example: dict) -> dict:
    """A worst example with personal data masked in its texts and, for Chinese texts, in its changed words.

    A swapped Chinese full name (王芳 -> 王伟) is a word of its own that the
    masking of the texts hides (姓名：[NAME]); the pair is then shown as
    ``[NAME]`` too. English examples are as before.
    """
    from harness_fairness.counterfactual_zh import has_han

    original, swapped = ctx.redact(example["original"]), ctx.redact(example["swapped"])
    redacted = {**example, "original": original, "swapped": swapped}
    if has_han(example["original"]) and original != example["original"]:
        redacted["changed"] = [[a, b] if a in original and b in swapped else ["[NAME]", "[NAME]"] for a, b in example["changed"]]
    return redacted


def _segmenter_name() -> str:
    import importlib.metadata

    try:
        version = importlib.metadata.version("jieba")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - a declared dependency
        version = "unknown"
    return f"jieba {version} (no HMM; swap terms, names and protected words added to a private dictionary)"


class MitigationOptions(CheckOptions):
    mitigate: str = Field("none", pattern="^(none|threshold_optimizer)$", description="'threshold_optimizer' to fit Fairlearn's ThresholdOptimizer")
    attribute: str | None = Field(None, description="sensitive attribute to mitigate for (default: the first of data.sensitive)")
    constraint: str = Field("demographic_parity", pattern="^(demographic_parity|equalized_odds|true_positive_rate_parity|false_positive_rate_parity)$")


class MitigationCheck(Check):
    id = "fairness.mitigation"
    title = N_("Mitigation: group thresholds (Fairlearn ThresholdOptimizer)")
    description = "Opt-in: group-specific thresholds fitted on validation scores, evaluated on the test split, before and after."
    Options = MitigationOptions
    regulations = FAIRNESS_CLAUSES

    def run(self, ctx: "RunContext", options: MitigationOptions) -> CheckResult:  # type: ignore[override]
        from harness_fairness.mitigation import mitigate_threshold_optimizer, save_thresholds

        if options.mitigate == "none":
            return self.result(status="skipped", **_said(NOT_REQUESTED, setting="mitigate: threshold_optimizer"))
        data = ctx.require_data()
        if len(data.label_names) != 2:
            return self.result(status="not_applicable", **_said(NOT_BINARY, method="ThresholdOptimizer", labels=len(data.label_names)))
        attribute = options.attribute or (data.sensitive_columns[0] if data.sensitive_columns else None)
        validation = data.get("validation")
        if attribute is None or validation is None or not len(validation):
            return self.result(status="skipped", **_said(NO_VALIDATION))
        if attribute not in data.eval.sensitive:
            raise ValueError(f"attribute {attribute!r} is not in data.sensitive ({', '.join(data.sensitive_columns)})")
        predictor = ctx.require_predictor()
        test = data.eval
        outcome = mitigate_threshold_optimizer(
            predictor.probabilities(validation.texts)[:, 1], validation.labels, list(validation.sensitive[attribute]),
            predictor.probabilities(test.texts)[:, 1], test.labels, list(test.sensitive[attribute]),
            attribute=attribute, constraint=options.constraint, seed=int(ctx.rng("fairness.mitigation").integers(0, 2**31 - 1)),
        )
        artifact = ctx.output_dir / "fairness_thresholds.json"
        save_thresholds(outcome, artifact)
        metrics = []
        for name in ("accuracy", "demographic_parity_difference", "equalized_odds_difference"):
            metrics.append(Metric(f"{name}_before", outcome.before.get(name)))
            metrics.append(Metric(f"{name}_after", outcome.after.get(name)))
        before, after = outcome.before.get("demographic_parity_difference"), outcome.after.get("demographic_parity_difference")
        said = _said(MITIGATED, attribute=attribute, before=f"{before:.3f}", after=f"{after:.3f}", artifact=artifact.name)
        return self.result(metrics=metrics, evidence={**outcome.to_dict(), "artifact": artifact.name}, **said)


CHECKS = (
    GroupMetricsCheck, DemographicParityDifference, DemographicParityRatio, EqualizedOddsDifference,
    EqualOpportunityDifference, WorstGroupAccuracyGap, CounterfactualCheck, MitigationCheck,
)
