"""ThresholdOptimizer mitigation on precomputed scores (harness_fairness.mitigation)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone, is_classifier

from harness_fairness.mitigation import (
    MitigationResult,
    PrefitScoreClassifier,
    mitigate_threshold_optimizer,
    save_thresholds,
)


def _biased_split(rng: np.random.Generator, n: int):
    """Same label distribution in both groups, but group A's scores are shifted down."""
    groups = rng.choice(np.array(["A", "B"]), size=n)
    labels = rng.integers(0, 2, size=n)
    logits = np.where(labels == 1, 1.0, -1.0) + rng.normal(0.0, 1.0, size=n)
    logits = logits - np.where(groups == "A", 1.5, 0.0)
    scores = 1.0 / (1.0 + np.exp(-logits))
    return scores, labels, groups


@pytest.fixture(scope="module")
def splits():
    rng = np.random.default_rng(1234)
    return _biased_split(rng, 2000), _biased_split(rng, 2000)


def _run(splits, **kwargs) -> MitigationResult:
    (vs, vy, vg), (ts, ty, tg) = splits
    return mitigate_threshold_optimizer(vs, vy, vg, ts, ty, tg, attribute="group", **kwargs)


def test_demographic_parity_gap_shrinks_without_accuracy_collapse(splits):
    result = _run(splits)
    before, after = result.before, result.after
    assert before["demographic_parity_difference"] > 0.2  # the synthetic bias is real
    assert after["demographic_parity_difference"] < 0.5 * before["demographic_parity_difference"]
    assert after["accuracy"] > before["accuracy"] - 0.1
    assert set(before["selection_rate_by_group"]) == {"A", "B"}
    assert set(after["selection_rate_by_group"]) == {"A", "B"}
    sr = after["selection_rate_by_group"]
    assert abs(sr["A"] - sr["B"]) == pytest.approx(after["demographic_parity_difference"])
    assert result.constraint == "demographic_parity"
    assert result.attribute == "group"
    assert (result.n_validation, result.n_test) == (2000, 2000)


def test_thresholds_artifact_round_trips(tmp_path, splits):
    result = _run(splits)
    assert set(result.thresholds) == {"A", "B"}
    for rule in result.thresholds.values():
        assert set(rule) >= {"p0", "operation0", "p1", "operation1"}
        assert rule["p0"] + rule["p1"] == pytest.approx(1.0)
        for op in (rule["operation0"], rule["operation1"]):
            assert op["operator"] in (">", "<")
            assert isinstance(op["threshold"], float) or op["threshold"] in ("inf", "-inf")
    # Group A's scores are shifted down, so its (finite) thresholds are lower than B's.
    def first_finite(rule):
        return min(float(rule[k]["threshold"]) for k in ("operation0", "operation1")
                   if math.isfinite(float(rule[k]["threshold"])))
    assert first_finite(result.thresholds["A"]) < first_finite(result.thresholds["B"])

    path = save_thresholds(result, tmp_path / "sub" / "thresholds.json")
    loaded = json.loads(path.read_text(encoding="utf-8"))
    assert loaded["thresholds"] == result.thresholds
    assert set(loaded["thresholds"]) == {"A", "B"}
    assert loaded["attribute"] == "group" and loaded["constraint"] == "demographic_parity"
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    # the whole result is JSON-friendly too
    assert json.loads(json.dumps(result.to_dict(), allow_nan=False)) == result.to_dict()


def test_reproducible_with_same_seed(splits):
    a = _run(splits, seed=7)
    b = _run(splits, seed=7)
    assert a.to_dict() == b.to_dict()


def test_equalized_odds_serialises_p_ignore(splits):
    result = _run(splits, constraint="equalized_odds")
    assert set(result.thresholds) == {"A", "B"}
    for rule in result.thresholds.values():
        assert {"p_ignore", "prediction_constant"} <= set(rule)
    assert result.after["equalized_odds_difference"] < result.before["equalized_odds_difference"]
    json.dumps(result.to_dict(), allow_nan=False)


def test_non_binary_labels_rejected(splits):
    (vs, vy, vg), (ts, ty, tg) = splits
    bad = vy.copy()
    bad[0] = 2
    with pytest.raises(ValueError, match="binary"):
        mitigate_threshold_optimizer(vs, bad, vg, ts, ty, tg, attribute="group")
    with pytest.raises(ValueError, match="binary"):
        mitigate_threshold_optimizer(vs, vy, vg, ts, np.where(ty == 1, "yes", "no"), tg, attribute="group")


def test_unseen_test_group_rejected_and_named(splits):
    (vs, vy, vg), (ts, ty, tg) = splits
    tg2 = tg.copy().astype(object)
    tg2[:5] = "C-unseen"
    with pytest.raises(ValueError, match="C-unseen"):
        mitigate_threshold_optimizer(vs, vy, vg, ts, ty, tg2, attribute="group")


def test_empty_and_mismatched_inputs_rejected(splits):
    (vs, vy, vg), (ts, ty, tg) = splits
    with pytest.raises(ValueError, match="empty"):
        mitigate_threshold_optimizer([], [], [], ts, ty, tg, attribute="group")
    with pytest.raises(ValueError, match="entries"):
        mitigate_threshold_optimizer(vs, vy[:-1], vg, ts, ty, tg, attribute="group")
    with pytest.raises(ValueError, match="constraint"):
        mitigate_threshold_optimizer(vs, vy, vg, ts, ty, tg, attribute="group", constraint="nope")


def test_prefit_score_classifier_is_sklearn_estimator():
    clf = PrefitScoreClassifier()
    assert isinstance(clf, BaseEstimator) and isinstance(clf, ClassifierMixin)
    assert is_classifier(clf)
    cloned = clone(clf)
    assert isinstance(cloned, PrefitScoreClassifier) and cloned is not clf
    clf.fit(np.zeros((2, 1)), [0, 1])
    assert list(clf.classes_) == [0, 1]
    X = np.array([[0.2], [0.5], [0.9]])
    np.testing.assert_allclose(clf.predict_proba(X), [[0.8, 0.2], [0.5, 0.5], [0.1, 0.9]])
    assert list(clf.predict(X)) == [0, 1, 1]
    with pytest.raises(ValueError):
        clf.predict(np.zeros((2, 2)))
