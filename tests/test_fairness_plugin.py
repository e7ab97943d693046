"""The fairness plugin end to end: the bias knob, mitigation, the report, data edge cases."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

import harness
from conftest import run_cli, write_config

DISPARITY_SUITE = {
    "name": "fairness-test",
    "checks": {
        "fairness.group_metrics": {"group_n_boot": 20},
        "fairness.demographic_parity_difference": {"group_n_boot": 0},
        "fairness.counterfactual": {"n_boot": 200},
        "fairness.mitigation": {"mitigate": "threshold_optimizer", "attribute": "sex"},
    },
}


def _run_with_bias(tmp_path: Path, bias: float) -> tuple[int, dict]:
    (tmp_path / "suite.yaml").write_text(json.dumps(DISPARITY_SUITE))
    config = write_config(tmp_path, {
        "data": {"synthetic": {"bias": bias, "bias_group": "sex=female"}, "sensitive": ["sex", "age_band"]},
        "suite": "suite.yaml",
        "output": {"dir": "out"},
    })
    done = run_cli("run", str(config), "-q", cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads((tmp_path / "out" / "results.json").read_text())


def _check(results: dict, check_id: str) -> dict:
    return next(c for c in results["checks"] if c["id"] == check_id)


def test_bias_knob_fails_demographic_parity_and_mitigation_lowers_it(tmp_path: Path) -> None:
    code, results = _run_with_bias(tmp_path, 0.9)
    assert code == 1
    parity = _check(results, "fairness.demographic_parity_difference")
    assert parity["status"] == "fail"
    worst = next(m for m in parity["metrics"] if m["name"] == "demographic_parity_difference")
    assert "[sex]" in worst["description"] and worst["value"] > 0.2
    assert worst["interval"]["low"] > 0.1  # beyond noise
    mitigation = _check(results, "fairness.mitigation")
    before = next(m["value"] for m in mitigation["metrics"] if m["name"] == "demographic_parity_difference_before")
    after = next(m["value"] for m in mitigation["metrics"] if m["name"] == "demographic_parity_difference_after")
    assert after < before / 2
    thresholds = json.loads((tmp_path / "out" / "fairness_thresholds.json").read_text())
    assert set(thresholds["thresholds"]) == {"female", "male"}
    counterfactual = _check(results, "fairness.counterfactual")
    sex = next(a for a in counterfactual["evidence"]["attributes"] if a["attribute"] == "sex")
    assert sex["flip_rate"] > 0.05  # swapping she/he flips a biased model's triage
    html = (tmp_path / "out" / "report.html").read_text()
    assert 'aria-label="Selection rate by sex"' in html  # per-group bars with whiskers
    assert "<mark>" in html  # swapped words marked in the worst examples
    groups = _check(results, "fairness.group_metrics")
    attributes = {t["attribute"] for t in groups["evidence"]["tables"]}
    assert attributes == {"sex", "age_band", "sex & age_band"}


def test_without_bias_demographic_parity_does_not_fail(tmp_path: Path) -> None:
    """No planted bias: never a fail; with ~60 examples per age band the honest answer may be
    "inconclusive", and then the gate says how many examples per group would decide."""
    _, results = _run_with_bias(tmp_path, 0.0)
    parity = _check(results, "fairness.demographic_parity_difference")
    assert parity["status"] in ("pass", "inconclusive"), parity["message"]
    (outcome,) = parity["thresholds"]
    assert outcome["interval"][0] <= 0.1 and outcome["value"] < 0.1
    if parity["status"] == "inconclusive":
        assert outcome["needed_n"] > parity["metrics"][0]["n"]
        assert "more examples are needed (about" in parity["message"]


def _csv_audit(tmp_path: Path, frame: pd.DataFrame, checks: dict) -> harness.AuditResult:
    frame.to_csv(tmp_path / "d.csv", index=False)
    (tmp_path / "suite.yaml").write_text(json.dumps({"name": "t", "checks": checks}))
    return harness.audit({
        "model": {"fine_tune": {"epochs": 1}},
        "data": {"path": str(tmp_path / "d.csv"), "sensitive": ["site", "sex"]},
        "suite": str(tmp_path / "suite.yaml"),
        "output": {"dir": str(tmp_path / "out"), "formats": ["json"]},
    })


def _frame(n: int = 120) -> pd.DataFrame:
    return pd.DataFrame({
        "text": [f"note {i} {'chest pain' if i % 2 else 'refill'} for {'her' if i % 3 else 'him'}" for i in range(n)],
        "label": ["urgent" if i % 2 else "routine" for i in range(n)],
        "site": ["north"] * n,
        "sex": [None if i % 10 == 0 else ("female" if i % 3 else "male") for i in range(n)],
    })


def test_single_valued_attribute_is_skipped_and_missing_values_become_unknown(tmp_path: Path) -> None:
    result = _csv_audit(tmp_path, _frame(), {
        "fairness.group_metrics": {"group_n_boot": 0, "min_group_size": 5},
        "fairness.demographic_parity_difference": {"attributes": ["site"]},
    })
    parity = result.check("fairness.demographic_parity_difference")
    assert parity.status == "not_applicable" and "single value" in parity.message  # type: ignore[union-attr]
    groups = result.check("fairness.group_metrics")
    assert groups.status == "warn" and "unknown" in groups.message  # type: ignore[union-attr]
    sex_table = next(t for t in groups.evidence["tables"] if t["attribute"] == "sex")  # type: ignore[union-attr]
    assert "unknown" in {g["group"] for g in sex_table["groups"]}
    assert any("no value for 'sex'" in note["text"] for note in groups.evidence["limitations"])  # type: ignore[union-attr]


def test_small_groups_are_listed_not_judged(tmp_path: Path) -> None:
    result = _csv_audit(tmp_path, _frame(200), {"fairness.demographic_parity_difference": {"attributes": ["sex"], "min_group_size": 8}})
    parity = result.check("fairness.demographic_parity_difference")
    row = parity.evidence["by_attribute"][0]  # type: ignore[union-attr]
    small = dict((group, count) for group, count in row["insufficient_groups"])
    assert set(small) == {"unknown"} and 0 < small["unknown"] < 8  # 10% of a 40-example test split
    assert set(row["judged_groups"]) == {"female", "male"}
    assert any("insufficient data" in note["text"] for note in parity.evidence["limitations"])  # type: ignore[union-attr]


def test_mitigation_is_opt_in(tmp_path: Path) -> None:
    result = _csv_audit(tmp_path, _frame(60), {"fairness.mitigation": {}})
    assert result.check("fairness.mitigation").status == "skipped"  # type: ignore[union-attr]
