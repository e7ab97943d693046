"""The built-in harness_mlflow plugin against a real MLflow tracking server.

The module starts ``mlflow server`` (SQLite backend, artifacts in a temporary
folder) on a free port, runs two small real audits through the CLI, one while
the server is starting and pointed at a port nobody listens on (the server
that is down), one logging to the server, and reads the logged run back
through ``MlflowClient``: params, every metric with its interval bounds, the
verdict tag and the artifacts, compared with results.json.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
from conftest import offline_env, run_cli, write_config

pytest.importorskip("mlflow")

MLFLOW = str(Path(sys.executable).parent / "mlflow")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    uri: str
    process: subprocess.Popen
    log: Path

    def wait_ready(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"mlflow server exited {self.process.returncode}: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.uri + "/health", timeout=2):
                    return
            except OSError:
                time.sleep(0.5)
        raise AssertionError(f"mlflow server not up after {timeout:.0f} s: {self.log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("mlflow")
    port = _free_port()
    log = folder / "server.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [MLFLOW, "server", "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}", "--artifacts-destination", str(folder / "artifacts"),
             "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            # no job runner (its worker processes import MLflow eight times over: slow to start, unused here);
            # a session of its own, so that stopping it stops uvicorn's worker too
            cwd=folder, stdout=handle, stderr=subprocess.STDOUT, env=offline_env(MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false"),
            start_new_session=True,
        )
    try:
        yield Server(f"http://127.0.0.1:{port}", process, log)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _run(folder: Path, name: str, mlflow: dict[str, Any]) -> Any:
    """A small real audit in ``folder/name`` (config audit.yaml, outputs in out/): the two runs differ only in ``mlflow``."""
    from harness.ml.builtin_data import SyntheticSpec, generate_clinical_triage

    notes = folder / "notes.csv"
    if not notes.exists():
        generate_clinical_triage(SyntheticSpec(size=200))[["id", "text", "label", "sex"]].to_csv(notes, index=False)
    (folder / name).mkdir()
    write_config(folder / name, {"model": {"path": "builtin:tiny-bert", "fine_tune": {"epochs": 2, "batch_size": 16}},
                                 "data": {"path": str(notes), "id": "id"}, "suite": "smoke", "seed": 5, "output": {"dir": "out"},
                                 "mlflow": mlflow})
    return run_cli("run", "audit.yaml", cwd=folder / name)


@dataclass
class Runs:
    folder: Path
    down: Any
    up: Any


@pytest.fixture(scope="module")
def runs(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    folder = tmp_path_factory.mktemp("tracked")
    # while the server starts: the same audit pointed at a port nobody listens on, with a password in the URI
    dead = f"http://auditor:s3cret-token@127.0.0.1:{_free_port()}"
    down = _run(folder, "down", {"tracking_uri": dead, "experiment": "release-audits"})
    server.wait_ready()
    up = _run(folder, "up", {"tracking_uri": server.uri, "experiment": "release-audits", "run_name": "nightly"})
    return Runs(folder, down, up)


def test_run_is_logged_and_read_back(runs: Runs, server: Server, tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    assert runs.up.returncode in (0, 1), runs.up.stderr
    assert "mlflow: logged run" in runs.up.stderr and "warning" not in runs.up.stderr
    assert "View run" not in runs.up.stdout  # MLflow's own URL line stays out of harness's summary
    results_path = runs.folder / "up" / "out" / "results.json"
    results = json.loads(results_path.read_text(encoding="utf-8"))

    client = MlflowClient(tracking_uri=server.uri)
    experiment = client.get_experiment_by_name("release-audits")
    assert experiment is not None
    found = client.search_runs([experiment.experiment_id])
    assert len(found) == 1
    run = found[0]
    assert run.info.run_name == "nightly" and run.info.status == "FINISHED"

    provenance = results["provenance"]
    data = provenance["data"]
    params = run.data.params
    assert params["model"] == "builtin:tiny-bert" and params["seed"] == "5" and params["suite"] == "smoke"
    assert params["data_fingerprint"] == data["splits"][data["eval_split"]]["fingerprint"]
    assert params["model_weights_sha256"] == provenance["model"]["weights_sha256"]

    assert run.data.tags["audit.verdict"] == results["verdict"]
    assert run.data.tags["audit.exit_code"] == str(results["exit_code"]) == str(runs.up.returncode)

    logged = run.data.metrics
    expected = {}
    for check in results["checks"]:
        for metric in check["metrics"]:
            if metric["value"] is None:
                continue
            key = f"{check['id']}.{metric['name']}"
            expected[key] = metric["value"]
            if metric["interval"]:
                expected[f"{key}.ci_low"] = metric["interval"]["low"]
                expected[f"{key}.ci_high"] = metric["interval"]["high"]
    assert expected and logged == pytest.approx(expected, rel=0, abs=0)
    assert "accuracy.accuracy.accuracy.ci_low" in logged

    artifacts = {item.path for item in client.list_artifacts(run.info.run_id)}
    assert {"results.json", "report.html", "junit.xml", "summary.md"} <= artifacts
    local = client.download_artifacts(run.info.run_id, "results.json", str(tmp_path))
    assert hashlib.sha256(Path(local).read_bytes()).hexdigest() == hashlib.sha256(results_path.read_bytes()).hexdigest()


def test_server_down_is_a_warning_and_changes_nothing(runs: Runs) -> None:
    assert runs.down.returncode == runs.up.returncode, runs.down.stderr
    warnings = [line for line in runs.down.stderr.splitlines() if "warning: mlflow" in line]
    assert len(warnings) == 1 and "did not answer" in warnings[0] and "outputs and exit code unaffected" in warnings[0]
    assert "s3cret-token" not in runs.down.stderr
    down = json.loads((runs.folder / "down" / "out" / "results.json").read_text(encoding="utf-8"))
    up = json.loads((runs.folder / "up" / "out" / "results.json").read_text(encoding="utf-8"))
    # the same audit whether tracked or not: the tracking settings are no input of the results
    assert down["manifest"]["results_body"] == up["manifest"]["results_body"]
    assert "mlflow" not in down["provenance"]["config"] and "mlflow" in down["provenance"]["config_omits"]
    for name in ("report.html", "junit.xml", "summary.md"):
        assert (runs.folder / "down" / "out" / name).is_file()
    assert "s3cret-token" not in (runs.folder / "down" / "out" / "results.json").read_text(encoding="utf-8")


@pytest.mark.parametrize("section, expected", [
    ({"tracking_uri": "http://x", "experimnt": "a"}, "mlflow.experimnt: unknown key (did you mean 'experiment'?)"),
    ({"experiment": "a"}, "mlflow.tracking_uri: is required"),
    ({"tracking_uri": ""}, "mlflow.tracking_uri: must be a non-empty string"),
    ("http://x", "mlflow: Input should be a mapping"),
])
def test_bad_settings_exit_2_before_anything_loads(tmp_path: Path, section: Any, expected: str) -> None:
    config = write_config(tmp_path, {"data": {"path": "absent.csv"}, "mlflow": section, "output": {"dir": "out"}})
    done = run_cli("run", str(config), cwd=tmp_path)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert expected in done.stderr or expected.replace(" (did you mean 'experiment'?)", "") in done.stderr
    assert not (tmp_path / "out").exists()


def test_missing_mlflow_names_the_extra(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"mlflow": {"tracking_uri": "http://127.0.0.1:1"}, "output": {"dir": "out"}})
    script = f"import sys; sys.modules['mlflow'] = None; from harness.cli.main import main; main(['run', {str(config)!r}])"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=offline_env(), cwd=tmp_path, timeout=120)
    assert done.returncode == 2 and "pip install 'audit-harness[mlflow]'" in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()


def test_metric_keys_are_valid_mlflow_names() -> None:
    from harness_mlflow.tracking import metric_key, shown_uri

    assert metric_key("fairness.demographic_parity_difference", "demographic_parity_difference[sex]") == \
        "fairness.demographic_parity_difference.demographic_parity_difference/sex"
    assert metric_key("x.y", "rate@k=5") == "x.y.rate_k_5"
    assert shown_uri("https://user:pw@host:5000/path") == "https://host:5000/path"
