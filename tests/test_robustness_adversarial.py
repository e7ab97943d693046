"""Adversarial-sample training (``fine_tune.adversarial_augment``) end to end through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli, write_config

FINE_TUNE = {"epochs": 8, "lr": 3.0e-3, "batch_size": 16}


def _config(tmp_path: Path, augment: object, **fine_tune: object) -> Path:
    return write_config(tmp_path, {
        "model": {"path": "builtin:tiny-bert", "fine_tune": {**FINE_TUNE, **fine_tune, "adversarial_augment": augment}},
        "data": {"synthetic": {"size": 500}},
        "suite": "smoke",
        "checks": {"robustness.attack_success_rate": {"recipe": "deepwordbug", "examples": 16, "gate": False}},
        "output": {"dir": "out"},
    })


def test_augments_retrains_and_reports_before_and_after(tmp_path: Path) -> None:
    config = _config(tmp_path, {"recipe": "deepwordbug", "examples": 30, "eval_examples": 16})
    done = run_cli("run", str(config), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "adversarial training: fine-tuning again" in done.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    tuning = results["provenance"]["fine_tuning"]
    record = tuning["adversarial_augment"]
    assert record["recipe"] == "deepwordbug" and record["train_attack"]["examples"] == 30
    assert record["added"] == record["train_attack"]["succeeded"] > 0
    assert record["train_examples_after"] == record["train_examples_before"] + record["added"] == tuning["train_examples"]
    assert len(record["added_examples"]) == min(10, record["added"])
    for example in record["added_examples"]:
        assert example["original"] != example["perturbed"] and example["changed"]
    evaluation = record["evaluation"]
    before, after = evaluation["before"], evaluation["after"]
    assert before["examples"] == after["examples"] == evaluation["examples"] == 16
    for side in (before, after):
        assert side["succeeded"] + side["failed"] + side["skipped"] == 16
        assert side["attack_success_rate_interval"] is None or len(side["attack_success_rate_interval"]) == 2
    # The check attacks the final model with the same recipe, sample size and seed: it must equal "after".
    check = next(c for c in results["checks"] if c["id"] == "robustness.attack_success_rate")
    assert check["evidence"]["examples"] == 16
    for key in ("succeeded", "failed", "skipped", "attack_success_rate", "avg_queries"):
        assert check["evidence"][key] == after[key], key
    html = (tmp_path / "out" / "report.html").read_text()
    assert "Adversarial training: robustness before and after" in html
    assert "Attack success rate" in html
    # The saved model's training record keeps it, so --resume reuses the adversarially trained model.
    again = run_cli("run", str(config), "--resume", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "resumed the fine-tuned model" in again.stderr and "fine-tuning again" not in again.stderr
    resumed = json.loads((tmp_path / "out" / "results.json").read_text())
    assert resumed["provenance"]["fine_tuning"]["adversarial_augment"] == record


@pytest.mark.parametrize(
    ("augment", "extra", "expected"),
    [
        ({"recipe": "deepwordbug", "exampels": 3}, {}, "model.fine_tune.adversarial_augment.exampels: unknown option"),
        ({"recipe": "deepwordbugg"}, {}, "did you mean 'deepwordbug'"),
        ({"examples": 0}, {}, "model.fine_tune.adversarial_augment.examples:"),
        ({"recipe": "textfooler"}, {}, "not available offline"),
        ("yes", {}, "expected a mapping"),
        ({"recipe": "deepwordbug"}, {"dp": {"target_epsilon": 8}}, "cannot be combined with model.fine_tune.dp"),
    ],
)
def test_bad_options_exit_2_with_one_line(tmp_path: Path, augment: object, extra: dict, expected: str) -> None:
    done = run_cli("run", str(_config(tmp_path, augment, **extra)), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], done.stderr
    assert not (tmp_path / "out" / "results.json").exists()
