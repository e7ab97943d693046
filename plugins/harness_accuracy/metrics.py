"""Accuracy, F1, AUC and calibration metrics for a classifier's predicted probabilities.

Everything here is plain NumPy, written from the definitions, on purpose:
scikit-learn is used only as the *independent* cross-check in the tests, so
an audit never rests on the same code it is checked against. The batch forms
of the metrics also let the bootstrap evaluate 1000 resamples in one
vectorised pass (see :func:`compute_accuracy_report`).

Conventions (fixed here so every report reads the same):

* ``y_true``: int array, shape ``(n,)``, values ``0..k-1``.
* ``probs``: float array, shape ``(n, k)``, rows sum to 1.
* Predictions are ``argmax(probs)``; ties go to the lowest class index
  (NumPy's ``argmax`` rule), so they are deterministic.
* Divisions by zero (precision of a never-predicted class, ...) give 0.0,
  like scikit-learn's ``zero_division=0``.
* Macro averages run over all ``k`` declared classes (scikit-learn with
  ``labels=range(k)``): the label set is part of what is audited.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from harness import Interval, wilson_interval
# Not in the public API (yet): the core's vectorised bootstrap, shared with its own statistics.
from harness.stats.intervals import bootstrap_intervals, error_bound_interval, percentile_interval, resample_indices

__all__ = [
    "predict",
    "confusion_matrix",
    "accuracy",
    "precision_recall_f1",
    "macro_f1",
    "micro_f1",
    "balanced_accuracy",
    "min_class_recall",
    "roc_auc",
    "roc_auc_per_class",
    "roc_curve_binary",
    "CalibrationBin",
    "CalibrationResult",
    "calibration",
    "Estimate",
    "AccuracyReport",
    "compute_accuracy_report",
    "INTERVAL_METHODS",
]

#: Tolerance on probability rows summing to 1; catches logits passed by mistake
#: while accepting float32 softmax output.
_ROW_SUM_TOL = 1e-3


# --------------------------------------------------------------------------- inputs


def _as_labels(y: np.ndarray, name: str = "y_true") -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.dtype == bool:
        arr = arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must hold integer class indices, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def _check_range(y: np.ndarray, k: int, name: str) -> None:
    if y.size and (y.min() < 0 or y.max() >= k):
        raise ValueError(f"{name} values must lie in 0..{k - 1}")


def _as_probs(probs: np.ndarray, n: int | None = None) -> np.ndarray:
    """Validate a probability matrix: logits or a wrong shape fail loudly, not silently."""
    arr = np.asarray(probs, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise ValueError(f"probs must have shape (n, k) with k >= 2, got {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"probs has {arr.shape[0]} rows but y_true has {n} entries")
    if not np.all(np.isfinite(arr)):
        raise ValueError("probs contains nan or inf")
    if arr.size and (arr.min() < -_ROW_SUM_TOL or arr.max() > 1 + _ROW_SUM_TOL):
        raise ValueError("probs must lie in [0, 1] (pass softmax probabilities, not logits)")
    if not np.allclose(arr.sum(axis=1), 1.0, rtol=0.0, atol=_ROW_SUM_TOL):
        raise ValueError("probs rows must sum to 1 (pass softmax probabilities, not logits)")
    return arr


def _pair(y_true: np.ndarray, y_pred: np.ndarray, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    t, p = _as_labels(y_true), _as_labels(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred differ in length: {t.shape} vs {p.shape}")
    if k is not None:
        _check_range(t, k, "y_true")
        _check_range(p, k, "y_pred")
    return t, p


def predict(probs: np.ndarray) -> np.ndarray:
    """Predicted class = argmax of the probabilities, ties to the lowest index."""
    return np.argmax(np.asarray(probs), axis=1).astype(np.int64)


# ----------------------------------------------------- metrics from confusion matrices
#
# Every label metric is a function of the confusion matrix. The helpers below
# accept a stack of matrices, shape (..., k, k), so the point estimate (one
# matrix) and the bootstrap (n_boot matrices) run literally the same code.


def _divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num/den with 0.0 where den == 0 (scikit-learn's zero_division=0)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _prf_cm(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    tp = np.diagonal(cm, axis1=-2, axis2=-1)
    support = cm.sum(axis=-1)
    predicted = cm.sum(axis=-2)
    precision = _divide(tp, predicted)
    recall = _divide(tp, support)
    # F1 from counts (2TP / (2TP+FP+FN)) rather than from rounded P and R.
    f1 = _divide(2 * tp, support + predicted)
    return precision, recall, f1, support


def _accuracy_cm(cm: np.ndarray) -> np.ndarray:
    return _divide(np.trace(cm, axis1=-2, axis2=-1), cm.sum(axis=(-2, -1)))


def _macro_f1_cm(cm: np.ndarray) -> np.ndarray:
    return _prf_cm(cm)[2].mean(axis=-1)


def _micro_f1_cm(cm: np.ndarray) -> np.ndarray:
    tp = np.trace(cm, axis1=-2, axis2=-1)
    fp = cm.sum(axis=-2).sum(axis=-1) - tp
    fn = cm.sum(axis=-1).sum(axis=-1) - tp
    return _divide(2 * tp, 2 * tp + fp + fn)


def _balanced_accuracy_cm(cm: np.ndarray) -> np.ndarray:
    """Mean recall over classes present in y_true (absent classes have no recall)."""
    _, recall, _, support = _prf_cm(cm)
    present = support > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(present, recall, 0.0).sum(axis=-1) / present.sum(axis=-1)


def _min_recall_cm(cm: np.ndarray) -> np.ndarray:
    """Worst recall over classes present in y_true; nan if none is present."""
    _, recall, _, support = _prf_cm(cm)
    present = support > 0
    worst = np.where(present, recall, np.inf).min(axis=-1)
    return np.where(present.any(axis=-1), worst, np.nan)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    """Counts, shape ``(k, k)``: rows are true classes, columns predicted classes."""
    t, p = _pair(y_true, y_pred, k)
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k)


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of exact matches (0.0 for empty input)."""
    t, p = _pair(y_true, y_pred)
    return float(np.mean(t == p)) if t.size else 0.0


