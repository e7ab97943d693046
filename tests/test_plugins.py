"""Plugin discovery and registration: entry points, switches, failures, registry."""

from __future__ import annotations

import textwrap
import types
from pathlib import Path

import pytest

from conftest import offline_env, run_cli
from harness import Check, CheckResult, Metric, Threshold, hookimpl
from harness.plugin.checks import CheckRegistry
from harness.plugin.manager import build_host


def _fake_distribution(site: Path, dist: str, version: str, entry_points: dict[str, str], modules: dict[str, str]) -> None:
    """An installed distribution, as pip would leave it: a dist-info folder plus modules."""
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    lines = "\n".join(f"{name} = {target}" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[harness]\n{lines}\n")
    for name, source in modules.items():
        (site / f"{name}.py").write_text(textwrap.dedent(source))


GOOD_PLUGIN = """
    from harness import Check, Threshold, Metric, hookimpl

    class Always(Check):
        id = "extra.always"
        title = "Always passes"
        description = "A check from an external plugin."
        primary_metric = "score"
        default_thresholds = {"score": Threshold(min=0.5)}

        def run(self, ctx, options):
            return self.result(metrics=[Metric("score", 1.0)])

    @hookimpl
    def harness_register_checks(register):
        register(Always)
"""


@pytest.fixture()
def site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    _fake_distribution(site, "harness-extra", "2.3.4", {"extra": "extra_plugin"}, {"extra_plugin": GOOD_PLUGIN})
    _fake_distribution(site, "harness-broken", "0.0.1", {"broken": "broken_plugin"}, {"broken_plugin": "raise RuntimeError('boom at import')\n"})
    return site


def _env(site: Path, **extra: str) -> dict[str, str]:
    return offline_env(PYTHONPATH=str(site), **extra)


def test_external_plugins_load_through_entry_points_and_failures_are_named(site: Path, tmp_path: Path) -> None:
    done = run_cli("plugins", cwd=tmp_path, env=_env(site))
    assert "extra 2.3.4 [external, entry point (harness-extra)]" in done.stdout
    assert "    extra.always" in done.stdout
    assert "accuracy 0.1.0 [built-in" in done.stdout  # the others still load
    assert "broken FAILED to load (import): RuntimeError: boom at import" in done.stdout
    assert done.returncode == 3


def test_allow_list_limits_external_plugins_but_keeps_builtins(site: Path, tmp_path: Path) -> None:
    done = run_cli("plugins", cwd=tmp_path, env=_env(site, HARNESS_PLUGINS="extra"))
    assert done.returncode == 0, done.stdout
    assert "extra 2.3.4" in done.stdout and "accuracy 0.1.0" in done.stdout
    assert "broken" not in done.stdout


def test_block_list_applies_to_builtins_too(site: Path, tmp_path: Path) -> None:
    done = run_cli("checks", cwd=tmp_path, env=_env(site, HARNESS_DISABLE_PLUGINS="broken,accuracy"))
    assert done.returncode == 0
    assert "extra.always" in done.stdout
    assert "accuracy." not in done.stdout


def test_autoload_switch_loads_only_builtins(site: Path, tmp_path: Path) -> None:
    done = run_cli("plugins", cwd=tmp_path, env=_env(site, HARNESS_DISABLE_PLUGIN_AUTOLOAD="1"))
    assert done.returncode == 0
    assert done.stdout.startswith("accuracy 0.1.0")
    assert "extra" not in done.stdout and "broken" not in done.stdout


def test_checks_lists_external_checks_with_thresholds(site: Path, tmp_path: Path) -> None:
    done = run_cli("checks", cwd=tmp_path, env=_env(site, HARNESS_PLUGINS="extra"))
    assert "extra.always  [score >= 0.5]  (extra)" in done.stdout
    assert "    A check from an external plugin." in done.stdout


# ---------------------------------------------------------------- in-process registration


class Throwaway(Check):
    id = "throwaway.metric"
    title = "Throwaway"
    primary_metric = "value"
    default_thresholds = {"value": Threshold(max=1.0)}

    def run(self, ctx, options) -> CheckResult:  # type: ignore[no-untyped-def]
        return self.result(metrics=[Metric("value", 0.5)])


def _plugin_module(*checks: type[Check]) -> types.ModuleType:
    module = types.ModuleType("throwaway_plugin")

    @hookimpl
    def harness_register_checks(register):  # type: ignore[no-untyped-def]
        for check in checks:
            register(check)

    module.harness_register_checks = harness_register_checks  # type: ignore[attr-defined]
    return module


def test_a_plugin_registered_for_one_test_is_gone_after() -> None:
    host = build_host()
    host.register_plugin(_plugin_module(Throwaway), "throwaway")
    assert host.registry.get("throwaway.metric").plugin == "throwaway"  # type: ignore[union-attr]
    assert "throwaway" in [info.name for info in host.plugin_infos()]
    host.unregister_plugin("throwaway")
    assert host.registry.get("throwaway.metric") is None
    assert "throwaway" not in [info.name for info in host.plugin_infos()]


def test_a_duplicate_check_id_is_refused_naming_both_plugins() -> None:
    host = build_host()
    host.register_plugin(_plugin_module(Throwaway), "first")
    host.register_plugin(_plugin_module(Throwaway), "second")
    assert host.registry.get("throwaway.metric").plugin == "first"  # type: ignore[union-attr]
    failure = host.failures[-1]
    assert failure.name == "second" and failure.stage == "register"
    assert "'throwaway.metric' from plugin 'second' is already registered by plugin 'first'" in failure.error


def test_registry_validates_what_is_registered() -> None:
    registry = CheckRegistry()
    with pytest.raises(TypeError, match="subclass of harness.Check"):
        registry.register(object, "p")  # type: ignore[arg-type]

    class BadId(Check):
        id = "NoDots"
        title = "bad"

    with pytest.raises(ValueError, match="dotted lowercase"):
        registry.register(BadId, "p")


def test_every_hookspec_is_documented_with_params() -> None:
    import inspect

    from harness.plugin import hookspecs
    hooks = [name for name in dir(hookspecs) if name.startswith("harness_")]
    assert len(hooks) == 10
    for name in hooks:
        function = getattr(hookspecs, name)
        doc = inspect.getdoc(function) or ""
        for parameter in inspect.signature(function).parameters:
            assert f":param {parameter}:" in doc, f"{name} does not document {parameter}"
