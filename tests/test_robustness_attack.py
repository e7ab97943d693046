"""Robustness attacks: offline recipes, metrics, missing resources, stratified sample, checkpoint resume."""

from __future__ import annotations

import json
import time

import pytest

torch = pytest.importorskip("torch")

from harness.ml.predict import Predictor  # noqa: E402
from harness.stats.intervals import wilson_interval  # noqa: E402
from harness.ml.builtin_data import LABELS  # noqa: E402
from harness_robustness import attack as attack_module  # noqa: E402
from harness_robustness.attack import run_attack, stratified_sample, summarise  # noqa: E402
from harness_robustness.recipes import OFFLINE_RECIPES, RECIPES, ResourceMissing, build_attack  # noqa: E402


@pytest.fixture(scope="module")
def setup(tiny_attack_model):
    handle, texts, labels = tiny_attack_model
    return Predictor(handle), texts, labels


def _wilson(k, n):
    interval = wilson_interval(k, n)
    return None if interval is None else (interval.low, interval.high)


@pytest.mark.parametrize("recipe", ["deepwordbug", "pruthi", "char-swap", "qwerty", "char-insert-delete"])
def test_offline_recipe_runs(setup, recipe):
    predictor, texts, labels = setup
    assert recipe in OFFLINE_RECIPES and RECIPES[recipe]["offline"]
    out = run_attack(texts, labels, LABELS, predictor, recipe=recipe, examples=6, query_budget=300, seed=0)
    assert out.examples == 6 and out.succeeded + out.failed + out.skipped == 6
    attacked = out.succeeded + out.failed
    assert out.original_accuracy == pytest.approx(attacked / 6)
    assert out.accuracy_under_attack == pytest.approx(out.failed / 6)
    assert out.original_accuracy_interval == _wilson(attacked, 6)
    assert out.accuracy_under_attack_interval == _wilson(out.failed, 6)
    if attacked:
        assert out.attack_success_rate == pytest.approx(out.succeeded / attacked)
    else:
        assert out.attack_success_rate is None
    assert out.attack_success_rate_interval == _wilson(out.succeeded, attacked)
    assert len(out.successes) == out.succeeded
    if out.succeeded:
        assert 0 < out.avg_words_perturbed <= 1
        for s in out.successes:
            assert s["changed"] and s["original"] != s["perturbed"]
            assert s["original_label"] in LABELS and s["perturbed_label"] != s["original_label"]
    else:
        assert out.avg_words_perturbed == (0.0 if attacked else None)
    assert set(out.components) == {"transformation", "constraints", "goal_function", "search_method"}
    json.dumps(out.to_dict())


def test_summarise_without_successes():
    records = [
        {"status": "failed", "num_queries": 10},
        {"status": "skipped", "num_queries": 0},
        {"status": "failed", "num_queries": 20},
    ]
    out = summarise("x", {}, None, records)
    assert (out.succeeded, out.failed, out.skipped) == (0, 2, 1)
    assert out.avg_words_perturbed == 0.0 and out.successes == []  # defined: every attack failed, no word changed
    assert out.attack_success_rate == 0.0 and out.attack_success_rate_interval == _wilson(0, 2)
    assert out.avg_queries == 15.0
    none = summarise("x", {}, None, [{"status": "skipped", "num_queries": 0}])
    assert none.attack_success_rate is None and none.attack_success_rate_interval is None
    assert none.avg_words_perturbed is None  # nothing was attacked


def test_resource_recipe_fails_fast_and_unknown_recipe():
    start = time.perf_counter()
    with pytest.raises(ResourceMissing, match="counter-fitted word embeddings"):
        build_attack("textfooler", object())
    assert time.perf_counter() - start < 10
    with pytest.raises(ValueError, match="known recipes: .*deepwordbug"):
        build_attack("no-such-recipe", object())
    assert issubclass(ResourceMissing, ValueError)


def test_stratified_sample():
    labels = [0] * 50 + [1] * 30 + [2] * 20
    a = stratified_sample(labels, 10, seed=3)
    assert a == stratified_sample(labels, 10, seed=3)
    assert a != stratified_sample(labels, 10, seed=4)
    assert len(a) == len(set(a)) == 10
    assert [sum(labels[i] == c for i in a) for c in range(3)] == [5, 3, 2]
    rare = stratified_sample([0] * 98 + [1] * 2, 5, seed=0)
    assert len(rare) == 5 and any(i >= 98 for i in rare)
    assert stratified_sample(labels, 500, seed=0) == list(range(100))


def test_checkpoint_resume(setup, tmp_path, monkeypatch):
    predictor, texts, labels = setup
    kwargs = dict(recipe="char-swap", examples=25, query_budget=200, seed=1)
    calls = []
    real = attack_module.attack_pairs

    def counting(attack, pairs, seed, budget):
        calls.append(seed)
        return real(attack, pairs, seed, budget)

    monkeypatch.setattr(attack_module, "attack_pairs", counting)
    full = run_attack(texts, labels, LABELS, predictor, **kwargs)
    assert len(calls) == 3
    calls.clear()
    first = run_attack(texts, labels, LABELS, predictor, checkpoint_dir=tmp_path, **kwargs)
    chunks = sorted(tmp_path.glob("chunk-*.json"))
    assert len(chunks) == 3 and len(calls) == 3
    assert first == full
    chunks[1].unlink()  # simulate an interruption: chunk 1 never finished
    calls.clear()
    resumed = run_attack(texts, labels, LABELS, predictor, checkpoint_dir=tmp_path, **kwargs)
    assert len(calls) == 1
    assert resumed == full
    calls.clear()
    assert run_attack(texts, labels, LABELS, predictor, checkpoint_dir=tmp_path, **kwargs) == full
    assert calls == []
