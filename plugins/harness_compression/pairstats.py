"""Paired statistics of two models scored on the same examples.

- agreement and flip rate: a binomial share of the n examples, exact
  (Clopper-Pearson) interval;
- McNemar's exact test on correctness (the core's, as ``harness compare`` uses);
- changes of accuracy, TPR and FPR (overall and per group) and of the ECE:
  paired bootstrap, the SAME resampled example indices for both models, percentile
  interval of the difference (compressed - original). A bootstrap of a difference
  collapses to the point 0 when no example in the denominator changed between the
  models; there the interval is the exact bound instead: with 0 of m examples
  changed, the share that changes is at most U (Clopper-Pearson upper limit of
  0/m), and so is the size of the change: ``[-U, U]``. A small group with no flip
  is then not "no change, certainly" but "at most U".

Pure NumPy; group membership is given as boolean masks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from harness import Interval, clopper_pearson_interval

__all__ = [
    "BOOTSTRAP", "NO_CHANGE_BOUND", "Share", "PairedChange", "share", "resamples", "paired_change", "mcnemar",
    "ece", "ece_batch", "ece_change", "group_masks",
]

BOOTSTRAP = "paired-bootstrap-percentile"
NO_CHANGE_BOUND = "clopper-pearson-bound-no-discordant"


@dataclass(frozen=True)
class Share:
    """``k`` of ``n`` with an exact interval."""

    k: int
    n: int
    value: float | None
    interval: Interval | None

    def to_dict(self) -> dict[str, Any]:
        return {"k": self.k, "n": self.n, "value": self.value, "interval": self.interval.to_dict() if self.interval else None}


def share(k: int, n: int, level: float) -> Share:
    if n == 0:
        return Share(0, 0, None, None)
    return Share(int(k), int(n), k / n, clopper_pearson_interval(int(k), int(n), level))


def resamples(n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_boot, n)`` example indices drawn with replacement: one matrix for every paired statistic."""
    return rng.integers(0, n, size=(n_boot, n))


def _percentile(values: np.ndarray, level: float) -> tuple[float, float] | None:
    finite = values[np.isfinite(values)]
    if finite.size < 0.5 * values.size or not finite.size:  # the statistic is undefined in most resamples
        return None
    alpha = (1.0 - level) / 2.0
    return float(np.quantile(finite, alpha)), float(np.quantile(finite, 1.0 - alpha))


@dataclass(frozen=True)
class PairedChange:
    """A rate of both models over the same examples, and its change (compressed - original)."""

    n: int                      # examples in the rate's denominator
    discordant: int             # of them, those where the two models' hit differs
    original: float | None
    compressed: float | None
    change: float | None
    interval: Interval | None   # of the change

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "discordant": self.discordant, "original": self.original, "compressed": self.compressed,
                "change": self.change, "interval": self.interval.to_dict() if self.interval else None}

    def negated(self) -> tuple[float | None, Interval | None]:
        """``-change`` with its interval: a loss when the rate should stay high (accuracy, TPR)."""
        if self.change is None:
            return None, None
        interval = None if self.interval is None else Interval(-self.interval.high, -self.interval.low, self.interval.level, self.interval.method)
        return -self.change + 0.0, interval  # + 0.0: no -0.0 in results.json


def paired_change(denominator: np.ndarray, hit_original: np.ndarray, hit_compressed: np.ndarray, idx: np.ndarray, level: float) -> PairedChange:
    """Rate ``hits / denominator`` for both models and the paired-bootstrap interval of its change.

    ``denominator``: which examples count (a group, its positives...);
    ``hit_*``: per example, whether it is a hit for that model (correct,
    predicted positive...). ``idx``: the shared resample matrix.
    """
    den = np.asarray(denominator, dtype=bool)
    ho = np.asarray(hit_original, dtype=bool) & den
    hc = np.asarray(hit_compressed, dtype=bool) & den
    m = int(den.sum())
    discordant = int(np.sum(ho != hc))
    if m == 0:
        return PairedChange(0, 0, None, None, None, None)
    original, compressed = float(ho.sum() / m), float(hc.sum() / m)
    change = compressed - original
    if discordant == 0:
        bound = clopper_pearson_interval(0, m, level).high
        return PairedChange(m, 0, original, compressed, change, Interval(-bound, bound, level, NO_CHANGE_BOUND))
    counts = den[idx].sum(axis=1).astype(np.float64)
    diff = (hc.astype(np.int64) - ho.astype(np.int64))[idx].sum(axis=1).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        replicates = np.where(counts > 0, diff / np.where(counts > 0, counts, 1), np.nan)
    bounds = _percentile(replicates, level)
    interval = Interval(bounds[0], bounds[1], level, BOOTSTRAP) if bounds else None
    return PairedChange(m, discordant, original, compressed, change, interval)


