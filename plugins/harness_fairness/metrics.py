"""Per-group rates and group-fairness disparities of a classifier's predictions.

Pure functions on predictions (no model, no torch). Conventions:

* ``y_true`` / ``y_pred``: int arrays of class indices, shape ``(n,)``.
  Everything is computed on ``y == positive``, so binary models use
  ``positive=1`` and a multiclass caller loops over classes (one-vs-rest).
* ``sensitive``: mapping attribute name -> sequence of ``n`` string labels
  (missing values already mapped to ``"unknown"`` by the caller).
* An *attribute set* is a tuple of attribute names; one attribute alone gives
  groups like ``"female"``, several give intersections like ``"female | 65+"``
  (attribute label ``"sex & age_band"``). Intersections are audited because
  harms hide in combinations: a model can look fair by sex and by age
  separately and still fail older women.

Per-group metrics (:func:`group_metrics`, :func:`group_metric_tables`) are
counted with NumPy; their point values equal fairlearn's
:class:`~fairlearn.metrics.MetricFrame` ``by_group`` exactly (a test checks it),
and their intervals are Wilson score intervals by default (every rate is a
proportion of a known denominator), or a vectorised percentile bootstrap over
examples (Fairlearn's scheme: one resample matrix for all groups and tables,
cross-checked against MetricFrame's own bootstrap in the tests, ~100x faster).
Disparities (:func:`disparities`) are computed from those group rows over
*sufficient* groups only (``count >= min_count``): a group of 3 examples has a
rate of 0, 1/3, 2/3 or 1 by chance alone and must not decide the verdict.
Small groups are still listed (with their counts) so a report can say they
were not judged.

Disparity intervals are *simultaneous pairwise* intervals. A max-minus-min
gap equals the largest absolute pairwise difference, so if every pairwise
difference lies in its interval, the gap lies between the largest lower and
the largest upper absolute bound. Each pair gets Newcombe's hybrid score
interval (Wilson limits combined by MOVER) at the Bonferroni level
``1 - (1 - level) / pairs``, so the gap's interval covers with probability at
least ``level``. This replaces a percentile bootstrap of max - min, which is
biased upward at small true gaps (every resample's max - min exceeds the true
gap of 0, so its interval could not contain 0). Coverage is measured in
``benchmarks/coverage.py``.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from harness import Interval, wilson_interval
# Not in the public API (yet): the core's Newcombe interval for a difference of two proportions.
from harness.stats.intervals import newcombe_interval

__all__ = [
    "METRIC_NAMES",
    "DISPARITY_NAMES",
    "GroupEstimate",
    "GroupRow",
    "Disparities",
    "attribute_sets",
    "group_metrics",
    "group_metric_tables",
    "group_bootstrap_counts",
    "disparities",
    "DISPARITY_INTERVAL_METHODS",
    "GROUP_INTERVAL_METHODS",
]

#: Per-group metrics, in report order.
METRIC_NAMES: tuple[str, ...] = (
    "selection_rate",
    "accuracy",
    "true_positive_rate",
    "false_positive_rate",
    "false_negative_rate",
)

#: Disparity statistics, in report order.
DISPARITY_NAMES: tuple[str, ...] = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equal_opportunity_difference",
    "worst_group_accuracy_gap",
)

#: How each disparity's interval is obtained (``Interval.method``); see the module docstring.
DISPARITY_INTERVAL_METHODS: dict[str, str] = {
    "demographic_parity_difference": "newcombe-bonferroni-pairs",
    "demographic_parity_ratio": "mover-log-wilson-bonferroni-pairs",
    "equalized_odds_difference": "newcombe-bonferroni-pairs",
    "equal_opportunity_difference": "newcombe-bonferroni-pairs",
    "worst_group_accuracy_gap": "newcombe-bonferroni-groups",
}

#: Per-group interval methods offered by :func:`group_metrics` (``method=``).
GROUP_INTERVAL_METHODS: dict[str, str] = {
    "wilson": "wilson",
    "bootstrap": "bootstrap-percentile",
}

ATTRIBUTE_JOIN = " & "
GROUP_JOIN = " | "


def _clean(x: Any) -> float | None:
    """A finite float, or None (NaN / inf / None are 'not defined')."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class GroupEstimate:
    """One group's metric value and its interval (None when undefined); ``method`` names the interval."""

    value: float | None
    low: float | None
    high: float | None
    method: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "low": self.low, "high": self.high, "method": self.method}


