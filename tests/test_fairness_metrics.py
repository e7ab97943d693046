"""Fairness-suite group metrics and disparities, checked against plain NumPy from the definitions.

The plugin counts per-group rates with NumPy; the references here use nothing
but boolean masks per group, and one test compares with fairlearn's
MetricFrame (values exactly, bootstrap bounds within resampling noise), so a
mistake in group order, intersections or undefined rates shows up as a
mismatch. Hand-computed literals pin the definitions.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from harness.stats.intervals import newcombe_interval, wilson_interval
from harness_fairness.metrics import (
    DISPARITY_INTERVAL_METHODS,
    DISPARITY_NAMES,
    METRIC_NAMES,
    attribute_sets,
    disparities,
    group_metric_tables,
    group_metrics,
)

TOL = 1e-9


# --------------------------------------------------------------------------- references


def ref_rates(yt: np.ndarray, yp: np.ndarray, mask: np.ndarray) -> dict[str, float | None]:
    """Group rates from the definitions; None when the denominator is empty."""
    t, p = yt[mask] == 1, yp[mask] == 1
    pos, neg = t.sum(), (~t).sum()
    return {
        "selection_rate": p.mean(),
        "accuracy": (t == p).mean(),
        "true_positive_rate": (t & p).sum() / pos if pos else None,
        "false_positive_rate": (~t & p).sum() / neg if neg else None,
        "false_negative_rate": (t & ~p).sum() / pos if pos else None,
    }


def ref_groups(sensitive, attributes) -> dict[str, np.ndarray]:
    """Group label -> boolean mask, every observed combination of the attributes' values."""
    cols = [np.asarray(sensitive[a]) for a in attributes]
    combos = sorted({tuple(c[i] for c in cols) for i in range(len(cols[0]))})
    out = {}
    for combo in combos:
        mask = np.ones(len(cols[0]), dtype=bool)
        for c, v in zip(cols, combo):
            mask &= c == v
        out[" | ".join(combo)] = mask
    return out


def _spread(values):
    vals = [v for v in values if v is not None]
    return max(vals) - min(vals) if len(vals) >= 2 else None


def ref_disparities(yt, yp, groups: dict[str, np.ndarray], min_count: int) -> dict:
    judged = {g: m for g, m in groups.items() if m.sum() >= min_count}
    if len(judged) < 2:
        return {name: None for name in DISPARITY_NAMES} | {"worst_group": None}
    rates = {g: ref_rates(yt, yp, m) for g, m in judged.items()}
    sel = [r["selection_rate"] for r in rates.values()]
    tpr_d = _spread([r["true_positive_rate"] for r in rates.values()])
    fpr_d = _spread([r["false_positive_rate"] for r in rates.values()])
    eo = None if tpr_d is None and fpr_d is None else max(d for d in (tpr_d, fpr_d) if d is not None)
    accs = {g: r["accuracy"] for g, r in rates.items()}
    worst = min(accs, key=accs.get)
    return {
        "demographic_parity_difference": max(sel) - min(sel),
        "demographic_parity_ratio": min(sel) / max(sel) if max(sel) > 0 else None,
        "equalized_odds_difference": eo,
        "equal_opportunity_difference": tpr_d,
        "worst_group_accuracy_gap": np.mean(yt == yp) - accs[worst],
        "worst_group": worst,
    }


def _close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= TOL


def random_data(seed: int, n: int, n_attrs: int = 3, n_classes: int = 2):
    rng = np.random.default_rng(seed)
    values = [["f", "m"], ["<40", "40-65", "65+"], ["a", "b", "c", "unknown"]][:n_attrs]
    names = ["sex", "age_band", "site"][:n_attrs]
    sensitive = {name: rng.choice(vals, size=n, p=None).tolist() for name, vals in zip(names, values)}
    yt = rng.integers(0, n_classes, n)
    # group-dependent error rate so disparities are not all ~0
    err = 0.1 + 0.25 * (np.asarray(sensitive["sex"]) == "f")
    yp = np.where(rng.random(n) < err, rng.integers(0, n_classes, n), yt)
    return yt, yp, sensitive, names


# --------------------------------------------------------------------------- attribute sets


