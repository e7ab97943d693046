"""The runner through the Python API, with a probe plugin implementing every hook."""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest

import harness
from harness import Check, CheckResult, Metric, hookimpl
from harness.ml.data import DatasetBundle, Split
from harness.plugin.manager import get_host
from harness.plugin.sections import ReportSection
from harness.ml.training import TrainingReport


class Raises(Check):
    id = "probe.raises"
    title = "Raises"

    def run(self, ctx, options):  # type: ignore[no-untyped-def]
        raise RuntimeError("the probe check exploded")


class RaisesWithPii(Check):
    id = "probe.raises_pii"
    title = "Raises quoting a note"

    def run(self, ctx, options):  # type: ignore[no-untyped-def]
        raise ValueError("cannot score the note of John Smith (john.smith@example.com)")


class WrongType(Check):
    id = "probe.wrong_type"
    title = "Returns a dict"

    def run(self, ctx, options):  # type: ignore[no-untyped-def]
        return {"status": "pass"}


class Fine(Check):
    id = "probe.fine"
    title = "Reads the shared predictor"

    def run(self, ctx, options):  # type: ignore[no-untyped-def]
        texts = ctx.data.eval.texts
        agree = float((ctx.predictor.predict(texts) == ctx.predictor.predict(texts)).mean())
        return self.result(metrics=[Metric("self_agreement", agree)], evidence={"texts": list(texts[:2])})


def _tiny_bundle() -> DatasetBundle:
    words = ["alpha", "beta", "gamma", "delta", "<b>bold</b> & co"]
    rng = np.random.default_rng(0)

    def split(name: str, n: int) -> Split:
        labels = rng.integers(0, 2, n)
        texts = tuple(f"{words[i % 5]} note {name} {i} " + ("urgent" if y else "routine") for i, y in enumerate(labels))
        return Split(name, tuple(f"{name}-{i}" for i in range(n)), texts, labels.astype(np.int64))

    return DatasetBundle({"train": split("train", 40), "validation": split("validation", 10), "test": split("test", 20)}, ("no", "yes"), (), "probe:data")


def probe_plugin(calls: list[str]) -> types.ModuleType:
    module = types.ModuleType("probe_plugin")

    @hookimpl
    def harness_register_checks(register):  # type: ignore[no-untyped-def]
        for check in (Raises, RaisesWithPii, WrongType, Fine):
            register(check)

    @hookimpl
    def harness_load_dataset(spec, ctx):  # type: ignore[no-untyped-def]
        calls.append("load_dataset")
        return _tiny_bundle() if spec.path == "probe:data" else None

    @hookimpl
    def harness_load_model(spec, ctx):  # type: ignore[no-untyped-def]
        calls.append("load_model")
        return None  # fall through to the core's loader

    @hookimpl
    def harness_train(model, data, spec, ctx):  # type: ignore[no-untyped-def]
        calls.append("train")
        return TrainingReport(method="probe: no training", settings={}, epochs_run=0, best_epoch=0, stopped_early=False)

    @hookimpl
    def harness_run_start(ctx):  # type: ignore[no-untyped-def]
        calls.append("run_start")

    @hookimpl
    def harness_check_done(result, ctx):  # type: ignore[no-untyped-def]
        calls.append(f"check_done:{result.id}:{result.status}")

    @hookimpl
    def harness_run_done(result, ctx):  # type: ignore[no-untyped-def]
        calls.append(f"run_done:{result.verdict}")

    @hookimpl
    def harness_report_sections(result, env):  # type: ignore[no-untyped-def]
        calls.append("report_sections")
        return [ReportSection(title="Probe section", template="probe.html", context={"note": "<i>escaped?</i>"}, search_path=str(templates))]

    templates = Path(__file__).parent / "data" / "probe_templates"
    for name, value in list(locals().items()):
        if name.startswith("harness_"):
            setattr(module, name, value)
    return module


@pytest.fixture()
def probe(tmp_path: Path) -> Any:
    calls: list[str] = []
    host = get_host()
    host.register_plugin(probe_plugin(calls), "probe")
    try:
        yield calls
    finally:
        host.unregister_plugin("probe")