@dataclass(frozen=True)
class GroupRow:
    """Metrics of one group (or intersection of groups) of one attribute set."""

    attribute: str
    group: str
    count: int
    sufficient: bool
    metrics: dict[str, GroupEstimate]

    def to_dict(self) -> dict[str, Any]:
        return {
            "attribute": self.attribute,
            "group": self.group,
            "count": int(self.count),
            "sufficient": bool(self.sufficient),
            "metrics": {k: v.to_dict() for k, v in self.metrics.items()},
        }


@dataclass(frozen=True)
class Disparities:
    """Group-fairness gaps of one attribute set, over its sufficient groups only.

    All values are None when fewer than two groups are sufficient: a gap needs
    two groups to compare, and an insufficient group is too noisy to be one.
    ``intervals`` maps each disparity name to ``(low, high)`` (simultaneous
    pairwise intervals, see the module docstring), or None when it cannot be
    estimated; ``interval(name)`` gives it as an :class:`~harness.stats.intervals.Interval`
    carrying its level and method name.
    """

    attribute: str
    demographic_parity_difference: float | None
    demographic_parity_ratio: float | None
    equalized_odds_difference: float | None
    equal_opportunity_difference: float | None
    worst_group_accuracy_gap: float | None
    worst_group: str | None
    judged_groups: tuple[str, ...]
    insufficient_groups: tuple[tuple[str, int], ...]
    intervals: dict[str, tuple[float, float] | None] = field(default_factory=dict)
    level: float = 0.95

    #: One name for the whole family (every disparity's interval combines Wilson limits by
    #: MOVER with a Bonferroni adjustment); :meth:`interval` carries the exact method per measure.
    interval_method = "wilson-mover-bonferroni"

    def interval(self, name: str) -> Interval | None:
        """The interval of disparity ``name`` with its level and method (None when not estimable)."""
        bounds = self.intervals.get(name)
        if bounds is None:
            return None
        return Interval(float(bounds[0]), float(bounds[1]), level=self.level, method=DISPARITY_INTERVAL_METHODS[name])

    def values(self) -> dict[str, float | None]:
        """Disparity name -> point value, in report order."""
        return {name: getattr(self, name) for name in DISPARITY_NAMES}

    def to_dict(self) -> dict[str, Any]:
        return {
            "attribute": self.attribute,
            **self.values(),
            "worst_group": self.worst_group,
            "judged_groups": list(self.judged_groups),
            "insufficient_groups": [{"group": g, "count": int(c)} for g, c in self.insufficient_groups],
            "intervals": {
                k: None if v is None else {"low": float(v[0]), "high": float(v[1]), "level": float(self.level),
                                           "method": DISPARITY_INTERVAL_METHODS[k]}
                for k, v in self.intervals.items()
            },
        }


# --------------------------------------------------------------------------- inputs


def attribute_sets(sensitive_columns: Sequence[str], intersections: bool = True) -> list[tuple[str, ...]]:
    """Each attribute alone, then (if ``intersections``) every combination of 2 or more, in order.

    Intersections are included by default because disparities that cancel out
    in the marginals can be large in a combination (e.g. sex x age band).
    """
    cols = list(sensitive_columns)
    sets: list[tuple[str, ...]] = [(c,) for c in cols]
    if intersections:
        for r in range(2, len(cols) + 1):
            sets.extend(itertools.combinations(cols, r))
    return sets


