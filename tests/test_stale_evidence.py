"""No stale evidence (issue 12, part 1): a result computed for one model is never reported for another.

The sequence of the bug, through the real CLI: audit model A into a folder, then
a different model B into the same folder without ``--resume``. B's attack
evidence must be exactly what B gives in a fresh folder. Also: the attack's
chunk key changes with the weights, the options and the library versions, and
``--resume`` with the same inputs still reuses the checkpoints.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import run_cli, write_config

CHECK = "robustness.attack_success_rate"
#: Tiny and fast: a few dozen test notes, a small attack with a small query budget.
ATTACK = {"recipe": "char-swap", "examples": 12, "query_budget": 60}


def _write(folder: Path, epochs: int) -> Path:
    """A config of the built-in tiny BERT fine-tuned for ``epochs``, with a suite of the attack check only."""
    folder.mkdir(parents=True, exist_ok=True)
    suite = folder / "attack-only.yaml"
    suite.write_text(json.dumps({"name": "attack-only", "checks": {CHECK: ATTACK}}), encoding="utf-8")
    return write_config(folder, {
        "model": {"path": "builtin:tiny-bert", "fine_tune": {"epochs": epochs, "lr": 2e-3, "batch_size": 16}},
        "data": {"path": "builtin:clinical-triage", "synthetic": {"size": 240}},
        "suite": str(suite),
        "seed": 0,
    }, name=f"model-{epochs}.yaml")


def _audit(config: Path, output: Path, *extra: str) -> dict[str, Any]:
    done = run_cli("run", str(config), "-o", str(output), "-q", *extra, cwd=config.parent)
    assert done.returncode in (0, 1), done.stderr + done.stdout
    return json.loads((output / "results.json").read_text(encoding="utf-8"))


def _attack(results: dict[str, Any]) -> dict[str, Any]:
    check = next(c for c in results["checks"] if c["id"] == CHECK)
    assert check["status"] in ("pass", "fail", "inconclusive"), check["message"]
    return {"evidence": check["evidence"], "metrics": check["metrics"], "weights": results["provenance"]["model"]["weights_sha256"]}


def test_another_model_in_the_same_folder_without_resume_gets_its_own_attack(tmp_path: Path) -> None:
    model_a, model_b = _write(tmp_path / "a", epochs=1), _write(tmp_path / "b", epochs=4)
    shared = tmp_path / "shared"
    a = _attack(_audit(model_a, shared))
    b_after_a = _attack(_audit(model_b, shared))
    b_fresh = _attack(_audit(model_b, tmp_path / "fresh"))
    assert a["weights"] != b_fresh["weights"] == b_after_a["weights"]
    assert b_after_a == b_fresh  # B's own attack, not A's
    assert a["evidence"] != b_fresh["evidence"]  # and A's really was another one
    chunks = list((shared / ".scratch" / "checkpoints" / "robustness" / ATTACK["recipe"]).glob("chunk-*.json"))
    fresh_chunks = list((tmp_path / "fresh" / ".scratch" / "checkpoints" / "robustness" / ATTACK["recipe"]).glob("chunk-*.json"))
    assert sorted(c.name for c in chunks) == sorted(c.name for c in fresh_chunks)  # A's checkpoints were removed

    # --resume with the same inputs reuses the checkpoints: a chunk file that answers differently is believed
    # (and never read by a run without --resume)
    (shared / "results.json").unlink()
    marker = sorted(chunks)[0]
    records = json.loads(marker.read_text(encoding="utf-8"))
    records[0]["num_queries"] = 10**6
    marker.write_text(json.dumps(records), encoding="utf-8")
    resumed = _attack(_audit(model_b, shared, "--resume"))
    assert resumed["evidence"]["avg_queries"] != b_fresh["evidence"]["avg_queries"]
    again = _attack(_audit(model_b, shared))
    assert again == b_fresh


# ---------------------------------------------------------------- the chunk key


@pytest.fixture(scope="module")
def predictor(tiny_attack_model: Any) -> Any:
    from harness.ml.predict import Predictor

    handle, _, _ = tiny_attack_model
    return Predictor(handle)


def _key(predictor: Any, **changes: Any) -> str:
    from harness_robustness.attack import attack_identity, chunk_key

    settings = {"recipe": "char-swap", "components": {"search_method": "greedy"}, "query_budget": 60, "seed": 1,
                "label_names": ["a", "b"], "fields": {"options": dict(ATTACK), "data": "f" * 64}}
    settings.update(changes)
    identity = attack_identity(predictor, **settings)
    assert identity is not None
    return chunk_key(identity, 0, [("a note", 0), ("another note", 1)])


def test_chunk_key_names_model_options_data_and_library_versions(predictor: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    base = _key(predictor)
    assert _key(predictor) == base  # stable: --resume finds it again
    assert _key(predictor, fields={"options": {**ATTACK, "query_budget": 61}, "data": "f" * 64}) != base
    assert _key(predictor, fields={"options": dict(ATTACK), "data": "e" * 64}) != base
    assert _key(predictor, seed=2) != base
    handle = predictor.handle
    saved = handle.weights_sha256
    try:
        handle.weights_sha256 = "0" * 64  # another model
        assert _key(predictor) != base
    finally:
        handle.weights_sha256 = saved
    assert _key(predictor) == base

    real = importlib.metadata.version

    def other_textattack(name: str) -> str:
        return "0.0.0-other" if name == "textattack" else real(name)

    monkeypatch.setattr(importlib.metadata, "version", other_textattack)
    assert _key(predictor) != base


def test_predictor_forgets_outputs_of_other_weights(tiny_attack_model: Any) -> None:
    """The shared Predictor's cache is keyed by the weights: a re-digested model is queried afresh."""
    import copy

    import torch

    from harness.ml.predict import Predictor

    handle, texts, _ = tiny_attack_model
    handle = copy.copy(handle)
    handle.model = copy.deepcopy(handle.model)
    handle.refresh_digest()
    predictor = Predictor(handle)
    before = predictor.logits(texts[:4])
    with torch.no_grad():
        for parameter in handle.model.classifier.parameters():
            parameter.add_(1.0)
    handle.refresh_digest()
    after = predictor.logits(texts[:4])
    assert predictor.stats().forward_texts == 8
    assert not (before == after).all()


