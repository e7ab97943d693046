"""The five accuracy checks: each reads the run's one :class:`~harness_accuracy.metrics.AccuracyReport`.

The report is computed once per run (and per option set) from the shared
Predictor's probabilities on the evaluation split and kept in ``ctx.extra``;
each check turns its estimates into ``harness.Metric`` values and adds its
own evidence. NumPy is imported only when a check runs (``metrics.py``), so
registering these checks keeps ``harness --help`` light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from pydantic import Field

from harness import Check, CheckOptions, CheckResult, Metric, N_, Threshold

if TYPE_CHECKING:
    from harness import RunContext

    from harness_accuracy.metrics import AccuracyReport

__all__ = [
    "ACCURACY_CLAUSES", "RELIABILITY_CLAUSES", "AccuracyOptions", "accuracy_report",
    "AccuracyCheck", "MacroF1Check", "PerClassCheck", "RocAucCheck", "CalibrationCheck", "CHECKS",
]

ACCURACY_CLAUSES = (
    "EU AI Act Art. 15(1)",
    "EU AI Act Art. 15(3)",
    "EU AI Act Art. 13(3)(b)(ii)",
    "NIST AI RMF MEASURE 2.3",
    "ISO/IEC 42001 A.6.2.4",
)
RELIABILITY_CLAUSES = (*ACCURACY_CLAUSES, "NIST AI RMF MEASURE 2.5")


class AccuracyOptions(CheckOptions):
    split: str | None = Field(None, description="split to evaluate (default: data.eval_split)")
    n_boot: int = Field(1000, ge=100, le=100_000, description="bootstrap resamples")
    level: float = Field(0.95, gt=0.5, lt=1, description="confidence level of intervals")
    n_bins: int = Field(15, ge=2, le=100, description="calibration bins")


def accuracy_report(ctx: "RunContext", options: AccuracyOptions) -> "AccuracyReport":
    """The run's accuracy report for these options, computed once and shared by the checks."""
    from harness_accuracy.metrics import compute_accuracy_report

    data = ctx.require_data()
    split_name = options.split or data.eval_split
    # the weights too: a result is only reused for the model it was computed on
    key = ("harness_accuracy.report", ctx.require_predictor().handle.weights_sha256, split_name, options.n_boot, options.level, options.n_bins)
    if key not in ctx.extra:
        split = data.get(split_name)
        if split is None:
            raise ValueError(f"split {split_name!r} does not exist (have: {', '.join(data.splits)})")
        probs = ctx.require_predictor().probabilities(split.texts)
        ctx.extra[key] = compute_accuracy_report(
            split.labels, probs, data.label_names,
            rng=ctx.rng(f"accuracy:{split_name}"), n_boot=options.n_boot, level=options.level, n_bins=options.n_bins,
        )
    return ctx.extra[key]


#: The checks' message: the metrics with their intervals (names and numbers are data), on how many examples.
ON_EXAMPLES = N_("{metrics} on {n} examples")


class _AccuracyCheck(Check):
    """Shared plumbing: turn report estimates into Metrics and add the common evidence."""

    Options = AccuracyOptions
    regulations = ACCURACY_CLAUSES
    metric_names: tuple[str, ...] = ()
    evidence_fn: "Callable[[AccuracyReport], dict[str, Any]] | None" = None

    def metrics_of(self, report: "AccuracyReport") -> list[Metric]:
        estimates = report.estimates()
        rename = {"ece": "expected_calibration_error"}
        # n: the examples each interval rests on (the smallest class for the worst-class recall),
        # so the gate can say how many examples would decide an inconclusive threshold
        supports = [int(row.get("support", 0)) for row in report.per_class if row.get("support")]
        sizes = {"min_class_recall": min(supports) if supports else None}
        return [
            Metric(rename.get(name, name), _finite(estimates[name].value), estimates[name].interval, n=sizes.get(name, report.n))
            for name in self.metric_names
        ]

    def run(self, ctx: "RunContext", options: AccuracyOptions) -> CheckResult:  # type: ignore[override]
        report = accuracy_report(ctx, options)
        evidence = {"n": report.n, "labels": list(report.labels), "split": options.split or ctx.require_data().eval_split}
        evidence.update(self.evidence(report))
        metrics = self.metrics_of(report)
        shown = ", ".join(
            f"{m.name} {m.value:.3f}" + (f" [{m.interval.low:.3f}, {m.interval.high:.3f}]" if m.interval else "")
            for m in metrics if m.value is not None
        )
        args = {"metrics": shown, "n": report.n}
        return self.result(metrics=metrics, evidence=evidence, message=ON_EXAMPLES.format(**args), message_id=ON_EXAMPLES, message_args=args)

    def evidence(self, report: "AccuracyReport") -> dict[str, Any]:
        return {}