def _as_labels(y: Any, name: str) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.dtype == bool:
        arr = arr.astype(np.int64)
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must hold integer class indices, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def _prepare(y_true, y_pred, sensitive, attributes, positive):
    """Binary 0/1 truth and prediction (``== positive``), and a string column per attribute."""
    yt = _as_labels(y_true, "y_true")
    yp = _as_labels(y_pred, "y_pred")
    if yt.shape != yp.shape:
        raise ValueError(f"y_true and y_pred differ in length ({yt.size} vs {yp.size})")
    if yt.size == 0:
        raise ValueError("no examples")
    attributes = tuple(attributes)
    if not attributes:
        raise ValueError("attributes must name at least one sensitive column")
    cols: dict[str, np.ndarray] = {}
    for a in attributes:
        if a not in sensitive:
            raise ValueError(f"unknown sensitive attribute {a!r} (have: {', '.join(sensitive)})")
        col = np.asarray([str(v) for v in sensitive[a]], dtype=object)
        if col.shape != yt.shape:
            raise ValueError(f"sensitive column {a!r} has {col.size} values for {yt.size} examples")
        cols[a] = col
    return (yt == positive).astype(np.int64), (yp == positive).astype(np.int64), cols, attributes


def _group_labels(cols: Mapping[str, np.ndarray], attributes: tuple[str, ...]) -> np.ndarray:
    """Per-example group label: attribute values joined by ``" | "`` in attribute order."""
    n = len(next(iter(cols.values())))
    return np.asarray([GROUP_JOIN.join(str(cols[a][i]) for a in attributes) for i in range(n)], dtype=object)


# --------------------------------------------------------------------------- per-group metrics


def _group_ids(cols: Mapping[str, np.ndarray], attributes: tuple[str, ...]) -> tuple[list[tuple[str, ...]], np.ndarray]:
    """Groups of ``attributes`` in fairlearn's order (sorted value tuples, observed only) and each example's group id."""
    keys = list(zip(*(cols[a] for a in attributes)))
    groups = sorted(set(keys))
    index = {g: i for i, g in enumerate(groups)}
    return groups, np.fromiter((index[k] for k in keys), dtype=np.int64, count=len(keys))


def _counts(gid: np.ndarray, yt: np.ndarray, yp: np.ndarray, n_groups: int) -> np.ndarray:
    """Confusion counts per group, shape ``(G, 2, 2)``: ``[group, truth, prediction]``."""
    return np.bincount(4 * gid + 2 * yt + yp, minlength=4 * n_groups).reshape(n_groups, 2, 2)


