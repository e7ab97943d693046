"""Shared fixtures: the real console script, small configs, and one shared smoke run.

End-to-end tests run the installed ``harness`` script in a subprocess, offline,
on the built-in tiny model and a small built-in dataset; the smoke run is
done once per session and read by several tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

HARNESS = str(Path(sys.executable).parent / "harness")

#: Small and fast: ~400 notes, a few epochs of the built-in tiny BERT.
SMOKE_CONFIG: dict[str, Any] = {
    "model": {"path": "builtin:tiny-bert", "fine_tune": {"epochs": 8, "lr": 2e-3, "batch_size": 16, "early_stopping_patience": 3}},
    "data": {"path": "builtin:clinical-triage", "synthetic": {"size": 500}},
    "suite": "smoke",
    "seed": 0,
}


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str


def offline_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONWARNINGS": "ignore"})
    env.update(extra)
    return env


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300) -> CliRun:
    """Run the real ``harness`` console script."""
    done = subprocess.run([HARNESS, *args], cwd=cwd, env=env or offline_env(), capture_output=True, text=True, timeout=timeout)
    return CliRun(done.returncode, done.stdout, done.stderr)


def write_config(folder: Path, config: dict[str, Any], name: str = "audit.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


@dataclass
class SmokeRun:
    folder: Path
    output: Path
    cli: CliRun

    @property
    def results(self) -> dict[str, Any]:
        return json.loads((self.output / "results.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> SmokeRun:
    """One real ``harness run`` of the smoke config (session-wide, read-only for tests)."""
    folder = tmp_path_factory.mktemp("smoke")
    config = write_config(folder, {**SMOKE_CONFIG, "output": {"dir": "out"}})
    cli = run_cli("run", str(config), cwd=folder)
    assert cli.returncode == 0, cli.stderr + cli.stdout
    return SmokeRun(folder, folder / "out", cli)


@pytest.fixture(scope="session")
def tiny_attack_model() -> tuple[Any, list[str], list[int]]:
    """A briefly trained tiny BERT (so attacks have correct predictions to flip) and 60 held-out notes.

    Shared by the robustness tests: ``(handle, texts, labels)``.
    """
    import numpy as np
    import torch

    from harness.ml.models import ModelHandle
    from harness.ml.tiny_bert import build_tiny_bert
    from harness.ml.builtin_data import LABELS, SyntheticSpec, generate_clinical_triage

    frame = generate_clinical_triage(SyntheticSpec(size=300))
    texts = frame["text"].tolist()
    labels = np.array([LABELS.index(label) for label in frame["label"]])
    train_texts, train_labels = texts[:240], labels[:240]
    model, tokenizer = build_tiny_bert(train_texts, LABELS, seed=0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    model.train()
    rng = np.random.default_rng(0)
    for _ in range(3):
        for batch in np.array_split(rng.permutation(len(train_texts)), 15):
            encoded = tokenizer([train_texts[i] for i in batch], padding=True, truncation=True, return_tensors="pt")
            loss = model(**encoded, labels=torch.as_tensor(train_labels[batch])).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    handle = ModelHandle(model=model, tokenizer=tokenizer, device=torch.device("cpu"), source="builtin:tiny-bert", label_names=LABELS, max_length=128)
    return handle, texts[240:], labels[240:].tolist()
