"""The explain checks: token attributions, their faithfulness, and how much the model leans on protected terms.

All three read one :class:`~harness_explain.analysis.ExplainAnalysis` per run
(``analysis.py``), so each text is attributed once. Captum, NumPy and torch
are imported when a check runs, so registering these checks keeps
``harness --help`` light.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from harness import Check, CheckResult, Interval, Metric, Threshold, wilson_interval
from harness_explain.analysis import EXPLAIN_CLAUSES, ExplainAnalysis, ExplainOptions, describe_method, display_segments, explain_analysis, reliance_arrays
from harness import N_  # marks a message id for extraction (babel.cfg); the report translates it

if TYPE_CHECKING:
    from harness import RunContext

__all__ = ["AttributionsCheck", "FaithfulnessCheck", "ProtectedTermReliance", "CHECKS"]


#: The checks' messages as catalog msgids (numbers passed already formatted).
NOTHING_TO_EXPLAIN = N_("no text to explain: the evaluation split is empty or every source is turned off")
EXPLAINED = N_("{texts} texts explained ({seconds} s); {flagged} flagged: completeness missed by more than the tolerance")
NO_SAMPLE = N_("no usable sample text: the sample is empty or every attribution in it was flagged")
BETTER = N_("the top-attributed words are more faithful than random words: erasing them removes {gain} more of the "
            "predicted-class probability (comprehensiveness {comp} against {random} for random words)")
NOT_BETTER = N_("the attributions are no better than random words on this model: erasing the top-attributed words removes "
                "{gain} more of the predicted-class probability than random words (comprehensiveness {comp} against {random})")
RELIANCE = N_("{share} of the attribution mass falls on protected terms and personal data (largest: {category} {category_share})")
RELIANCE_NONE = N_("{share} of the attribution mass falls on protected terms and personal data (none occurs in the sample)")


def _said(template: str, **args: object) -> dict[str, object]:
    return {"message": template.format(**args), "message_id": template, "message_args": args}


def _fmt(value: float | None) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.3f}"


def _sample_indices(analysis: ExplainAnalysis) -> list[int]:
    return analysis.scored("sample")


class _ExplainCheck(Check):
    Options = ExplainOptions
    regulations = EXPLAIN_CLAUSES


class AttributionsCheck(_ExplainCheck):
    """The explained texts, highlighted per word, and the words each class leans on most."""

    id = "explain.attributions"
    title = N_("Token attributions (integrated gradients)")
    description = ("Integrated gradients over the input embeddings for misclassified, adversarial, counterfactual and sampled texts; "
                   "each text's completeness (convergence delta) recorded and texts above the tolerance flagged.")
    primary_metric = "flagged_share"

    def run(self, ctx: "RunContext", options: ExplainOptions) -> CheckResult:  # type: ignore[override]
        analysis = explain_analysis(ctx, options)
        data = ctx.require_data()
        examples = analysis.selection.examples
        if not examples:
            return self.result(status="not_applicable", evidence={"unavailable": analysis.selection.unavailable}, **_said(NOTHING_TO_EXPLAIN))
        flagged = sum(analysis.flagged)
        deltas = [abs(a.delta) for a in analysis.attributions]
        interval = wilson_interval(flagged, len(examples), options.level)
        metrics = [
            Metric("flagged_share", flagged / len(examples), Interval(interval.low, interval.high, interval.level, interval.method) if interval else None,
                   description="share of explained texts whose convergence delta exceeds the tolerance", n=len(examples)),
            Metric("texts", float(len(examples))),
            Metric("max_abs_delta", max(deltas), description="largest |sum of attributions - (f(x) - f(baseline))|, logit units"),
            Metric("median_abs_delta", float(sorted(deltas)[len(deltas) // 2])),
        ]
        shown = _shown_examples(ctx, analysis, options, data.label_names)
        counts: dict[str, int] = {}
        for example in examples:
            counts[example.kind] = counts.get(example.kind, 0) + (1 if example.role in ("text", "original") else 0)
        evidence = {
            "method": describe_method(options, analysis, data.label_names),
            "counts": counts, "available": analysis.selection.available, "unavailable": analysis.selection.unavailable,
            "flagged": flagged, "examples": shown,
            "top_words": _top_words(ctx, analysis, options, data.label_names),
        }
        status = "warn" if flagged else "pass"
        return self.result(status=status, metrics=metrics, evidence=evidence,
                           **_said(EXPLAINED, texts=len(examples), seconds=f"{analysis.seconds:.1f}", flagged=flagged))


def _shown_examples(ctx: "RunContext", analysis: ExplainAnalysis, options: ExplainOptions, labels: tuple[str, ...]) -> list[dict[str, Any]]:
    """Every explained text but the sample beyond ``shown``, as the report draws it (personal data masked)."""
    from harness_explain.attribution import flag_limit

    out, sampled = [], 0
    for i, example in enumerate(analysis.selection.examples):
        if example.kind == "sample":
            sampled += 1
            if sampled > options.shown:
                continue
        attribution = analysis.attributions[i]
        probabilities = analysis.probabilities[i]
        out.append({
            "kind": example.kind, "role": example.role, "pair": example.pair, "note": example.note,
            "label": labels[example.label] if example.label is not None else None,
            "predicted": labels[attribution.target], "probability": float(probabilities[attribution.target]),
            "delta": attribution.delta, "gap": attribution.gap, "limit": flag_limit(attribution.gap, options.delta_tolerance),
            "flagged": analysis.flagged[i], "truncated": attribution.truncated,
            "segments": display_segments(ctx, attribution),
        })
    return out


def _top_words(ctx: "RunContext", analysis: ExplainAnalysis, options: ExplainOptions, labels: tuple[str, ...]) -> dict[str, list[dict[str, Any]]]:
    """Per predicted class, over the usable sample: the words with the largest total attribution toward it."""
    from harness_explain.units import has_han

    totals: dict[int, dict[str, list[float]]] = {}
    for i in _sample_indices(analysis):
        attribution = analysis.attributions[i]
        words = totals.setdefault(attribution.target, {})
        chinese = has_han(attribution.text)
        for text, score in display_segments(ctx, attribution):
            if score is None or not any(ch.isalnum() for ch in text):
                continue
            word = text if chinese else text.lower()
            words.setdefault(word, []).append(score)
    out = {}
    for target in sorted(totals):
        ranked = sorted(totals[target].items(), key=lambda item: (-sum(item[1]), item[0]))[: options.top_words]
        out[labels[target]] = [{"word": w, "total": sum(s), "mean": sum(s) / len(s), "count": len(s)} for w, s in ranked]
    return out


class FaithfulnessCheck(_ExplainCheck):
    """ERASER comprehensiveness and sufficiency of the top-k words, against random words of the same count."""

    id = "explain.faithfulness"
    title = N_("Faithfulness of the attributions (ERASER)")
    description = ("Comprehensiveness and sufficiency (DeYoung et al., ERASER, ACL 2020) of the top-attributed words against as many "
                   "random words, over the class-stratified sample; gated: the top words must beat random ones.")
    primary_metric = "comprehensiveness_gain"
    default_thresholds = {"comprehensiveness_gain": Threshold(min=0.0)}

    def run(self, ctx: "RunContext", options: ExplainOptions) -> CheckResult:  # type: ignore[override]
        from harness_explain.faithfulness import faithfulness_statistics
        from harness_explain.statistics import MeanStatistic, intervals

        analysis = explain_analysis(ctx, options)
        result = analysis.faithfulness
        if result is None or not result.n:
            return self.result(status="not_applicable", **_said(NO_SAMPLE))
        arrays = faithfulness_statistics(result)
        bounds = intervals({name: MeanStatistic(values) for name, values in arrays.items()}, result.n,
                           rng=ctx.rng("explain.faithfulness.bootstrap"), n_boot=options.n_boot, level=options.level)
        descriptions = {
            "comprehensiveness_gain": "comprehensiveness of the top words minus that of as many random words (> 0: better than random)",
            "sufficiency_gain": "sufficiency of random words minus that of the top words (> 0: better than random)",
            "comprehensiveness": "p(y|x) - p(y|x without the top words), AOPC over 1/5/10/20/50 % of the words",
            "comprehensiveness_random": "the same for as many random words",
            "sufficiency": "p(y|x) - p(y|only the top words), AOPC over the same bins",
            "sufficiency_random": "the same for as many random words",
        }
        order = ("comprehensiveness_gain", "sufficiency_gain", "comprehensiveness", "comprehensiveness_random", "sufficiency", "sufficiency_random")
        metrics = [Metric(name, float(arrays[name].mean()), bounds[name], descriptions[name], n=result.n) for name in order]
        gain = metrics[0]
        evidence = {"examples": result.n, "excluded_flagged": analysis.faithful_excluded, "bins": list(result.bins),
                    "mean_probability": float(result.probability.mean()),
                    "rows": [m.to_dict() for m in metrics]}
        args = {"gain": _fmt(gain.value), "comp": _fmt(metrics[2].value), "random": _fmt(metrics[3].value)}
        beats = gain.interval.low > 0 if gain.interval is not None else (gain.value or 0) > 0
        return self.result(metrics=metrics, evidence=evidence, **_said(BETTER if beats else NOT_BETTER, **args))


class ProtectedTermReliance(_ExplainCheck):
    """The share of all attribution mass that falls on protected terms and personal data."""

    id = "explain.protected_term_reliance"
    title = N_("Reliance on protected terms and personal data")
    description = ("Share of the absolute attribution mass, over the class-stratified sample, on the fairness plugin's identity terms "
                   "(sex, age, ethnicity, names; Chinese lists too) and on personal-data spans; gated (default at most 0.05).")
    primary_metric = "protected_term_reliance"
    default_thresholds = {"protected_term_reliance": Threshold(max=0.05)}
    languages = ("en", "zh")

    def run(self, ctx: "RunContext", options: ExplainOptions) -> CheckResult:  # type: ignore[override]
        from harness_explain.statistics import RatioStatistic, intervals, ratio

        analysis = explain_analysis(ctx, options)
        indices = _sample_indices(analysis)
        if not indices:
            return self.result(status="not_applicable", **_said(NO_SAMPLE))
        protected, by_category, total = reliance_arrays(analysis, indices, tuple(options.ignore))
        statistics = {"protected_term_reliance": RatioStatistic(protected, total)}
        statistics.update({f"reliance[{c}]": RatioStatistic(v, total) for c, v in by_category.items()})
        bounds = intervals(statistics, len(indices), rng=ctx.rng("explain.reliance.bootstrap"), n_boot=options.n_boot, level=options.level)
        share = ratio(protected, total)
        metrics = [Metric("protected_term_reliance", share, bounds["protected_term_reliance"],
                          "share of the absolute attribution mass on protected terms and personal data", n=len(indices))]
        for category, values in by_category.items():
            name = f"reliance[{category}]"
            metrics.append(Metric(name, ratio(values, total), bounds[name], n=len(indices)))
        texts_with = int((protected > 0).sum())
        evidence = {
            "examples": len(indices), "excluded_flagged": analysis.faithful_excluded, "texts_with_protected_terms": texts_with,
            "categories": {c: {"share": ratio(v, total), "texts": int((v > 0).sum())} for c, v in by_category.items()},
            "top_terms": _top_protected_terms(ctx, analysis, indices, tuple(options.ignore)), "ignored": list(options.ignore),
            "terms": "harness_fairness.terms (English), harness_fairness.terms_zh (Chinese), numeric ages, swap-list names"
                     + (", personal data (harness.text.pii)" if options.pii else "") + (", the terms option" if options.terms else ""),
        }
        if by_category:
            worst = max(by_category, key=lambda c: by_category[c].sum())
            said = _said(RELIANCE, share=_fmt(share), category=worst, category_share=_fmt(ratio(by_category[worst], total)))
        else:
            said = _said(RELIANCE_NONE, share=_fmt(share))
        return self.result(metrics=metrics, evidence=evidence, **said)


def _top_protected_terms(ctx: "RunContext", analysis: ExplainAnalysis, indices: list[int], ignore: tuple[str, ...] = (),
                         limit: int = 15) -> list[dict[str, Any]]:
    """The protected words carrying the most mass (personal data shown masked, by its category only)."""
    found: dict[tuple[str, str], list[float]] = {}
    for i in indices:
        attribution = analysis.attributions[i]
        for unit, score, matched in zip(attribution.units, attribution.scores, analysis.categories[i]):
            categories = [c for c in matched if c not in ignore and c.split(":", 1)[0] not in ignore]
            if not categories:
                continue
            pii = [c for c in categories if c.startswith("pii:")]
            word = f"[{pii[0][4:].upper()}]" if pii else ctx.redact(attribution.text[unit.start:unit.end]).lower()
            found.setdefault((word, ", ".join(categories)), []).append(score)
    ranked = sorted(found.items(), key=lambda item: (-sum(abs(s) for s in item[1]), item[0]))[:limit]
    return [{"word": w, "categories": c, "mass": sum(abs(s) for s in v), "mean": sum(v) / len(v), "count": len(v)} for (w, c), v in ranked]


CHECKS = (AttributionsCheck, FaithfulnessCheck, ProtectedTermReliance)
