"""harness.testing's fixtures: data and model are prepared once per configuration and test session,
``harness_run`` honours ``harness_config``, and the defaults are what the docs say."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.config.settings import BUILTIN_TINY_BERT_TRAINING, load_config
from harness.testing import TINY_CONFIG, ContextCache

#: Small, and unlike any other test module's config: this module's entries in the session cache are its own.
CONFIG: dict[str, Any] = {"model": {"fine_tune": {"epochs": 2}}, "data": {"synthetic": {"size": 200, "seed": 11}}}
CHECKS = {"accuracy.accuracy": {"min": 0.0, "n_boot": 100}}


@pytest.fixture(scope="session")
def harness_config() -> dict[str, Any]:
    return CONFIG


@pytest.fixture()
def no_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any fine-tuning from here on fails the test (the core's loop is what harness_train falls back to)."""
    from harness.ml import training

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("fine-tuned again although the session already has this model")

    monkeypatch.setattr(training, "fine_tune", refuse)


def _key(**overrides: Any) -> str:
    from harness.testing import _merge

    return ContextCache.key(load_config(_merge(TINY_CONFIG, overrides))[0])


def test_the_default_model_is_fine_tuned_with_the_builtin_defaults() -> None:
    """What the docs say: TINY_CONFIG fine-tunes with BUILTIN_TINY_BERT_TRAINING; fine_tune None does not."""
    config, _, _ = load_config(TINY_CONFIG)
    assert config.model.fine_tune is not None
    assert {k: getattr(config.model.fine_tune, k) for k in BUILTIN_TINY_BERT_TRAINING} == BUILTIN_TINY_BERT_TRAINING
    assert load_config({**TINY_CONFIG, "model": {"path": "builtin:tiny-bert", "fine_tune": None}})[0].model.fine_tune is None


def test_harness_context_is_prepared_from_harness_config(harness_context: Any, _harness_prepared: ContextCache) -> None:
    assert len(harness_context.data.splits["train"]) + len(harness_context.data.splits["validation"]) + len(harness_context.data.eval) == 200
    report = harness_context.training
    assert report is not None and report.settings["epochs"] == 2
    assert report.settings["lr"] == BUILTIN_TINY_BERT_TRAINING["lr"]  # the keys harness_config left out
    assert _key(**CONFIG) in {ContextCache.key(harness_context.config)}


def test_a_second_context_and_every_run_reuse_the_session_model(
    harness_context: Any, harness_run: Any, _harness_prepared: ContextCache, no_training: None, tmp_path: Path
) -> None:
    built = _harness_prepared.built
    first = harness_run(CHECKS)
    second = harness_run(CHECKS, output={"formats": ["json"]})  # other outputs: the same model
    assert _harness_prepared.built == built
    for result in (first, second):
        assert result.check("accuracy.accuracy").status == "pass"  # type: ignore[union-attr]
        assert result.provenance["model"]["weights_sha256"] == harness_context.model.weights_sha256
        assert result.provenance["config"]["model"]["fine_tune"]["epochs"] == 2  # harness_config is honoured
        assert result.provenance["data"]["splits"]["test"]["size"] == len(harness_context.data.eval)
        assert result.provenance["fine_tuning"]["settings"]["epochs"] == 2
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved["provenance"]["fine_tuning"] == first.provenance["fine_tuning"]
    # the run's own predictor: its statistics count its own forward passes
    assert first.predictor["forward_texts"] == len(harness_context.data.eval)
    # the fine-tuned model is in the run's output folder, as after a plain run
    assert (tmp_path / "out" / "model" / "training.json").is_file()


def test_overrides_merge_over_harness_config_and_make_their_own_entry(harness_run: Any, _harness_prepared: ContextCache) -> None:
    built = _harness_prepared.built
    result = harness_run(CHECKS, model={"fine_tune": None})
    assert _harness_prepared.built == built + 1
    assert result.provenance["fine_tuning"] is None
    assert result.provenance["config"]["data"]["synthetic"]["size"] == 200  # from harness_config
    again = harness_run(CHECKS, model={"fine_tune": None}, gate={"inconclusive": "warn"})
    assert _harness_prepared.built == built + 1 and again.provenance["model"] == result.provenance["model"]


def test_the_cache_key_names_what_decides_data_and_model(tmp_path: Path) -> None:
    base = _key(**CONFIG)
    assert _key(**CONFIG, checks={"accuracy.accuracy": {}}, output={"formats": ["json"]}) == base
    assert _key(**CONFIG, seed=1) != base
    assert _key(model={"fine_tune": {"epochs": 3}}, data=CONFIG["data"]) != base
    assert _key(model=CONFIG["model"], data={"synthetic": {"size": 201, "seed": 11}}) != base
