"""Config validation, suites and plans, and the gate's comparisons."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.plugin.checks import Threshold
from harness.config.settings import AuditConfig, load_config, parse_config
from harness.errors import ConfigError
from harness.run.gate import apply_thresholds, verdict
from harness.config.plan import build_plan
from harness.plugin.manager import get_host
from harness.results.types import CheckResult, Metric


def test_defaults_audit_the_builtin_model_with_training() -> None:
    config = AuditConfig()
    assert config.model.path == "builtin:tiny-bert" and config.data.path == "builtin:clinical-triage"
    assert config.model.fine_tune is not None and config.model.fine_tune.epochs == 10
    assert config.suite == "default" and config.output.formats == ["json", "html", "junit", "markdown"]
    assert config.model.trust_remote_code is False and config.model.allow_pickle is False


def test_a_pretrained_model_is_audited_as_loaded_unless_asked() -> None:
    assert parse_config({"model": {"path": "some/model"}}).model.fine_tune is None


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"model": {"fine_tun": {}}}, "audit.yaml: model.fine_tun: unknown key (did you mean 'fine_tune'?)"),
        ({"sead": 1}, "audit.yaml: sead: unknown key (did you mean 'seed'?)"),
        ({"seed": "abc"}, "audit.yaml: seed: Input should be a valid integer"),
        ({"data": {"split": {"train": 0.9, "validation": 0.2, "test": 0.2}}}, "audit.yaml: data.split: train + validation + test must sum to 1"),
        ({"output": {"formats": ["pdf"]}}, "audit.yaml: output.formats: unknown format 'pdf'"),
        ({"output": {"language": "fr"}}, "audit.yaml: output.language: unknown language 'fr'; expected one of en, zh"),
        ({"model": {"fine_tune": {"epochs": 0}}}, "audit.yaml: model.fine_tune.epochs: Input should be greater than or equal to 1"),
        ([1, 2], "audit.yaml: expected a mapping of keys at the top level, got list"),
    ],
)
def test_errors_name_the_file_the_key_and_what_was_expected(data: object, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "audit.yaml")
    assert str(caught.value).startswith(expected)
    assert "\n" not in str(caught.value)


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text("seed: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError, match="invalid YAML at line 1"):
        load_config(path)


def _plan(checks: dict, suite: str = "default"):  # type: ignore[no-untyped-def]
    config = parse_config({"checks": checks, "suite": suite})
    return build_plan(config, get_host().registry, suite=None, base_dir=Path.cwd(), source="audit.yaml")


def test_plan_merges_suite_and_overrides() -> None:
    plan = _plan({"accuracy.accuracy": {"min": 0.9, "n_boot": 500}, "accuracy.roc_auc": {"enabled": False}, "accuracy.calibration": {"gate": False, "thresholds": {"maximum_calibration_error": {"max": 0.3}}}})
    by_id = {p.id: p for p in plan.checks}
    assert "accuracy.roc_auc" not in by_id
    assert by_id["accuracy.accuracy"].thresholds["accuracy"] == Threshold(min=0.9)
    assert by_id["accuracy.accuracy"].options.n_boot == 500  # type: ignore[attr-defined]
    calibration = by_id["accuracy.calibration"]
    assert calibration.gated is False
    assert calibration.thresholds == {"expected_calibration_error": Threshold(max=0.1), "maximum_calibration_error": Threshold(max=0.3)}


@pytest.mark.parametrize(
    ("checks", "suite", "expected"),
    [
        ({"accuracy.acuracy": {}}, "default", "audit.yaml: checks.accuracy.acuracy: unknown check id (did you mean 'accuracy.accuracy'?)"),
        ({"accuracy.accuracy": {"n_bot": 10}}, "default", "audit.yaml: checks.accuracy.accuracy.n_bot: unknown option (did you mean 'n_boot'?)"),
        ({"accuracy.accuracy": {"n_boot": "many"}}, "default", "audit.yaml: checks.accuracy.accuracy.n_boot: Input should be a valid integer"),
        ({"accuracy.accuracy": {"min": "high"}}, "default", "audit.yaml: checks.accuracy.accuracy.min: expected a number"),
        ({}, "defualt", "audit.yaml: suite: unknown suite 'defualt' (did you mean 'default'?)"),
    ],
)
def test_plan_errors(checks: dict, suite: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _plan(checks, suite)
    assert str(caught.value).startswith(expected)


def test_suite_given_as_a_path_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("name: mine\nchecks:\n  accuracy.roc_auc: {min: 0.6}\n")
    config = parse_config({"suite": "mine.yaml"})
    plan = build_plan(config, get_host().registry, suite=None, base_dir=tmp_path, source="audit.yaml")
    assert plan.suite.name == "mine" and [p.id for p in plan.checks] == ["accuracy.roc_auc"]


def _planned(thresholds: dict[str, Threshold], gated: bool = True):  # type: ignore[no-untyped-def]
    from harness.plugin.checks import Check, CheckOptions
    from harness.config.plan import PlannedCheck

    return PlannedCheck("x.y", Check, "p", CheckOptions(), thresholds, gated)


def test_gate_compares_and_explains() -> None:
    result = CheckResult(id="x.y", title="X", status="pass", metrics=(Metric("a", 0.8), Metric("b", None)))
    passed = apply_thresholds(result, _planned({"a": Threshold(min=0.7, max=0.9)}))
    assert passed.status == "pass" and [t.passed for t in passed.thresholds] == [True, True]
    failed = apply_thresholds(result, _planned({"a": Threshold(min=0.85)}))
    assert failed.status == "fail" and failed.message.startswith("a = 0.800 misses the limit (at least 0.85; point estimate)")
    undefined = apply_thresholds(result, _planned({"b": Threshold(max=1.0)}))
    assert undefined.status == "fail" and "b could not be computed" in undefined.message
    missing = apply_thresholds(result, _planned({"c": Threshold(min=0)}))
    assert missing.status == "error" and "does not report (it reports: a, b)" in missing.message
    warned = apply_thresholds(CheckResult(id="x.y", title="X", status="warn", metrics=(Metric("a", 0.8),)), _planned({"a": Threshold(min=0.5)}))
    assert warned.status == "warn"


def test_verdict_order_error_then_gated_fail() -> None:
    ok = CheckResult(id="a.b", title="", status="pass")
    fail = CheckResult(id="a.c", title="", status="fail")
    ungated_fail = CheckResult(id="a.d", title="", status="fail", gated=False)
    error = CheckResult(id="a.e", title="", status="error")
    assert verdict([ok, ungated_fail]) == ("pass", 0)
    assert verdict([ok, fail]) == ("fail", 1)
    assert verdict([fail, error]) == ("error", 3)
    assert verdict([ok], plugin_failures=1) == ("error", 3)


# ---------------------------------------------------------------- partial fine_tune settings


def test_partial_fine_tune_settings_merge_over_the_builtin_models_defaults() -> None:
    from harness.config.settings import BUILTIN_TINY_BERT_TRAINING, FineTuneConfig, ModelConfig

    tuned = parse_config({"model": {"fine_tune": {"epochs": 2}}}).model.fine_tune
    assert tuned is not None and tuned.epochs == 2
    assert {k: getattr(tuned, k) for k in ("lr", "batch_size", "early_stopping_patience")} == {
        k: BUILTIN_TINY_BERT_TRAINING[k] for k in ("lr", "batch_size", "early_stopping_patience")}
    explicit = parse_config({"model": {"path": "builtin:tiny-bert", "fine_tune": {"lr": 1e-3, "batch_size": 8, "dp": {"target_epsilon": 8}}}}).model.fine_tune
    assert explicit is not None and (explicit.lr, explicit.batch_size, explicit.epochs) == (1e-3, 8, BUILTIN_TINY_BERT_TRAINING["epochs"])
    assert explicit.model_extra == {"dp": {"target_epsilon": 8}}  # plugin keys pass through
    assert parse_config({"model": {"fine_tune": {}}}).model.fine_tune == AuditConfig().model.fine_tune
    assert parse_config({"model": {"fine_tune": None}}).model.fine_tune is None  # explicitly untrained
    # the Python API merges the same way; explicit keys win
    assert ModelConfig(fine_tune=FineTuneConfig(epochs=2)).fine_tune == tuned
    assert ModelConfig(fine_tune={"epochs": 2, "lr": 5e-4}).fine_tune.lr == 5e-4  # type: ignore[union-attr]
    # another model has no tuned defaults: FineTuneConfig's own
    other = parse_config({"model": {"path": "some/model", "fine_tune": {"epochs": 2}}}).model.fine_tune
    assert other == FineTuneConfig(epochs=2)
    with pytest.raises(ConfigError, match=r"^audit.yaml: model.fine_tune.lr: Input should be greater than 0"):
        parse_config({"model": {"fine_tune": {"epochs": 2, "lr": 0}}}, "audit.yaml")


def test_a_partial_fine_tune_of_the_builtin_model_learns_both_classes(tmp_path: Path) -> None:
    """The bug this merge fixes: ``{epochs: 3}`` used FineTuneConfig's lr and batch size and left a one-class model."""
    import numpy as np

    from harness.testing import build_context

    ctx = build_context(tmp_path, model={"fine_tune": {"epochs": 3, "save_model": False}}, data={"synthetic": {"size": 600}})
    assert ctx.training is not None and ctx.training.settings["lr"] == 2e-3
    predicted = np.bincount(ctx.predictor.predict(ctx.data.eval.texts), minlength=2)  # type: ignore[union-attr]
    assert predicted.min() > 0.25 * predicted.sum()


