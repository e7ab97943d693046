"""Intervals of the explanation numbers: percentile bootstraps over examples (``harness.stats``).

Means (faithfulness) and ratios of sums (attribution mass on protected terms:
``sum_i protected_i / sum_i total_i``, every example weighted by its own
attribution mass) are evaluated on one resample matrix for all statistics of
a check, vectorised (``BatchStatistic``), so 2000 resamples of a few hundred
examples take milliseconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

if TYPE_CHECKING:
    import numpy as np

    from harness import Interval

__all__ = ["MeanStatistic", "RatioStatistic", "intervals", "ratio"]


class MeanStatistic:
    """The mean of ``values`` over a resample (one row of indices, or a matrix of rows)."""

    def __init__(self, values: "np.ndarray") -> None:
        self.values = values

    def __call__(self, idx: "np.ndarray") -> float:
        return float(self.values[idx].mean())

    def batch(self, idx: "np.ndarray") -> "np.ndarray":
        return self.values[idx].mean(axis=1)


class RatioStatistic:
    """``sum(numerator) / sum(denominator)`` over a resample; nan where the denominator sums to 0."""

    def __init__(self, numerator: "np.ndarray", denominator: "np.ndarray") -> None:
        self.numerator, self.denominator = numerator, denominator

    def __call__(self, idx: "np.ndarray") -> float:
        return float(self.batch(idx[None, :])[0])

    def batch(self, idx: "np.ndarray") -> "np.ndarray":
        import numpy as np

        top, bottom = self.numerator[idx].sum(axis=1), self.denominator[idx].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1.0), np.nan)


def ratio(numerator: "np.ndarray", denominator: "np.ndarray") -> float | None:
    """``sum(numerator) / sum(denominator)``, None when nothing was attributed."""
    bottom = float(denominator.sum())
    return float(numerator.sum()) / bottom if bottom > 0 else None


def intervals(statistics: "Mapping[str, MeanStatistic | RatioStatistic]", n: int, *, rng: "np.random.Generator",
              n_boot: int, level: float) -> "dict[str, Interval | None]":
    """Percentile intervals of every statistic from one resample matrix (``harness.stats.intervals.bootstrap_intervals``)."""
    from harness.stats.intervals import bootstrap_intervals

    if n <= 1 or n_boot <= 0:
        return {name: None for name in statistics}
    return bootstrap_intervals(dict(statistics), n, rng=rng, n_boot=n_boot, level=level)
