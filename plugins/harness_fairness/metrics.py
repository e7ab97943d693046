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

Per-group metrics (:func:`group_metrics`) come from fairlearn's
:class:`~fairlearn.metrics.MetricFrame`, including its own bootstrap for the
per-group intervals, so the numbers match what practitioners get from the
reference library. Disparities (:func:`disparities`) are computed from those
group rows over *sufficient* groups only (``count >= min_count``): a group of
3 examples has a rate of 0, 1/3, 2/3 or 1 by chance alone and must not decide
the verdict. Small groups are still listed (with their counts) so a report
can say they were not judged. Disparity intervals come from a vectorised
NumPy bootstrap over examples that recomputes each disparity over the same
judged groups.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from harness.stats import percentile_interval

__all__ = [
    "METRIC_NAMES",
    "DISPARITY_NAMES",
    "GroupEstimate",
    "GroupRow",
    "Disparities",
    "attribute_sets",
    "group_metrics",
    "disparities",
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
    """One group's metric value and its fairlearn bootstrap interval (None when undefined)."""

    value: float | None
    low: float | None
    high: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "low": self.low, "high": self.high}


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
    ``intervals`` maps each disparity name to a percentile bootstrap interval
    ``(low, high)``, or None when it cannot be estimated.
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
                k: None if v is None else {"low": float(v[0]), "high": float(v[1])}
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
) -> list[GroupRow]:
    """Selection rate, accuracy, TPR, FPR and FNR of each group of ``attributes``, with intervals.

    Computed by fairlearn's ``MetricFrame`` (and its bootstrap, ``n_boot``
    resamples, ``random_state=seed``) on ``y == positive``. A rate that is
    undefined for a group (TPR/FNR without positives, FPR without negatives)
    is reported as None rather than fairlearn's 0, so an empty denominator
    never reads as a perfect or a failing score. Groups are in fairlearn's
    (sorted) order; every group is returned, flagged ``sufficient`` when
    ``count >= min_count``. ``n_boot=0`` skips the bootstrap (intervals None).
    """
    import pandas as pd
    from fairlearn.metrics import (
        MetricFrame,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score

    if not 0.5 < level < 1:
        raise ValueError(f"level must lie in (0.5, 1), got {level}")
    yt, yp, cols, attributes = _prepare(y_true, y_pred, sensitive, attributes, positive)
    features = pd.DataFrame({a: cols[a] for a in attributes})
    tail = (1.0 - level) / 2.0

    def _tpr(t, p):
        return true_positive_rate(t, p, pos_label=1)

    def _fpr(t, p):
        return false_positive_rate(t, p, pos_label=1)

    def _fnr(t, p):
        return false_negative_rate(t, p, pos_label=1)

    def _sel(t, p):
        return selection_rate(t, p, pos_label=1)

    metric_fns = {
        "selection_rate": _sel,
        "accuracy": accuracy_score,
        "true_positive_rate": _tpr,
        "false_positive_rate": _fpr,
        "false_negative_rate": _fnr,
    }
    with warnings.catch_warnings():
        # Undefined rates in tiny groups / resamples: handled below, not noise for the user.
        warnings.simplefilter("ignore")
        boot = {"n_boot": int(n_boot), "ci_quantiles": [tail, 1.0 - tail], "random_state": int(seed)}
        mf = MetricFrame(
            metrics=metric_fns,
            y_true=yt,
            y_pred=yp,
            sensitive_features=features,
            **(boot if n_boot > 0 else {}),
        )
        by_group = mf.by_group
        ci_low, ci_high = mf.by_group_ci if n_boot > 0 else (by_group.iloc[:0], by_group.iloc[:0])

    group_of = _group_labels(cols, attributes)
    attribute_label = ATTRIBUTE_JOIN.join(attributes)
    rows: list[GroupRow] = []
    for key in by_group.index:
        values = key if isinstance(key, tuple) else (key,)
        label = GROUP_JOIN.join(str(v) for v in values)
        mask = group_of == label
        count = int(mask.sum())
        n_pos = int(yt[mask].sum())
        defined = {
            "selection_rate": True,
            "accuracy": True,
            "true_positive_rate": n_pos > 0,
            "false_positive_rate": count - n_pos > 0,
            "false_negative_rate": n_pos > 0,
        }
        metrics: dict[str, GroupEstimate] = {}
        for name in METRIC_NAMES:
            if not defined[name]:
                metrics[name] = GroupEstimate(None, None, None)
                continue
            value = _clean(by_group.loc[key, name])
            low = _clean(ci_low.loc[key, name]) if key in ci_low.index else None
            high = _clean(ci_high.loc[key, name]) if key in ci_high.index else None
            if low is None or high is None:
                low = high = None
            metrics[name] = GroupEstimate(value, low, high)
        rows.append(GroupRow(attribute_label, label, count, count >= min_count, metrics))
    return rows


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

    Point values come from the fairlearn group rows (pass ``rows`` from
    :func:`group_metrics` to avoid recomputing them). Intervals come from a
    NumPy bootstrap (``np.random.default_rng(seed)``): examples are resampled
    with replacement ``n_boot`` times and every disparity is recomputed over
    the same judged groups; resamples in which a judged group vanishes are
    dropped, and :func:`harness.stats.percentile_interval` gives the
    interval (None when most resamples are unusable).
    """
    yt, yp, cols, attributes = _prepare(y_true, y_pred, sensitive, attributes, positive)
    if rows is None:
        # Per-group intervals are not needed for the point disparities: skip fairlearn's bootstrap.
        rows = group_metrics(y_true, y_pred, sensitive, attributes, positive=positive,
                             min_count=min_count, n_boot=0, level=level, seed=seed)
    attribute_label = ATTRIBUTE_JOIN.join(attributes)
    judged = [r for r in rows if r.count >= min_count]
    insufficient = tuple((r.group, int(r.count)) for r in rows if r.count < min_count)
    judged_names = tuple(r.group for r in judged)
    none = {name: None for name in DISPARITY_NAMES}
    if len(judged) < 2:
        return Disparities(attribute_label, **none, worst_group=None, judged_groups=judged_names,
                           insufficient_groups=insufficient, intervals=dict(none))

    def _rates(name: str) -> np.ndarray:
        return np.asarray([np.nan if r.metrics[name].value is None else r.metrics[name].value for r in judged])

    overall_acc = float(np.mean(yt == yp))
    acc = _rates("accuracy")
    point = _disparity_stats(_rates("selection_rate"), acc, _rates("true_positive_rate"),
                             _rates("false_positive_rate"), overall_acc)
    worst_group = judged_names[int(np.argmin(acc))]  # first of the lowest on ties

    intervals = _bootstrap_intervals(yt, yp, _group_labels(cols, attributes), judged_names,
                                     n_boot=n_boot, level=level, seed=seed)
    return Disparities(
        attribute_label,
        **{k: _clean(v) for k, v in point.items()},
        worst_group=worst_group,
        judged_groups=judged_names,
        insufficient_groups=insufficient,
        intervals=intervals,
    )


def _bootstrap_intervals(
    yt: np.ndarray, yp: np.ndarray, group_of: np.ndarray, judged: tuple[str, ...],
    *, n_boot: int, level: float, seed: int,
) -> dict[str, tuple[float, float] | None]:
    """Percentile intervals of every disparity over ``n_boot`` example resamples.

    Each example gets a code ``4 * group + 2 * truth + prediction`` (group
    ``G`` = not judged, kept for the overall accuracy); one ``bincount`` over
    all resamples then gives every group's confusion counts at once.
    """
    n = yt.size
    g_count = len(judged)
    index = {g: i for i, g in enumerate(judged)}
    gid = np.asarray([index.get(g, g_count) for g in group_of], dtype=np.int64)
    code = 4 * gid + 2 * yt + yp
    n_codes = 4 * (g_count + 1)

    rng = np.random.default_rng(seed)
    counts = np.empty((n_boot, n_codes), dtype=np.int64)
    chunk = max(1, 4_000_000 // max(n, 1))  # bound memory of the index matrix
    for start in range(0, n_boot, chunk):
        stop = min(n_boot, start + chunk)
        idx = rng.integers(0, n, size=(stop - start, n))
        flat = (np.arange(stop - start)[:, None] * n_codes + code[idx]).ravel()
        counts[start:stop] = np.bincount(flat, minlength=(stop - start) * n_codes).reshape(stop - start, n_codes)
    cm = counts.reshape(n_boot, g_count + 1, 2, 2).astype(float)  # [b, group, truth, pred]
    tn, fp, fn, tp = cm[..., 0, 0], cm[..., 0, 1], cm[..., 1, 0], cm[..., 1, 1]
    overall_acc = (tp + tn).sum(axis=1) / n
    tn, fp, fn, tp = tn[:, :g_count], fp[:, :g_count], fn[:, :g_count], tp[:, :g_count]
    size = tn + fp + fn + tp
    with np.errstate(divide="ignore", invalid="ignore"):
        sel = (tp + fp) / size
        acc = (tp + tn) / size
        tpr = tp / (tp + fn)
        fpr = fp / (fp + tn)
        stats = _disparity_stats(sel, acc, tpr, fpr, overall_acc)
    vanished = (size == 0).any(axis=1)
    out: dict[str, tuple[float, float] | None] = {}
    for name in DISPARITY_NAMES:
        values = np.where(vanished, np.nan, stats[name])
        interval = percentile_interval(values, level)
        out[name] = None if interval is None else (interval.low, interval.high)
    return out