# ---------------------------------------------------------------- what `checks:` in a config does


def test_checks_in_the_config_add_to_the_suite_and_override_its_keys(tmp_path: Path) -> None:
    """``checks:`` never narrows the suite: a check not in it is added, one in it gets the keys given
    (each replacing the suite's value whole, a ``thresholds`` mapping too), ``enabled: false`` drops one."""
    (tmp_path / "mine.yaml").write_text(
        "name: mine\nchecks:\n"
        "  accuracy.roc_auc: {min: 0.6, n_boot: 200}\n"
        "  accuracy.accuracy: {}\n"
        "  accuracy.calibration: {thresholds: {maximum_calibration_error: {max: 0.3}}}\n"
    )

    def plan(checks: dict) -> dict:  # type: ignore[type-arg]
        config = parse_config({"suite": "mine.yaml", "checks": checks})
        return {p.id: p for p in build_plan(config, get_host().registry, suite=None, base_dir=tmp_path, source="audit.yaml").checks}

    planned = plan({"accuracy.macro_f1": {}, "accuracy.roc_auc": {"n_boot": 300},
                    "accuracy.calibration": {"thresholds": {"expected_calibration_error": {"max": 0.2}}}})
    assert list(planned) == ["accuracy.roc_auc", "accuracy.accuracy", "accuracy.calibration", "accuracy.macro_f1"]
    assert planned["accuracy.roc_auc"].thresholds["roc_auc"] == Threshold(min=0.6)  # the suite's key stays
    assert planned["accuracy.roc_auc"].options.n_boot == 300  # type: ignore[attr-defined]
    assert planned["accuracy.calibration"].thresholds == {"expected_calibration_error": Threshold(max=0.2)}
    assert list(plan({"accuracy.accuracy": {"min": 0.8}})) == ["accuracy.roc_auc", "accuracy.accuracy", "accuracy.calibration"]
    assert list(plan({"accuracy.accuracy": {"enabled": False}})) == ["accuracy.roc_auc", "accuracy.calibration"]
