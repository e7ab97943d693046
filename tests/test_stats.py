"""Tests for harness.stats.intervals: bootstrap mechanics and binomial intervals vs SciPy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binomtest

from harness.stats.intervals import (
    Interval,
    _clopper_pearson_bisect,
    bootstrap_interval,
    bootstrap_intervals,
    clopper_pearson_interval,
    percentile_interval,
    resample_indices,
    wilson_interval,
)

ROOT = Path(__file__).resolve().parents[1]


def _mean_of(x: np.ndarray):
    return lambda idx: float(x[idx].mean())


# ------------------------------------------------------------------ resampling


def test_resample_indices_shape_and_determinism():
    a = resample_indices(50, rng=np.random.default_rng(3), n_boot=20)
    b = resample_indices(50, rng=np.random.default_rng(3), n_boot=20)
    assert a.shape == (20, 50)
    assert np.issubdtype(a.dtype, np.integer)
    assert a.min() >= 0 and a.max() < 50
    np.testing.assert_array_equal(a, b)


def test_stratified_resampling_keeps_stratum_counts():
    strata = np.array([0] * 7 + [1] * 3 + [2] * 40)
    np.random.default_rng(0).shuffle(strata)
    idx = resample_indices(strata.size, rng=np.random.default_rng(1), n_boot=200, stratify=strata)
    assert idx.shape == (200, 50)
    for row in idx:
        np.testing.assert_array_equal(np.bincount(strata[row], minlength=3), [7, 3, 40])


@pytest.mark.parametrize("kwargs", [{"n": 0}, {"n": 5, "n_boot": 0}, {"n": 5, "stratify": np.zeros(4)}])
def test_resample_indices_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        resample_indices(rng=np.random.default_rng(0), **kwargs)


# ------------------------------------------------------------------- bootstrap


def test_bootstrap_is_deterministic_for_seeded_rng():
    x = np.random.default_rng(0).normal(size=300)
    first = bootstrap_interval(_mean_of(x), x.size, rng=np.random.default_rng(42))
    second = bootstrap_interval(_mean_of(x), x.size, rng=np.random.default_rng(42))
    other = bootstrap_interval(_mean_of(x), x.size, rng=np.random.default_rng(43))
    assert first == second
    assert first != other
    assert first.method == "bootstrap-percentile" and first.level == 0.95


def test_bootstrap_interval_contains_point_estimate():
    x = np.random.default_rng(1).exponential(size=500)
    iv = bootstrap_interval(_mean_of(x), x.size, rng=np.random.default_rng(0))
    assert iv.low < x.mean() < iv.high


def test_bootstrap_width_shrinks_with_n():
    rng = np.random.default_rng(2)
    widths = []
    for n in (100, 400, 1600):
        x = rng.normal(size=n)
        widths.append(bootstrap_interval(_mean_of(x), n, rng=np.random.default_rng(0)).width)
    assert widths[0] > widths[1] > widths[2]
    # Standard error scales as 1/sqrt(n): quadrupling n roughly halves the width.
    assert 0.35 < widths[1] / widths[0] < 0.65
    assert 0.35 < widths[2] / widths[1] < 0.65


def test_bootstrap_accuracy_close_to_wilson():
    correct = (np.random.default_rng(5).random(400) < 0.8).astype(float)
    boot = bootstrap_interval(_mean_of(correct), correct.size, rng=np.random.default_rng(0), n_boot=2000)
    wilson = wilson_interval(int(correct.sum()), correct.size)
    assert abs(boot.low - wilson.low) < 0.02
    assert abs(boot.high - wilson.high) < 0.02


def test_higher_level_gives_wider_interval():
    x = np.random.default_rng(3).normal(size=200)
    narrow = bootstrap_interval(_mean_of(x), x.size, rng=np.random.default_rng(0), level=0.8)
    wide = bootstrap_interval(_mean_of(x), x.size, rng=np.random.default_rng(0), level=0.99)
    assert wide.low < narrow.low and narrow.high < wide.high
    assert wide.level == 0.99


def test_nan_replicates_are_dropped_or_give_none():
    x = np.arange(20, dtype=float)
    counter = iter(range(10**6))

    def sometimes_nan(idx):  # every third replicate undefined: still an interval
        return np.nan if next(counter) % 3 == 0 else float(x[idx].mean())

    iv = bootstrap_interval(sometimes_nan, x.size, rng=np.random.default_rng(0), n_boot=300)
    assert iv is not None and np.isfinite(iv.low) and np.isfinite(iv.high)

    assert bootstrap_interval(lambda idx: np.nan, x.size, rng=np.random.default_rng(0), n_boot=50) is None
    mostly = iter(range(10**6))
    assert (
        bootstrap_interval(
            lambda idx: 1.0 if next(mostly) % 4 == 0 else np.nan, x.size, rng=np.random.default_rng(0), n_boot=100
        )
        is None
    )


def test_percentile_interval_matches_numpy_quantiles():
    values = np.random.default_rng(0).normal(size=1001)
    iv = percentile_interval(values, 0.9)
    assert iv.low == pytest.approx(np.quantile(values, 0.05), abs=1e-12)
    assert iv.high == pytest.approx(np.quantile(values, 0.95), abs=1e-12)
    # exactly half nan is still accepted; more than half is not
    assert percentile_interval(np.r_[values[:10], [np.nan] * 10]) is not None
    assert percentile_interval(np.r_[values[:10], [np.nan] * 11]) is None


def test_shared_resamples_match_single_statistic_calls():
    x = np.random.default_rng(4).normal(size=120)
    stats = {"mean": _mean_of(x), "median": lambda idx: float(np.median(x[idx]))}
    both = bootstrap_intervals(stats, x.size, rng=np.random.default_rng(9), n_boot=300)
    assert both["mean"] == bootstrap_interval(stats["mean"], x.size, rng=np.random.default_rng(9), n_boot=300)
    assert both["median"] == bootstrap_interval(stats["median"], x.size, rng=np.random.default_rng(9), n_boot=300)


class _BatchMean:
    """A statistic with the vectorised ``batch`` entry point."""

    def __init__(self, x):
        self.x = x
        self.batch_calls = 0

    def __call__(self, idx):
        return float(self.x[idx].mean())

    def batch(self, idx):
        self.batch_calls += 1
        return self.x[idx].mean(axis=1)


def test_batch_statistics_are_used_and_agree_with_row_loop():
    x = np.random.default_rng(6).normal(size=200)
    stat = _BatchMean(x)
    looped = bootstrap_interval(_mean_of(x), x.size, rng=np.random.default_rng(1), n_boot=400)
    batched = bootstrap_interval(stat, x.size, rng=np.random.default_rng(1), n_boot=400)
    assert stat.batch_calls == 1
    assert batched.low == pytest.approx(looped.low, abs=1e-12)
    assert batched.high == pytest.approx(looped.high, abs=1e-12)


def test_stratified_bootstrap_keeps_auc_like_statistic_defined():
    y = np.array([1] * 3 + [0] * 57)
    # Undefined (nan) whenever a resample has no positive: common without strata.
    stat = lambda idx: float(y[idx].mean()) if y[idx].any() else np.nan  # noqa: E731
    iv = bootstrap_interval(stat, y.size, rng=np.random.default_rng(0), stratify=y)
    assert iv == Interval(0.05, 0.05, method="bootstrap-percentile-stratified")  # the method names the scheme


@pytest.mark.parametrize("level", [0.0, 1.0, -0.1, 1.5])
def test_bad_level_is_rejected(level):
    with pytest.raises(ValueError):
        bootstrap_interval(lambda idx: 0.0, 5, rng=np.random.default_rng(0), level=level)
    with pytest.raises(ValueError):
        wilson_interval(1, 5, level)


# -------------------------------------------------------------- binomial intervals


CASES = [(0, 10), (1, 10), (5, 10), (10, 10), (3, 7), (80, 100), (320, 400), (0, 1), (1, 1), (17, 1000)]


@pytest.mark.parametrize("k,n", CASES)
@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_wilson_matches_scipy(k, n, level):
    ref = binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
    iv = wilson_interval(k, n, level)
    assert iv.method == "wilson" and iv.level == level
    assert iv.low == pytest.approx(ref.low, abs=1e-12)
    assert iv.high == pytest.approx(ref.high, abs=1e-12)


@pytest.mark.parametrize("k,n", CASES)
@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_clopper_pearson_matches_scipy(k, n, level):
    ref = binomtest(k, n).proportion_ci(confidence_level=level, method="exact")
    iv = clopper_pearson_interval(k, n, level)
    assert iv.method == "clopper-pearson" and iv.level == level
    assert iv.low == pytest.approx(ref.low, abs=1e-12)
    assert iv.high == pytest.approx(ref.high, abs=1e-12)
    low, high = _clopper_pearson_bisect(k, n, 1 - level)  # SciPy-free fallback
    assert low == pytest.approx(ref.low, abs=1e-9)
    assert high == pytest.approx(ref.high, abs=1e-9)


def test_known_values():
    cp = clopper_pearson_interval(0, 10)
    assert cp.low == 0.0
    assert cp.high == pytest.approx(0.3085, abs=5e-5)
    # "rule of three": 0/n upper bound ~ 3/n at 95% (one-sided); two-sided CP is ~3.7/n
    assert clopper_pearson_interval(0, 1000).high == pytest.approx(0.003682, abs=1e-6)
    w = wilson_interval(0, 10)
    assert w.low == 0.0 and wilson_interval(10, 10).high == 1.0
    assert w.low == 0.0 and w.high == pytest.approx(0.2775, abs=5e-5)
    w = wilson_interval(5, 10)
    assert w.low == pytest.approx(0.2366, abs=5e-5) and w.high == pytest.approx(0.7634, abs=5e-5)


def test_clopper_pearson_is_wider_than_wilson():
    for k, n in [(1, 10), (5, 10), (80, 100)]:
        cp, w = clopper_pearson_interval(k, n), wilson_interval(k, n)
        assert cp.low <= w.low and w.high <= cp.high


def test_degenerate_and_invalid_counts():
    assert wilson_interval(0, 0) is None
    assert clopper_pearson_interval(0, 0) == Interval(0.0, 1.0, 0.95, "clopper-pearson")
    for k, n in [(-1, 5), (6, 5), (0, -1)]:
        with pytest.raises(ValueError):
            wilson_interval(k, n)
        with pytest.raises(ValueError):
            clopper_pearson_interval(k, n)


def test_interval_helpers_and_round_trip():
    iv = Interval(0.25, 0.75)
    assert iv.width == 0.5 and iv.contains(0.5) and not iv.contains(0.8)
    d = iv.to_dict()
    assert d == {"low": 0.25, "high": 0.75, "level": 0.95, "method": "bootstrap-percentile"}
    assert Interval(**d) == iv


def test_stats_module_imports_no_scipy_or_sklearn():
    code = "import sys, harness.stats.intervals; print(sorted(m for m in ('scipy', 'sklearn') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "[]"


def test_newcombe_matches_the_published_example():
    """Newcombe (1998), Table II example (56/70 vs 48/80): method 10 gives 0.0524 to 0.3339."""
    from harness.stats.intervals import newcombe_interval

    iv = newcombe_interval(56, 70, 48, 80)
    assert (round(iv.low, 4), round(iv.high, 4)) == (0.0524, 0.3339) and iv.method == "newcombe"
    assert newcombe_interval(0, 0, 1, 2) is None


def test_error_bound_interval_is_point_plus_minus_the_error_quantile():
    from harness.stats.intervals import error_bound_interval

    errors = np.linspace(0.0, 0.1, 1001)
    iv = error_bound_interval(0.03, errors, 0.95, bounds=(0.0, 1.0))
    assert iv.low == 0.0 and iv.high == pytest.approx(0.03 + 0.095) and iv.method == "bootstrap-error-bound"
