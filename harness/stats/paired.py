"""Tests of "is the candidate different from the baseline, beyond noise?".

Three situations, each with its own honest method:

* both runs scored the same examples (matched by id) and the metric can be
  recomputed from the stored predictions: a *paired* test. Accuracy uses
  McNemar's exact test (a two-sided binomial test on the discordant pairs);
  every other recomputable metric uses a paired bootstrap of the difference
  (the same resampled example ids for both models).
* the runs scored different examples: an *unpaired* bootstrap, each run's
  examples resampled on their own.
* the metric cannot be recomputed (fairness disparities, attack rates...):
  a normal approximation from the two recorded confidence intervals
  (standard error = interval width / (2 z)), which assumes the runs are
  independent and so is conservative when they are in fact paired.

Metric functions here are written from their definitions with numpy and are
deliberately independent of the accuracy plugin, so a comparison cross-checks
the plugin's numbers rather than trusting them (see :func:`recomputable`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

#: A metric recomputed from per-example data: (labels, predictions, scores, n_classes) -> value.
MetricFn = Callable[[np.ndarray, np.ndarray, np.ndarray, int], float]


def _confusion(y: np.ndarray, p: np.ndarray, k: int) -> np.ndarray:
    return np.bincount(y * k + p, minlength=k * k).reshape(k, k).astype(float)


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)


def _recalls(cm: np.ndarray) -> np.ndarray:
    return _safe_div(np.diag(cm), cm.sum(axis=1))


def accuracy(y: np.ndarray, p: np.ndarray, s: np.ndarray, k: int) -> float:
    return float(np.mean(y == p)) if len(y) else math.nan


def balanced_accuracy(y: np.ndarray, p: np.ndarray, s: np.ndarray, k: int) -> float:
    cm = _confusion(y, p, k)
    present = cm.sum(axis=1) > 0
    return float(_recalls(cm)[present].mean()) if present.any() else math.nan


def macro_f1(y: np.ndarray, p: np.ndarray, s: np.ndarray, k: int) -> float:
    cm = _confusion(y, p, k)
    tp = np.diag(cm)
    f1 = _safe_div(2 * tp, cm.sum(axis=0) + cm.sum(axis=1))
    return float(f1.mean())


def min_class_recall(y: np.ndarray, p: np.ndarray, s: np.ndarray, k: int) -> float:
    cm = _confusion(y, p, k)
    present = cm.sum(axis=1) > 0
    return float(_recalls(cm)[present].min()) if present.any() else math.nan


def _auc(positive: np.ndarray, score: np.ndarray) -> float:
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return math.nan
    order = np.argsort(score, kind="mergesort")
    ranks = np.empty(len(score))
    sorted_scores = score[order]
    # average ranks of ties (Mann-Whitney U)
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def roc_auc(y: np.ndarray, p: np.ndarray, s: np.ndarray, k: int) -> float:
    """Binary AUC of the positive class; multiclass: unweighted one-vs-rest mean."""
    if k == 2:
        return _auc(y == 1, s[:, 1])
    values = [_auc(y == c, s[:, c]) for c in range(k)]
    values = [v for v in values if not math.isnan(v)]
    return float(np.mean(values)) if values else math.nan


@dataclass(frozen=True)
class MetricSpec:
    """How to recompute one metric from predictions, and which way is better."""

    fn: MetricFn
    higher_is_better: bool


#: Metric name (as checks report it) -> its definition. A metric is only
#: recomputed when this reproduces the value the run recorded.
RECOMPUTABLE: dict[str, MetricSpec] = {
    "accuracy": MetricSpec(accuracy, True),
    "balanced_accuracy": MetricSpec(balanced_accuracy, True),
    "micro_f1": MetricSpec(accuracy, True),  # single-label multiclass: micro F1 == accuracy
    "macro_f1": MetricSpec(macro_f1, True),
    "min_class_recall": MetricSpec(min_class_recall, True),
    "roc_auc": MetricSpec(roc_auc, True),
}


@dataclass(frozen=True)
class TestOutcome:
    """Difference candidate - baseline with its interval and a two-sided p-value."""

    delta: float
    low: float | None
    high: float | None
    p_value: float | None
    method: str
    paired: bool


def mcnemar_exact(baseline_correct: np.ndarray, candidate_correct: np.ndarray) -> tuple[int, int, float]:
    """McNemar's exact test: ``(b, c, p)`` with b = baseline right and candidate wrong, c = the reverse.

    Under H0 (equal accuracy) each discordant pair is equally likely to go
    either way, so b ~ Binomial(b + c, 1/2); the p-value is the two-sided
    exact binomial test. No discordant pair means no evidence: p = 1.
    """
    from scipy.stats import binomtest

    b = int(np.sum(baseline_correct & ~candidate_correct))
    c = int(np.sum(~baseline_correct & candidate_correct))
    if b + c == 0:
        return b, c, 1.0
    return b, c, float(binomtest(b, b + c, 0.5, alternative="two-sided").pvalue)


def _bootstrap_p(deltas: np.ndarray) -> float:
    """Two-sided bootstrap p-value: twice the smaller share of replicates on either side of 0."""
    finite = deltas[np.isfinite(deltas)]
    if not len(finite):
        return math.nan
    below = (np.sum(finite < 0) + 0.5 * np.sum(finite == 0)) / len(finite)
    return float(min(1.0, 2 * min(below, 1 - below)))


def _percentiles(deltas: np.ndarray, level: float) -> tuple[float | None, float | None]:
    finite = deltas[np.isfinite(deltas)]
    if not len(finite):
        return None, None
    alpha = (1 - level) / 2
    return float(np.quantile(finite, alpha)), float(np.quantile(finite, 1 - alpha))


def paired_bootstrap(
    spec: MetricSpec, k: int, labels: np.ndarray,
    base_pred: np.ndarray, base_scores: np.ndarray, cand_pred: np.ndarray, cand_scores: np.ndarray,
    rng: np.random.Generator, n_boot: int = 1000, level: float = 0.95,
) -> TestOutcome:
    """Paired bootstrap of metric(candidate) - metric(baseline) over the same examples."""
    n = len(labels)
    delta = spec.fn(labels, cand_pred, cand_scores, k) - spec.fn(labels, base_pred, base_scores, k)
    deltas = np.empty(n_boot)
    for i in range(n_boot):
        idx = rng.integers(0, n, n)
        deltas[i] = spec.fn(labels[idx], cand_pred[idx], cand_scores[idx], k) - spec.fn(labels[idx], base_pred[idx], base_scores[idx], k)
    low, high = _percentiles(deltas, level)
    return TestOutcome(delta, low, high, _bootstrap_p(deltas), f"paired bootstrap ({n_boot} resamples of {n} shared examples)", True)


def unpaired_bootstrap(
    spec: MetricSpec, k: int,
    base: tuple[np.ndarray, np.ndarray, np.ndarray], cand: tuple[np.ndarray, np.ndarray, np.ndarray],
    rng: np.random.Generator, n_boot: int = 1000, level: float = 0.95,
) -> TestOutcome:
    """Each run's own examples resampled independently; ``base``/``cand`` are (labels, predictions, scores)."""
    (yb, pb, sb), (yc, pc, sc) = base, cand
    delta = spec.fn(yc, pc, sc, k) - spec.fn(yb, pb, sb, k)
    deltas = np.empty(n_boot)
    for i in range(n_boot):
        ib = rng.integers(0, len(yb), len(yb))
        ic = rng.integers(0, len(yc), len(yc))
        deltas[i] = spec.fn(yc[ic], pc[ic], sc[ic], k) - spec.fn(yb[ib], pb[ib], sb[ib], k)
    low, high = _percentiles(deltas, level)
    # H0 "no difference": the centred replicates (deltas - delta) show how far noise alone moves the difference.
    centred = deltas - delta
    finite = centred[np.isfinite(centred)]
    p = float(np.mean(np.abs(finite) >= abs(delta))) if len(finite) else math.nan
    return TestOutcome(delta, low, high, p, f"unpaired bootstrap ({n_boot} resamples; {len(yb)} baseline and {len(yc)} candidate examples)", False)


def _z(level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 2))


def interval_normal(
    base_value: float, base_low: float, base_high: float, base_level: float,
    cand_value: float, cand_low: float, cand_high: float, cand_level: float, level: float = 0.95,
) -> TestOutcome:
    """Normal approximation from two recorded intervals, treated as independent.

    se = (high - low) / (2 z_level) for each run; z = delta / sqrt(se_b^2 + se_c^2).
    """
    from scipy.stats import norm

    se_b = (base_high - base_low) / (2 * _z(base_level))
    se_c = (cand_high - cand_low) / (2 * _z(cand_level))
    delta = cand_value - base_value
    se = math.hypot(se_b, se_c)
    if se <= 0:
        p = 1.0 if delta == 0 else 0.0
        return TestOutcome(delta, delta, delta, p, "normal approximation from recorded intervals (zero width)", False)
    z = _z(level)
    p = float(2 * norm.sf(abs(delta) / se))
    return TestOutcome(delta, delta - z * se, delta + z * se, p, "normal approximation from the recorded intervals (unpaired)", False)
