"""Accuracy-suite metrics: NumPy implementations cross-checked against scikit-learn.

scikit-learn is the independent reference here (the plugin never imports it).
Data sets cover binary and 3-class, several seeds, heavy score ties, and a
class the model never predicts.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn import metrics as skm

from harness.stats.intervals import Interval, wilson_interval
from harness_accuracy.metrics import (
    INTERVAL_METHODS,
    AccuracyReport,
    _AucBatch,
    _ConfusionStat,
    _EceBatch,
    _accuracy_cm,
    _balanced_accuracy_cm,
    _macro_f1_cm,
    _micro_f1_cm,
    _min_recall_cm,
    accuracy,
    balanced_accuracy,
    calibration,
    compute_accuracy_report,
    confusion_matrix,
    macro_f1,
    micro_f1,
    min_class_recall,
    precision_recall_f1,
    predict,
    roc_auc,
    roc_auc_per_class,
    roc_curve_binary,
)

TOL = 1e-12


def make_data(seed: int, k: int, *, ties: bool = False, never_predict_last: bool = False, n: int = 300):
    """Random probabilities with labels drawn from them (so metrics are non-trivial).

    ``ties`` puts probabilities on a 0.1 grid (many equal scores and argmax
    ties); ``never_predict_last`` makes the last class the row minimum, so it
    is never the argmax (ties go to the lower index).
    """
    rng = np.random.default_rng(seed)
    if ties:
        probs = rng.multinomial(10, rng.dirichlet(np.ones(k), size=n)) / 10.0
    else:
        probs = rng.dirichlet(np.ones(k) * 0.7, size=n)
    if never_predict_last:
        ranked = -np.sort(-probs, axis=1)  # row minimum last, the rest shuffled per row
        probs = np.c_[rng.permuted(ranked[:, : k - 1], axis=1), ranked[:, k - 1]]
    y = np.array([rng.choice(k, p=row / row.sum()) for row in probs])
    assert set(np.unique(y)) == set(range(k)), "every class must occur for sklearn's multiclass AUC"
    return y, probs


CASES = [
    (seed, k, ties, never)
    for seed in (0, 1, 2)
    for k in (2, 3)
    for ties, never in ((False, False), (True, False), (False, True), (True, True))
]


@pytest.fixture(params=CASES, ids=lambda c: f"seed{c[0]}-k{c[1]}-ties{int(c[2])}-never{int(c[3])}")
def data(request):
    seed, k, ties, never = request.param
    y, probs = make_data(seed, k, ties=ties, never_predict_last=never)
    if never:
        assert (predict(probs) != k - 1).all()
    return y, probs, k


# ----------------------------------------------------------- sklearn cross-checks


def test_confusion_and_label_metrics_match_sklearn(data):
    y, probs, k = data
    pred = predict(probs)
    np.testing.assert_array_equal(pred, probs.argmax(axis=1))
    labels = list(range(k))
    np.testing.assert_array_equal(confusion_matrix(y, pred, k), skm.confusion_matrix(y, pred, labels=labels))
    assert accuracy(y, pred) == pytest.approx(skm.accuracy_score(y, pred), abs=TOL)

    prf = precision_recall_f1(y, pred, k)
    p, r, f, s = skm.precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    np.testing.assert_allclose(prf["precision"], p, rtol=0, atol=TOL)
    np.testing.assert_allclose(prf["recall"], r, rtol=0, atol=TOL)
    np.testing.assert_allclose(prf["f1"], f, rtol=0, atol=TOL)
    np.testing.assert_array_equal(prf["support"], s)

    ref_macro = skm.f1_score(y, pred, labels=labels, average="macro", zero_division=0)
    assert macro_f1(y, pred, k) == pytest.approx(ref_macro, abs=TOL)
    # all classes occur in y_true, so sklearn's default label set agrees too
    assert macro_f1(y, pred, k) == pytest.approx(skm.f1_score(y, pred, average="macro", zero_division=0), abs=TOL)
    assert micro_f1(y, pred, k) == pytest.approx(skm.f1_score(y, pred, average="micro"), abs=TOL)
    assert micro_f1(y, pred, k) == pytest.approx(accuracy(y, pred), abs=TOL)
    assert balanced_accuracy(y, pred, k) == pytest.approx(skm.balanced_accuracy_score(y, pred), abs=TOL)
    ref_min_recall = skm.recall_score(y, pred, labels=labels, average=None, zero_division=0).min()
    assert min_class_recall(y, pred, k) == pytest.approx(ref_min_recall, abs=TOL)


def test_auc_matches_sklearn(data):
    y, probs, k = data
    if k == 2:
        ref = skm.roc_auc_score(y, probs[:, 1])
    else:
        ref = skm.roc_auc_score(y, probs, multi_class="ovr", average="macro")
    assert roc_auc(y, probs) == pytest.approx(ref, abs=TOL)
    per_class = roc_auc_per_class(y, probs)
    for c in range(k):
        assert per_class[c] == pytest.approx(skm.roc_auc_score(y == c, probs[:, c]), abs=TOL)


def test_roc_curve_matches_sklearn(data):
    y, probs, k = data
    for c in range(k):
        fpr, tpr, thr = roc_curve_binary((y == c).astype(int), probs[:, c])
        ref_fpr, ref_tpr, ref_thr = skm.roc_curve(y == c, probs[:, c], drop_intermediate=False)
        np.testing.assert_allclose(fpr, ref_fpr, rtol=0, atol=TOL)
        np.testing.assert_allclose(tpr, ref_tpr, rtol=0, atol=TOL)
        assert thr[0] == np.inf
        np.testing.assert_array_equal(thr[1:], ref_thr[1:])
        # every distinct score is a threshold
        assert thr.size == np.unique(probs[:, c]).size + 1
        # the trapezoid area under the exact curve is the AUC
        assert np.trapezoid(tpr, fpr) == pytest.approx(roc_auc_per_class(y, probs)[c], abs=TOL)


def _ece_loop(y, probs, n_bins):
    """Deliberately naive reference: one pass per bin, plain Python sums."""
    conf = [max(row) for row in probs.tolist()]
    pred = [row.index(max(row)) for row in probs.tolist()]
    n = len(conf)
    ece, mce = 0.0, 0.0
    for b in range(n_bins):
        members = [i for i, c in enumerate(conf) if min(int(c * n_bins), n_bins - 1) == b]
        if not members:
            continue
        mean_conf = sum(conf[i] for i in members) / len(members)
        acc = sum(pred[i] == y[i] for i in members) / len(members)
        ece += abs(acc - mean_conf) * len(members) / n
        mce = max(mce, abs(acc - mean_conf))
    return ece, mce


@pytest.mark.parametrize("n_bins", [1, 10, 15])
def test_ece_matches_loop_reference(data, n_bins):
    y, probs, _ = data
    result = calibration(y, probs, n_bins)
    ece, mce = _ece_loop(y, probs, n_bins)
    assert result.ece == pytest.approx(ece, abs=TOL)
    assert result.mce == pytest.approx(mce, abs=TOL)
    assert sum(b.count for b in result.bins) == y.size
    assert len(result.bins) == n_bins


# ------------------------------------------------------------ hand-computed example

Y_HAND = np.array([0, 0, 1, 1, 1])
P1_HAND = np.array([0.1, 0.65, 0.3, 0.85, 0.65])
PROBS_HAND = np.c_[1 - P1_HAND, P1_HAND]


def test_hand_computed_example():
    y, probs = Y_HAND, PROBS_HAND
    pred = predict(probs)
    np.testing.assert_array_equal(pred, [0, 1, 0, 1, 1])
    np.testing.assert_array_equal(confusion_matrix(y, pred, 2), [[1, 1], [1, 2]])
    assert accuracy(y, pred) == 0.6
    prf = precision_recall_f1(y, pred, 2)
    np.testing.assert_allclose(prf["precision"], [1 / 2, 2 / 3], atol=TOL)
    np.testing.assert_allclose(prf["recall"], [1 / 2, 2 / 3], atol=TOL)
    np.testing.assert_allclose(prf["f1"], [1 / 2, 2 / 3], atol=TOL)
    np.testing.assert_array_equal(prf["support"], [2, 3])
    assert macro_f1(y, pred, 2) == pytest.approx(7 / 12, abs=TOL)
    assert micro_f1(y, pred, 2) == pytest.approx(0.6, abs=TOL)
    assert balanced_accuracy(y, pred, 2) == pytest.approx(7 / 12, abs=TOL)
    assert min_class_recall(y, pred, 2) == 0.5
    # positives {0.3, 0.85, 0.65} vs negatives {0.1, 0.65}: 1 + 2 + 1.5 (one tie) of 6 pairs
    assert roc_auc(y, probs) == 0.75

    fpr, tpr, thr = roc_curve_binary(y, P1_HAND)
    np.testing.assert_array_equal(thr, [np.inf, 0.85, 0.65, 0.3, 0.1])
    np.testing.assert_allclose(tpr, [0, 1 / 3, 2 / 3, 1, 1], atol=TOL)
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 0.5, 1], atol=TOL)

    # confidences 0.9 0.65 0.7 0.85 0.65; correct 1 0 0 1 1; 5 bins of width 0.2
    cal = calibration(y, probs, n_bins=5)
    # bin [0.6, 0.8): conf 0.65, 0.7, 0.65 -> mean 2/3, accuracy 1/3
    # bin [0.8, 1.0]: conf 0.9, 0.85 -> mean 0.875, accuracy 1
    assert [b.count for b in cal.bins] == [0, 0, 0, 3, 2]
    assert cal.bins[3].mean_confidence == pytest.approx(2 / 3, abs=TOL)
    assert cal.bins[3].accuracy == pytest.approx(1 / 3, abs=TOL)
    assert cal.bins[4].mean_confidence == pytest.approx(0.875, abs=TOL)
    assert cal.bins[4].accuracy == 1.0
    assert cal.bins[0].mean_confidence is None and cal.bins[0].accuracy is None
    assert (cal.bins[3].lower, cal.bins[3].upper) == pytest.approx((0.6, 0.8))
    assert cal.ece == pytest.approx((3 * (1 / 3) + 2 * 0.125) / 5, abs=TOL)  # 0.25
    assert cal.mce == pytest.approx(1 / 3, abs=TOL)


def test_bin_rule_edges():
    # c = 1.0 goes to the last bin; c = 0.5 with 2 bins goes to the upper bin.
    probs = np.array([[1.0, 0.0], [0.5, 0.5], [0.25, 0.75]])
    cal = calibration(np.array([0, 1, 1]), probs, n_bins=2)
    assert [b.count for b in cal.bins] == [0, 3]
    cal = calibration(np.array([0, 1, 1]), probs, n_bins=4)
    assert [b.count for b in cal.bins] == [0, 0, 1, 2]


def test_argmax_ties_go_to_lowest_index():
    np.testing.assert_array_equal(predict(np.array([[0.5, 0.5], [0.4, 0.6]])), [0, 1])
    np.testing.assert_array_equal(predict(np.array([[0.2, 0.4, 0.4]])), [1])
    np.testing.assert_array_equal(predict(np.full((1, 3), 1 / 3)), [0])


# -------------------------------------------------------------- edge behaviour


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_missing_class_gives_nan_auc_and_zero_f1():
    y = np.array([0, 1, 0, 1, 1, 0])
    probs = np.array([[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.5, 0.1, 0.4], [0.3, 0.3, 0.4], [0.1, 0.8, 0.1],
                      [0.6, 0.3, 0.1]])
    assert np.isnan(roc_auc(y, probs))
    per_class = roc_auc_per_class(y, probs)
    assert np.isnan(per_class[2]) and np.isfinite(per_class[:2]).all()
    pred = predict(probs)
    # class 2 is predicted once but never true: its F1 is 0 and it counts in the macro mean
    assert precision_recall_f1(y, pred, 3)["f1"][2] == 0.0
    ref = skm.f1_score(y, pred, labels=[0, 1, 2], average="macro", zero_division=0)
    assert macro_f1(y, pred, 3) == pytest.approx(ref, abs=TOL)
    # balanced accuracy ignores the class absent from y_true, as sklearn does
    assert balanced_accuracy(y, pred, 3) == pytest.approx(skm.balanced_accuracy_score(y, pred), abs=TOL)
    binary = np.c_[1 - probs[:, 0], probs[:, 0]]
    assert np.isnan(roc_auc(np.zeros(6, dtype=int), binary))

    report = compute_accuracy_report(y, probs, ["a", "b", "c"], rng=np.random.default_rng(0), n_boot=50)
    assert np.isnan(report.roc_auc.value) and report.roc_auc.interval is None
    d = report.to_dict()
    assert d["metrics"]["roc_auc"] == {"value": None, "interval": None}
    json.dumps(d, allow_nan=False)


@pytest.mark.parametrize(
    "y,probs,labels",
    [
        (np.array([0, 1]), np.array([[2.0, -1.0], [0.1, 0.3]]), ["a", "b"]),  # logits
        (np.array([0, 1]), np.array([[0.4, 0.4], [0.5, 0.5]]), ["a", "b"]),  # rows not summing to 1
        (np.array([0, 2]), np.array([[0.5, 0.5], [0.5, 0.5]]), ["a", "b"]),  # label out of range
        (np.array([0, 1]), np.array([[0.5, 0.5], [0.5, 0.5]]), ["a"]),  # wrong label count
        (np.array([0, 1, 1]), np.array([[0.5, 0.5], [0.5, 0.5]]), ["a", "b"]),  # length mismatch
        (np.array([0.0, 1.0]), np.array([[0.5, 0.5], [0.5, 0.5]]), ["a", "b"]),  # float labels
        (np.array([], dtype=int), np.zeros((0, 2)), ["a", "b"]),  # empty
    ],
)
def test_bad_inputs_are_rejected(y, probs, labels):
    with pytest.raises(ValueError):
        compute_accuracy_report(y, probs, labels, rng=np.random.default_rng(0), n_boot=10)


# -------------------------------------------------- vectorised bootstrap statistics


@pytest.mark.parametrize("k", [2, 3])
def test_batch_statistics_equal_metrics_on_resampled_data(k):
    y, probs = make_data(11, k, ties=True)
    idx = np.random.default_rng(0).integers(0, y.size, size=(25, y.size))
    idx[0] = np.arange(y.size)  # the identity resample is the point estimate
    pred = predict(probs)
    code = y * k + pred
    checks = [
        (_ConfusionStat(_accuracy_cm, code, k, {}), lambda yy, pp: accuracy(yy, predict(pp))),
        (_ConfusionStat(_macro_f1_cm, code, k, {}), lambda yy, pp: macro_f1(yy, predict(pp), k)),
        (_ConfusionStat(_micro_f1_cm, code, k, {}), lambda yy, pp: micro_f1(yy, predict(pp), k)),
        (_ConfusionStat(_balanced_accuracy_cm, code, k, {}), lambda yy, pp: balanced_accuracy(yy, predict(pp), k)),
        (_ConfusionStat(_min_recall_cm, code, k, {}), lambda yy, pp: min_class_recall(yy, predict(pp), k)),
        (_AucBatch(y, probs), roc_auc),
        (_EceBatch(y, probs, 15), lambda yy, pp: calibration(yy, pp, 15).ece),
    ]
    for stat, reference in checks:
        batch = stat.batch(idx)
        assert batch.shape == (idx.shape[0],)
        for row, value in zip(idx, batch):
            expected = reference(y[row], probs[row])
            assert value == pytest.approx(expected, abs=TOL, nan_ok=True)
            assert stat(row) == pytest.approx(expected, abs=TOL, nan_ok=True)


def test_batch_auc_is_nan_for_one_class_resample():
    y = np.array([0, 1, 0, 1])
    probs = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.5, 0.5]])
    values = _AucBatch(y, probs).batch(np.array([[0, 2, 0, 2], [1, 0, 3, 2]]))
    assert np.isnan(values[0])
    assert values[1] == roc_auc(y, probs) == 1.0


# --------------------------------------------------------------------- the report


def _report(seed=0, k=2, n=400, n_boot=300):
    y, probs = make_data(seed, k, n=n)
    labels = ["neg", "pos"] if k == 2 else [f"c{i}" for i in range(k)]
    return y, probs, compute_accuracy_report(y, probs, labels, rng=np.random.default_rng(7), n_boot=n_boot)


@pytest.mark.parametrize("k", [2, 3])
def test_report_point_estimates_match_sklearn(k):
    y, probs, rep = _report(k=k)
    pred = probs.argmax(axis=1)
    assert isinstance(rep, AccuracyReport)
    assert rep.n == y.size and rep.n_boot == 300 and rep.level == 0.95
    assert rep.accuracy.value == pytest.approx(skm.accuracy_score(y, pred), abs=TOL)
    assert rep.macro_f1.value == pytest.approx(skm.f1_score(y, pred, average="macro"), abs=TOL)
    assert rep.micro_f1.value == pytest.approx(skm.f1_score(y, pred, average="micro"), abs=TOL)
    assert rep.balanced_accuracy.value == pytest.approx(skm.balanced_accuracy_score(y, pred), abs=TOL)
    ref_auc = skm.roc_auc_score(y, probs[:, 1]) if k == 2 else skm.roc_auc_score(y, probs, multi_class="ovr")
    assert rep.roc_auc.value == pytest.approx(ref_auc, abs=TOL)
    assert rep.ece.value == pytest.approx(_ece_loop(y, probs, 15)[0], abs=TOL)
    assert rep.min_class_recall.value == pytest.approx(skm.recall_score(y, pred, average=None).min(), abs=TOL)
    np.testing.assert_array_equal(rep.confusion_matrix, skm.confusion_matrix(y, pred))
    p, r, f, s = skm.precision_recall_fscore_support(y, pred, zero_division=0)
    for c, row in enumerate(rep.per_class):
        assert row["label"] == rep.labels[c]
        assert (row["precision"], row["recall"], row["f1"]) == pytest.approx((p[c], r[c], f[c]), abs=TOL)
        assert row["support"] == s[c]


def test_report_intervals_contain_points_and_are_deterministic():
    y, probs, rep = _report(seed=3, k=3)
    again = compute_accuracy_report(y, probs, ["c0", "c1", "c2"], rng=np.random.default_rng(7), n_boot=300)
    assert rep == again
    for name, est in rep.estimates().items():
        assert isinstance(est.interval, Interval), name
        assert est.interval.method == INTERVAL_METHODS[name] and est.interval.level == 0.95
        assert est.interval.low <= est.value <= est.interval.high, name
    # micro F1 is accuracy for single-label data, and so is its interval
    assert rep.micro_f1.interval == rep.accuracy.interval
    assert rep.accuracy.interval == wilson_interval(int(np.trace(rep.confusion_matrix)), rep.n)
    for row in rep.per_class:
        assert row["recall_low"] <= row["recall"] <= row["recall_high"]
        assert row["precision_low"] <= row["precision"] <= row["precision_high"]


def test_one_class_model_gets_intervals_of_honest_width():
    """Issue 12: a model that predicts one class everywhere used to get accuracy 0.633 [0.633, 0.633]."""
    rng = np.random.default_rng(0)
    y = (rng.random(120) < 0.367).astype(int)
    probs = np.tile([0.9, 0.1], (120, 1))
    rep = compute_accuracy_report(y, probs, ["neg", "pos"], rng=np.random.default_rng(1), n_boot=200)
    acc = rep.accuracy
    assert acc.interval.width > 0.1 and acc.interval.low < acc.value < acc.interval.high
    assert rep.macro_f1.interval.width > 0.03
    # recall of the always-predicted class is 1 on every example, but not certainly 1 in the population
    assert rep.per_class[0]["recall"] == 1.0 and rep.per_class[0]["recall_low"] < 0.97
    # the worst recall is 0 and its interval still leaves room above 0
    assert rep.min_class_recall.value == 0.0 and rep.min_class_recall.interval.high > 0.05


def test_ece_interval_covers_zero_for_a_calibrated_model():
    """The binned ECE is biased upward; its error-bound interval still reaches the true 0."""
    rng = np.random.default_rng(5)
    p1 = rng.beta(2, 2, size=300)
    y = (rng.random(300) < p1).astype(int)  # perfectly calibrated: true ECE is 0
    probs = np.column_stack([1 - p1, p1])
    rep = compute_accuracy_report(y, probs, ["neg", "pos"], rng=np.random.default_rng(2), n_boot=300)
    assert rep.ece.value > 0.01 and rep.ece.interval.low == 0.0


def test_report_intervals_shrink_with_n():
    small = _report(seed=4, n=200)[2]
    large = _report(seed=4, n=3200)[2]
    for name in ("accuracy", "macro_f1", "roc_auc", "balanced_accuracy"):
        assert getattr(large, name).interval.width < getattr(small, name).interval.width / 2, name


def test_report_to_dict_is_plain_json():
    _, _, rep = _report(k=3, n_boot=50)
    d = rep.to_dict()
    text = json.dumps(d, allow_nan=False)
    assert json.loads(text) == d
    assert set(d["metrics"]) == {
        "accuracy", "macro_f1", "micro_f1", "balanced_accuracy", "roc_auc", "ece", "min_class_recall"
    }
    assert d["labels"] == ["c0", "c1", "c2"]
    assert len(d["calibration"]["bins"]) == 15
    assert d["bootstrap"] == {"n_boot": 50, "level": 0.95, "stratified_by_y_true": ["balanced_accuracy", "roc_auc"]}
    assert d["interval_methods"] == INTERVAL_METHODS
    assert Interval(**d["metrics"]["accuracy"]["interval"]) == rep.accuracy.interval


