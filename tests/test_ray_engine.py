"""The Ray engine (execution.engine: ray): same results.json body as the local engine, retries, fast failures.

One local Ray instance with 2 CPUs serves the whole module (started here, so
runs join it instead of starting their own). The audits run in this process
through :func:`harness.audit`; the comparison is on the raw bytes of
results.json up to the ``"manifest"`` block, exactly as
tests/test_reproducibility.py compares two runs of the local engine.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import offline_env, run_cli

TAIL_MARKER = '\n  "manifest": {\n'

#: The privacy suite at small sizes: a 2-epoch target on 200 notes, LiRA with 2 shadow models.
PRIVACY: dict[str, Any] = {
    "model": {"path": "builtin:tiny-bert", "fine_tune": {"epochs": 2, "lr": 2e-3, "batch_size": 16, "early_stopping_patience": 3}},
    "data": {"path": "builtin:clinical-triage", "synthetic": {"size": 200}},
    "suite": "privacy",
    "checks": {"privacy.membership_inference": {"shadow_models": 2, "max_examples": 40}},
    "output": {"formats": ["json"]},
    "seed": 0,
}


#: The default suite at small sizes: its attack (deepwordbug, 30 examples) is 3 chunks of 10.
DEFAULT: dict[str, Any] = {
    "model": {"path": "builtin:tiny-bert", "fine_tune": {"epochs": 3, "lr": 2e-3, "batch_size": 16, "early_stopping_patience": 3}},
    "data": {"path": "builtin:clinical-triage", "synthetic": {"size": 200}},
    "suite": "default",
    "output": {"formats": ["json"]},
    "seed": 0,
}


def _body(folder: Path) -> str:
    text = (folder / "results.json").read_text(encoding="utf-8")
    assert text.count(TAIL_MARKER) == 1
    return text.split(TAIL_MARKER)[0]


def _audit(folder: Path, engine: str, base: dict[str, Any] = PRIVACY, **options: Any) -> dict[str, Any]:
    import harness

    config = {**base, "output": {**base["output"], "dir": str(folder)}, "execution": {"engine": engine}}
    # from a folder outside the repository: provenance.git names no commit (others may commit between two runs)
    with contextlib.chdir(folder.parent):
        harness.audit(config, **options)
    return json.loads((folder / "results.json").read_text(encoding="utf-8"))


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ------------------------------------------------------------------ without Ray (always run)


def test_engine_ray_without_the_extra_is_one_line_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "no-ray"
    (blocker / "ray").mkdir(parents=True)
    (blocker / "ray" / "__init__.py").write_text("raise ImportError('ray is blocked for this test')\n")
    env = offline_env(PYTHONPATH=str(blocker))
    started = time.perf_counter()
    cli = run_cli("run", "--engine", "ray", "-o", str(tmp_path / "out"), cwd=tmp_path, env=env, timeout=60)
    assert cli.returncode == 2, cli.stderr + cli.stdout
    lines = cli.stderr.strip().splitlines()
    assert len(lines) == 1 and "audit-harness[ray]" in lines[0], cli.stderr
    assert time.perf_counter() - started < 30
    assert not (tmp_path / "out" / "results.json").exists()  # refused before anything loaded


def test_execution_settings_are_validated_and_left_out_of_the_audit_inputs() -> None:
    from harness.config.settings import AuditConfig
    from harness.errors import UsageError
    from harness.run.runner import _apply_overrides

    assert AuditConfig().execution.engine == "local"
    config = _apply_overrides(AuditConfig(), output=None, seed=None, device=None, address="ray://head:10001")
    assert (config.execution.engine, config.execution.address) == ("ray", "ray://head:10001")
    with pytest.raises(UsageError, match="unknown address"):
        _apply_overrides(AuditConfig(), output=None, seed=None, device=None, engine="ray", address="not an address")
    from harness.run.ray_engine import unit_kind

    assert [unit_kind(u) for u in ("shadow-003", "chunk-0012", "reference-without-dp")] == ["shadow", "chunk", "reference-without-dp"]


class _ShippedPool:
    """An engine that is not local, without Ray: each pool's state built from its pickled arguments (as shipped).

    Results are handed back in reverse order, as a cluster may finish them.
    """

    engine = "test-shipped"

    def __init__(self) -> None:
        self.notes: dict[str, int] = {}
        self.messages: list[str] = []

    def note(self, name: str, amount: int = 1) -> None:
        self.notes[name] = self.notes.get(name, 0) + amount

    def progress(self, message: str) -> None:
        self.messages.append(message)

    def map_pool(self, pool: Any, tasks: Any, on_result: Any = None) -> list[tuple[str, Any]]:
        import pickle

        ordered = sorted(tasks, key=lambda task: task.unit_id)
        state = pool.setup(*pickle.loads(pickle.dumps(pool.args)))
        results = [(task.unit_id, task.function(state, *pickle.loads(pickle.dumps(task.args)))) for task in reversed(ordered)]
        for unit, value in results:
            if on_result is not None:
                on_result(unit, value)
        return sorted(results, key=lambda pair: pair[0])


def test_attack_chunks_away_from_the_driver_give_the_local_records_and_counters(tiny_attack_model: Any) -> None:
    """Chunks attacked from a copy of the model: same records and Predictor counters; a cache clash is re-attacked here.

    The sample holds every text twice (chunk 1 repeats chunk 0), so locally
    chunk 1's queries are cache hits from chunk 0, which a worker starting from
    the driver's cache cannot know: the replay must refuse that chunk and the
    driver attack it again, and the outcome must still be the local one.
    """
    from harness.ml.builtin_data import LABELS
    from harness.ml.predict import Predictor
    from harness_robustness.attack import run_attack

    handle, texts, labels = tiny_attack_model
    texts, labels = list(texts[:10]) * 2 + list(texts[10:14]), list(labels[:10]) * 2 + list(labels[10:14])

    def attack(executor: Any) -> tuple[Any, Any]:
        predictor = Predictor(handle)
        predictor.logits(texts[:5])  # something cached before the attack, as the accuracy checks leave it
        outcome = run_attack(texts, labels, LABELS, predictor, recipe="deepwordbug", examples=len(texts), seed=1,
                             query_budget=60, executor=executor)
        return outcome.to_dict(), predictor.stats()

    local, local_stats = attack(None)
    shipped = _ShippedPool()
    away, away_stats = attack(shipped)
    assert away == local and away_stats == local_stats
    assert local["examples"] == 24 and local_stats.forward_texts > 0
    assert shipped.notes == {"chunks_attacked_again_on_driver": 1}  # chunk 1; chunks 0 and 2 came from the copy
    assert shipped.messages and shipped.messages[0].startswith("chunk-00001:")


# ------------------------------------------------------------------ with Ray

needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                               reason="Ray is not installed: the optional extra audit-harness[ray] (make installs it)")


@needs_ray

def test_an_unreachable_cluster_fails_fast_with_one_line(tmp_path: Path) -> None:
    port = _unused_port()
    for address in (f"ray://127.0.0.1:{port}", f"127.0.0.1:{port}"):
        started = time.perf_counter()
        cli = run_cli("run", "--engine", "ray", "--address", address, "-o", str(tmp_path / "out"), cwd=tmp_path, timeout=60)
        took = time.perf_counter() - started
        assert cli.returncode == 2, cli.stderr + cli.stdout
        lines = [line for line in cli.stderr.strip().splitlines() if line.strip()]
        assert len(lines) == 1 and "cannot reach the Ray cluster" in lines[0] and address in lines[0], cli.stderr
        assert took < 20, took


@pytest.fixture(scope="module")
def ray_instance() -> Any:
    """One local Ray instance with 2 CPUs for the module; the runs join it (and leave it running)."""
    import ray

    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="WARNING",
             object_store_memory=200 * 1024 * 1024)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("local") / "out"
    results = _audit(folder, "local")
    assert results["run"]["execution"] == {"engine": "local", "workers": 1}
    return folder


@needs_ray
def test_privacy_suite_on_ray_gives_the_local_engines_body_byte_for_byte(
    ray_instance: Any, local_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import harness

    folder = tmp_path / "ray"
    # every request to the shared Predictor with a new text runs as Ray Data batch inference (threshold 1)
    config = {**PRIVACY, "output": {**PRIVACY["output"], "dir": str(folder)},
              "execution": {"engine": "ray", "batch_inference_min_texts": 1}}
    with contextlib.chdir(tmp_path):
        harness.audit(config, quiet=False)
    assert _body(folder) == _body(local_run)
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    local = json.loads((local_run / "results.json").read_text(encoding="utf-8"))
    for key in ("config", "suite", "data", "model", "results_body"):
        assert results["manifest"][key] == local["manifest"][key], key
    shadow = next(c for c in results["checks"] if c["id"] == "privacy.membership_inference")["evidence"]["shadow"]
    assert shadow["shadow_models"] == 2  # LiRA ran, so the shadows were Ray tasks
    execution = results["run"]["execution"]
    assert execution["engine"] == "ray" and execution["started_instance"] is False  # joined the module's instance
    assert execution["resources"]["CPU"] == 2 and execution["workers"] == 2 and execution["nodes"] == 1
    assert execution["tasks"] == {"shadow": 2} and 1 <= execution["worker_processes_used"] <= 2
    # the target's forward passes ran on Ray Data, in the Predictor's own batches: the counters are the local ones
    predictor = results["predictor"]
    assert execution["notes"]["inference_texts"] == predictor["forward_texts"] > 0
    assert execution["notes"]["inference_batches"] == predictor["forward_batches"] and execution["actors"]["inference"] >= 1
    assert "execution" not in results["provenance"]["config"] and "execution" in results["provenance"]["config_omits"]
    progress = [line for line in capsys.readouterr().err.splitlines() if line.startswith("[harness] shadow: ")]
    assert progress and progress[-1].startswith("[harness] shadow: 2/2 done on ray"), progress
    assert ray_instance.is_initialized()  # a cluster the run joined is not shut down by it


@needs_ray
def test_a_worker_killed_in_the_middle_of_a_shadow_model_is_retried_with_the_same_results(
    ray_instance: Any, local_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.run.ray_engine import KILL_AFTER_ENV, KILL_ONCE_ENV

    markers = tmp_path / "attempts"
    monkeypatch.setenv(KILL_ONCE_ENV, str(markers))  # test-only: each task's first attempt SIGKILLs its worker
    monkeypatch.setenv(KILL_AFTER_ENV, "0.5")
    folder = tmp_path / "ray-killed"
    results = _audit(folder, "ray")
    assert _body(folder) == _body(local_run)
    attempts = sorted(path.name for path in markers.iterdir())
    assert attempts == ["shadow-000.attempt-1", "shadow-000.attempt-2", "shadow-001.attempt-1", "shadow-001.attempt-2"], attempts
    first = int((markers / "shadow-000.attempt-1").read_text())
    second = int((markers / "shadow-000.attempt-2").read_text())
    assert first != second  # the retry ran in a new worker process: the first one was killed
    assert results["run"]["execution"]["tasks"] == {"shadow": 2}


@pytest.fixture(scope="module")
def default_local_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("default-local") / "out"
    _audit(folder, "local", DEFAULT)
    return folder


@needs_ray
def test_default_suite_on_ray_with_workers_killed_mid_chunk_gives_the_local_body_and_resumes(
    ray_instance: Any, default_local_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The attack's chunks run on an actor pool; chunk 1's first attempt SIGKILLs its actor part-way through.

    Ray restarts the actor (which rebuilds the model from the object store) and
    re-runs the chunk: results.json's body, predictor counters included, is
    still the local engine's byte for byte. Then the driver is "lost" during the
    attack (its check dropped from results.json, one chunk checkpoint deleted)
    and ``--resume`` on Ray attacks only that chunk, with the same checks.
    """
    from harness.run.ray_engine import KILL_AFTER_ENV, KILL_ONCE_ENV, KILL_UNITS_ENV

    markers = tmp_path / "attempts"
    monkeypatch.setenv(KILL_ONCE_ENV, str(markers))
    monkeypatch.setenv(KILL_AFTER_ENV, "1.0")
    monkeypatch.setenv(KILL_UNITS_ENV, "chunk-00001")  # one restart is the point; each costs a process start
    folder = tmp_path / "ray"
    results = _audit(folder, "ray", DEFAULT, quiet=False)
    assert _body(folder) == _body(default_local_run)
    attack = next(c for c in results["checks"] if c["id"] == "robustness.attack_success_rate")["evidence"]
    assert attack["examples"] == 30 and attack["succeeded"] + attack["failed"] > 0  # something was really attacked
    attempts = sorted(path.name for path in markers.iterdir())
    assert attempts == ["chunk-00001.attempt-1", "chunk-00001.attempt-2"], attempts
    # the retry ran in a new process: the first one was killed
    assert (markers / "chunk-00001.attempt-1").read_text() != (markers / "chunk-00001.attempt-2").read_text()
    execution = results["run"]["execution"]
    assert execution["tasks"] == {"chunk": 3} and execution["actors"] == {"chunk": 2}, execution
    assert "notes" not in execution  # no chunk had to be attacked again on the driver
    progress = [line for line in capsys.readouterr().err.splitlines() if line.startswith("[harness] chunk: ")]
    assert progress and progress[-1].startswith("[harness] chunk: 3/3 done on ray"), progress

    monkeypatch.delenv(KILL_ONCE_ENV)
    data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    data["checks"] = [c for c in data["checks"] if not c["id"].startswith("robustness.")]
    data["complete"] = False
    (folder / "results.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    (lost,) = (folder / ".scratch" / "checkpoints" / "robustness").rglob("chunk-00001-*.json")
    lost.unlink()
    resumed = _audit(folder, "ray", DEFAULT, resume=True)
    assert resumed["run"]["execution"]["tasks"] == {"chunk": 1}  # chunks 0 and 2 came from their checkpoints
    local = json.loads((default_local_run / "results.json").read_text(encoding="utf-8"))
    assert resumed["checks"] == local["checks"]


@needs_ray
def test_a_task_error_is_raised_as_itself_and_not_retried(ray_instance: Any, tmp_path: Path) -> None:
    from harness.config.settings import ExecutionConfig
    from harness.run.executor import Task
    from harness.run.ray_engine import RayExecutor

    executor = RayExecutor(ExecutionConfig(engine="ray")).start()
    assert executor.map([Task("unit-1", pow, (2, 5)), Task("unit-0", pow, (3, 2))]) == [("unit-0", 9), ("unit-1", 32)]
    started = time.perf_counter()
    with pytest.raises(ZeroDivisionError):
        executor.map([Task("unit-0", divmod, (1, 0))])
    assert time.perf_counter() - started < 30
    executor.shutdown()
    assert ray_instance.is_initialized()


@needs_ray
def test_more_gpus_per_task_than_the_cluster_has_is_exit_2_not_a_hang(ray_instance: Any) -> None:
    from harness.config.settings import ExecutionConfig
    from harness.errors import UsageError
    from harness.run.ray_engine import RayExecutor

    with pytest.raises(UsageError, match="num_gpus_per_task"):
        RayExecutor(ExecutionConfig(engine="ray", num_gpus_per_task=1)).start()
    executor = RayExecutor(ExecutionConfig(engine="ray"), device=lambda: "cuda").start()
    with pytest.raises(UsageError, match="needs 1 GPU"):
        executor.map([_task()])


def _task() -> Any:
    from harness.run.executor import Task

    return Task("unit-0", abs, (-1,))
