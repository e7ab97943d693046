"""Two runs of one config and seed give byte-identical results.json apart from the trailing run metadata.

The second run goes through the real CLI with the session smoke run's own
config file, into another folder; the comparison is on the raw bytes of
results.json up to the ``"manifest"`` block, which (with ``"signature"`` and
``"run"``) the writer always puts last.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from conftest import SmokeRun, run_cli

SCHEMA = Path(__file__).resolve().parent.parent / "harness" / "results" / "schema" / "results.schema.json"
TAIL_MARKER = '\n  "manifest": {\n'


def _split_tail(text: str) -> tuple[str, str]:
    """(body bytes, tail bytes): the tail starts at the top-level manifest block."""
    assert text.count(TAIL_MARKER) == 1, "results.json must have exactly one top-level manifest block"
    head, tail = text.split(TAIL_MARKER)
    return head, TAIL_MARKER + tail


@pytest.fixture(scope="module")
def second_run(smoke_run: SmokeRun, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("again")
    config = smoke_run.folder / "audit.yaml"
    cli = run_cli("run", str(config), "--output", str(folder / "second"), "--quiet", cwd=folder)
    assert cli.returncode == 0, cli.stderr + cli.stdout
    return folder / "second"


def test_two_runs_are_byte_identical_outside_the_run_block(smoke_run: SmokeRun, second_run: Path) -> None:
    first_text = (smoke_run.output / "results.json").read_text(encoding="utf-8")
    second_text = (second_run / "results.json").read_text(encoding="utf-8")
    first_body, first_tail = _split_tail(first_text)
    second_body, second_tail = _split_tail(second_text)
    assert first_body == second_body
    # the body is the whole audit, not an empty shell: checks with metrics, provenance, predictions
    body = json.loads(first_body.rstrip().rstrip(",") + "\n}")
    assert body["checks"] and all(check["metrics"] for check in body["checks"])
    assert body["provenance"]["fine_tuning"]["epochs_run"] >= 1
    # what does differ lives in the trailing blocks: run is last, manifest before it
    first, second = json.loads(first_text), json.loads(second_text)
    assert list(first)[-2:] == ["manifest", "run"]
    assert first["run"]["output_dir"] != second["run"]["output_dir"]
    assert first["run"]["started_at"] <= first["run"]["finished_at"]
    for key in ("config", "suite", "data", "model", "results_body"):
        assert first["manifest"][key] == second["manifest"][key], key
    assert first_tail != second_tail  # times differ, and they are recorded


def test_nothing_time_dependent_is_left_in_the_body(smoke_run: SmokeRun) -> None:
    results = smoke_run.results
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(results)
    assert all("duration_s" not in check for check in results["checks"])
    assert set(results["run"]["check_durations"]) == {check["id"] for check in results["checks"]}
    fine_tuning = results["provenance"]["fine_tuning"]
    assert "seconds" not in fine_tuning and all("seconds" not in epoch for epoch in fine_tuning["history"])
    timings = results["run"]["fine_tuning_timings"]
    assert timings["seconds"] > 0 and len([k for k in timings if k.startswith("history.")]) == fine_tuning["epochs_run"]
    assert "dir" not in results["provenance"]["config"]["output"]
    # the durations still reach the readers: report and JUnit read them from the run block
    from harness.results.io import load_results

    loaded = load_results(smoke_run.output / "results.json")
    assert [c.duration_s for c in loaded.checks] == [results["run"]["check_durations"][c.id] for c in loaded.checks]
    junit = (smoke_run.output / "junit.xml").read_text(encoding="utf-8")
    assert f'time="{loaded.checks[0].duration_s:.3f}"' in junit


def test_provenance_records_the_seeds_and_determinism_settings(smoke_run: SmokeRun) -> None:
    settings = smoke_run.results["provenance"]["reproducibility"]
    assert settings["seed"] == smoke_run.results["provenance"]["seed"] == 0
    assert settings["torch_deterministic_algorithms"] is True
    assert settings["cudnn_benchmark"] is False
    assert "cublas_workspace_config" not in settings  # a CPU run: the CUDA setting does not apply


def test_seed_everything_sets_every_global_generator() -> None:
    import torch

    from harness.ml.seeding import check_seed, seed_everything, seed_globals

    seed_everything(7, torch.device("cpu"))
    drawn = (random.random(), np.random.rand(), float(torch.rand(1)))
    seed_globals(7)
    assert (random.random(), np.random.rand(), float(torch.rand(1))) == drawn
    assert torch.are_deterministic_algorithms_enabled()
    # per-check seeds: stable, and different for different checks or run seeds
    assert check_seed(0, "accuracy.accuracy") == check_seed(0, "accuracy.accuracy")
    assert len({check_seed(0, "accuracy.accuracy"), check_seed(0, "accuracy.calibration"), check_seed(1, "accuracy.accuracy")}) == 3
    torch.use_deterministic_algorithms(False)


def test_split_timings_moves_every_wall_clock_field() -> None:
    from harness.ml.seeding import split_timings

    record = {"method": "m", "seconds": 2.5, "history": [{"epoch": 1, "seconds": 1.0, "loss": 0.5}], "extra": {"dp_seconds": 3, "steps": 4}}
    kept, timings = split_timings(record)
    assert kept == {"method": "m", "history": [{"epoch": 1, "loss": 0.5}], "extra": {"steps": 4}}
    assert timings == {"seconds": 2.5, "history.0.seconds": 1.0, "extra.dp_seconds": 3}
