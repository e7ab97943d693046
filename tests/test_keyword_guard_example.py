"""examples/harness-keyword-guard, installed (``make test`` pip-installs it), through the real CLI.

Its own tests (examples/harness-keyword-guard/tests) check the numbers with
harness.testing; here: discovery, switches and one real ``harness run``.
"""

from __future__ import annotations

import importlib.metadata
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import offline_env, run_cli, write_config

ROOT = Path(__file__).resolve().parent.parent



def test_it_is_installed_from_the_repository_as_an_external_plugin(tmp_path: Path) -> None:
    try:
        dist = importlib.metadata.distribution("harness-keyword-guard")
    except importlib.metadata.PackageNotFoundError:
        pytest.fail("the example plugin is not installed: make setup (or pip install --no-deps -e examples/harness-keyword-guard)")
    done = run_cli("plugins", "--hooks", cwd=tmp_path)
    assert "keyword_guard 0.2.0 [external, entry point (harness-keyword-guard)]" in done.stdout
    assert "    keyword_guard.protected_terms" in done.stdout
    assert "    hooks: harness_register_checks, harness_report_sections" in done.stdout
    import harness_keyword_guard

    assert Path(harness_keyword_guard.__file__).resolve().is_relative_to(ROOT / "examples/harness-keyword-guard")
    assert dist.version == harness_keyword_guard.__version__ == "0.2.0"


def test_plugins_all_shows_it_when_the_switches_keep_it_out(tmp_path: Path) -> None:
    done = run_cli("plugins", "--all", cwd=tmp_path, env=offline_env(HARNESS_PLUGINS=""))
    assert "keyword_guard 0.2.0 [disabled by not in HARNESS_PLUGINS, entry point (harness-keyword-guard)]" in done.stdout
    assert "accuracy 0.1.0 [built-in" in done.stdout
    plain = run_cli("plugins", cwd=tmp_path, env=offline_env(HARNESS_PLUGINS=""))
    assert "keyword_guard" not in plain.stdout


def test_a_run_gates_on_protected_words(tmp_path: Path) -> None:
    (tmp_path / "guard.yaml").write_text("name: guard\nchecks:\n  keyword_guard.protected_terms: {max: 0.01}\n")
    config = write_config(tmp_path, {
        "model": {"path": "builtin:tiny-bert", "fine_tune": {"epochs": 4, "lr": 5.0e-3, "batch_size": 8}},
        "data": {"path": "builtin:clinical-triage", "synthetic": {"size": 400, "bias": 1.0, "bias_group": "sex=female"}},
        "suite": "guard.yaml",
        "output": {"dir": "out", "formats": ["json", "html", "junit"]},
    })
    done = run_cli("run", str(config), cwd=tmp_path)
    assert done.returncode == 1, done.stderr + done.stdout  # a biased model fails the guard
    check = json.loads((tmp_path / "out/results.json").read_text())["checks"][0]
    assert check["id"] == "keyword_guard.protected_terms" and check["status"] == "fail"
    flipped, tested = check["evidence"]["flipped"], check["evidence"]["tested"]
    assert check["metrics"][0]["value"] == flipped / tested and flipped > 0
    low, high = check["metrics"][0]["interval"]["low"], check["metrics"][0]["interval"]["high"]
    assert low > 0.01  # the whole interval is beyond the limit: a fail, not an inconclusive
    assert (f"FAIL         keyword_guard.protected_terms: the whole interval [{low:.3f}, {high:.3f}] of flip_rate "
            "misses the limit (at most 0.01)") in done.stdout
    html = (tmp_path / "out/report.html").read_text()
    assert "<del>" in html and "Texts whose prediction depends on protected words" in html
    case = next(c for c in ET.parse(tmp_path / "out/junit.xml").getroot().iter("testcase") if c.get("name") == "keyword_guard.protected_terms")
    assert case.find("failure") is not None
