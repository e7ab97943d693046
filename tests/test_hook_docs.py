"""Every hook is documented, in the generated reference, and exercised by a real run.

One plugin implements every hookspec and records what it was called with
during a real in-process audit (fine-tuning included) and a real CLI
invocation; the set of hooks it saw must equal the set of hookspecs, so a new
hook without a test fails here. docs/plugins.md must match the generator.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from conftest import run_cli
from harness import Check, Metric, hookimpl
from harness.plugin import hookspecs
from harness.cli.docs import BEGIN, END, hook_docs, render_reference, update_document

ROOT = Path(__file__).resolve().parent.parent
HOOKS = sorted(name for name, f in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(f, "harness_spec"))


class Probe(Check):
    id = "recorder.probe"
    title = "Probe"
    primary_metric = "value"

    def run(self, ctx, options):  # type: ignore[no-untyped-def]
        return self.result(metrics=[Metric("value", float(len(ctx.data.eval)))])


class Recorder:
    """Implements every hook; records (hook, what it saw) in call order."""

    def __init__(self, templates: Path) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.templates = templates

    @hookimpl
    def harness_register_checks(self, register):  # type: ignore[no-untyped-def]
        self.calls.append(("harness_register_checks", None))
        register(Probe)

    @hookimpl
    def harness_validate_config(self, config):  # type: ignore[no-untyped-def]
        self.calls.append(("harness_validate_config", config.checks.get(Probe.id)))

    @hookimpl
    def harness_load_dataset(self, spec, ctx):  # type: ignore[no-untyped-def]
        self.calls.append(("harness_load_dataset", (spec.path, ctx.data is None)))

    @hookimpl
    def harness_load_model(self, spec, ctx):  # type: ignore[no-untyped-def]
        self.calls.append(("harness_load_model", (spec.path, ctx.data is not None)))

    @hookimpl
    def harness_train(self, model, data, spec, ctx):  # type: ignore[no-untyped-def]
        self.calls.append(("harness_train", (len(data.splits["train"]), spec.fine_tune.epochs)))

    @hookimpl
    def harness_run_start(self, ctx):  # type: ignore[no-untyped-def]
        self.calls.append(("harness_run_start", ctx.predictor is not None and ctx.training is not None))

    @hookimpl
    def harness_check_done(self, result, ctx):  # type: ignore[no-untyped-def]
        self.calls.append(("harness_check_done", (result.id, result.status, (ctx.output_dir / "results.json").exists())))

    @hookimpl
    def harness_report_sections(self, result, env):  # type: ignore[no-untyped-def]
        from harness.plugin.sections import ReportSection

        self.calls.append(("harness_report_sections", env.autoescape))
        return [ReportSection("Recorder section", "recorder/probe.html", {"note": "<b>escaped</b>"}, str(self.templates), check=Probe.id)]

    @hookimpl
    def harness_run_done(self, result, ctx):  # type: ignore[no-untyped-def]
        self.calls.append(("harness_run_done", (result.verdict, (ctx.output_dir / "report.html").exists())))

    @hookimpl
    def harness_register_commands(self, cli):  # type: ignore[no-untyped-def]
        self.calls.append(("harness_register_commands", cli.name))

        @cli.command("recorder-hello")
        def hello() -> None:
            click.echo("hello from a plugin command")


def test_every_hook_is_called_in_a_real_run_with_what_its_docstring_promises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.cli import main as cli
    from harness.plugin import manager as plugins
    from harness.plugin.manager import build_host
    from harness.testing import registered, run_checks

    (tmp_path / "tpl/recorder").mkdir(parents=True)
    (tmp_path / "tpl/recorder/probe.html").write_text("<p class='recorder'>{{ note }}</p>\n")
    recorder = Recorder(tmp_path / "tpl")
    host = build_host()
    with registered(recorder, "recorder", host):
        result = run_checks({"recorder.probe": {"min": 1}}, tmp_path / "run", host=host,
                            model={"fine_tune": {"epochs": 1, "batch_size": 32}})
        # the CLI's own plugin-command loading, against this host
        monkeypatch.setattr(plugins, "_host", host)
        monkeypatch.setattr(cli.HarnessGroup, "_plugins_loaded", False)
        try:
            invoked = CliRunner().invoke(cli.main, ["recorder-hello"])
        finally:
            cli.main.commands.pop("recorder-hello", None)
    assert invoked.exit_code == 0 and invoked.output == "hello from a plugin command\n"
    seen = dict(recorder.calls)
    assert sorted(seen) == HOOKS  # a new hookspec needs a line here
    assert [name for name, _ in recorder.calls[1:8]] == [
        "harness_validate_config", "harness_load_dataset", "harness_load_model", "harness_train", "harness_run_start", "harness_check_done", "harness_report_sections",
    ]
    assert seen["harness_validate_config"] == {"min": 1}
    assert seen["harness_load_dataset"] == ("builtin:clinical-triage", True)
    assert seen["harness_load_model"] == ("builtin:tiny-bert", True)
    assert seen["harness_train"][0] > 100 and seen["harness_train"][1] == 1
    assert seen["harness_run_start"] is True
    assert seen["harness_check_done"] == ("recorder.probe", "pass", True)
    assert seen["harness_report_sections"] is True
    assert seen["harness_run_done"] == ("pass", True)
    assert seen["harness_register_commands"] == "main"
    html = (tmp_path / "run/out/report.html").read_text()
    assert "<p class='recorder'>&lt;b&gt;escaped&lt;/b&gt;</p>" in html
    assert result.check("recorder.probe").plugin == "recorder"  # type: ignore[union-attr]
    assert host.registry.get("recorder.probe") is None  # unregistered after the block


def test_every_hook_is_called_somewhere_in_the_tests() -> None:
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").glob("*.py"))
    for name in HOOKS:
        assert re.search(rf"hook\.{name}\(|def {name}\(", sources), f"no test calls or implements {name}"


def test_the_reference_has_every_hook_with_its_docstring() -> None:
    reference = render_reference()
    documented = {doc.name: doc for doc in hook_docs()}
    assert sorted(documented) == HOOKS
    for name in HOOKS:
        doc = inspect.getdoc(getattr(hookspecs, name))
        assert doc and doc.strip(), f"{name} has no docstring"
        assert f"### `{name}`" in reference
        assert doc.splitlines()[0] in reference
        for parameter in inspect.signature(getattr(hookspecs, name)).parameters:
            assert f"| `{parameter}` |" in reference.split(f"### `{name}`", 1)[1].split("### ", 1)[0]
    assert documented["harness_load_model"].firstresult and not documented["harness_run_done"].firstresult


def test_the_committed_docs_are_up_to_date_with_the_generator() -> None:
    committed = (ROOT / "docs/plugins.md").read_text(encoding="utf-8")
    assert committed.count(BEGIN) == 1 and committed.count(END) == 1
    assert update_document(committed) == committed, "run: harness docs hooks -o docs/plugins.md"
    guide = committed.split(BEGIN)[0]
    for topic in ("Anatomy of a check", "Result fields", "Thresholds", "Report partials", "CLI commands from plugins", "Packaging"):
        assert f"## {topic}" in guide


def test_docs_hooks_command_rewrites_only_the_reference(tmp_path: Path) -> None:
    target = tmp_path / "plugins.md"
    target.write_text(f"# My guide\n\nhand-written\n\n{BEGIN}\nstale\n{END}\n\n## After\n")
    done = run_cli("docs", "hooks", "-o", str(target), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = target.read_text()
    assert text.startswith("# My guide\n\nhand-written\n\n") and text.endswith(f"{END}\n\n## After\n")
    assert "stale" not in text and all(f"### `{name}`" in text for name in HOOKS)
    printed = run_cli("docs", "hooks", cwd=tmp_path)
    assert printed.stdout == render_reference()
