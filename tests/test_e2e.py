"""End-to-end: the real ``harness`` console script on the built-in tiny model and data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from conftest import SMOKE_CONFIG, SmokeRun, run_cli, write_config

SCHEMA = Path(__file__).resolve().parent.parent / "harness" / "results" / "schema" / "results.schema.json"


def test_smoke_run_writes_complete_valid_results(smoke_run: SmokeRun) -> None:
    results = smoke_run.results
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(results)
    assert results["complete"] is True
    assert results["verdict"] == "pass" and results["exit_code"] == 0
    assert [c["id"] for c in results["checks"]] == ["accuracy.accuracy", "accuracy.calibration"]
    for name in ("report.html", "junit.xml", "summary.md"):
        assert (smoke_run.output / name).is_file(), name
    assert "verdict: PASS" in smoke_run.cli.stdout


def test_provenance_records_hashes_versions_and_training(smoke_run: SmokeRun) -> None:
    prov = smoke_run.results["provenance"]
    assert prov["seed"] == 0
    assert prov["data"]["synthetic"] is True
    assert set(prov["data"]["splits"]) == {"train", "validation", "test"}
    assert sum(s["size"] for s in prov["data"]["splits"].values()) == 500
    assert len(prov["model"]["weights_sha256"]) == 64
    assert prov["model"]["num_parameters"] > 10_000
    assert prov["packages"]["torch"] and prov["packages"]["audit-harness"]
    assert prov["fine_tuning"]["epochs_run"] >= 1
    assert prov["config"]["model"]["fine_tune"]["epochs"] == 8
    assert [p["name"] for p in prov["plugins"] if p["builtin"]] == ["accuracy", "compression", "explain", "fairness", "mlflow", "privacy", "robustness"]
    run = smoke_run.results["run"]
    assert run["started_at"] <= run["finished_at"]


def test_saved_model_has_card_and_reproduces_the_reported_accuracy(smoke_run: SmokeRun) -> None:
    """Independent cross-check: reload the saved model with plain transformers, predict
    each test text alone (no batching, no padding), and compare with scikit-learn."""
    import torch
    from sklearn.metrics import accuracy_score
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from harness.config.settings import DataConfig, SyntheticConfig
    from harness.ml.data import load_dataset
    from harness.ml.models import state_dict_sha256

    folder = smoke_run.output / "model"
    assert "Fine-tuned from `builtin:tiny-bert`" in (folder / "README.md").read_text()
    assert (folder / "model.safetensors").is_file()
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    results = smoke_run.results
    assert state_dict_sha256(model) == results["provenance"]["model"]["weights_sha256"]
    data = load_dataset(DataConfig(synthetic=SyntheticConfig(size=500)), seed=0, base_dir=Path("."))
    assert data.eval.fingerprint == results["provenance"]["data"]["splits"]["test"]["fingerprint"]
    with torch.no_grad():
        predictions = [int(model(**tokenizer(text, return_tensors="pt", truncation=True, max_length=128)).logits.argmax()) for text in data.eval.texts]
    check = next(c for c in results["checks"] if c["id"] == "accuracy.accuracy")
    reported = next(m for m in check["metrics"] if m["name"] == "accuracy")
    assert reported["value"] == pytest.approx(accuracy_score(data.eval.labels, predictions), abs=1e-12)
    assert reported["interval"]["low"] <= reported["value"] <= reported["interval"]["high"]
    assert np.asarray(check["evidence"]["confusion_matrix"]).sum() == len(data.eval)


def test_each_eval_text_goes_through_the_model_once(smoke_run: SmokeRun) -> None:
    stats = smoke_run.results["predictor"]
    test_size = smoke_run.results["provenance"]["data"]["splits"]["test"]["size"]
    assert stats["forward_texts"] == test_size  # two checks, one pass
    assert stats["texts_requested"] == test_size  # the report is computed once and shared


def test_report_rerenders_identically_from_results_alone(smoke_run: SmokeRun, tmp_path: Path) -> None:
    copy = tmp_path / "results.json"
    shutil.copy(smoke_run.output / "results.json", copy)
    done = run_cli("report", str(copy), "-o", str(tmp_path / "again.html"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "again.html").read_bytes() == (smoke_run.output / "report.html").read_bytes()


def test_report_is_offline_and_escaped(smoke_run: SmokeRun) -> None:
    html = (smoke_run.output / "report.html").read_text()
    assert "Content-Security-Policy" in html and "script-src 'none'" in html
    assert "<script" not in html.lower()
    assert "http://" not in html and "https://" not in html
    assert "Confusion matrix" in html  # the accuracy plugin's section, through harness_report_sections
    assert "synthetic" in html.lower()


def test_resume_keeps_finished_checks_and_the_trained_model(smoke_run: SmokeRun, tmp_path: Path) -> None:
    output = tmp_path / "out"
    shutil.copytree(smoke_run.output, output)
    config = write_config(tmp_path, {**SMOKE_CONFIG, "output": {"dir": "out"}})
    done = run_cli("run", str(config), "--resume", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "resumed the fine-tuned model" in done.stderr
    assert "kept from the earlier run" in done.stderr
    results = json.loads((output / "results.json").read_text())
    assert results["predictor"]["forward_texts"] == 0
    before = smoke_run.results
    assert [c["metrics"] for c in results["checks"]] == [c["metrics"] for c in before["checks"]]
    assert results["provenance"]["model"]["weights_sha256"] == before["provenance"]["model"]["weights_sha256"]


def test_resume_reruns_a_check_whose_settings_changed(smoke_run: SmokeRun, tmp_path: Path) -> None:
    output = tmp_path / "out"
    shutil.copytree(smoke_run.output, output)
    config = write_config(tmp_path, {**SMOKE_CONFIG, "output": {"dir": "out"}, "checks": {"accuracy.accuracy": {"min": 0.99}}})
    done = run_cli("run", str(config), "--resume", cwd=tmp_path)
    assert done.returncode == 1, done.stderr  # the stricter gate fails
    assert "accuracy.calibration: kept from the earlier run" in done.stderr
    assert "running accuracy.accuracy" in done.stderr
    results = json.loads((output / "results.json").read_text())
    accuracy = results["checks"][0]
    assert accuracy["status"] == "fail"
    assert accuracy["thresholds"][0]["bound"] == 0.99 and accuracy["thresholds"][0]["passed"] is False
    assert "of accuracy misses the limit (at least 0.99)" in accuracy["message"]
    assert results["verdict"] == "fail" and results["exit_code"] == 1


def test_ungated_failure_does_not_fail_the_run(smoke_run: SmokeRun, tmp_path: Path) -> None:
    output = tmp_path / "out"
    shutil.copytree(smoke_run.output, output)
    config = write_config(tmp_path, {**SMOKE_CONFIG, "output": {"dir": "out"}, "checks": {"accuracy.accuracy": {"min": 0.999, "gate": False}}})
    done = run_cli("run", str(config), "--resume", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "FAIL         accuracy.accuracy (not gated)" in done.stdout


def test_plugins_and_checks_commands() -> None:
    done = run_cli("plugins", cwd=Path.cwd())
    assert done.returncode == 0
    assert done.stdout.startswith("accuracy 0.1.0 [built-in, entry point (audit-harness)]")
    assert "    accuracy.roc_auc" in done.stdout
    done = run_cli("checks", cwd=Path.cwd())
    assert done.returncode == 0
    assert "accuracy.accuracy  [accuracy >= 0.7]  (accuracy)" in done.stdout
    assert "accuracy.calibration  [expected_calibration_error <= 0.1]" in done.stdout
