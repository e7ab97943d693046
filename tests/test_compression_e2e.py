"""The compression audit end to end: the real ``harness`` CLI on the built-in tiny BERT.

- pruning 95% of the nn.Linear weights fails ``compression.agreement`` and
  ``compression.group_regression``, and the group the check names is the group
  that lost most, recomputed here from results.json (the original's
  predictions), the compressed predictions in the evidence and the data's own
  sensitive columns;
- int8 (torchao) on the same saved model: agreement and group regression pass
  or are inconclusive, and the status is the one the interval implies (on 100
  examples even 100% agreement cannot prove >= 0.98); the attack on the original
  is exactly robustness.attack_success_rate's (same sample and seed);
- a user's fp16 model (``model: PATH``, relative to the config) is run in fp16;
- a bad method, an amount out of range and a missing model folder end with one
  line and exit 2 before anything loads.

No fine-tuning of its own: every run audits the session's smoke-run model (conftest.smoke_run, trained
once per session on the same data config and seed, so the evaluation split is the one it never saw).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import SMOKE_CONFIG, SmokeRun, run_cli, write_config

DATA = SMOKE_CONFIG["data"]
PRUNE = {"method": "magnitude-prune", "amount": 0.95}


def _results(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "out" / "results.json").read_text(encoding="utf-8"))


def _check(results: dict[str, Any], check_id: str) -> dict[str, Any]:
    return next(c for c in results["checks"] if c["id"] == check_id)


def _metric(check: dict[str, Any], name: str) -> dict[str, Any]:
    return next(m for m in check["metrics"] if m["name"] == name)


def _consistent(check: dict[str, Any], name: str, *, low_bound: float | None = None, high_bound: float | None = None) -> None:
    """The status is what the whole interval says about the limit: pass, fail or inconclusive."""
    interval = _metric(check, name)["interval"]
    if low_bound is not None:  # a minimum
        expected = "pass" if interval["low"] >= low_bound else "fail" if interval["high"] < low_bound else "inconclusive"
    else:  # a maximum
        expected = "pass" if interval["high"] <= high_bound else "fail" if interval["low"] > high_bound else "inconclusive"
    assert check["status"] == expected, (check["status"], interval, check["message"])


@pytest.fixture(scope="module")
def model_folder(smoke_run: SmokeRun) -> Path:
    """The fine-tuned tiny BERT the smoke run saved."""
    folder = smoke_run.output / "model"
    assert (folder / "model.safetensors").is_file()
    return folder


@pytest.fixture(scope="module")
def pruned(tmp_path_factory: pytest.TempPathFactory, model_folder: Path, smoke_run: SmokeRun) -> Path:
    folder = tmp_path_factory.mktemp("compression-prune")
    config = write_config(folder, {
        "model": {"path": str(model_folder)}, "data": DATA, "suite": "compression", "seed": SMOKE_CONFIG["seed"],
        "checks": {"compression.agreement": PRUNE, "compression.group_regression": PRUNE, "compression.footprint": PRUNE,
                   "compression.robustness_regression": {"enabled": False}},
        "output": {"dir": "out"},
    })
    cli = run_cli("run", str(config), cwd=folder)
    assert cli.returncode == 1, cli.stderr + cli.stdout  # the gate said no
    # the same evaluation split the model was held out from (same data config and seed as the smoke run)
    assert _results(folder)["predictions"]["ids"] == smoke_run.results["predictions"]["ids"]
    return folder


def test_prune_095_fails_agreement_and_names_the_group_that_lost_most(pruned: Path) -> None:
    from statsmodels.stats.proportion import proportion_confint

    from harness.config.settings import DataConfig
    from harness.ml.data import load_dataset

    results = _results(pruned)
    agreement = _check(results, "compression.agreement")
    groups = _check(results, "compression.group_regression")
    assert agreement["status"] == "fail" and groups["status"] == "fail", (agreement["message"], groups["message"])

    # independently: the original's predictions from results.json, the compressed ones from the evidence
    predictions = results["predictions"]
    ids, labels = predictions["ids"], np.asarray(predictions["labels"])
    original = np.asarray(predictions["predictions"])
    compressed = np.asarray(agreement["evidence"]["compressed_predictions"])
    assert len(compressed) == len(ids) == agreement["evidence"]["n"]
    agree = int(np.sum(original == compressed))
    value = _metric(agreement, "agreement")
    low, high = proportion_confint(agree, len(ids), alpha=0.05, method="beta")
    assert value["value"] == pytest.approx(agree / len(ids))
    assert (value["interval"]["low"], value["interval"]["high"]) == (pytest.approx(low), pytest.approx(high))
    assert value["interval"]["high"] < 0.98

    split = load_dataset(DataConfig(**DATA), seed=0, base_dir=pruned).eval
    position = {str(i): k for k, i in enumerate(split.ids)}
    losses = {}
    assert split.sensitive
    for column in split.sensitive:
        values = np.asarray([split.sensitive[column][position[i]] for i in ids])
        for group in sorted(set(values)):
            mask = values == group
            if mask.sum() >= 30:  # min_group_size
                losses[f"{column}={group}"] = np.mean(original[mask] == labels[mask]) - np.mean(compressed[mask] == labels[mask])
    worst = groups["evidence"]["worst_group"]
    assert losses[worst] == pytest.approx(max(losses.values()))  # the named group lost most (ties: any of them)
    assert f"the group that lost most accuracy is {worst}" in groups["message"]
    headline = _metric(groups, "max_group_accuracy_loss")
    assert headline["value"] == pytest.approx(losses[worst])
    assert headline["interval"]["low"] > 0.05  # fail: the whole interval is beyond the tolerance

    footprint = _check(results, "compression.footprint")
    assert _metric(footprint, "linear_weight_sparsity")["value"] == pytest.approx(0.95, abs=1e-3)
    report = (pruned / "out" / "report.html").read_text(encoding="utf-8")
    assert "Accuracy lost per group" in report and worst in report
    listed = agreement["evidence"]["disagreements"]
    assert listed and all("@" not in e["text"] for e in listed)  # e-mail addresses masked


def test_int8_passes_or_is_inconclusive_as_its_intervals_say(tmp_path: Path, model_folder: Path) -> None:
    pytest.importorskip("torchao")
    folder = tmp_path
    config = write_config(folder, {
        "model": {"path": str(model_folder)}, "data": DATA, "suite": "compression", "seed": 0,
        "checks": {"compression.robustness_regression": {"examples": 6},
                   "robustness.attack_success_rate": {"examples": 6, "gate": False}},
        "output": {"dir": "out"},
    })
    cli = run_cli("run", str(config), cwd=folder)
    assert cli.returncode in (0, 1), cli.stderr + cli.stdout
    results = _results(folder)
    agreement = _check(results, "compression.agreement")
    assert agreement["evidence"]["compression"] == {"method": "int8-dynamic"}
    assert agreement["status"] in ("pass", "inconclusive"), agreement["message"]
    _consistent(agreement, "agreement", low_bound=0.98)
    assert _metric(agreement, "agreement")["value"] >= 0.95
    groups = _check(results, "compression.group_regression")
    assert groups["status"] in ("pass", "inconclusive"), groups["message"]
    _consistent(groups, "max_group_accuracy_loss", high_bound=0.05)
    attack = _check(results, "compression.robustness_regression")
    _consistent(attack, "attack_success_rate_increase", high_bound=0.1)
    robustness = _check(results, "robustness.attack_success_rate")["evidence"]
    assert {k: attack["evidence"]["original"][k] for k in ("succeeded", "failed", "skipped")} == \
        {k: robustness[k] for k in ("succeeded", "failed", "skipped")}
    footprint = _check(results, "compression.footprint")
    assert _metric(footprint, "parameter_bytes_ratio")["value"] < 0.6
    assert footprint["gated"] is False
    assert results["exit_code"] == (0 if all(c["status"] == "pass" for c in results["checks"] if c["gated"]) else 1)


def test_a_users_fp16_model_is_audited_in_fp16(tmp_path: Path, model_folder: Path) -> None:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = tmp_path / "fp16"
    folder.mkdir()
    source = model_folder
    model = AutoModelForSequenceClassification.from_pretrained(source).to(torch.float16)
    model.save_pretrained(folder / "fp16-model")
    AutoTokenizer.from_pretrained(source).save_pretrained(folder / "fp16-model")
    mine = {"model": "fp16-model"}  # relative to the config file's folder
    write_config(folder, {
        "model": {"path": str(source)}, "data": DATA, "suite": "compression", "seed": 0,
        "checks": {"compression.agreement": mine, "compression.group_regression": mine, "compression.footprint": mine,
                   "compression.robustness_regression": {"enabled": False}},
        "output": {"dir": str(folder / "out")},
    })
    cli = run_cli("run", "fp16/audit.yaml", cwd=tmp_path)  # another working directory: the model path is the config's
    assert cli.returncode in (0, 1), cli.stderr + cli.stdout
    results = _results(folder)
    agreement = _check(results, "compression.agreement")
    assert agreement["evidence"]["compression_details"]["dtype"] == "float16"
    assert agreement["status"] in ("pass", "inconclusive"), agreement["message"]
    _consistent(agreement, "agreement", low_bound=0.98)
    assert _metric(_check(results, "compression.footprint"), "parameter_bytes_ratio")["value"] == pytest.approx(0.5)


@pytest.mark.parametrize(("settings", "needles"), [
    ({"method": "int4"}, ("checks.compression.agreement.method", "'int8-dynamic', 'fp16', 'bf16' or 'magnitude-prune'")),
    ({"method": "magnitude-prune", "amount": 1.5}, ("checks.compression.agreement.amount", "strictly between 0 and 1")),
    ({"model": "./no-such-model"}, ("checks.compression.agreement.model", "./no-such-model does not exist")),
])
def test_bad_compression_config_is_one_line_and_exit_2(tmp_path: Path, settings: dict, needles: tuple[str, ...]) -> None:
    write_config(tmp_path, {"data": DATA, "suite": "compression", "checks": {"compression.agreement": settings}, "output": {"dir": "out"}})
    cli = run_cli("run", "audit.yaml", cwd=tmp_path, timeout=120)
    lines = cli.stderr.strip().splitlines()
    assert cli.returncode == 2 and len(lines) == 1, cli.stderr
    assert all(needle in lines[0] for needle in needles), lines[0]
    assert not (tmp_path / "out").exists()
