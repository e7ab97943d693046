"""Gate policy: ``gate.fail_on`` and ``--fail-on`` decide which statuses fail the run; exit codes as the README lists them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import run_cli, write_config
from harness.compare.policy import RegressionPolicy, policy_from_gate
from harness.config.settings import parse_config
from harness.errors import ConfigError
from harness.run.gate import verdict
from harness.results.types import CheckResult


def _check(status: str, gated: bool = True) -> CheckResult:
    return CheckResult(id=f"demo.{status}", title=status, status=status, gated=gated)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "statuses,fail_on,expected",
    [
        (["pass", "fail", "error"], ["fail", "error"], ("error", 3)),  # an incomplete audit outranks a failed gate
        (["pass", "fail"], ["fail", "error"], ("fail", 1)),
        (["pass", "warn"], ["fail", "error"], ("pass", 0)),  # warn is optional
        (["pass", "warn"], ["fail", "error", "warn"], ("fail", 1)),
        (["pass", "fail", "error"], ["fail"], ("fail", 1)),  # errors reported, not gating
        (["pass", "fail"], ["error"], ("pass", 0)),
        (["pass", "fail", "error"], [], ("pass", 0)),
    ],
)
def test_fail_on_decides_which_statuses_fail(statuses: list[str], fail_on: list[str], expected: tuple[str, int]) -> None:
    assert verdict([_check(s) for s in statuses], fail_on=fail_on) == expected


def test_ungated_checks_and_regressions() -> None:
    assert verdict([_check("fail", gated=False), _check("warn", gated=False)], fail_on=["fail", "warn"]) == ("pass", 0)
    assert verdict([_check("pass")], regressions=1) == ("fail", 1)
    assert verdict([_check("error")], regressions=1) == ("error", 3)
    assert verdict([_check("pass")], plugin_failures=1, fail_on=["fail"]) == ("pass", 0)
    assert verdict([_check("pass")], plugin_failures=1) == ("error", 3)


def test_gate_config_defaults_and_one_line_errors() -> None:
    gate = parse_config({}).gate
    assert gate.fail_on == ["fail", "error"] and gate.no_regression is None and gate.alpha == 0.05
    parsed = parse_config({"gate": {"no_regression": ["accuracy.*", "fairness.*"], "tolerance": {"accuracy.accuracy": 0.01}}}).gate
    policy = policy_from_gate(parsed)
    assert policy.gated("accuracy.macro_f1", "macro_f1", False) and not policy.gated("robustness.attack_success_rate", "x", True)
    assert policy.tolerance_for("accuracy.accuracy", "accuracy") == 0.01
    assert policy.tolerance_for("accuracy.macro_f1", "macro_f1") == 0.0
    for bad, message in [
        ({"gate": {"fail_on": ["fail", "crash"]}}, "gate.fail_on.1: Input should be 'fail', 'error' or 'warn'"),
        ({"gate": {"tolerance": {"accuracy.*": -0.1}}}, "gate.tolerance: tolerance of 'accuracy.*' must be a number >= 0"),
        ({"gate": {"fail_onn": ["fail"]}}, "gate.fail_onn: unknown key (did you mean 'fail_on'?)"),
        ({"gate": {"alpha": 1.5}}, "gate.alpha:"),
    ]:
        with pytest.raises(ConfigError) as info:
            parse_config(bad, "audit.yaml")
        assert str(info.value).startswith(f"audit.yaml: {message}"), str(info.value)


def test_tolerance_precedence_exact_then_check_then_pattern() -> None:
    policy = RegressionPolicy(tolerance={"accuracy.*": 0.05, "accuracy.accuracy": 0.02, "accuracy.accuracy.accuracy": 0.01})
    assert policy.tolerance_for("accuracy.accuracy", "accuracy") == 0.01
    assert policy.tolerance_for("accuracy.accuracy", "balanced_accuracy") == 0.02
    assert policy.tolerance_for("accuracy.macro_f1", "macro_f1") == 0.05
    assert RegressionPolicy().gated("accuracy.calibration", "ece", check_gated=False) is False  # default: gated checks only


def test_bad_fail_on_flag_is_a_usage_error(tmp_path: Path) -> None:
    cli = run_cli("run", "--fail-on", "fail,oops", cwd=tmp_path)
    assert cli.returncode == 2 and "--fail-on: unknown status 'oops'" in cli.stderr
    assert len(cli.stderr.strip().splitlines()) == 1


def test_config_fail_on_and_the_flag_override_end_to_end(tmp_path: Path) -> None:
    """A failing gated check: exit 1 by default, 0 with gate.fail_on [error], 1 again with --fail-on fail."""
    (tmp_path / "strict.yaml").write_text(yaml.safe_dump({"name": "strict", "checks": {"accuracy.accuracy": {"min": 0.999, "n_boot": 100}}}))
    base = {
        "model": {"path": "builtin:tiny-bert", "fine_tune": {"epochs": 1, "lr": 1e-3, "batch_size": 32}},
        "data": {"path": "builtin:clinical-triage", "synthetic": {"size": 200}},
        "suite": "strict.yaml", "output": {"dir": "out", "formats": ["json", "markdown"]},
    }
    lenient = write_config(tmp_path, {**base, "gate": {"fail_on": ["error"]}}, "lenient.yaml")
    cli = run_cli("run", str(lenient), "-q", cwd=tmp_path)
    assert cli.returncode == 0, cli.stderr + cli.stdout
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert results["checks"][0]["status"] == "fail" and results["verdict"] == "pass" and results["exit_code"] == 0
    # --resume keeps the model and the check (their inputs are unchanged): only the policy differs
    cli = run_cli("run", str(lenient), "-q", "--resume", "--fail-on", "fail,error", cwd=tmp_path)
    assert cli.returncode == 1, cli.stderr + cli.stdout
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert results["verdict"] == "fail" and results["provenance"]["config"]["gate"]["fail_on"] == ["fail", "error"]


def test_gate_baseline_in_the_config_is_read_relative_to_it_before_anything_runs(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    config = write_config(tmp_path / "sub", {"suite": "smoke", "gate": {"baseline": "released/results.json"}})
    cli = run_cli("run", str(config), cwd=tmp_path)
    assert cli.returncode == 2, cli.stderr
    assert f"{tmp_path / 'sub' / 'released' / 'results.json'}: results file not found" in cli.stderr
    assert not (tmp_path / "audit-report").exists()