def test_attribute_sets_three_columns():
    sets = attribute_sets(["sex", "age", "site"])
    assert sets == [
        ("sex",), ("age",), ("site",),
        ("sex", "age"), ("sex", "site"), ("age", "site"),
        ("sex", "age", "site"),
    ]
    assert attribute_sets(["sex", "age", "site"], intersections=False) == [("sex",), ("age",), ("site",)]
    assert attribute_sets(["sex"]) == [("sex",)]


# --------------------------------------------------------------------------- against NumPy


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_group_rates_and_disparities_match_numpy(seed):
    n_classes = 2 if seed < 2 else 3
    yt, yp, sensitive, names = random_data(seed, n=400, n_classes=n_classes)
    min_count = 20
    mixed = 0  # attribute sets with both judged and insufficient groups
    for attrs in attribute_sets(names):
        for positive in range(1, n_classes):  # binary: class 1; 3-class: one-vs-rest for 1 and 2
            bt, bp = (yt == positive).astype(int), (yp == positive).astype(int)
            rows = group_metrics(yt, yp, sensitive, attrs, positive=positive, min_count=min_count, n_boot=0)
            groups = ref_groups(sensitive, attrs)
            assert [r.group for r in rows] == list(groups), attrs
            for row in rows:
                mask = groups[row.group]
                assert row.attribute == " & ".join(attrs)
                assert row.count == int(mask.sum())
                assert row.sufficient == (row.count >= min_count)
                assert set(row.metrics) == set(METRIC_NAMES)
                ref = ref_rates(bt, bp, mask)
                for name in METRIC_NAMES:
                    assert _close(row.metrics[name].value, ref[name]), (attrs, row.group, name)
            d = disparities(yt, yp, sensitive, attrs, positive=positive, min_count=min_count, n_boot=50, rows=rows)
            ref_d = ref_disparities(bt, bp, groups, min_count)
            for name in DISPARITY_NAMES:
                assert _close(getattr(d, name), ref_d[name]), (attrs, name)
            assert d.worst_group == ref_d["worst_group"]
            assert set(d.judged_groups) == {g for g, m in groups.items() if m.sum() >= min_count}
            assert dict(d.insufficient_groups) == {g: int(m.sum()) for g, m in groups.items() if m.sum() < min_count}
            mixed += bool(d.insufficient_groups) and len(d.judged_groups) >= 2
    # intersections really produced small groups next to judged ones in this data
    assert mixed


def test_disparities_without_rows_equal_with_rows():
    yt, yp, sensitive, names = random_data(5, n=300, n_attrs=2)
    rows = group_metrics(yt, yp, sensitive, ("sex", "age_band"), min_count=20, n_boot=0)
    a = disparities(yt, yp, sensitive, ("sex", "age_band"), min_count=20, n_boot=100, seed=3)
    b = disparities(yt, yp, sensitive, ("sex", "age_band"), min_count=20, n_boot=100, seed=3, rows=rows)
    assert a == b


# --------------------------------------------------------------------------- hand example


def _hand():
    #          A: 5 rows                B: 5 rows
    yt = np.array([1, 1, 0, 0, 0, 1, 1, 1, 0, 0])
    yp = np.array([1, 0, 1, 0, 0, 1, 1, 1, 1, 0])
    sensitive = {"grp": ["A"] * 5 + ["B"] * 5}
    return yt, yp, sensitive


