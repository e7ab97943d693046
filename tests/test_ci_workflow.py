"""The CI examples, run for real: the commands of examples/ci/*.yml (not the CI service).

A baseline tiny model is trained normally and audited; the candidates are a
copy of it (same weights, must pass) and a deliberately worse one (one epoch at
a tiny learning rate, near chance). The candidate configs set the absolute
accuracy threshold to 0, so only the comparison with the baseline can fail the
gate: exit 1 on the worse model proves the regression policy decides.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from conftest import offline_env, run_cli, write_config

ROOT = Path(__file__).resolve().parents[1]
GITHUB = ROOT / "examples" / "ci" / "github-actions.yml"
GITLAB = ROOT / "examples" / "ci" / "gitlab-ci.yml"

DATA = {"path": "builtin:clinical-triage", "synthetic": {"size": 300}}
SUITE = {"name": "ci", "checks": {"accuracy.accuracy": {"min": 0.0, "n_boot": 200}}}
GATE = {"no_regression": ["accuracy.*"], "tolerance": {"accuracy.accuracy.accuracy": 0.02}}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A normally trained tiny model, audited: its folder holds results.json and model/."""
    folder = tmp_path_factory.mktemp("ci-baseline")
    (folder / "ci.yaml").write_text(yaml.safe_dump(SUITE), encoding="utf-8")
    config = write_config(folder, {
        "model": {"path": "builtin:tiny-bert", "fine_tune": {"epochs": 8, "lr": 2e-3, "batch_size": 16}},
        "data": DATA, "suite": "ci.yaml", "output": {"dir": "release", "formats": ["json"]},
    })
    cli = run_cli("run", str(config), "-q", cwd=folder)
    assert cli.returncode == 0, cli.stderr + cli.stdout
    return folder / "release"


def _workspace(tmp_path: Path, baseline: Path, candidate: str) -> Path:
    """A repository checkout as CI sees it: the candidate's audit.yaml and the fetched baseline results."""
    (tmp_path / "ci.yaml").write_text(yaml.safe_dump(SUITE), encoding="utf-8")
    (tmp_path / "baseline").mkdir()
    shutil.copy(baseline / "results.json", tmp_path / "baseline" / "results.json")
    if candidate == "copy":  # the released weights, re-audited: nothing may regress
        shutil.copytree(baseline / "model", tmp_path / "released-model")
        model: dict[str, Any] = {"path": "released-model"}
    else:  # deliberately worse: barely trained
        model = {"path": "builtin:tiny-bert", "fine_tune": {"epochs": 1, "lr": 1e-5, "batch_size": 16, "save_model": False}}
    write_config(tmp_path, {"model": model, "data": DATA, "suite": "ci.yaml", "gate": GATE})
    return tmp_path


def _ci_env(workspace: Path, variables: dict[str, Any]) -> dict[str, str]:
    env = offline_env(**{k: str(v) for k, v in variables.items()})
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # the installed `harness`
    env["GITHUB_STEP_SUMMARY"] = str(workspace / "step-summary.md")
    return env


def _bash(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def run_github_workflow(workspace: Path) -> tuple[int, str]:
    """Run the workflow's `run:` steps as the runner would (install excluded: it needs the network).

    Returns the exit code of the audit step and everything printed. After a
    failed step only ``if: always()`` steps run, as on GitHub.
    """
    workflow = yaml.safe_load(GITHUB.read_text(encoding="utf-8"))
    job = workflow["jobs"]["audit"]
    env = _ci_env(workspace, job["env"])
    failed, audit_rc, log = False, None, ""
    for step in job["steps"]:
        if "run" not in step or step.get("id") == "install":
            continue
        if failed and "always()" not in str(step.get("if", "")):
            continue
        done = _bash(step["run"], workspace, env)
        log += done.stdout + done.stderr
        if step.get("id") == "audit":
            audit_rc = done.returncode
        failed = failed or done.returncode != 0
    assert audit_rc is not None, "the workflow has no step with id 'audit'"
    return audit_rc, log


def run_gitlab_job(workspace: Path) -> tuple[int, str]:
    """Run the job's `script:` (the gate) then its `after_script:`, with its variables."""
    job = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))["model-audit"]
    env = _ci_env(workspace, job["variables"])
    rc, log = 0, ""
    for command in job["script"]:
        done = _bash(command, workspace, env)
        log += done.stdout + done.stderr
        rc = done.returncode
        if rc:
            break
    for command in job.get("after_script", []):
        done = _bash(command, workspace, env)
        log += done.stdout + done.stderr
    return rc, log