def _config(tmp_path: Path, checks: dict[str, Any]) -> dict[str, Any]:
    suite = tmp_path / "probe-suite.yaml"
    suite.write_text(json.dumps({"name": "probe", "checks": checks}))
    return {
        "model": {"path": "builtin:tiny-bert", "fine_tune": {"epochs": 1}},
        "data": {"path": "probe:data"},
        "suite": str(suite),
        "output": {"dir": str(tmp_path / "out")},
    }


def test_errors_are_contained_and_every_lifecycle_hook_runs(probe: list[str], tmp_path: Path) -> None:
    result = harness.audit(_config(tmp_path, {"probe.raises": {}, "probe.wrong_type": {}, "probe.fine": {}, "accuracy.accuracy": {"min": 0.0, "n_boot": 100}}))
    statuses = {c.id: c.status for c in result.checks}
    assert statuses == {"probe.raises": "error", "probe.wrong_type": "error", "probe.fine": "pass", "accuracy.accuracy": "pass"}
    assert result.check("probe.raises").message == "RuntimeError: the probe check exploded"  # type: ignore[union-attr]
    assert "returned dict, expected harness.CheckResult" in result.check("probe.wrong_type").message  # type: ignore[union-attr]
    assert result.verdict == "error" and result.exit_code == 3
    assert probe[:4] == ["load_dataset", "load_model", "train", "run_start"]
    assert "check_done:probe.raises:error" in probe and probe[-1] == "run_done:error"
    assert "report_sections" in probe
    on_disk = json.loads((tmp_path / "out" / "results.json").read_text())
    assert on_disk["exit_code"] == 3 and on_disk["complete"] is True
    assert on_disk["provenance"]["fine_tuning"]["method"] == "probe: no training"
    # the traceback is kept for the errored checks only
    by_id = {c["id"]: c for c in on_disk["checks"]}
    assert by_id["probe.raises"]["error"]["type"] == "RuntimeError"
    traceback = by_id["probe.raises"]["error"]["traceback"]
    assert traceback.startswith("Traceback (most recent call last):") and "in run" in traceback
    assert traceback.endswith("RuntimeError: the probe check exploded")
    assert by_id["probe.wrong_type"]["error"]["type"] == "TypeError"
    assert "error" not in by_id["probe.fine"] and "error" not in by_id["accuracy.accuracy"]
    schema = json.loads((Path(harness.__file__).parent / "results" / "schema" / "results.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(on_disk)
    html = (tmp_path / "out" / "report.html").read_text()
    assert '<details class="traceback"><summary>Traceback (RuntimeError)</summary><pre>Traceback (most recent call last):' in html
    assert "Probe section" in html and "&lt;i&gt;escaped?&lt;/i&gt;" in html and "<i>escaped?</i>" not in html
    # the data-derived text in evidence never reaches the page unescaped
    assert "<b>bold</b>" not in html


def test_a_traceback_is_redacted_like_evidence_and_printed_by_run_verbose(probe: list[str], tmp_path: Path) -> None:
    from click.testing import CliRunner

    from harness.cli import main as cli

    config = tmp_path / "audit.json"  # YAML is a superset of JSON
    config.write_text(json.dumps(_config(tmp_path, {"probe.raises_pii": {}, "probe.fine": {}})))
    outcome = CliRunner().invoke(cli.main, ["run", str(config), "-q", "-v"])
    assert outcome.exit_code == 3, outcome.output
    on_disk = json.loads((tmp_path / "out" / "results.json").read_text())
    error = next(c for c in on_disk["checks"] if c["id"] == "probe.raises_pii")["error"]
    assert error["traceback"].endswith("ValueError: cannot score the note of [NAME] ([EMAIL])")
    assert "john.smith@example.com" not in json.dumps(error)
    # -v prints it on stderr; the summary stays on stdout
    assert "harness: probe.raises_pii raised:\nTraceback (most recent call last):" in outcome.stderr
    assert "ValueError: cannot score the note of [NAME] ([EMAIL])" in outcome.stderr
    assert "Traceback" not in outcome.stdout and "verdict: ERROR" in outcome.stdout
    quiet = CliRunner().invoke(cli.main, ["run", str(config), "-q"], env={"HARNESS_DEBUG": ""})
    assert quiet.exit_code == 3 and "Traceback" not in quiet.stderr


def test_a_run_without_errors_writes_no_error_field(probe: list[str], tmp_path: Path) -> None:
    """results.json of a run without errors keeps its layout: the field exists only for errored checks."""
    harness.audit(_config(tmp_path, {"probe.fine": {}, "accuracy.accuracy": {"min": 0.0, "n_boot": 100}}))
    on_disk = json.loads((tmp_path / "out" / "results.json").read_text())
    assert len(on_disk["checks"]) == 2 and not any("error" in c for c in on_disk["checks"])
    plain = CheckResult(id="a.b", title="t", status="pass")
    assert list(plain.to_dict()) == ["id", "title", "status", "message", "metrics", "thresholds", "evidence",
                                     "regulations", "plugin", "gated", "duration_s", "inputs_key"]
    errored = CheckResult(id="a.b", title="t", status="error", error={"type": "E", "traceback": "tb"})
    assert CheckResult.from_dict(errored.to_dict()) == errored


def test_shared_predictor_serves_repeats_from_cache(probe: list[str], tmp_path: Path) -> None:
    result = harness.audit(_config(tmp_path, {"probe.fine": {}, "accuracy.accuracy": {"min": 0.0, "n_boot": 100}, "accuracy.roc_auc": {"min": 0.0, "n_boot": 100}}))
    assert result.predictor["forward_texts"] == 20  # the test split, once
    # probe.fine asks twice, the shared accuracy report once, roc_auc once more for its curve:
    # every request after the first is served from the cache
    assert result.predictor["cache_hits"] == 60
    assert result.predictor["texts_requested"] == 80
    assert result.check("probe.fine").metric("self_agreement").value == 1.0  # type: ignore[union-attr]


def test_results_are_rewritten_after_each_check(probe: list[str], tmp_path: Path) -> None:
    snapshots: list[dict[str, Any]] = []

    class Snapshot(Check):
        id = "probe.snapshot"
        title = "Reads results.json mid-run"

        def run(self, ctx, options):  # type: ignore[no-untyped-def]
            assert not (ctx.output_dir / "report.html").exists(), "an earlier run's report is still there"
            snapshots.append(json.loads((ctx.output_dir / "results.json").read_text()))
            return self.result(metrics=[Metric("seen", len(snapshots[-1]["checks"]))])

    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "report.html").write_text("an earlier run's report")
    host = get_host()
    host.register_plugin(types.SimpleNamespace(harness_register_checks=hookimpl(lambda register: register(Snapshot))), "snap")
    try:
        harness.audit(_config(tmp_path, {"probe.fine": {}, "probe.snapshot": {}}))
    finally:
        host.unregister_plugin("snap")
    assert len(snapshots) == 1, "the snapshot check errored"
    assert snapshots[0]["complete"] is False and snapshots[0]["verdict"] == "incomplete"
    assert [c["id"] for c in snapshots[0]["checks"]] == ["probe.fine"]


def test_plugin_commands_join_the_cli() -> None:
    import click
    from click.testing import CliRunner

    from harness.cli import main as cli
    @click.command("hello")
    def hello() -> None:
        click.echo("hello from a plugin")

    host = get_host()
    host.register_plugin(types.SimpleNamespace(harness_register_commands=hookimpl(lambda cli: cli.add_command(hello))), "commands")
    cli.HarnessGroup._plugins_loaded = False
    try:
        outcome = CliRunner().invoke(cli.main, ["hello"])
        assert outcome.output == "hello from a plugin\n"
    finally:
        host.unregister_plugin("commands")
        cli.main.commands.pop("hello", None)
        cli.HarnessGroup._plugins_loaded = False
