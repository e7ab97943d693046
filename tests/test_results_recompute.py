"""Every accuracy metric recomputed from results.json equals the reported one exactly (issue 12).

results.json used to round per-example scores to 6 digits, so ROC-AUC
recomputed from them differed from the reported value (ties created by the
rounding). Scores are now stored unrounded; this test recomputes accuracy,
macro F1 and ROC-AUC with scikit-learn, and ECE from its definition, from the
stored predictions alone and compares with ``==``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

import harness

SUITE = {
    "name": "recompute",
    "checks": {
        "accuracy.accuracy": {"n_boot": 100},
        "accuracy.macro_f1": {"n_boot": 100},
        "accuracy.roc_auc": {"n_boot": 100},
        "accuracy.calibration": {"n_boot": 100},
    },
}


def _ece_by_definition(y: np.ndarray, scores: np.ndarray, n_bins: int) -> float:
    """Equal-width top-label ECE, bins ``[i/B, (i+1)/B)`` (last closed), summed bin by bin in order."""
    conf = scores.max(axis=1)
    correct = scores.argmax(axis=1) == y
    bins = np.minimum(np.floor(conf * n_bins).astype(int), n_bins - 1)
    gaps = np.zeros(n_bins)
    counts = np.zeros(n_bins)
    for b in range(n_bins):
        members = bins == b
        counts[b] = members.sum()
        if counts[b]:
            gaps[b] = abs(correct[members].sum() / counts[b] - conf[members].sum() / counts[b])
    return float(np.sum(gaps * counts) / y.size)


def test_metrics_recomputed_from_results_json_equal_the_reported_ones(tmp_path: Path) -> None:
    (tmp_path / "suite.yaml").write_text(json.dumps(SUITE), encoding="utf-8")
    harness.audit({
        "model": {"path": "builtin:tiny-bert", "fine_tune": {"epochs": 1, "batch_size": 16, "save_model": False}},
        "data": {"path": "builtin:clinical-triage", "synthetic": {"size": 200}},
        "suite": str(tmp_path / "suite.yaml"),
        "output": {"dir": str(tmp_path / "out"), "formats": ["json"]},
    })
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    block = results["predictions"]
    y = np.asarray(block["labels"])
    pred = np.asarray(block["predictions"])
    scores = np.asarray(block["scores"], dtype=np.float64)
    assert "score_digits" not in block  # nothing is rounded any more
    assert (scores.argmax(axis=1) == pred).all()
    reported = {m["name"]: m["value"] for c in results["checks"] for m in c["metrics"]}
    k = scores.shape[1]
    assert reported["accuracy"] == accuracy_score(y, pred)
    assert reported["macro_f1"] == f1_score(y, pred, average="macro", labels=list(range(k)), zero_division=0)
    auc = roc_auc_score(y, scores[:, 1]) if k == 2 else roc_auc_score(y, scores, multi_class="ovr")
    # AUC: the harness counts ranks (Mann-Whitney U / (n_pos n_neg)), scikit-learn integrates the curve
    # (trapezoids); ECE: vectorised bins against the loop below. The same numbers summed in another
    # order: equal to 1e-12, sometimes one ulp apart
    assert reported["roc_auc"] == pytest.approx(auc, rel=1e-12, abs=1e-15)
    assert reported["expected_calibration_error"] == pytest.approx(_ece_by_definition(y, scores, 15), rel=1e-12, abs=1e-15)