def test_hand_example():
    yt, yp, sensitive = _hand()
    rows = {r.group: r for r in group_metrics(yt, yp, sensitive, ("grp",), min_count=1, n_boot=0)}
    a, b = rows["A"].metrics, rows["B"].metrics
    assert a["selection_rate"].value == pytest.approx(0.4)
    assert a["accuracy"].value == pytest.approx(0.6)
    assert a["true_positive_rate"].value == pytest.approx(0.5)
    assert a["false_positive_rate"].value == pytest.approx(1 / 3)
    assert a["false_negative_rate"].value == pytest.approx(0.5)
    assert b["selection_rate"].value == pytest.approx(0.8)
    assert b["accuracy"].value == pytest.approx(0.8)
    assert b["true_positive_rate"].value == pytest.approx(1.0)
    assert b["false_positive_rate"].value == pytest.approx(0.5)
    assert b["false_negative_rate"].value == pytest.approx(0.0)
    assert rows["A"].count == 5 and rows["A"].sufficient

    d = disparities(yt, yp, sensitive, ("grp",), min_count=1, n_boot=200)
    assert d.attribute == "grp"
    assert d.demographic_parity_difference == pytest.approx(0.4)
    assert d.demographic_parity_ratio == pytest.approx(0.5)
    assert d.equal_opportunity_difference == pytest.approx(0.5)
    assert d.equalized_odds_difference == pytest.approx(0.5)  # max(TPR 0.5, FPR 1/2 - 1/3)
    assert d.worst_group_accuracy_gap == pytest.approx(0.7 - 0.6)
    assert d.worst_group == "A"
    assert d.judged_groups == ("A", "B") and d.insufficient_groups == ()
    # one-vs-rest: the same data as class 2 vs the rest of a 3-class problem
    yt3, yp3 = np.where(yt == 1, 2, np.array([0, 1] * 5)), np.where(yp == 1, 2, np.array([1, 0] * 5))
    d3 = disparities(yt3, yp3, sensitive, ("grp",), positive=2, min_count=1, n_boot=200)
    assert d3.values() == pytest.approx(d.values())

    # JSON-ready
    json.dumps(d.to_dict())
    json.dumps([r.to_dict() for r in rows.values()])


def test_undefined_rate_is_none_and_skipped():
    yt, yp, sensitive = _hand()
    # group C has no positives: TPR / FNR undefined, FPR defined
    yt = np.concatenate([yt, [0, 0, 0]])
    yp = np.concatenate([yp, [1, 0, 0]])
    sensitive = {"grp": sensitive["grp"] + ["C"] * 3}
    rows = {r.group: r for r in group_metrics(yt, yp, sensitive, ("grp",), min_count=1, n_boot=5)}
    c = rows["C"].metrics
    assert c["true_positive_rate"].value is None and c["true_positive_rate"].low is None
    assert c["false_negative_rate"].value is None
    assert c["false_positive_rate"].value == pytest.approx(1 / 3)
    d = disparities(yt, yp, sensitive, ("grp",), min_count=1, n_boot=50)
    assert d.equal_opportunity_difference == pytest.approx(0.5)  # over A and B only
    assert d.equalized_odds_difference == pytest.approx(0.5)
    assert d.demographic_parity_difference == pytest.approx(0.8 - 1 / 3)


# --------------------------------------------------------------------------- small groups


def test_tiny_extreme_group_is_listed_not_judged():
    yt, yp, sensitive, _ = random_data(7, n=400, n_attrs=1)
    before = disparities(yt, yp, sensitive, ("sex",), min_count=30, n_boot=50)
    # 3 examples, all positive, all predicted wrong: selection 0, accuracy 0, TPR 0
    yt2 = np.concatenate([yt, [1, 1, 1]])
    yp2 = np.concatenate([yp, [0, 0, 0]])
    sens2 = {"sex": sensitive["sex"] + ["x"] * 3}
    after = disparities(yt2, yp2, sens2, ("sex",), min_count=30, n_boot=50)
    assert ("x", 3) in after.insufficient_groups
    assert "x" not in after.judged_groups and after.judged_groups == before.judged_groups
    for name in ("demographic_parity_difference", "demographic_parity_ratio",
                 "equalized_odds_difference", "equal_opportunity_difference"):
        assert getattr(after, name) == pytest.approx(getattr(before, name), abs=TOL), name
    # the gap's worst group is unchanged; only the overall accuracy moved (the tiny group is still counted there)
    assert after.worst_group == before.worst_group
    shift = np.mean(yt2 == yp2) - np.mean(yt == yp)
    assert after.worst_group_accuracy_gap - before.worst_group_accuracy_gap == pytest.approx(shift, abs=TOL)
    # with min_count=1 the tiny group would have dominated the verdict
    judged_all = disparities(yt2, yp2, sens2, ("sex",), min_count=1, n_boot=10)
    assert judged_all.worst_group == "x" and judged_all.demographic_parity_ratio == 0