def _rates(cm: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Numerator and denominator of every group metric from counts ``(..., 2, 2)``."""
    tn, fp, fn, tp = cm[..., 0, 0], cm[..., 0, 1], cm[..., 1, 0], cm[..., 1, 1]
    size = tn + fp + fn + tp
    return {
        "selection_rate": (tp + fp, size),
        "accuracy": (tp + tn, size),
        "true_positive_rate": (tp, tp + fn),
        "false_positive_rate": (fp, fp + tn),
        "false_negative_rate": (fn, tp + fn),
    }


def group_bootstrap_counts(codes: Sequence[np.ndarray], n_codes: Sequence[int], *, n_boot: int, seed: int) -> list[np.ndarray]:
    """Counts of each code in every resample, for several code columns from ONE resample matrix.

    ``codes[t]`` gives each example an int code in ``0..n_codes[t]-1`` (e.g.
    ``4 * group + 2 * truth + prediction`` for table t); the result for t has
    shape ``(n_boot, n_codes[t])``. Resamples are plain bootstrap draws over
    examples (``np.random.default_rng(seed).integers``, Fairlearn's scheme:
    group sizes vary between resamples), drawn in chunks to bound memory, and
    every table is counted on the same rows, so the intervals of all groups
    and tables describe the same hypothetical re-draws.
    """
    codes = [np.asarray(c, dtype=np.int64) for c in codes]
    n = codes[0].size
    rng = np.random.default_rng(seed)
    out = [np.empty((n_boot, k), dtype=np.int64) for k in n_codes]
    chunk = max(1, 4_000_000 // max(n, 1))
    for start in range(0, n_boot, chunk):
        stop = min(n_boot, start + chunk)
        rows = stop - start
        idx = rng.integers(0, n, size=(rows, n))
        for code, k, counts in zip(codes, n_codes, out):
            flat = (code[idx] + (np.arange(rows, dtype=np.int64) * k)[:, None]).ravel()
            counts[start:stop] = np.bincount(flat, minlength=rows * k).reshape(rows, k)
    return out


def group_metric_tables(
    y_true: Sequence[int],
    y_pred: Sequence[int],
    sensitive: Mapping[str, Sequence[str]],
    tables: Sequence[tuple[tuple[str, ...], int]],
    *,
    min_count: int = 30,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    method: str = "wilson",
) -> dict[tuple[tuple[str, ...], int], list[GroupRow]]:
    """:func:`group_metrics` for several ``(attributes, positive)`` tables at once.

    With ``method="bootstrap"`` all tables share one resample matrix (see
    :func:`group_bootstrap_counts`), so the cost is one gather per table, not
    one MetricFrame per resample.
    """
    if not 0.5 < level < 1:
        raise ValueError(f"level must lie in (0.5, 1), got {level}")
    if method not in GROUP_INTERVAL_METHODS:
        raise ValueError(f"method must be one of {', '.join(GROUP_INTERVAL_METHODS)}, got {method!r}")
    prepared = []
    for attributes, positive in tables:
        yt, yp, cols, attrs = _prepare(y_true, y_pred, sensitive, attributes, positive)
        groups, gid = _group_ids(cols, attrs)
        prepared.append((attrs, positive, yt, yp, groups, gid))
    boot: list[np.ndarray | None] = [None] * len(prepared)
    if method == "bootstrap" and n_boot > 0 and prepared:
        codes = [4 * gid + 2 * yt + yp for _, _, yt, yp, _, gid in prepared]
        counts = group_bootstrap_counts(codes, [4 * len(p[4]) for p in prepared], n_boot=n_boot, seed=seed)
        boot = [c.reshape(n_boot, -1, 2, 2) for c in counts]
    tail = (1.0 - level) / 2.0
    out: dict[tuple[tuple[str, ...], int], list[GroupRow]] = {}
    for (attrs, positive, yt, yp, groups, gid), boot_cm in zip(prepared, boot):
        cm = _counts(gid, yt, yp, len(groups))
        point = _rates(cm)
        bounds: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        if boot_cm is not None:
            with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-nan columns: no interval
                for name, (num, den) in _rates(boot_cm).items():
                    values = np.where(den > 0, num / np.maximum(den, 1), np.nan)
                    lo, hi = np.nanquantile(values, [tail, 1.0 - tail], axis=0)
                    bounds[name] = (lo, hi)
        attribute_label = ATTRIBUTE_JOIN.join(attrs)
        rows: list[GroupRow] = []
        for g, key in enumerate(groups):
            count = int(cm[g].sum())
            metrics: dict[str, GroupEstimate] = {}
            for name in METRIC_NAMES:
                num, den = int(point[name][0][g]), int(point[name][1][g])
                if den == 0:  # undefined (TPR/FNR without positives, FPR without negatives): None, not 0
                    metrics[name] = GroupEstimate(None, None, None)
                    continue
                value = num / den
                low = high = None
                if method == "wilson" and n_boot > 0:
                    interval = wilson_interval(num, den, level)
                    low, high = interval.low, interval.high  # type: ignore[union-attr]
                elif name in bounds:
                    low, high = _clean(bounds[name][0][g]), _clean(bounds[name][1][g])
                    if low is None or high is None:
                        low = high = None
                metrics[name] = GroupEstimate(value, low, high, GROUP_INTERVAL_METHODS[method] if low is not None else None)
            rows.append(GroupRow(attribute_label, GROUP_JOIN.join(key), count, count >= min_count, metrics))
        out[(attrs, positive)] = rows
    return out


def group_metrics(
    y_true: Sequence[int],
    y_pred: Sequence[int],
    sensitive: Mapping[str, Sequence[str]],
    attributes: tuple[str, ...],
    *,
    positive: int = 1,
    min_count: int = 30,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    method: str = "wilson",
) -> list[GroupRow]:
    """Selection rate, accuracy, TPR, FPR and FNR of each group of ``attributes``, with intervals.

    Rates are counted on ``y == positive``; the values equal fairlearn's
    ``MetricFrame(...).by_group`` exactly. A rate that is undefined for a
    group (TPR/FNR without positives, FPR without negatives) is None rather
    than fairlearn's 0, so an empty denominator never reads as a perfect or a
    failing score. Groups are in fairlearn's (sorted) order; every group is
    returned, flagged ``sufficient`` when ``count >= min_count``.

    Intervals (``n_boot=0`` skips them):

    * ``method="wilson"`` (default): Wilson score interval of each rate given
      its denominator (the group's size, positives or negatives). Closed
      form, close to nominal coverage for small groups and rates near 0 or 1,
      never of zero width; ``n_boot`` and ``seed`` are not used.
    * ``method="bootstrap"``: percentile bootstrap over examples with
      ``n_boot`` resamples from ``np.random.default_rng(seed)``, Fairlearn's
      MetricFrame scheme (resamples in which a rate is undefined are left
      out, where Fairlearn counts them as 0). It collapses to a point when a
      group's rate is 0 or 1, which is why it is not the default.
    """
    return group_metric_tables(
        y_true, y_pred, sensitive, [(tuple(attributes), positive)],
        min_count=min_count, n_boot=n_boot, level=level, seed=seed, method=method,
    )[(tuple(attributes), positive)]


# --------------------------------------------------------------------------- disparities


def _spread(values: np.ndarray) -> np.ndarray:
    """max - min over the last axis ignoring NaN; NaN where fewer than 2 values are defined."""
    finite = np.isfinite(values)
    ok = finite.sum(axis=-1) >= 2
    hi = np.where(finite, values, -np.inf).max(axis=-1)
    lo = np.where(finite, values, np.inf).min(axis=-1)
    return np.where(ok, hi - lo, np.nan)


def _disparity_stats(sel, acc, tpr, fpr, overall_acc) -> dict[str, np.ndarray]:
    """Disparities from per-group rates, shape ``(..., G)`` -> ``(...)``; NaN where undefined."""
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices -> NaN, handled by callers
        sel_max = np.nanmax(sel, axis=-1)
        sel_min = np.nanmin(sel, axis=-1)
        ratio = np.where(sel_max > 0, sel_min / np.where(sel_max > 0, sel_max, 1.0), np.nan)
        tpr_d = _spread(tpr)
        fpr_d = _spread(fpr)
        eo = np.fmax(tpr_d, fpr_d)  # max of the defined one(s); NaN only if both undefined
        gap = overall_acc - np.nanmin(acc, axis=-1)
    return {
        "demographic_parity_difference": sel_max - sel_min,
        "demographic_parity_ratio": ratio,
        "equalized_odds_difference": eo,
        "equal_opportunity_difference": tpr_d,
        "worst_group_accuracy_gap": gap,
    }


def _abs_bounds(low: float, high: float) -> tuple[float, float]:
    """Range of ``|d|`` when ``d`` lies in ``[low, high]``."""
    if low > 0:
        return low, high
    if high < 0:
        return -high, -low
    return 0.0, max(high, -low)


def _pairs(counts: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Unordered pairs of groups whose rate is defined (denominator > 0)."""
    defined = [i for i, (_, den) in enumerate(counts) if den > 0]
    return list(itertools.combinations(defined, 2))


def _spread_interval(families: Sequence[Sequence[tuple[int, int]]], level: float) -> tuple[float, float] | None:
    """Simultaneous interval of ``max`` over families of ``max - min`` of group proportions.

    ``families`` holds, per rate (one for a parity gap, TPR and FPR for
    equalized odds), the ``(successes, trials)`` of each group. Every pair of
    groups gets Newcombe's interval for its difference at the Bonferroni level
    over all pairs; the spread's bounds are the largest absolute lower and
    upper bounds.
    """
    pairs = [(fam, i, j) for fam in families for i, j in _pairs(fam)]
    if not pairs:
        return None
    pair_level = 1.0 - (1.0 - level) / len(pairs)
    lows, highs = [], []
    for fam, i, j in pairs:
        interval = newcombe_interval(fam[i][0], fam[i][1], fam[j][0], fam[j][1], pair_level)
        low, high = _abs_bounds(interval.low, interval.high)  # type: ignore[union-attr]
        lows.append(low)
        highs.append(high)
    return max(lows), max(highs)


def _ratio_pair(a: tuple[int, int], b: tuple[int, int], level: float) -> tuple[float, float]:
    """Interval of ``p_a / p_b`` (may be infinite): MOVER on the log scale with Wilson limits.

    Zou & Donner (2008): the Wilson limits of each proportion, log
    transformed, combined like Newcombe's difference; with a zero count the
    bound falls back to the ratio of the Wilson limits themselves.
    """
    wa, wb = wilson_interval(*a, level), wilson_interval(*b, level)
    pa, pb = a[0] / a[1], b[0] / b[1]
    if a[0] > 0 and b[0] > 0:
        d = math.log(pa) - math.log(pb)
        low = d - math.hypot(math.log(pa) - math.log(wa.low), math.log(wb.high) - math.log(pb))  # type: ignore[union-attr]
        high = d + math.hypot(math.log(wa.high) - math.log(pa), math.log(pb) - math.log(wb.low))  # type: ignore[union-attr]
        return math.exp(low), math.exp(high)
    low = wa.low / wb.high  # type: ignore[union-attr]
    high = wa.high / wb.low if wb.low > 0 else math.inf  # type: ignore[union-attr]
    return low, high


def _ratio_interval(groups: Sequence[tuple[int, int]], level: float) -> tuple[float, float] | None:
    """Simultaneous interval of ``min p / max p``: per pair ``min(r, 1/r)`` over its ratio interval, Bonferroni."""
    pairs = _pairs(groups)
    if not pairs:
        return None
    pair_level = 1.0 - (1.0 - level) / len(pairs)
    lows, highs = [], []
    for i, j in pairs:
        low, high = _ratio_pair(groups[i], groups[j], pair_level)
        if high <= 1.0:
            lows.append(low)
            highs.append(high)
        elif low >= 1.0:
            lows.append(1.0 / high)
            highs.append(1.0 / low)
        else:
            lows.append(min(low, 1.0 / high))
            highs.append(1.0)
    return min(lows), min(highs)


def _gap_interval(acc: Sequence[tuple[int, int]], total: tuple[int, int], level: float) -> tuple[float, float] | None:
    """Simultaneous interval of ``overall accuracy - min group accuracy``.

    ``overall - acc_g = (1 - w_g) (acc_rest - acc_g)`` with ``w_g = n_g / n``
    (group sizes held fixed) and ``rest`` every example outside g, which is
    independent of g: Newcombe's interval per group at the Bonferroni level
    over groups, scaled by ``1 - w_g``; the gap is the max over groups.
    """
    groups = [(x, m) for x, m in acc if m > 0]
    if not groups:
        return None
    g_level = 1.0 - (1.0 - level) / len(groups)
    lows, highs = [], []
    for x, m in groups:
        rest_x, rest_n = total[0] - x, total[1] - m
        if rest_n == 0:
            continue
        interval = newcombe_interval(rest_x, rest_n, x, m, g_level)
        scale = rest_n / total[1]
        lows.append(scale * interval.low)  # type: ignore[union-attr]
        highs.append(scale * interval.high)  # type: ignore[union-attr]
    if not lows:
        return None
    return max(lows), max(highs)


def _disparity_intervals(
    cm: np.ndarray, total: tuple[int, int], level: float
) -> dict[str, tuple[float, float] | None]:
    """Simultaneous intervals of every disparity from the judged groups' counts ``(G, 2, 2)``."""
    rates = {name: [(int(num[g]), int(den[g])) for g in range(cm.shape[0])] for name, (num, den) in _rates(cm).items()}
    return {
        "demographic_parity_difference": _spread_interval([rates["selection_rate"]], level),
        "demographic_parity_ratio": _ratio_interval(rates["selection_rate"], level),
        "equalized_odds_difference": _spread_interval([rates["true_positive_rate"], rates["false_positive_rate"]], level),
        "equal_opportunity_difference": _spread_interval([rates["true_positive_rate"]], level),
        "worst_group_accuracy_gap": _gap_interval(rates["accuracy"], total, level),
    }


def disparities(
    y_true: Sequence[int],
    y_pred: Sequence[int],
    sensitive: Mapping[str, Sequence[str]],
    attributes: tuple[str, ...],
    *,
    positive: int = 1,
    min_count: int = 30,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    rows: Sequence[GroupRow] | None = None,
) -> Disparities:
    """Demographic parity, equalized odds, equal opportunity and worst-group gaps of ``attributes``.

    Only groups with ``count >= min_count`` are compared (a group of 3 cannot
    decide the verdict); the others are listed in ``insufficient_groups``.
    Definitions, over the judged groups:

    * demographic parity difference / ratio: max - min, and min / max, of the
      selection rate (ratio None when no group is ever selected);
    * equal opportunity difference: max - min TPR;
    * equalized odds difference: max(TPR difference, FPR difference);
    * worst-group accuracy gap: accuracy on *all* examples minus the lowest
      group accuracy (``worst_group`` names that group).

    Point values come from the group rows (pass ``rows`` from
    :func:`group_metrics` to avoid recomputing them). Intervals are the
    simultaneous pairwise intervals of the module docstring (methods in
    :data:`DISPARITY_INTERVAL_METHODS`): closed form, so ``n_boot`` and
    ``seed`` are accepted for compatibility but not used. The differences'
    intervals are clipped at 0 from below (a spread cannot be negative) and
    the ratio's at 1 from above.
    """
    yt, yp, cols, attributes = _prepare(y_true, y_pred, sensitive, attributes, positive)
    if rows is None:
        rows = group_metrics(y_true, y_pred, sensitive, attributes, positive=positive,
                             min_count=min_count, n_boot=0, level=level, seed=seed)
    attribute_label = ATTRIBUTE_JOIN.join(attributes)
    judged = [r for r in rows if r.count >= min_count]
    insufficient = tuple((r.group, int(r.count)) for r in rows if r.count < min_count)
    judged_names = tuple(r.group for r in judged)
    none = {name: None for name in DISPARITY_NAMES}
    if len(judged) < 2:
        return Disparities(attribute_label, **none, worst_group=None, judged_groups=judged_names,
                           insufficient_groups=insufficient, intervals=dict(none), level=level)

    def _values(name: str) -> np.ndarray:
        return np.asarray([np.nan if r.metrics[name].value is None else r.metrics[name].value for r in judged])

    overall_acc = float(np.mean(yt == yp))
    acc = _values("accuracy")
    point = _disparity_stats(_values("selection_rate"), acc, _values("true_positive_rate"),
                             _values("false_positive_rate"), overall_acc)
    worst_group = judged_names[int(np.argmin(acc))]  # first of the lowest on ties

    groups, gid = _group_ids(cols, attributes)
    cm_all = _counts(gid, yt, yp, len(groups))
    by_label = {GROUP_JOIN.join(key): g for g, key in enumerate(groups)}
    cm = cm_all[[by_label[name] for name in judged_names]]
    intervals = _disparity_intervals(cm, (int((yt == yp).sum()), int(yt.size)), level)
    values = {k: _clean(v) for k, v in point.items()}
    for name, bounds in intervals.items():
        if bounds is None or values[name] is None:
            intervals[name] = None
        else:  # the point lies inside by construction; keep it so against rounding
            intervals[name] = (min(bounds[0], values[name]), max(bounds[1], values[name]))
    return Disparities(
        attribute_label,
        **values,
        worst_group=worst_group,
        judged_groups=judged_names,
        insufficient_groups=insufficient,
        intervals=intervals,
        level=level,
    )
