"""End to end, through the real CLI: verdicts that hold up off the happy path.

- a disparity whose interval straddles its limit is INCOMPLETE (exit 1), not PASS,
  and says so in every output; ``gate.inconclusive: warn`` and ``gate_on: estimate``
  change that as documented;
- a model that predicts one class everywhere fails, with intervals of real width.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from conftest import SMOKE_CONFIG, run_cli, write_config

DPD = "fairness.demographic_parity_difference"


def _results(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "results.json").read_text(encoding="utf-8"))


def _check(results: dict[str, Any], check_id: str) -> dict[str, Any]:
    return next(c for c in results["checks"] if c["id"] == check_id)


@pytest.fixture(scope="module")
def straddle(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A first run learns the disparity's interval; a second (resumed model) sets the limit inside it."""
    folder = tmp_path_factory.mktemp("straddle")
    suite = folder / "suite.yaml"
    suite.write_text(f"name: straddle\nchecks:\n  {DPD}: {{group_n_boot: 0, min_group_size: 20}}\n", encoding="utf-8")
    base = {**SMOKE_CONFIG, "suite": str(suite), "output": {"dir": "out"}}
    first = run_cli("run", str(write_config(folder, {**base, "checks": {DPD: {"max": 1.0}}})), cwd=folder)
    assert first.returncode == 0, first.stdout + first.stderr
    metric = _check(_results(folder / "out"), DPD)["metrics"][0]
    low, high = metric["interval"]["low"], metric["interval"]["high"]
    assert metric["name"] == "demographic_parity_difference" and low < metric["value"] < high
    limit = round((low + high) / 2, 6)
    config = write_config(folder, {**base, "checks": {DPD: {"max": limit}}})
    second = run_cli("run", str(config), "--resume", cwd=folder)
    return {"folder": folder, "config": config, "limit": limit, "interval": (low, high), "value": metric["value"], "cli": second, "base": base}


def test_straddling_disparity_is_incomplete_not_pass(straddle: dict[str, Any]) -> None:
    cli, out = straddle["cli"], straddle["folder"] / "out"
    assert cli.returncode == 1, cli.stdout + cli.stderr
    results = _results(out)
    assert results["verdict"] == "incomplete" and results["exit_code"] == 1
    check = _check(results, DPD)
    assert check["status"] == "inconclusive"
    (outcome,) = check["thresholds"]
    assert outcome["outcome"] == "inconclusive" and outcome["gate_on"] == "interval"
    assert outcome["interval"] == list(straddle["interval"])
    assert outcome["needed_n"] is not None and outcome["needed_n"] > check["metrics"][0]["n"]
    assert f"contains the limit {straddle['limit']:g}: more examples are needed" in check["message"]
    assert results["coverage"]["decided"] == 0 and results["coverage"]["undecided"][0]["id"] == DPD
    assert "verdict: INCOMPLETE" in cli.stdout and "coverage: 0 of 1 gated check decided" in cli.stdout
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "Model audit: INCOMPLETE" in summary and "**Gated checks that could not decide:**" in summary
    failure = ET.parse(out / "junit.xml").getroot().find(".//testcase/failure")
    assert failure is not None and failure.get("type") == "inconclusive"
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Gated checks that could not decide" in html and "Method notes" in html and "inconclusive" in html


def test_inconclusive_policy_and_point_estimate_gate(straddle: dict[str, Any]) -> None:
    folder, base, limit = straddle["folder"], straddle["base"], straddle["limit"]
    warn = write_config(folder, {**base, "checks": {DPD: {"max": limit}}, "gate": {"inconclusive": "warn"}}, "warn.yaml")
    cli = run_cli("run", str(warn), "--resume", cwd=folder)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    results = _results(folder / "out")
    assert results["verdict"] == "pass" and _check(results, DPD)["status"] == "inconclusive"
    assert "0 of 1 gated check decided" in results["coverage"]["line"]  # the pass is not a plain one
    estimate = write_config(folder, {**base, "checks": {DPD: {"max": limit, "gate_on": "estimate"}}}, "estimate.yaml")
    cli = run_cli("run", str(estimate), "--resume", cwd=folder)
    decided = "pass" if straddle["value"] <= limit else "fail"
    assert _check(_results(folder / "out"), DPD)["status"] == decided
    assert cli.returncode == (0 if decided == "pass" else 1)


def test_bad_gate_on_is_exit_2(tmp_path: Path) -> None:
    config = write_config(tmp_path, {**SMOKE_CONFIG, "checks": {"accuracy.accuracy": {"gate_on": "median"}}})
    cli = run_cli("run", str(config), "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert cli.returncode == 2
    assert "gate_on: expected one of interval, estimate (got 'median')" in cli.stderr


def test_one_class_model_fails_with_honest_intervals(tmp_path: Path) -> None:
    """A model whose classifier bias forces one class everywhere: no zero-width interval, the gate says no."""
    import torch

    from harness.ml.tiny_bert import build_tiny_bert
    from harness.ml.builtin_data import LABELS, SyntheticSpec, generate_clinical_triage

    texts = generate_clinical_triage(SyntheticSpec(size=200))["text"].tolist()
    model, tokenizer = build_tiny_bert(texts, LABELS, seed=0)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor([8.0, -8.0]))
    model.save_pretrained(tmp_path / "one-class")
    tokenizer.save_pretrained(tmp_path / "one-class")
    suite = tmp_path / "suite.yaml"
    suite.write_text("name: one-class\nchecks:\n  accuracy.accuracy: {n_boot: 300}\n  accuracy.macro_f1: {n_boot: 300}\n  accuracy.per_class: {n_boot: 300}\n",
                     encoding="utf-8")
    config = write_config(tmp_path, {"model": {"path": str(tmp_path / "one-class")},
                                     "data": {"path": "builtin:clinical-triage", "synthetic": {"size": 400}},
                                     "suite": str(suite), "output": {"dir": "out"}})
    cli = run_cli("run", str(config), cwd=tmp_path)
    assert cli.returncode == 1, cli.stdout + cli.stderr
    results = _results(tmp_path / "out")
    assert results["verdict"] == "fail"
    predictions = results["predictions"]["predictions"]
    assert len(set(predictions)) == 1  # really one class everywhere
    accuracy = _check(results, "accuracy.accuracy")["metrics"][0]
    assert accuracy["interval"]["high"] - accuracy["interval"]["low"] > 0.05  # 95% on ~80 examples is not a point
    assert accuracy["interval"]["low"] < accuracy["value"] < accuracy["interval"]["high"]
    assert _check(results, "accuracy.per_class")["status"] == "fail"  # the other class is never found
    assert _check(results, "accuracy.macro_f1")["status"] == "fail"
