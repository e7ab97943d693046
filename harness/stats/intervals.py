"""Confidence intervals shared by every suite: bootstrap, Wilson, Newcombe, Clopper-Pearson.

Every headline number an audit reports is an estimate from a finite evaluation
set, so it carries an interval. The kinds offered, and when each is used:

* **Wilson** (:func:`wilson_interval`) for a plain proportion (accuracy,
  per-class recall and precision, a group's selection rate): closed form, good
  coverage even for small n or p near 0/1, and never of zero width. A
  resampling interval of a proportion collapses to a point when the sample
  holds no errors (or, stratified, when the model predicts one class
  everywhere); Wilson does not.
* **Newcombe** (:func:`newcombe_interval`) for a difference of two independent
  proportions (Newcombe 1998, method 10: Wilson limits combined by the MOVER
  rule); the building block of the fairness disparities' simultaneous
  intervals.
* **Bootstrap over examples** (:func:`bootstrap_interval`, :func:`bootstrap_intervals`)
  for statistics with no closed form (macro F1, AUC, ECE). Resampling is over
  *example indices*, plain (each example drawn with replacement) unless the
  caller has a reason to stratify. Two readings of the replicates:
  percentile (:func:`percentile_interval`) for statistics that are roughly
  unbiased, and an error bound (:func:`error_bound_interval`) for the binned
  ECE, whose upward bias puts a calibrated model's percentile interval wholly
  above the truth.
* **Clopper-Pearson** (:func:`clopper_pearson_interval`) when a guaranteed
  (conservative) coverage is wanted, e.g. "0 failures in 50 trials".

``benchmarks/coverage.py`` measures how often each interval the report prints
contains the truth on simulated data with known values.

The module is pure NumPy at import time (SciPy is only imported lazily by
Clopper-Pearson), so suites that only need the bootstrap stay light.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np
else:

    class _NumpyOnDemand:
        """numpy, imported at first use: every plugin imports ``Interval`` from here, and
        ``harness --help`` (which loads plugins to list their commands) must stay fast."""

        def __getattr__(self, name: str) -> Any:
            import numpy

            return getattr(numpy, name)

    np = _NumpyOnDemand()

__all__ = [
    "Interval",
    "BatchStatistic",
    "resample_indices",
    "percentile_interval",
    "error_bound_interval",
    "bootstrap_interval",
    "bootstrap_intervals",
    "wilson_interval",
    "clopper_pearson_interval",
    "newcombe_interval",
]

#: A statistic maps one resample (an int index array into the examples) to a number.
Statistic = Callable[["np.ndarray"], float]


@dataclass(frozen=True)
class Interval:
    """A two-sided confidence interval ``[low, high]`` at confidence ``level``.

    ``method`` names how it was obtained ("bootstrap-percentile", "wilson",
    "clopper-pearson") so a report can say so; the four fields are exactly the
    JSON layout results.json stores.
    """

    low: float
    high: float
    level: float = 0.95
    method: str = "bootstrap-percentile"

    @property
    def width(self) -> float:
        return self.high - self.low

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def to_dict(self) -> dict[str, Any]:
        return {"low": float(self.low), "high": float(self.high), "level": float(self.level), "method": self.method}


@runtime_checkable
class BatchStatistic(Protocol):
    """A statistic that can also evaluate all resamples at once.

    ``batch(idx)`` receives the whole ``(n_boot, n)`` index matrix and returns
    the ``n_boot`` values. Bootstrapping calls it instead of looping over rows
    in Python, which is what makes 1000 resamples of F1/ECE/AUC on thousands
    of examples take milliseconds instead of seconds. ``__call__`` on one
    index row must give the same number as the matching ``batch`` entry.
    """

    def __call__(self, idx: np.ndarray) -> float: ...

    def batch(self, idx: np.ndarray) -> np.ndarray: ...


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level!r}")


def resample_indices(
    n: int,
    *,
    rng: np.random.Generator,
    n_boot: int = 1000,
    stratify: np.ndarray | None = None,
) -> np.ndarray:
    """Draw all bootstrap resamples at once as an ``(n_boot, n)`` int matrix.

    Drawing the whole matrix in one call (rather than one row per loop step)
    is faster and makes the result depend only on the generator's state, so a
    seeded ``rng`` reproduces the exact same intervals.

    With ``stratify`` (a label per example) each row resamples *within* each
    stratum, keeping every stratum's count fixed. That matters for statistics
    undefined when a class is missing (AUC on a small or imbalanced set) and
    removes class-mix noise that is not a property of the model. Only use it
    for statistics defined *conditionally* on the strata (per-class recall,
    balanced accuracy, ROC-AUC, which compare positives with negatives): for
    a statistic that depends on the class mix (accuracy, macro F1, ECE) it
    removes real sampling variance, and for a model that predicts one class
    everywhere it makes accuracy constant, so the interval has zero width.
    Columns are then grouped by stratum (sorted stratum value), not in
    example order; statistics of a resample must not depend on order (none
    of ours do).
    """
    if n <= 0:
        raise ValueError(f"need at least one example, got n={n}")
    if n_boot <= 0:
        raise ValueError(f"n_boot must be positive, got {n_boot}")
    if stratify is None:
        return rng.integers(0, n, size=(n_boot, n))
    strata = np.asarray(stratify)
    if strata.shape != (n,):
        raise ValueError(f"stratify must have shape ({n},), got {strata.shape}")
    blocks = []
    for value in np.unique(strata):
        members = np.flatnonzero(strata == value)
        draw = rng.integers(0, members.size, size=(n_boot, members.size))
        blocks.append(members[draw])
    return np.concatenate(blocks, axis=1)


def percentile_interval(values: np.ndarray, level: float = 0.95) -> Interval | None:
    """Percentile interval of bootstrap replicates; ``None`` when mostly undefined.

    Non-finite replicates (e.g. AUC of a resample holding one class only) are
    dropped. If more than half are non-finite the remaining ones are not a
    trustworthy picture of the sampling distribution, so no interval is
    reported rather than a misleading one.
    """
    _check_level(level)
    values = np.asarray(values, dtype=float).ravel()
    finite = values[np.isfinite(values)]
    if finite.size == 0 or (values.size - finite.size) * 2 > values.size:
        return None
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(finite, [tail, 1.0 - tail])
    return Interval(float(low), float(high), level=level, method="bootstrap-percentile")


def error_bound_interval(
    point: float,
    errors: np.ndarray,
    level: float = 0.95,
    *,
    bounds: tuple[float, float] = (-math.inf, math.inf),
) -> Interval | None:
    """``point -/+ c``, ``c`` the ``level`` quantile of bootstrap replicates of an error bound.

    For a statistic ``|t - truth| <= E`` where the distribution of ``E`` can
    be bootstrapped (``errors``: one replicate of ``E`` per resample), the
    interval ``[t - c, t + c]`` covers the truth whenever ``E <= c``, i.e.
    with probability about ``level``. The binned ECE is the case in point:
    it is a sum of absolute per-bin gaps, so by the triangle inequality its
    error is at most the sum of the absolute per-bin estimation errors, a
    quantity whose bootstrap does not depend on the unknown gaps. Unlike the
    percentile interval (which for a calibrated model lies wholly above the
    true ECE of 0, the estimator being biased upward) it stays valid at 0;
    it is conservative when the gaps are far from 0. Clipped to ``bounds``.
    """
    _check_level(level)
    if not math.isfinite(point):
        return None
    errors = np.asarray(errors, dtype=float).ravel()
    finite = errors[np.isfinite(errors)]
    if finite.size == 0 or (errors.size - finite.size) * 2 > errors.size:
        return None
    c = float(np.quantile(finite, level))
    return Interval(max(point - c, bounds[0]), min(point + c, bounds[1]), level=level, method="bootstrap-error-bound")


def _replicates(statistic: Statistic, idx: np.ndarray) -> np.ndarray:
    """Evaluate ``statistic`` on every resample row (vectorised when it can be)."""
    batch = getattr(statistic, "batch", None)
    if callable(batch):
        values = np.asarray(batch(idx), dtype=float)
        if values.shape != (idx.shape[0],):
            raise ValueError(f"batch statistic returned shape {values.shape}, expected ({idx.shape[0]},)")
        return values
    return np.fromiter((statistic(row) for row in idx), dtype=float, count=idx.shape[0])


def bootstrap_intervals(
    statistics: Mapping[str, Statistic],
    n: int,
    *,
    rng: np.random.Generator,
    n_boot: int = 1000,
    level: float = 0.95,
    stratify: np.ndarray | None = None,
) -> dict[str, Interval | None]:
    """Bootstrap intervals for several statistics from the *same* resamples.

    One index matrix is drawn and every statistic is evaluated on it: cheaper
    than resampling per metric, and consistent (the F1 and ECE intervals
    describe the same hypothetical re-draws of the evaluation set). A value is
    ``None`` when more than half of that statistic's replicates are nan.
    Statistics exposing ``batch`` (see :class:`BatchStatistic`) are evaluated
    on the whole matrix at once.

    Intervals are percentile intervals; with ``stratify`` the method name
    gets the suffix ``"-stratified"``, so a report says which scheme it used.
    """
    _check_level(level)
    idx = resample_indices(n, rng=rng, n_boot=n_boot, stratify=stratify)
    out: dict[str, Interval | None] = {}
    for name, stat in statistics.items():
        interval = percentile_interval(_replicates(stat, idx), level)
        if interval is not None and stratify is not None:
            interval = Interval(interval.low, interval.high, interval.level, interval.method + "-stratified")
        out[name] = interval
    return out


def bootstrap_interval(
    statistic: Statistic,
    n: int,
    *,
    rng: np.random.Generator,
    n_boot: int = 1000,
    level: float = 0.95,
    stratify: np.ndarray | None = None,
) -> Interval | None:
    """Percentile bootstrap over example indices for one statistic.

    ``statistic(idx)`` gets an int index array (one resample, with repeats)
    and returns a float; it may return nan for degenerate resamples (e.g.
    one class only for AUC). Those are dropped, and if more than half are nan
    the result is ``None``. ``stratify`` resamples within each label so class
    counts stay fixed (for statistics conditional on the class, such as AUC;
    see :func:`resample_indices`).
    """
    return bootstrap_intervals(
        {"statistic": statistic}, n, rng=rng, n_boot=n_boot, level=level, stratify=stratify
    )["statistic"]


def _z(level: float) -> float:
    """Two-sided standard-normal quantile (stdlib, so no SciPy import needed)."""
    return NormalDist().inv_cdf(0.5 + level / 2.0)


def _check_counts(successes: int, trials: int) -> None:
    if trials < 0 or successes < 0 or successes > trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes}/{trials}")


def wilson_interval(successes: int, trials: int, level: float = 0.95) -> Interval | None:
    """Wilson score interval for a binomial proportion; ``None`` for zero trials.

    Preferred over the textbook Wald interval, which collapses to a point at
    p=0 or 1 and under-covers for small n.
    """
    _check_level(level)
    _check_counts(successes, trials)
    if trials == 0:
        return None
    z = _z(level)
    p = successes / trials
    z2n = z * z / trials
    denom = 1.0 + z2n
    center = (p + z2n / 2.0) / denom
    half = z / denom * math.sqrt(p * (1.0 - p) / trials + z2n / (4.0 * trials))
    # At p = 0 (or 1) the bound is exactly 0 (1); pin it instead of keeping rounding dust.
    low = 0.0 if successes == 0 else max(0.0, center - half)
    high = 1.0 if successes == trials else min(1.0, center + half)
    return Interval(low, high, level=level, method="wilson")


def newcombe_interval(x1: int, n1: int, x2: int, n2: int, level: float = 0.95) -> Interval | None:
    """Interval for ``p1 - p2`` of two independent binomial proportions (Newcombe's hybrid score).

    Newcombe (1998), "Interval estimation for the difference between
    independent proportions", method 10: the Wilson limits ``(l_i, u_i)`` of
    each proportion are combined by the MOVER rule (Zou & Donner 2008)::

        low  = d - sqrt((p1 - l1)^2 + (u2 - p2)^2)
        high = d + sqrt((u1 - p1)^2 + (p2 - l2)^2)

    Coverage stays close to nominal for small samples and proportions near
    0 or 1, where the Wald interval and the percentile bootstrap collapse.
    ``None`` when either sample is empty.
    """
    a, b = wilson_interval(x1, n1, level), wilson_interval(x2, n2, level)
    if a is None or b is None:
        return None
    p1, p2 = x1 / n1, x2 / n2
    d = p1 - p2
    low = d - math.sqrt((p1 - a.low) ** 2 + (b.high - p2) ** 2)
    high = d + math.sqrt((a.high - p1) ** 2 + (p2 - b.low) ** 2)
    return Interval(max(-1.0, low), min(1.0, high), level=level, method="newcombe")


def clopper_pearson_interval(successes: int, trials: int, level: float = 0.95) -> Interval:
    """Exact (Clopper-Pearson) binomial interval; coverage is at least ``level``.

    Uses the beta-quantile form via SciPy (imported here so the module stays
    NumPy-only at import), falling back to bisection on the binomial tails
    when SciPy is unavailable. Zero trials give the uninformative ``[0, 1]``.
    """
    _check_level(level)
    _check_counts(successes, trials)
    alpha = 1.0 - level
    try:
        from scipy.stats import beta
    except ImportError:  # pragma: no cover - SciPy ships with scikit-learn
        low, high = _clopper_pearson_bisect(successes, trials, alpha)
    else:
        low = 0.0 if successes == 0 else float(beta.ppf(alpha / 2.0, successes, trials - successes + 1))
        high = 1.0 if successes == trials else float(beta.ppf(1.0 - alpha / 2.0, successes + 1, trials - successes))
    return Interval(low, high, level=level, method="clopper-pearson")


def _binom_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), summed in log space to avoid overflow."""
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 1.0 if k >= n else 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    log_n_fact = math.lgamma(n + 1)
    terms = [log_n_fact - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q for i in range(k + 1)]
    top = max(terms)
    return min(1.0, math.exp(top) * math.fsum(math.exp(t - top) for t in terms))


def _bisect(f: Callable[[float], float], target: float, decreasing: bool) -> float:
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        above = f(mid) > target
        if above == decreasing:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2.0


def _clopper_pearson_bisect(successes: int, trials: int, alpha: float) -> tuple[float, float]:
    """SciPy-free Clopper-Pearson: invert the binomial tails by bisection.

    low solves P(X >= k | p) = alpha/2, high solves P(X <= k | p) = alpha/2;
    both tails are monotone in p, so bisection is exact to float precision.
    """
    k, n = successes, trials
    low = 0.0 if k == 0 else _bisect(lambda p: 1.0 - _binom_cdf(k - 1, n, p), alpha / 2.0, decreasing=False)
    high = 1.0 if k == n else _bisect(lambda p: _binom_cdf(k, n, p), alpha / 2.0, decreasing=True)
    return low, high
