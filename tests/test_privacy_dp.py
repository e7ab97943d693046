"""DP fine-tuning (Opacus) and the check privacy.dp_epsilon: options, accounting, no-DP, resume.

The epsilon the harness reports is recomputed here straight from Opacus'
accountants with the sample rate, noise multiplier and steps in results.json,
and the noise multiplier from Opacus' own calibration; the sample rate and
step count from the data size and batch size.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from conftest import run_cli, write_config

TRAIN_FRACTION = 0.6  # the default split (train 0.6, validation 0.2, test 0.2)


def _suite(folder: Path, gate: bool = True) -> str:
    entry = {} if gate else {"gate": False}
    write_config(folder, {"name": "dp-test", "checks": {"privacy.dp_epsilon": entry}}, name="suite.yaml")
    return "suite.yaml"


def _config(folder: Path, fine_tune: dict[str, Any], size: int = 300) -> Path:
    return write_config(folder, {
        "model": {"path": "builtin:tiny-bert", "fine_tune": fine_tune},
        "data": {"path": "builtin:clinical-triage", "synthetic": {"size": size}},
        "suite": _suite(folder),
        "output": {"dir": "out"},
    })


def _check(output: Path) -> dict[str, Any]:
    results = json.loads((output / "results.json").read_text(encoding="utf-8"))
    return next(c for c in results["checks"] if c["id"] == "privacy.dp_epsilon")


def _metric(check: dict[str, Any], name: str) -> Any:
    return next(m for m in check["metrics"] if m["name"] == name)["value"]


# ---------------------------------------------------------------- options


def _options(dp: Any, **fine_tune: Any) -> Any:
    from harness.config.settings import ModelConfig
    from harness_privacy.dp import dp_options

    return dp_options(ModelConfig(path="builtin:tiny-bert", fine_tune={"epochs": 1, "dp": dp, **fine_tune}))


@pytest.mark.parametrize(("dp", "extra", "expected"), [
    ({}, {}, "model.fine_tune.dp.target_epsilon: required"),
    ({"target_epsilon": 0}, {}, "model.fine_tune.dp.target_epsilon: Input should be greater than 0"),
    ({"target_epsilon": 8, "delta": 1.5}, {}, "model.fine_tune.dp.delta: must be between 0 and 1"),
    ({"target_epsilon": 8, "delta": "often"}, {}, "model.fine_tune.dp.delta: expected 'auto' or a number"),
    ({"target_epsilon": 8, "max_grad_norm": -1}, {}, "model.fine_tune.dp.max_grad_norm: Input should be greater than 0"),
    ({"target_epsilon": 8, "accountant": "renyi"}, {}, "model.fine_tune.dp.accountant: Input should be 'prv', 'rdp' or 'gdp'"),
    ({"target_epsilon": 8, "grad_sample_mode": "ew"}, {}, "model.fine_tune.dp.grad_sample_mode: Input should be 'hooks', 'ghost' or 'auto'"),
    ({"target_epsilon": 8, "target_epsilom": 3}, {}, "model.fine_tune.dp.target_epsilom: unknown option (did you mean 'target_epsilon'?)"),
    (5, {}, "model.fine_tune.dp: expected a mapping"),
    ({"target_epsilon": 8}, {"adversarial_augment": {"recipe": "deepwordbug"}}, "cannot be combined"),
])
def test_bad_dp_options_are_one_line_config_errors(dp: Any, extra: dict[str, Any], expected: str) -> None:
    from harness.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        _options(dp, **extra)
    message = str(caught.value)
    assert expected in message and "\n" not in message


def test_valid_options_and_no_dp() -> None:
    options = _options({"target_epsilon": 3, "delta": 1e-5, "accountant": "rdp", "grad_sample_mode": "hooks"})
    assert (options.target_epsilon, options.delta, options.accountant, options.grad_sample_mode) == (3, 1e-5, "rdp", "hooks")
    assert _options({"target_epsilon": 3, "delta": "1e-5"}).delta == 1e-5  # YAML reads 1e-5 as a string
    from harness.config.settings import ModelConfig
    from harness_privacy.dp import dp_options

    assert dp_options(ModelConfig(path="builtin:tiny-bert", fine_tune={"epochs": 1})) is None
    assert dp_options(ModelConfig(path="builtin:tiny-bert")) is None


def test_bad_dp_option_through_the_cli_exits_2_with_one_line(tmp_path: Path) -> None:
    config = _config(tmp_path, {"epochs": 1, "dp": {"target_epsilon": 8, "acountant": "rdp"}}, size=100)
    done = run_cli("run", str(config), cwd=tmp_path)  # not quiet: still exactly one line (validated before anything loads)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr  # no "[harness] data: ..." progress line: nothing was loaded first
    assert "model.fine_tune.dp.acountant: unknown option (did you mean 'accountant'?)" in lines[0]
    assert not (tmp_path / "out" / "results.json").exists()


# ---------------------------------------------------------------- end to end


def test_dp_fine_tune_reports_the_opacus_epsilon_and_survives_resume(tmp_path: Path) -> None:
    from opacus.accountants import PRVAccountant
    from opacus.accountants.utils import get_noise_multiplier
    from safetensors import safe_open

    epochs, batch_size, size, target = 2, 16, 300, 4.0
    config = _config(tmp_path, {"epochs": epochs, "lr": 2e-3, "batch_size": batch_size, "dp": {"target_epsilon": target}}, size=size)
    done = run_cli("run", str(config), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out"
    check = _check(out)
    assert check["status"] == "pass", check
    dp = check["evidence"]["dp"]
    n_train = dp["train_examples"]
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    canaries = results["provenance"]["fine_tuning"]["canaries"]  # planted by default in a DP run
    assert canaries["count"] == 100 and canaries["seed"] == 0 and canaries["count_source"].startswith("auto")
    assert n_train == round(size * TRAIN_FRACTION) + canaries["included"] == canaries["train_examples_without_canaries"] + canaries["included"]
    assert results["provenance"]["data"]["splits"]["train"]["size"] == round(size * TRAIN_FRACTION)  # the run's own split holds no canary
    # delta auto = 1/(10 n); Poisson rate 1/ceil(n/B); all planned steps ran (2 epochs cannot stop early)
    assert dp["delta"] == pytest.approx(1 / (10 * n_train), rel=1e-12)
    assert "delta auto = 1/(10 n)" in check["message"]
    assert dp["sample_rate"] == pytest.approx(1 / math.ceil(n_train / batch_size), rel=1e-12)
    assert dp["steps"] == epochs * math.ceil(n_train / batch_size) == _metric(check, "steps")
    assert dp["poisson_sampling"] is True and dp["accountant"] == "prv"
    # the noise is what Opacus calibrates for the target (its own binary search)
    sigma = get_noise_multiplier(target_epsilon=target, target_delta=dp["delta"], sample_rate=dp["sample_rate"], steps=dp["steps"], accountant="prv")
    assert dp["noise_calibrated_for_steps"] == dp["steps"]
    assert dp["noise_multiplier"] == pytest.approx(sigma, rel=1e-9)
    # the reported epsilon is a direct accountant computation, and within the target
    accountant = PRVAccountant()
    accountant.history = [(dp["noise_multiplier"], dp["sample_rate"], dp["steps"])]
    direct = accountant.get_epsilon(delta=dp["delta"])
    epsilon = _metric(check, "epsilon")
    assert epsilon == pytest.approx(direct, rel=1e-6)
    assert 0 < epsilon <= target
    interval = next(m for m in check["metrics"] if m["name"] == "epsilon")["interval"]
    assert interval["low"] < epsilon == pytest.approx(interval["high"])
    assert dp["grad_sample_mode"] in ("ghost", "hooks") and (dp["grad_sample_mode"] == "ghost" or dp["ghost_fallback_reason"])
    assert dp["position_ids"].startswith("explicit") and dp["frozen"] == []
    # the saved model is a plain HF model (no Opacus wrapper prefix) and the report shows the accounting
    with safe_open(str(out / "model" / "model.safetensors"), "pt") as saved:
        assert not [key for key in saved.keys() if "_module" in key]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "DP-SGD accounting" in html and f"{dp['steps']} of {dp['steps']} planned" in html
    assert results["provenance"]["fine_tuning"]["dp"]["epsilon"] == epsilon

    # resume: the model and its DP accounting come back from the saved folder; the check runs again on them
    (out / "results.json").unlink()
    again = run_cli("run", str(config), "--resume", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "resumed the fine-tuned model" in again.stderr and "DP: epsilon" not in again.stderr
    resumed = _check(out)
    assert _metric(resumed, "epsilon") == epsilon and resumed["evidence"]["dp"] == dp


def test_model_trained_without_dp_has_no_formal_guarantee_and_fails_the_bound(tmp_path: Path) -> None:
    config = _config(tmp_path, {"epochs": 1, "lr": 2e-3, "batch_size": 16}, size=100)
    done = run_cli("run", str(config), cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    check = _check(tmp_path / "out")
    assert check["status"] == "fail"
    assert _metric(check, "epsilon") is None
    assert "no formal guarantee: the model was not trained with differential privacy" in check["message"]
    assert "so its threshold" in check["message"] and "cannot be met" in check["message"]
    [bound] = check["thresholds"]
    assert (bound["metric"], bound["op"], bound["bound"], bound["value"], bound["passed"]) == ("epsilon", "max", 8.0, None, False)
    assert "no formal guarantee" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")


# ---------------------------------------------------------------- the loop itself, in process


def _small_bundle(size: int) -> Any:
    from harness.config.settings import DataConfig
    from harness.ml.data import load_dataset

    return load_dataset(DataConfig(path="builtin:clinical-triage", synthetic={"size": size}), seed=0, base_dir=Path.cwd())


@pytest.mark.parametrize("mode", ["hooks", "ghost"])
def test_empty_poisson_batches_are_noise_steps_and_rdp_matches_opacus(mode: str) -> None:
    """Batch size 1 makes empty Poisson batches common; every draw must still be an accounted step."""
    import torch
    from opacus.accountants import RDPAccountant

    from harness.config.settings import FineTuneConfig
    from harness.ml.models import ModelHandle
    from harness.ml.tiny_bert import build_tiny_bert
    from harness_privacy.dp_training import DPSettings, dp_fine_tune

    data = _small_bundle(60)
    train = data.splits["train"]
    model, tokenizer = build_tiny_bert(train.texts, data.label_names, seed=0)
    handle = ModelHandle(model, tokenizer, torch.device("cpu"), "builtin:tiny-bert", data.label_names, max_length=64)
    settings = FineTuneConfig(epochs=1, batch_size=1, lr=1e-3, max_length=32)
    dp = DPSettings(target_epsilon=5, delta=1e-3, delta_source="config", max_grad_norm=0.5, accountant="rdp", grad_sample_mode=mode, max_physical_batch_size=4)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    report = dp_fine_tune(handle, data, settings, dp, seed=0, progress=False)
    info = report.extra["dp"]
    assert info["grad_sample_mode"] == mode and info["ghost_fallback_reason"] is None
    assert info["steps"] == len(train) and info["empty_batches"] > 0
    accountant = RDPAccountant()
    accountant.history = [(info["noise_multiplier"], 1 / len(train), len(train))]
    assert info["epsilon"] == pytest.approx(accountant.get_epsilon(delta=1e-3), rel=1e-9)
    assert info["epsilon"] <= 5
    # plain model again: no Opacus attributes or hooks left, and it did train
    assert not any(hasattr(p, "grad_sample") or hasattr(p, "_forward_counter") for p in model.parameters())
    assert not any(module._forward_hooks or module._backward_hooks for module in model.modules())
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert handle.weights_sha256


def test_ghost_failure_falls_back_to_hooks_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from harness.config.settings import FineTuneConfig
    from harness.ml.models import ModelHandle
    from harness.ml.tiny_bert import build_tiny_bert
    from harness_privacy import dp_training

    real = dp_training._make_private

    def no_ghost(*args: Any, **kwargs: Any) -> Any:
        if args[4] == "ghost":
            raise NotImplementedError("ghost clipping is not supported for this layer")
        return real(*args, **kwargs)

    monkeypatch.setattr(dp_training, "_make_private", no_ghost)
    data = _small_bundle(40)
    model, tokenizer = build_tiny_bert(data.splits["train"].texts, data.label_names, seed=0)
    handle = ModelHandle(model, tokenizer, torch.device("cpu"), "builtin:tiny-bert", data.label_names, max_length=64)
    dp = dp_training.DPSettings(target_epsilon=8, delta=1e-3, delta_source="config", max_grad_norm=1.0, accountant="rdp", grad_sample_mode="auto", max_physical_batch_size=8, freeze_embeddings=True)
    words = model.bert.embeddings.word_embeddings.weight.detach().clone()
    report = dp_training.dp_fine_tune(handle, data, FineTuneConfig(epochs=1, batch_size=8, max_length=32), dp, seed=0, progress=False)
    info = report.extra["dp"]
    assert info["grad_sample_mode"] == "hooks" and info["grad_sample_mode_requested"] == "auto"
    assert info["ghost_fallback_reason"] == "NotImplementedError: ghost clipping is not supported for this layer"
    # freeze_embeddings: the tables are listed, untouched by training, and trainable again afterwards
    assert "bert.embeddings.word_embeddings" in info["frozen"] and "bert.embeddings.position_embeddings" in info["frozen"]
    assert torch.equal(model.bert.embeddings.word_embeddings.weight, words)
    assert all(p.requires_grad for p in model.parameters())