def test_workflows_are_valid_yaml_with_the_expected_pieces() -> None:
    github = yaml.safe_load(GITHUB.read_text(encoding="utf-8"))
    steps = github["jobs"]["audit"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/upload-artifact") for u in uses)
    assert any(u.startswith("actions/download-artifact") for u in uses)
    assert any("GITHUB_STEP_SUMMARY" in s.get("run", "") for s in steps)
    gitlab = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))["model-audit"]
    assert gitlab["artifacts"]["reports"]["junit"] == "audit-report/junit.xml"
    assert gitlab["artifacts"]["when"] == "always"
    assert gitlab["variables"]["AUDIT_OUTPUT"] == "audit-report"


def test_github_workflow_passes_a_copy_of_the_baseline(baseline: Path, tmp_path: Path) -> None:
    workspace = _workspace(tmp_path, baseline, "copy")
    rc, log = run_github_workflow(workspace)
    assert rc == 0, log
    summary = (workspace / "step-summary.md").read_text(encoding="utf-8")
    assert "Comparison with the baseline" in summary and "No significant regression" in summary
    results = json.loads((workspace / "audit-report" / "results.json").read_text(encoding="utf-8"))
    assert results["comparison"]["paired"] is True and results["comparison"]["regressions"] == []
    jsonschema.validate(results, json.loads((ROOT / "harness" / "results" / "schema" / "results.schema.json").read_text(encoding="utf-8")))
    for name in ("report.html", "junit.xml"):  # what the upload steps publish
        assert (workspace / "audit-report" / name).is_file()


def test_github_workflow_fails_the_worse_model(baseline: Path, tmp_path: Path) -> None:
    workspace = _workspace(tmp_path, baseline, "worse")
    rc, log = run_github_workflow(workspace)
    assert rc == 1, log
    results = json.loads((workspace / "audit-report" / "results.json").read_text(encoding="utf-8"))
    assert all(c["status"] == "pass" for c in results["checks"])  # the absolute threshold (0) passed ...
    assert "accuracy.accuracy.accuracy" in results["comparison"]["regressions"]  # ... the comparison failed it
    summary = (workspace / "step-summary.md").read_text(encoding="utf-8")  # written although the gate failed
    assert "the gate fails" in summary
    junit = ET.parse(workspace / "audit-report" / "junit.xml").getroot()
    comparison = junit.find("testsuite[@name='comparison']")
    assert comparison is not None and comparison.find("testcase[@name='accuracy.accuracy.accuracy']/failure[@type='regression']") is not None
    for total in ("tests", "failures"):  # the document's totals include the comparison suite
        assert int(junit.get(total)) == sum(int(suite.get(total)) for suite in junit.findall("testsuite"))
    html = (workspace / "audit-report" / "report.html").read_text(encoding="utf-8")
    assert 'id="comparison"' in html and "regressed significantly against the baseline" in html


def test_gitlab_job_fails_the_worse_model(baseline: Path, tmp_path: Path) -> None:
    """The same gate through GitLab's job layout (the passing side is the same command, run above)."""
    workspace = _workspace(tmp_path, baseline, "worse")
    rc, log = run_gitlab_job(workspace)
    assert rc == 1, log
    assert "Comparison with the baseline" in log and "regressed" in log  # after_script printed the summary
    junit = (workspace / "audit-report" / "junit.xml").read_text(encoding="utf-8")  # the JUnit report artifact
    assert 'name="comparison"' in junit and "<failure" in junit