def test_fewer_than_two_sufficient_groups_gives_none():
    yt, yp, sensitive, _ = random_data(8, n=200, n_attrs=1)
    sens = {"sex": ["f"] * 190 + ["m"] * 10}
    d = disparities(yt, yp, sens, ("sex",), min_count=30, n_boot=50)
    assert all(v is None for v in d.values().values())
    assert d.worst_group is None
    assert d.intervals == {name: None for name in DISPARITY_NAMES}
    assert d.judged_groups == ("f",) and d.insufficient_groups == (("m", 10),)
    d0 = disparities(yt, yp, sens, ("sex",), min_count=500, n_boot=50)
    assert all(v is None for v in d0.values().values()) and d0.judged_groups == ()
    json.dumps(d.to_dict())


# --------------------------------------------------------------------------- intervals


def _disparate_data(seed: int, n: int = 2000):
    """Two groups with clearly different selection rates, TPR and accuracy."""
    rng = np.random.default_rng(seed)
    grp = rng.choice(["g1", "g2"], size=n)
    g2 = grp == "g2"
    yt = (rng.random(n) < np.where(g2, 0.5, 0.3)).astype(int)
    flip = rng.random(n) < np.where(g2, 0.3, 0.1)
    yp = np.where(flip, 1 - yt, yt)
    return yt, yp, {"grp": grp.tolist()}


def test_disparity_intervals_contain_point_name_their_method_and_are_deterministic():
    yt, yp, sens = _disparate_data(0)
    d = disparities(yt, yp, sens, ("grp",), n_boot=500, seed=11)
    for name in DISPARITY_NAMES:
        low, high = d.intervals[name]
        assert low <= getattr(d, name) <= high, name
        assert high - low < 0.2, name
        interval = d.interval(name)
        assert (interval.low, interval.high, interval.level) == (low, high, 0.95)
        assert interval.method == DISPARITY_INTERVAL_METHODS[name]
        assert d.to_dict()["intervals"][name]["method"] == DISPARITY_INTERVAL_METHODS[name]
    # closed form: neither the seed nor n_boot changes anything
    assert disparities(yt, yp, sens, ("grp",), n_boot=100, seed=12) == d


def test_two_group_difference_interval_is_newcombe():
    """With two groups there is one pair: the spread's interval is Newcombe's for |p1 - p2|."""
    yt, yp, sens = _disparate_data(2, n=400)
    d = disparities(yt, yp, sens, ("grp",), level=0.9)
    g = np.asarray(sens["grp"])
    x1, n1 = int(yp[g == "g1"].sum()), int((g == "g1").sum())
    x2, n2 = int(yp[g == "g2"].sum()), int((g == "g2").sum())
    ref = newcombe_interval(x2, n2, x1, n1, 0.9)
    assert ref.low > 0
    assert d.intervals["demographic_parity_difference"] == pytest.approx((ref.low, ref.high), abs=TOL)


def test_small_true_gap_interval_reaches_zero():
    """Issue 12: a percentile bootstrap of max - min put the sex gap 0.0039 in [0.0024, 0.140]."""
    rng = np.random.default_rng(3)
    n = 240
    sex = rng.choice(["f", "m"], size=n)
    yt = (rng.random(n) < 0.4).astype(int)
    yp = np.where(rng.random(n) < 0.2, 1 - yt, yt)  # same model for both: true gaps are 0
    d = disparities(yt, yp, {"sex": sex.tolist()}, ("sex",))
    for name in ("demographic_parity_difference", "equalized_odds_difference", "equal_opportunity_difference"):
        assert d.intervals[name][0] == 0.0, name
    assert d.intervals["demographic_parity_ratio"][1] == 1.0


