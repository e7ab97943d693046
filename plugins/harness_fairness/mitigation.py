"""Opt-in fairness mitigation: Fairlearn's ``ThresholdOptimizer`` on an already trained model.

The model is never retrained. The harness computes positive-class scores with its
shared predictor on the validation and test splits; :func:`mitigate_threshold_optimizer`
then

1. fits a ``ThresholdOptimizer`` (``prefit=True``) on the *validation* scores, labels
   and sensitive-attribute groups, one randomised decision rule per group;
2. applies it to the *test* scores (``random_state=seed``: the rule draws between two
   thresholds at random, the seed makes the predictions reproducible);
3. reports test-split metrics before (plain ``score >= 0.5``) and after, side by side,
   and the fitted per-group rules in a JSON-friendly form (:func:`save_thresholds`).

Binary tasks only: labels must be 0/1 (bools accepted).

Group values are compared as strings (``str(value)``), so ``1`` and ``"1"`` are the
same group; this is also how they are named in the thresholds artifact.

Thresholds artifact (one entry per group, from
``ThresholdOptimizer.interpolated_thresholder_.interpolation_dict``)::

    {"p0": 0.3, "operation0": {"operator": ">", "threshold": 0.41},
     "p1": 0.7, "operation1": {"operator": ">", "threshold": 0.55}}

meaning: with probability ``p0`` predict ``score <operator0> threshold0``, else (``p1``)
``score <operator1> threshold1``. Thresholds may be infinite (constant rules); JSON has
no infinity, so they are written as the strings ``"inf"`` / ``"-inf"`` (``float()``
reads them back). For ``equalized_odds`` two more keys appear: ``p_ignore`` and
``prediction_constant`` -- with probability ``p_ignore`` the drawn rule is replaced by a
positive prediction with probability ``prediction_constant``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    equalized_odds_difference,
    selection_rate,
)
from fairlearn.postprocessing import ThresholdOptimizer
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import accuracy_score

# Not in the public API (yet): the core's atomic write and its one JSON layout.
from harness.fileio import atomic_write_text, dump_json

__all__ = [
    "MitigationResult",
    "PrefitScoreClassifier",
    "SUPPORTED_CONSTRAINTS",
    "mitigate_threshold_optimizer",
    "save_thresholds",
]

#: Constraints ``ThresholdOptimizer`` accepts (fairlearn 0.15).
SUPPORTED_CONSTRAINTS = (
    "demographic_parity",
    "selection_rate_parity",
    "equalized_odds",
    "true_positive_rate_parity",
    "true_negative_rate_parity",
    "false_positive_rate_parity",
    "false_negative_rate_parity",
)


class PrefitScoreClassifier(ClassifierMixin, BaseEstimator):
    """Wraps precomputed positive-class scores so ``ThresholdOptimizer(prefit=True)`` can use an already trained model.

    ``X`` is a 2-D array of shape ``(n, 1)`` whose single column is the example's
    positive-class score, computed by the harness with its shared predictor (the real
    model never passes through Fairlearn). ``predict_proba`` returns ``[[1 - s, s]]``,
    ``predict`` returns ``s >= 0.5``. ``fit`` learns nothing: it only sets
    ``classes_ = [0, 1]``.

    Why subclass ``BaseEstimator`` and ``ClassifierMixin``: Fairlearn treats the
    wrapped model as a scikit-learn estimator. It calls ``check_is_fitted`` on it (which
    needs the ``BaseEstimator`` machinery and a fitted ``*_`` attribute such as
    ``classes_``, else it warns that the prefit estimator is not fitted), and
    scikit-learn's input validation, ``clone`` and tag system (``is_classifier``,
    ``__sklearn_tags__``) need ``get_params``/``set_params`` from ``BaseEstimator`` and
    the classifier tags from ``ClassifierMixin``. A duck-typed object with only
    ``predict_proba`` is not enough. The mixin comes *first* in the bases, as
    scikit-learn requires: with ``BaseEstimator`` first its generic
    ``__sklearn_tags__`` shadows the classifier tags and ``is_classifier`` is False.
    """

    def fit(self, X: Any = None, y: Any = None, **kwargs: Any) -> "PrefitScoreClassifier":
        self.classes_ = np.array([0, 1])
        return self

    @staticmethod
    def _scores(X: Any) -> np.ndarray:
        arr = np.asarray(X, dtype=float)
        if arr.ndim != 2 or arr.shape[1] != 1:
            raise ValueError(f"PrefitScoreClassifier expects X of shape (n, 1) holding scores, got {arr.shape}")
        return arr[:, 0]

    def predict_proba(self, X: Any) -> np.ndarray:
        s = self._scores(X)
        return np.column_stack([1.0 - s, s])

    def predict(self, X: Any) -> np.ndarray:
        return (self._scores(X) >= 0.5).astype(int)


@dataclass(frozen=True)
class MitigationResult:
    constraint: str
    attribute: str
    #: test-split metrics: accuracy, demographic_parity_difference,
    #: equalized_odds_difference (None where undefined), selection_rate_by_group (dict).
    before: dict[str, Any]
    after: dict[str, Any]
    #: per group (as str): the fitted decision rule, see the module docstring.
    thresholds: dict[str, Any]
    n_validation: int
    n_test: int
    objective: str = "accuracy_score"
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "constraint": self.constraint,
            "objective": self.objective,
            "attribute": self.attribute,
            "seed": self.seed,
            "n_validation": self.n_validation,
            "n_test": self.n_test,
            "before": _copy(self.before),
            "after": _copy(self.after),
            "thresholds": _copy(self.thresholds),
        }


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------- helpers


def _finite_or_none(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _json_threshold(value: Any) -> float | str:
    f = float(value)
    if math.isnan(f):
        raise ValueError("ThresholdOptimizer produced a NaN threshold")
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    return f


def _serialise_operation(op: Any) -> dict[str, Any]:
    # fairlearn.postprocessing._threshold_operation.ThresholdOperation: operator in {">", "<"}
    return {"operator": str(op.operator), "threshold": _json_threshold(op.threshold)}


def _serialise_interpolation(bunch: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "p0": float(bunch["p0"]),
        "operation0": _serialise_operation(bunch["operation0"]),
        "p1": float(bunch["p1"]),
        "operation1": _serialise_operation(bunch["operation1"]),
    }
    if "p_ignore" in bunch:
        out["p_ignore"] = float(bunch["p_ignore"])
        out["prediction_constant"] = float(bunch["prediction_constant"])
    return out


def _scores_array(scores: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(scores, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric scores: {exc}") from exc
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of positive-class scores, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite scores")
    return arr


def _labels_array(labels: Any, name: str, n: int) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} entries but the scores have {n}")
    if arr.dtype == bool:
        return arr.astype(int)
    if arr.dtype.kind not in "iuf":
        raise ValueError(
            f"threshold mitigation supports binary tasks only: {name} must be 0/1, got values "
            f"{sorted(map(str, set(arr.tolist())))[:10]}"
        )
    values = set(np.unique(arr).tolist())
    if not values <= {0, 1}:
        raise ValueError(
            f"threshold mitigation supports binary tasks only: {name} must be 0/1, got values {sorted(values)[:10]}"
        )
    return arr.astype(int)


def _groups_array(groups: Any, name: str, n: int) -> np.ndarray:
    arr = np.asarray(groups, dtype=object)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one sensitive attribute), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} entries but the scores have {n}")
    for value in arr:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            raise ValueError(f"{name} contains a missing group value (None/NaN)")
    return np.array([str(v) for v in arr], dtype=object)


def _test_metrics(y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray) -> dict[str, Any]:
    frame = MetricFrame(metrics=selection_rate, y_true=y_true, y_pred=y_pred, sensitive_features=groups)
    by_group = {str(k): _finite_or_none(v) for k, v in frame.by_group.items()}
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "demographic_parity_difference": _finite_or_none(
            demographic_parity_difference(y_true, y_pred, sensitive_features=groups)
        ),
        "equalized_odds_difference": _finite_or_none(
            equalized_odds_difference(y_true, y_pred, sensitive_features=groups)
        ),
        "selection_rate_by_group": by_group,
    }


# --------------------------------------------------------------------------- API


def mitigate_threshold_optimizer(
    val_scores: Sequence[float] | np.ndarray,
    val_labels: Sequence[int] | np.ndarray,
    val_groups: Sequence[Any] | np.ndarray,
    test_scores: Sequence[float] | np.ndarray,
    test_labels: Sequence[int] | np.ndarray,
    test_groups: Sequence[Any] | np.ndarray,
    *,
    attribute: str,
    constraint: str = "demographic_parity",
    objective: str = "accuracy_score",
    seed: int = 0,
) -> MitigationResult:
    """Fit ``ThresholdOptimizer`` on validation scores, evaluate before/after on test.

    Raises ``ValueError`` for empty or mismatched inputs, non-binary labels, a
    validation split with a single class, an unsupported constraint/objective, or a
    test group never seen in validation (Fairlearn would silently predict 0 for it).
    """
    if constraint not in SUPPORTED_CONSTRAINTS:
        raise ValueError(
            f"unsupported fairness constraint {constraint!r}; expected one of {', '.join(SUPPORTED_CONSTRAINTS)}"
        )
    vs = _scores_array(val_scores, "val_scores")
    vy = _labels_array(val_labels, "val_labels", vs.shape[0])
    vg = _groups_array(val_groups, "val_groups", vs.shape[0])
    ts = _scores_array(test_scores, "test_scores")
    ty = _labels_array(test_labels, "test_labels", ts.shape[0])
    tg = _groups_array(test_groups, "test_groups", ts.shape[0])

    if len(np.unique(vy)) < 2:
        raise ValueError("val_labels contain a single class; ThresholdOptimizer needs both 0 and 1 in validation")
    unseen = sorted(set(tg.tolist()) - set(vg.tolist()))
    if unseen:
        raise ValueError(
            f"attribute {attribute!r}: test group(s) {', '.join(map(repr, unseen))} never seen in the validation "
            "split, so no threshold was fitted for them"
        )

    estimator = PrefitScoreClassifier().fit()
    optimizer = ThresholdOptimizer(
        estimator=estimator,
        constraints=constraint,
        objective=objective,
        prefit=True,
        predict_method="predict_proba",
    )
    try:
        optimizer.fit(vs.reshape(-1, 1), vy, sensitive_features=vg)
    except ValueError as exc:
        raise ValueError(f"ThresholdOptimizer could not be fitted for attribute {attribute!r} ({constraint}): {exc}") from exc

    interpolation = optimizer.interpolated_thresholder_.interpolation_dict
    thresholds = {str(group): _serialise_interpolation(bunch) for group, bunch in interpolation.items()}
    missing = sorted(set(tg.tolist()) - set(thresholds))
    if missing:  # defensive: every validation group should have a rule
        raise ValueError(f"attribute {attribute!r}: no fitted threshold for group(s) {', '.join(map(repr, missing))}")

    try:
        after_pred = np.asarray(
            optimizer.predict(ts.reshape(-1, 1), sensitive_features=tg, random_state=seed)
        ).astype(int)
    except ValueError as exc:
        raise ValueError(f"ThresholdOptimizer could not predict for attribute {attribute!r}: {exc}") from exc
    before_pred = estimator.predict(ts.reshape(-1, 1))

    return MitigationResult(
        constraint=constraint,
        attribute=attribute,
        before=_test_metrics(ty, before_pred, tg),
        after=_test_metrics(ty, after_pred, tg),
        thresholds=dict(sorted(thresholds.items())),
        n_validation=int(vs.shape[0]),
        n_test=int(ts.shape[0]),
        objective=objective,
        seed=seed,
    )


def save_thresholds(result: MitigationResult, path: str | Path) -> Path:
    """Write the fitted per-group rules as JSON, atomically; returns the path.

    Layout: ``{"attribute", "constraint", "objective", "seed", "n_validation",
    "thresholds": {group: rule}}`` (see the module docstring for ``rule``).
    """
    target = Path(path)
    document = {
        "attribute": result.attribute,
        "constraint": result.constraint,
        "objective": result.objective,
        "seed": result.seed,
        "n_validation": result.n_validation,
        "thresholds": _copy(result.thresholds),
    }
    atomic_write_text(target, dump_json(document))
    return target