def mcnemar(correct_original: np.ndarray, correct_compressed: np.ndarray) -> dict[str, Any]:
    """McNemar's exact test on correctness: b = right only before, c = right only after, two-sided p."""
    from harness.stats.paired import mcnemar_exact

    b, c, p = mcnemar_exact(np.asarray(correct_original, dtype=bool), np.asarray(correct_compressed, dtype=bool))
    return {"right_only_original": b, "right_only_compressed": c, "p_value": p}


def _bins(confidence: np.ndarray, n_bins: int) -> np.ndarray:
    # as accuracy.calibration: c goes to bin min(floor(c * B), B - 1)
    return np.maximum(np.minimum(np.floor(confidence * n_bins).astype(np.int64), n_bins - 1), 0)


def ece(confidence: np.ndarray, correct: np.ndarray, n_bins: int) -> float:
    """Expected calibration error of the top label: sum over bins of |accuracy - confidence| * share of examples."""
    return float(ece_batch(confidence, correct, np.arange(len(confidence))[None, :], n_bins)[0])


def ece_batch(confidence: np.ndarray, correct: np.ndarray, idx: np.ndarray, n_bins: int) -> np.ndarray:
    """ECE of every resample (rows of ``idx``) at once."""
    conf = np.asarray(confidence, dtype=np.float64)
    right = np.asarray(correct, dtype=np.float64)
    bins = _bins(conf, n_bins)
    rows, n = idx.shape
    flat = (np.arange(rows)[:, None] * n_bins + bins[idx]).ravel()
    size = rows * n_bins
    sum_conf = np.bincount(flat, weights=conf[idx].ravel(), minlength=size).reshape(rows, n_bins)
    sum_right = np.bincount(flat, weights=right[idx].ravel(), minlength=size).reshape(rows, n_bins)
    return np.abs(sum_right - sum_conf).sum(axis=1) / n


def ece_change(labels: np.ndarray, probs_original: np.ndarray, probs_compressed: np.ndarray, idx: np.ndarray, n_bins: int, level: float) -> dict[str, Any]:
    """ECE of both models and the paired-bootstrap interval of its change."""
    y = np.asarray(labels)
    values = {}
    replicates = {}
    for name, probs in (("original", probs_original), ("compressed", probs_compressed)):
        confidence, correct = probs.max(axis=1), probs.argmax(axis=1) == y
        values[name] = ece(confidence, correct, n_bins)
        replicates[name] = ece_batch(confidence, correct, idx, n_bins)
    bounds = _percentile(replicates["compressed"] - replicates["original"], level)
    change = values["compressed"] - values["original"]
    return {"original": values["original"], "compressed": values["compressed"], "change": change,
            "interval": Interval(bounds[0], bounds[1], level, BOOTSTRAP) if bounds else None}


def group_masks(sensitive: Mapping[str, Sequence[str]], attribute_sets: Sequence[tuple[str, ...]]) -> list[tuple[tuple[str, ...], str, np.ndarray]]:
    """``(attributes, group name, mask)`` for each observed group of each attribute set, groups in sorted order.

    A group is named ``attr=value`` (``attr=value & attr2=value2`` for an
    intersection); a missing value is its own group ``unknown``, as in the fairness plugin.
    """
    out = []
    for attrs in attribute_sets:
        columns = [np.asarray([str(v) for v in sensitive[a]], dtype=object) for a in attrs]
        keys = list(zip(*columns))
        for key in sorted(set(keys)):
            mask = np.fromiter((k == key for k in keys), dtype=bool, count=len(keys))
            out.append((tuple(attrs), " & ".join(f"{a}={v}" for a, v in zip(attrs, key)), mask))
    return out


def finite(value: Any) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None