def precision_recall_f1(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """Per-class ``precision``, ``recall``, ``f1`` (float arrays) and ``support`` (int array)."""
    precision, recall, f1, support = _prf_cm(confusion_matrix(y_true, y_pred, k))
    return {"precision": precision, "recall": recall, "f1": f1, "support": support.astype(np.int64)}


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> float:
    """Unweighted mean of per-class F1 over all k classes: rare classes count as much as common ones."""
    return float(_macro_f1_cm(confusion_matrix(y_true, y_pred, k)))


def micro_f1(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> float:
    """F1 of the pooled TP/FP/FN counts. For single-label multiclass it equals accuracy."""
    return float(_micro_f1_cm(confusion_matrix(y_true, y_pred, k)))


def balanced_accuracy(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> float:
    """Mean per-class recall over classes present in y_true (scikit-learn's definition)."""
    return float(_balanced_accuracy_cm(confusion_matrix(y_true, y_pred, k)))


def min_class_recall(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> float:
    """Worst recall over the classes present: a gate on it catches a neglected class."""
    return float(_min_recall_cm(confusion_matrix(y_true, y_pred, k)))


def _confusion_stack(code: np.ndarray, idx: np.ndarray, k: int) -> np.ndarray:
    """Confusion matrices of every resample row at once, shape ``(n_boot, k, k)``.

    ``code = y_true * k + y_pred`` is precomputed, so one gather and one
    bincount over row-offset codes replaces n_boot Python-level bincounts.
    """
    rows = idx.shape[0]
    offsets = (np.arange(rows, dtype=np.int64) * (k * k))[:, None]
    flat = (code[idx] + offsets).ravel()
    return np.bincount(flat, minlength=rows * k * k).reshape(rows, k, k)


# ------------------------------------------------------------------------------ AUC


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks with ties given their average rank (as in Mann-Whitney U)."""
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    n = xs.size
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])
    ends = np.r_[starts[1:], n]  # exclusive
    group_rank = (starts + 1 + ends) / 2.0  # mean of ranks starts+1 .. ends
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = np.repeat(group_rank, ends - starts)
    return ranks


def _binary_auc(positive: np.ndarray, scores: np.ndarray) -> float:
    """AUC = P(score of a positive > score of a negative), ties counting one half.

    Computed as the Mann-Whitney statistic U / (P * N) with average ranks, which
    is exactly the area under the step ROC curve (what scikit-learn reports).
    nan when one of the two groups is empty: AUC is undefined there.
    """
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    rank_sum = _average_ranks(scores)[positive].sum()
    u = rank_sum - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def roc_auc_per_class(y_true: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """One-vs-rest AUC of each class c, scored by ``probs[:, c]`` (nan if c or rest absent)."""
    y = _as_labels(y_true)
    p = _as_probs(probs, y.size)
    _check_range(y, p.shape[1], "y_true")
    return np.array([_binary_auc(y == c, p[:, c]) for c in range(p.shape[1])])


def roc_auc(y_true: np.ndarray, probs: np.ndarray) -> float:
    """ROC AUC: binary -> AUC of ``probs[:, 1]``; multiclass -> macro one-vs-rest mean.

    Same definitions as scikit-learn's ``roc_auc_score`` (``multi_class="ovr"``,
    ``average="macro"``); nan when a class it needs is absent from y_true.
    """
    y = _as_labels(y_true)
    p = _as_probs(probs, y.size)
    _check_range(y, p.shape[1], "y_true")
    if p.shape[1] == 2:
        return _binary_auc(y == 1, p[:, 1])
    return float(np.mean([_binary_auc(y == c, p[:, c]) for c in range(p.shape[1])]))


def roc_curve_binary(y_true01: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact ROC curve: one point per distinct score, thresholds descending.

    ``thresholds[0]`` is ``inf`` (nothing predicted positive: the (0, 0) point);
    point i predicts positive when ``score >= thresholds[i]``. Nothing is
    dropped (scikit-learn's ``drop_intermediate=False``), so plots and
    threshold searches see every operating point. tpr (fpr) is nan when there
    are no positives (negatives).
    """
    y = _as_labels(y_true01, "y_true01")
    s = np.asarray(scores, dtype=np.float64)
    if s.shape != y.shape:
        raise ValueError(f"scores must have shape {y.shape}, got {s.shape}")
    if y.size and (y.min() < 0 or y.max() > 1):
        raise ValueError("y_true01 must hold 0/1 labels")
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    last_of_group = np.flatnonzero(np.r_[s_sorted[1:] != s_sorted[:-1], True]) if s.size else np.array([], int)
    tps = np.cumsum(y_sorted)[last_of_group]
    fps = (last_of_group + 1) - tps
    tps = np.r_[0, tps]
    fps = np.r_[0, fps]
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr = tps / tps[-1] if tps[-1] > 0 else np.full(tps.shape, np.nan)
        fpr = fps / fps[-1] if fps[-1] > 0 else np.full(fps.shape, np.nan)
    thresholds = np.r_[np.inf, s_sorted[last_of_group]]
    return fpr.astype(np.float64), tpr.astype(np.float64), thresholds


class _AucBatch:
    """Vectorised AUC over bootstrap resamples, with score ranks precomputed once.

    A resample repeats examples, so instead of re-ranking each one we count,
    per distinct score value, how many resampled positives and negatives sit
    there (one bincount for all rows). U follows from cumulative negative
    counts: each positive beats the negatives strictly below its value and
    ties the ones at it. All counts are integers, so the result is exactly the
    rank-based AUC of that resample.
    """

    def __init__(self, y: np.ndarray, probs: np.ndarray) -> None:
        k = probs.shape[1]
        columns = [1] if k == 2 else list(range(k))
        self._parts = []
        for c in columns:
            values, inverse = np.unique(probs[:, c], return_inverse=True)
            self._parts.append((y == c, inverse.reshape(-1).astype(np.int64), values.size))

    def batch(self, idx: np.ndarray) -> np.ndarray:
        return np.mean([self._one(positive, inverse, u, idx) for positive, inverse, u in self._parts], axis=0)

    def __call__(self, idx: np.ndarray) -> float:
        return float(self.batch(np.asarray(idx)[None, :])[0])

    @staticmethod
    def _one(positive: np.ndarray, inverse: np.ndarray, u: int, idx: np.ndarray) -> np.ndarray:
        rows, n = idx.shape
        pos = positive[idx]
        level = inverse[idx] + (np.arange(rows, dtype=np.int64) * u)[:, None]
        pos_counts = np.bincount(level[pos], minlength=rows * u).reshape(rows, u)
        neg_counts = np.bincount(level[~pos], minlength=rows * u).reshape(rows, u)
        neg_below = np.cumsum(neg_counts, axis=1) - neg_counts
        two_u = (pos_counts * (2 * neg_below + neg_counts)).sum(axis=1)
        n_pos = pos.sum(axis=1)
        pairs = 2 * n_pos * (n - n_pos)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(pairs > 0, two_u / np.maximum(pairs, 1), np.nan)


# ---------------------------------------------------------------------- calibration


@dataclass(frozen=True)
class CalibrationBin:
    """One bar of a reliability diagram; confidence/accuracy are None when empty."""

    lower: float
    upper: float
    count: int
    mean_confidence: float | None
    accuracy: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "lower": self.lower,
            "upper": self.upper,
            "count": self.count,
            "mean_confidence": self.mean_confidence,
            "accuracy": self.accuracy,
        }


@dataclass(frozen=True)
class CalibrationResult:
    """Top-label calibration: ECE, MCE and the reliability-diagram bins."""

    ece: float
    mce: float
    n_bins: int
    bins: tuple[CalibrationBin, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ece": _json_float(self.ece),
            "mce": _json_float(self.mce),
            "n_bins": self.n_bins,
            "bins": [b.to_dict() for b in self.bins],
        }


def _confidence_bins(probs: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-label confidence and its bin: c goes to bin ``min(floor(c * n_bins), n_bins - 1)``.

    Bins are equal-width on [0, 1], closed on the left (``[i/B, (i+1)/B)``),
    except the last, which also takes c == 1.0. The index is
    ``floor(c * n_bins)`` evaluated in floating point, so a confidence sitting
    exactly on an edge goes wherever that product's floor says.
    """
    conf = probs.max(axis=1)
    bins = np.minimum(np.floor(conf * n_bins).astype(np.int64), n_bins - 1)
    return conf, np.maximum(bins, 0)


def calibration(y_true: np.ndarray, probs: np.ndarray, n_bins: int = 15) -> CalibrationResult:
    """Expected / maximum calibration error of the top-label confidence.

    ECE = sum over bins of ``|accuracy_b - confidence_b| * n_b / n`` (the
    standard equal-width, count-weighted estimator, 15 bins by default as in
    Guo et al. 2017); MCE is the largest gap over non-empty bins. "Accuracy"
    of a bin is the fraction of its examples whose argmax is right.
    """
    if n_bins < 1:
        raise ValueError(f"n_bins must be positive, got {n_bins}")
    y = _as_labels(y_true)
    p = _as_probs(probs, y.size)
    _check_range(y, p.shape[1], "y_true")
    if y.size == 0:
        raise ValueError("calibration needs at least one example")
    conf, bins = _confidence_bins(p, n_bins)
    correct = (predict(p) == y).astype(np.float64)
    counts = np.bincount(bins, minlength=n_bins)
    sum_conf = np.bincount(bins, weights=conf, minlength=n_bins)
    sum_correct = np.bincount(bins, weights=correct, minlength=n_bins)
    filled = counts > 0
    mean_conf = _divide(sum_conf, counts)
    acc = _divide(sum_correct, counts)
    gaps = np.abs(acc - mean_conf)
    ece = float(np.sum(gaps * counts) / y.size)
    mce = float(gaps[filled].max())
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    table = tuple(
        CalibrationBin(
            lower=float(edges[b]),
            upper=float(edges[b + 1]),
            count=int(counts[b]),
            mean_confidence=float(mean_conf[b]) if filled[b] else None,
            accuracy=float(acc[b]) if filled[b] else None,
        )
        for b in range(n_bins)
    )
    return CalibrationResult(ece=ece, mce=mce, n_bins=n_bins, bins=table)


class _EceBatch:
    """Vectorised ECE over resamples: sum_b |sum(correct - conf) in b| / n.

    That is the same quantity as the count-weighted gap formula, but needs a
    single weighted bincount over all rows.
    """

    def __init__(self, y: np.ndarray, probs: np.ndarray, n_bins: int) -> None:
        conf, self._bins = _confidence_bins(probs, n_bins)
        self._gap = (predict(probs) == y).astype(np.float64) - conf
        self._n_bins = n_bins

    def batch(self, idx: np.ndarray) -> np.ndarray:
        rows, n = idx.shape
        level = self._bins[idx] + (np.arange(rows, dtype=np.int64) * self._n_bins)[:, None]
        sums = np.bincount(level.ravel(), weights=self._gap[idx].ravel(), minlength=rows * self._n_bins)
        return np.abs(sums.reshape(rows, self._n_bins)).sum(axis=1) / n

    def __call__(self, idx: np.ndarray) -> float:
        return float(self.batch(np.asarray(idx)[None, :])[0])

    def error_batch(self, idx: np.ndarray) -> np.ndarray:
        """Per resample, ``sum_b |S*_b - S_b| / n`` with ``S_b`` the bin's summed gap.

        ECE is ``sum_b |S_b| / n``, so by the triangle inequality its error
        against the population value is at most the sum of the absolute
        per-bin errors; this is that bound's bootstrap replicate
        (see :func:`harness.stats.intervals.error_bound_interval`).
        """
        rows, n = idx.shape
        full = np.bincount(self._bins, weights=self._gap, minlength=self._n_bins)
        level = self._bins[idx] + (np.arange(rows, dtype=np.int64) * self._n_bins)[:, None]
        sums = np.bincount(level.ravel(), weights=self._gap[idx].ravel(), minlength=rows * self._n_bins)
        return np.abs(sums.reshape(rows, self._n_bins) - full[None, :]).sum(axis=1) / n


# ---------------------------------------------------------------------------- report


class _ConfusionStat:
    """A confusion-matrix metric as a bootstrap statistic (see harness.stats.intervals.BatchStatistic).

    The stack of resampled confusion matrices is shared through ``cache`` so
    five metrics cost one bincount; it is keyed on the identity of the index
    matrix (and holds a reference, so the identity cannot be reused).
    """

    def __init__(self, metric: Callable[[np.ndarray], np.ndarray], code: np.ndarray, k: int, cache: dict) -> None:
        self._metric, self._code, self._k, self._cache = metric, code, k, cache

    def batch(self, idx: np.ndarray) -> np.ndarray:
        if self._cache.get("idx") is not idx:
            self._cache["idx"] = idx
            self._cache["cm"] = _confusion_stack(self._code, idx, self._k)
        return self._metric(self._cache["cm"])

    def __call__(self, idx: np.ndarray) -> float:
        return float(self._metric(_confusion_stack(self._code, np.asarray(idx)[None, :], self._k))[0])


@dataclass(frozen=True)
class Estimate:
    """A point estimate and its interval (None when not estimable); ``interval.method`` says how."""

    value: float
    interval: Interval | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": _json_float(self.value),
            "interval": None if self.interval is None else self.interval.to_dict(),
        }


#: How the interval of each headline metric is obtained (the ``Interval.method`` it carries).
#: Proportions get Wilson; the worst class recall gets Bonferroni-adjusted Wilson limits per
#: class; statistics defined conditionally on the true class (balanced accuracy, ROC-AUC) a
#: bootstrap stratified by class; the rest a plain bootstrap over examples (ECE through the
#: bootstrap of its error bound, see :func:`harness.stats.intervals.error_bound_interval`). Measured coverage:
#: benchmarks/coverage.py.
INTERVAL_METHODS: dict[str, str] = {
    "accuracy": "wilson",
    "macro_f1": "bootstrap-percentile",
    "micro_f1": "wilson",
    "balanced_accuracy": "bootstrap-percentile-stratified",
    "roc_auc": "bootstrap-percentile-stratified",
    "ece": "bootstrap-error-bound",
    "min_class_recall": "wilson-bonferroni-min",
}

#: Order in which headline metrics are reported.
HEADLINE_METRICS: tuple[str, ...] = (
    "accuracy",
    "macro_f1",
    "micro_f1",
    "balanced_accuracy",
    "roc_auc",
    "ece",
    "min_class_recall",
)


@dataclass(frozen=True)
class AccuracyReport:
    """Everything the accuracy suite measures on one evaluation set.

    Headline metrics are :class:`Estimate` s whose intervals come from the
    methods in :data:`INTERVAL_METHODS`; ``to_dict`` gives plain JSON types.
    """

    n: int
    labels: tuple[str, ...]
    accuracy: Estimate
    macro_f1: Estimate
    micro_f1: Estimate
    balanced_accuracy: Estimate
    roc_auc: Estimate
    ece: Estimate
    min_class_recall: Estimate
    per_class: tuple[dict[str, Any], ...]
    confusion_matrix: tuple[tuple[int, ...], ...]
    calibration: CalibrationResult
    level: float
    n_boot: int

    def estimates(self) -> dict[str, Estimate]:
        """Headline metrics by name, in report order (handy for gating)."""
        return {name: getattr(self, name) for name in HEADLINE_METRICS}

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "labels": list(self.labels),
            "metrics": {name: est.to_dict() for name, est in self.estimates().items()},
            "per_class": [{key: _json_value(v) for key, v in row.items()} for row in self.per_class],
            "confusion_matrix": [list(row) for row in self.confusion_matrix],
            "calibration": self.calibration.to_dict(),
            "bootstrap": {
                "n_boot": self.n_boot,
                "level": self.level,
                "stratified_by_y_true": [m for m, how in INTERVAL_METHODS.items() if how.endswith("-stratified")],
            },
            "interval_methods": dict(INTERVAL_METHODS),
        }


def _json_float(value: float | None) -> float | None:
    """JSON has no nan/inf: they become None."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _json_value(value: Any) -> Any:
    if isinstance(value, (float, np.floating)):
        return _json_float(float(value))
    if isinstance(value, np.integer):
        return int(value)
    return value


def _wilson_bounds(name: str, successes: int, trials: int, level: float) -> dict[str, float | None]:
    """``{name_low, name_high}`` of a Wilson interval (None when there are no trials)."""
    interval = wilson_interval(successes, trials, level)
    return {f"{name}_low": None if interval is None else interval.low,
            f"{name}_high": None if interval is None else interval.high}


def _min_recall_interval(cm: np.ndarray, level: float) -> Interval | None:
    """Interval of the worst recall over present classes: minima of Bonferroni-adjusted Wilson limits."""
    support = cm.sum(axis=1)
    present = [c for c in range(cm.shape[0]) if support[c] > 0]
    if not present:
        return None
    per_class_level = 1.0 - (1.0 - level) / len(present)
    limits = [wilson_interval(int(cm[c, c]), int(support[c]), per_class_level) for c in present]
    return Interval(min(i.low for i in limits), min(i.high for i in limits), level=level,  # type: ignore[union-attr]
                    method=INTERVAL_METHODS["min_class_recall"])


def compute_accuracy_report(
    y_true: np.ndarray,
    probs: np.ndarray,
    labels: Sequence[str],
    *,
    rng: np.random.Generator,
    n_boot: int = 1000,
    level: float = 0.95,
    n_bins: int = 15,
) -> AccuracyReport:
    """Point estimates and an interval for every headline metric (methods: :data:`INTERVAL_METHODS`).

    * accuracy (= micro F1 for single-label data): Wilson on correct / n. An
      earlier version used a bootstrap stratified by class for everything;
      with class counts fixed, a model that predicts one class everywhere had
      a constant accuracy and a zero-width interval.
    * worst class recall: the true minimum lies in ``[min_c low_c, min_c high_c]``
      whenever every class's recall lies in its interval, so each class gets a
      Wilson interval at level ``1 - (1 - level) / k`` (Bonferroni) and the
      bounds are the minima: coverage at least ``level``.
    * balanced accuracy and ROC-AUC: percentile bootstrap stratified by the
      true class. Both are defined conditionally on the class (mean recall;
      P(positive scored above negative)), so holding class counts fixed is
      the two-sample design they assume, and it keeps AUC defined in every
      resample.
    * macro F1 and ECE: plain bootstrap over examples (both depend on the
      class mix). Macro F1 reads the percentile interval. ECE is a sum of
      absolute per-bin gaps and biased upward (a calibrated model's percentile
      interval lies wholly above its true ECE of 0), so its interval is
      ``ECE -/+ c`` with ``c`` the ``level`` quantile of the bootstrapped sum
      of absolute per-bin errors (:func:`harness.stats.intervals.error_bound_interval`),
      clipped to ``[0, 1]``: valid at 0, conservative for large gaps.

    Per-class rows carry Wilson intervals of recall and precision. All
    resampled statistics are vectorised (n=2000, n_boot=1000 takes well
    under a second).
    """
    y = _as_labels(y_true)
    p = _as_probs(probs, y.size)
    k = p.shape[1]
    if len(labels) != k:
        raise ValueError(f"{len(labels)} labels given for {k} probability columns")
    _check_range(y, k, "y_true")
    if y.size == 0:
        raise ValueError("cannot audit an empty evaluation set")

    y_pred = predict(p)
    cm = confusion_matrix(y, y_pred, k)
    precision, recall, f1, support = _prf_cm(cm)
    calib = calibration(y, p, n_bins)

    code = y * k + y_pred
    cache: dict = {}
    statistics: dict[str, Callable[[np.ndarray], float]] = {
        "accuracy": _ConfusionStat(_accuracy_cm, code, k, cache),
        "macro_f1": _ConfusionStat(_macro_f1_cm, code, k, cache),
        "micro_f1": _ConfusionStat(_micro_f1_cm, code, k, cache),
        "balanced_accuracy": _ConfusionStat(_balanced_accuracy_cm, code, k, cache),
        "roc_auc": _AucBatch(y, p),
        "ece": _EceBatch(y, p, n_bins),
        "min_class_recall": _ConfusionStat(_min_recall_cm, code, k, cache),
    }
    points = {
        "accuracy": float(_accuracy_cm(cm)),
        "macro_f1": float(_macro_f1_cm(cm)),
        "micro_f1": float(_micro_f1_cm(cm)),
        "balanced_accuracy": float(_balanced_accuracy_cm(cm)),
        "roc_auc": roc_auc(y, p),
        "ece": calib.ece,
        "min_class_recall": float(_min_recall_cm(cm)),
    }
    idx = resample_indices(y.size, rng=rng, n_boot=n_boot)  # plain: one matrix for macro F1 and ECE
    intervals: dict[str, Interval | None] = {"macro_f1": percentile_interval(statistics["macro_f1"].batch(idx), level)}  # type: ignore[attr-defined]
    ece_errors = statistics["ece"].error_batch(idx)  # type: ignore[attr-defined]
    intervals["ece"] = error_bound_interval(points["ece"], ece_errors, level, bounds=(0.0, 1.0))
    conditional = {name: statistics[name] for name in ("balanced_accuracy", "roc_auc")}
    intervals.update(bootstrap_intervals(conditional, y.size, rng=rng, n_boot=n_boot, level=level, stratify=y))
    correct = int(np.trace(cm))
    intervals["accuracy"] = wilson_interval(correct, int(y.size), level)
    intervals["micro_f1"] = wilson_interval(correct, int(y.size), level)
    intervals["min_class_recall"] = _min_recall_interval(cm, level)
    # A nan point estimate (e.g. AUC with a class missing) gets no interval.
    est = {
        name: Estimate(points[name], intervals[name] if math.isfinite(points[name]) else None)
        for name in HEADLINE_METRICS
    }
    predicted = cm.sum(axis=0)
    per_class = tuple(
        {
            "label": str(labels[c]),
            "precision": float(precision[c]),
            "recall": float(recall[c]),
            "f1": float(f1[c]),
            "support": int(support[c]),
            **_wilson_bounds("precision", int(cm[c, c]), int(predicted[c]), level),
            **_wilson_bounds("recall", int(cm[c, c]), int(support[c]), level),
        }
        for c in range(k)
    )
    return AccuracyReport(
        n=int(y.size),
        labels=tuple(str(label) for label in labels),
        per_class=per_class,
        confusion_matrix=tuple(tuple(int(v) for v in row) for row in cm),
        calibration=calib,
        level=level,
        n_boot=n_boot,
        **est,
    )