def test_a_run_without_resume_starts_from_an_empty_scratch_folder(tmp_path: Path) -> None:
    from harness.config.settings import load_config
    from harness.run.context import RunContext

    config, _, _ = load_config({"output": {"dir": str(tmp_path)}})
    ctx = RunContext(config=config, seed=0, output_dir=tmp_path, scratch_dir=tmp_path / ".scratch", base_dir=tmp_path)
    stale = ctx.checkpoint_dir("robustness", "char-swap") / "chunk-00000-old.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("[]", encoding="utf-8")
    ctx.empty_scratch()
    assert not ctx.scratch_dir.exists()
    ctx.empty_scratch()  # nothing there: nothing to do


# ---------------------------------------------------------------- the core's keys


def test_inputs_key_names_the_model_and_library_versions(harness_context: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--resume`` keeps a check only for the same weights, device, libraries and settings."""
    import importlib.metadata

    from harness.run.runner import Run

    run = Run(harness_context.config, quiet=True)
    planned = run.plan().checks[0]
    base = run._inputs_key(planned, harness_context)
    assert run._inputs_key(planned, harness_context) == base
    handle = harness_context.model
    saved = handle.weights_sha256
    try:
        handle.weights_sha256 = "0" * 64
        assert run._inputs_key(planned, harness_context) != base
    finally:
        handle.weights_sha256 = saved
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "9.9.9" if name == "torch" else real(name))
    assert run._inputs_key(planned, harness_context) != base


def test_shadow_folder_is_named_by_its_inputs(tmp_path: Path) -> None:
    import dataclasses

    import numpy as np

    from harness.config.settings import load_config
    from harness.ml.data import Split
    from harness_privacy.shadow import ShadowJob, shadow_key

    config, _, _ = load_config({"model": {"path": "builtin:tiny-bert", "fine_tune": {"epochs": 1}}})
    split = Split(name="train", ids=("a", "b"), texts=("one note", "two notes"), labels=np.array([0, 1]), sensitive={})
    job = ShadowJob(index=0, seed=1, config=config, base_dir=str(tmp_path), scratch_dir=str(tmp_path), device="cpu",
                    label_names=("x", "y"), vocabulary_texts=split.texts, train=split, validation=split, candidates=("c",))
    base = shadow_key(job)
    assert shadow_key(dataclasses.replace(job)) == base
    assert shadow_key(dataclasses.replace(job, seed=2)) != base
    assert shadow_key(dataclasses.replace(job, candidates=("d",))) != base
    other = dataclasses.replace(split, texts=("one note", "three notes"))
    assert shadow_key(dataclasses.replace(job, train=other)) != base
    longer = config.model_copy(update={"model": config.model.model_copy(update={"fine_tune": config.model.fine_tune.model_copy(update={"epochs": 2})})})
    assert shadow_key(dataclasses.replace(job, config=longer)) != base
