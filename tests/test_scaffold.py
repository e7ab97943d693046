"""``harness plugin new``: the package it writes installs with pip (offline), its check
runs in ``harness run`` and shows in results.json, the HTML report and JUnit, and
its own tests (written with harness.testing) pass."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import offline_env, run_cli, write_config


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``harness plugin new demo-guard``, then a real (non-editable, offline) pip install into a --target folder."""
    root = tmp_path_factory.mktemp("scaffold")
    done = run_cli("plugin", "new", "demo-guard", "--dir", str(root), cwd=root)
    assert done.returncode == 0, done.stderr
    package = root / "harness-demo-guard"
    assert done.stdout.splitlines()[0] == str(package)
    site = root / "site"
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(site), str(package)],
        capture_output=True, text=True, timeout=300, env=offline_env(PIP_DISABLE_PIP_VERSION_CHECK="1"),
    )
    assert pip.returncode == 0, pip.stderr
    return package, site


def test_the_package_has_everything_a_plugin_needs(installed: tuple[Path, Path]) -> None:
    package, site = installed
    for relative in ("pyproject.toml", "README.md", "harness_demo_guard/__init__.py",
                     "harness_demo_guard/templates/harness_demo_guard/counts.html", "tests/test_demo_guard.py"):
        assert (package / relative).is_file(), relative
    pyproject = (package / "pyproject.toml").read_text()
    assert '[project.entry-points.harness]\ndemo_guard = "harness_demo_guard"' in pyproject
    assert "harness_register_checks" in (package / "harness_demo_guard/__init__.py").read_text()
    # what pip installed: the module, the partial (package data) and the entry point
    assert (site / "harness_demo_guard/templates/harness_demo_guard/counts.html").is_file()
    dist_info = next(site.glob("harness_demo_guard-0.1.0.dist-info"))
    assert "demo_guard = harness_demo_guard" in (dist_info / "entry_points.txt").read_text()


def test_harness_run_reports_the_new_check_in_every_output(installed: tuple[Path, Path], tmp_path: Path) -> None:
    _, site = installed
    env = offline_env(PYTHONPATH=str(site))
    listed = run_cli("plugins", "--hooks", cwd=tmp_path, env=env)
    assert "demo_guard 0.1.0 [external, entry point (harness-demo-guard)]" in listed.stdout
    assert "    hooks: harness_register_checks, harness_report_sections" in listed.stdout
    (tmp_path / "mine.yaml").write_text("name: mine\nchecks:\n  accuracy.accuracy: {n_boot: 200, min: 0.0}\n")
    config = write_config(tmp_path, {
        "model": {"path": "builtin:tiny-bert"},
        "data": {"path": "builtin:clinical-triage", "synthetic": {"size": 200}},
        "suite": "mine.yaml",
        "checks": {"demo_guard.prediction_share": {"max": 1.0}},
        "output": {"dir": "out", "formats": ["json", "html", "junit"]},
    })
    done = run_cli("run", str(config), cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr + done.stdout
    results = json.loads((tmp_path / "out/results.json").read_text())
    check = next(c for c in results["checks"] if c["id"] == "demo_guard.prediction_share")
    assert check["status"] == "pass" and check["plugin"] == "demo_guard"
    counts = check["evidence"]["counts"]
    share = check["metrics"][0]
    assert share["name"] == "top_class_share"
    assert share["value"] == max(counts.values()) / sum(counts.values())
    assert share["interval"]["method"] == "wilson" and share["interval"]["low"] <= share["value"] <= share["interval"]["high"]
    html = (tmp_path / "out/report.html").read_text()
    assert "demo_guard.prediction_share" in html and 'class="demo_guard-counts"' in html  # the partial rendered
    cases = [c.get("name") for c in ET.parse(tmp_path / "out/junit.xml").getroot().iter("testcase")]
    assert "demo_guard.prediction_share" in cases and "accuracy.accuracy" in cases


def test_the_generated_tests_pass_with_the_harness_testing_fixtures(installed: tuple[Path, Path]) -> None:
    package, site = installed
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=package, capture_output=True, text=True,
        timeout=300, env=offline_env(PYTHONPATH=str(site), OMP_NUM_THREADS="1"),
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "2 passed" in done.stdout


@pytest.mark.parametrize(("name", "message"), [
    ("Bad Name!", "use lowercase letters"),
    ("accuracy", "taken by a built-in plugin"),
])
def test_bad_names_are_refused(name: str, message: str, tmp_path: Path) -> None:
    done = run_cli("plugin", "new", name, "--dir", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())


def test_an_existing_folder_is_not_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "harness-mine"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    done = run_cli("plugin", "new", "mine", "--dir", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2 and "already exists and is not empty" in done.stderr
    assert sorted(p.name for p in target.iterdir()) == ["keep.txt"]