def _finite(value: float) -> float | None:
    import math

    return value if value is not None and math.isfinite(value) else None


class AccuracyCheck(_AccuracyCheck):
    id = "accuracy.accuracy"
    title = N_("Accuracy")
    description = "Share of correct predictions on the evaluation split, with a Wilson interval and the confusion matrix."
    primary_metric = "accuracy"
    default_thresholds = {"accuracy": Threshold(min=0.7)}
    metric_names = ("accuracy", "balanced_accuracy", "micro_f1")

    def evidence(self, report: "AccuracyReport") -> dict[str, Any]:
        return {"confusion_matrix": [list(r) for r in report.confusion_matrix]}


class MacroF1Check(_AccuracyCheck):
    id = "accuracy.macro_f1"
    title = N_("Macro F1")
    description = "Unweighted mean of per-class F1: a model that ignores a rare class cannot score well."
    primary_metric = "macro_f1"
    default_thresholds = {"macro_f1": Threshold(min=0.6)}
    metric_names = ("macro_f1", "micro_f1")


class PerClassCheck(_AccuracyCheck):
    id = "accuracy.per_class"
    title = N_("Per-class precision, recall and F1")
    description = "Precision, recall and F1 of every class; gates on the worst class's recall."
    primary_metric = "min_class_recall"
    default_thresholds = {"min_class_recall": Threshold(min=0.5)}
    metric_names = ("min_class_recall",)

    def evidence(self, report: "AccuracyReport") -> dict[str, Any]:
        return {"per_class": [dict(row) for row in report.per_class]}


class RocAucCheck(_AccuracyCheck):
    id = "accuracy.roc_auc"
    title = N_("ROC-AUC")
    description = "Area under the ROC curve (binary, or macro one-vs-rest for multiclass): ranking quality independent of the threshold."
    primary_metric = "roc_auc"
    default_thresholds = {"roc_auc": Threshold(min=0.75)}
    metric_names = ("roc_auc",)

    def run(self, ctx: "RunContext", options: AccuracyOptions) -> CheckResult:  # type: ignore[override]
        import dataclasses

        from harness_accuracy.metrics import roc_auc_per_class, roc_curve_binary

        result = super().run(ctx, options)
        data = ctx.require_data()
        split = data.get(options.split or data.eval_split)
        probs = ctx.require_predictor().probabilities(split.texts)  # type: ignore[union-attr]
        evidence = dict(result.evidence)
        evidence["per_class_auc"] = {name: _finite(float(v)) for name, v in zip(data.label_names, roc_auc_per_class(split.labels, probs))}  # type: ignore[union-attr]
        if len(data.label_names) == 2:
            fpr, tpr, _ = roc_curve_binary((split.labels == 1).astype(int), probs[:, 1])  # type: ignore[union-attr]
            step = max(1, len(fpr) // 400)  # the curve at up to ~400 points is plenty for a chart
            keep = sorted(set(range(0, len(fpr), step)) | {len(fpr) - 1})
            evidence["roc_curve"] = {"fpr": [float(fpr[i]) for i in keep], "tpr": [float(tpr[i]) for i in keep], "positive_label": data.label_names[1]}
        return dataclasses.replace(result, evidence=evidence)


class CalibrationCheck(_AccuracyCheck):
    id = "accuracy.calibration"
    title = N_("Calibration (expected calibration error)")
    description = "Gap between confidence and accuracy (ECE, top-label, equal-width bins) with reliability-diagram data."
    primary_metric = "expected_calibration_error"
    default_thresholds = {"expected_calibration_error": Threshold(max=0.1)}
    metric_names = ("ece",)
    regulations = RELIABILITY_CLAUSES

    def metrics_of(self, report: "AccuracyReport") -> list[Metric]:
        return [*super().metrics_of(report), Metric("maximum_calibration_error", _finite(report.calibration.mce))]

    def evidence(self, report: "AccuracyReport") -> dict[str, Any]:
        return {"calibration": report.calibration.to_dict()}


CHECKS = (AccuracyCheck, MacroF1Check, PerClassCheck, RocAucCheck, CalibrationCheck)
