"""The robustness plugin end to end through the real CLI: metrics, evidence, report, errors, resume."""

from __future__ import annotations

import json
import time
from pathlib import Path

from conftest import run_cli, write_config


def _config(tmp_path: Path, recipe: str, examples: int = 12) -> Path:
    settings = {"recipe": recipe, "examples": examples}
    return write_config(tmp_path, {
        "data": {"synthetic": {"size": 400}},
        "suite": "robustness",
        "checks": {"robustness.attack_success_rate": settings, "robustness.accuracy_under_attack": settings},
        "output": {"dir": "out"},
    })


def test_offline_recipe_reports_metrics_examples_and_resumes(tmp_path: Path) -> None:
    config = _config(tmp_path, "char-swap")
    done = run_cli("run", str(config), "-q", cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    check = next(c for c in results["checks"] if c["id"] == "robustness.attack_success_rate")
    evidence = check["evidence"]
    assert evidence["succeeded"] + evidence["failed"] + evidence["skipped"] == evidence["examples"] == 12
    rate = next(m for m in check["metrics"] if m["name"] == "attack_success_rate")
    attacked = evidence["succeeded"] + evidence["failed"]
    assert rate["value"] == evidence["succeeded"] / attacked
    assert rate["interval"]["method"] == "wilson"
    assert {"transformation", "constraints", "goal_function", "search_method"} <= set(evidence["components"])
    assert check["thresholds"][0]["metric"] == "attack_success_rate" and check["thresholds"][0]["bound"] == 0.5
    html = (tmp_path / "out" / "report.html").read_text()
    if evidence["succeeded"]:
        assert "<mark>" in html
    chunks = sorted((tmp_path / "out" / ".scratch" / "checkpoints" / "robustness" / "char-swap").glob("chunk-*.json"))
    assert chunks
    # an interrupted attack: drop the results and one chunk, resume, same outcome
    chunks[-1].unlink()
    (tmp_path / "out" / "results.json").unlink()
    again = run_cli("run", str(config), "-q", "--resume", cwd=tmp_path)
    assert again.returncode == done.returncode, again.stderr
    resumed = json.loads((tmp_path / "out" / "results.json").read_text())
    assert next(c for c in resumed["checks"] if c["id"] == check["id"])["metrics"] == check["metrics"]


def test_recipe_needing_downloads_errors_fast_and_names_the_resource(tmp_path: Path) -> None:
    started = time.monotonic()
    done = run_cli("run", str(_config(tmp_path, "textfooler")), "-q", cwd=tmp_path)
    assert done.returncode == 3
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    check = next(c for c in results["checks"] if c["id"] == "robustness.attack_success_rate")
    assert check["status"] == "error" and "not downloaded" in check["message"] and "embeddings" in check["message"]
    assert time.monotonic() - started < 120  # training included; the attack itself fails at once