def test_group_metrics_equal_fairlearn_metricframe_exactly():
    from fairlearn.metrics import (
        MetricFrame,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score

    yt, yp, sensitive, _ = random_data(5, n=500, n_attrs=2)
    frame = MetricFrame(
        metrics={"selection_rate": selection_rate, "accuracy": accuracy_score, "true_positive_rate": true_positive_rate,
                 "false_positive_rate": false_positive_rate, "false_negative_rate": false_negative_rate},
        y_true=yt, y_pred=yp, sensitive_features={a: sensitive[a] for a in ("sex", "age_band")},
    )
    rows = group_metrics(yt, yp, sensitive, ("sex", "age_band"), n_boot=0)
    assert [r.group for r in rows] == [" | ".join(k) for k in frame.by_group.index]
    for row, key in zip(rows, frame.by_group.index):
        for name in METRIC_NAMES:
            assert row.metrics[name].value == frame.by_group.loc[key, name], (row.group, name)


def test_group_bootstrap_agrees_with_fairlearn_bootstrap():
    """Same scheme as MetricFrame's bootstrap: bounds agree within bootstrap noise."""
    from fairlearn.metrics import MetricFrame, selection_rate, true_positive_rate
    from sklearn.metrics import accuracy_score

    yt, yp, sensitive, _ = random_data(6, n=600, n_attrs=2)
    level, fl_boot = 0.8, 60
    frame = MetricFrame(
        metrics={"selection_rate": selection_rate, "accuracy": accuracy_score, "true_positive_rate": true_positive_rate},
        y_true=yt, y_pred=yp, sensitive_features={"age_band": sensitive["age_band"]},
        n_boot=fl_boot, ci_quantiles=[0.1, 0.9], random_state=1,
    )
    low, high = frame.by_group_ci
    rows = group_metrics(yt, yp, sensitive, ("age_band",), n_boot=2000, level=level, seed=2, method="bootstrap")
    for row in rows:
        for name in ("selection_rate", "accuracy", "true_positive_rate"):
            est = row.metrics[name]
            den = row.count if name != "true_positive_rate" else int(round(row.count * 0.5))
            sd = math.sqrt(max(est.value * (1 - est.value), 0.05) / den)
            assert est.method == "bootstrap-percentile"
            assert abs(est.low - low.loc[row.group, name]) < 0.8 * sd, (row.group, name, est, low.loc[row.group, name])
            assert abs(est.high - high.loc[row.group, name]) < 0.8 * sd, (row.group, name, est, high.loc[row.group, name])


def test_group_metric_tables_share_one_resample_matrix():
    yt, yp, sensitive, _ = random_data(7, n=300, n_attrs=2, n_classes=3)
    tables = [(("sex",), 1), (("age_band",), 2), (("sex", "age_band"), 0)]
    together = group_metric_tables(yt, yp, sensitive, tables, n_boot=200, seed=5, method="bootstrap", min_count=10)
    for attrs, positive in tables:
        alone = group_metrics(yt, yp, sensitive, attrs, positive=positive, n_boot=200, seed=5, method="bootstrap", min_count=10)
        assert together[(attrs, positive)] == alone


def test_group_intervals_are_wilson_by_default_and_bracket_value():
    yt, yp, sens = _disparate_data(1, n=300)
    rows = group_metrics(yt, yp, sens, ("grp",), n_boot=30, seed=4, level=0.9)
    for row in rows:
        for name, est in row.metrics.items():
            assert est.low is not None and est.high is not None, (row.group, name)
            assert est.low <= est.value + TOL and est.value - TOL <= est.high, (row.group, name)
            assert est.high - est.low > 0 and est.method == "wilson"
    sel = rows[0].metrics["selection_rate"]
    g = np.asarray(sens["grp"]) == rows[0].group
    ref = wilson_interval(int(yp[g].sum()), int(g.sum()), 0.9)
    assert (sel.low, sel.high) == (ref.low, ref.high)
    assert group_metrics(yt, yp, sens, ("grp",), n_boot=30, seed=4, level=0.9) == rows
    bare = group_metrics(yt, yp, sens, ("grp",), n_boot=0)
    assert all(est.low is None and est.method is None for r in bare for est in r.metrics.values())


def test_rejects_bad_input():
    yt, yp, sens = _hand()
    with pytest.raises(ValueError):
        disparities(yt, yp[:-1], sens, ("grp",))
    with pytest.raises(ValueError):
        group_metrics(yt, yp, sens, ("nope",))
    with pytest.raises(ValueError):
        group_metrics(yt, yp, {"grp": ["A"] * 3}, ("grp",))
    with pytest.raises(ValueError):
        group_metrics(yt.astype(float) + 0.5, yp, sens, ("grp",))
