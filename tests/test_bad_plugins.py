"""Bad plugins are contained: each failure is named with its reason, its checks are
``error``, and every other check still runs and reports (issue 8, item 5).

One real ``harness run`` in a subprocess with four fake installed distributions
(the ``_fake_distribution`` helper of test_plugins.py): one raises on import,
one raises while registering, one steals another's check id, and one whose
checks raise, return a non-CheckResult, and hang past their ``timeout``.
"""

from __future__ import annotations

import json
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import offline_env, run_cli, write_config
from harness.plugin.checks import CheckRegistry
from harness.errors import ConfigError
from harness.run.executor import CheckTimeout, call_with_timeout
from harness.config.plan import DEFAULT_TIMEOUT_S, build_plan
from test_plugins import Throwaway, _fake_distribution

MISBEHAVES = """
    import time
    from harness import Check, Metric, hookimpl

    class Raises(Check):
        id = "misbehaves.raises"
        title = "Raises"
        def run(self, ctx, options):
            raise ZeroDivisionError("deliberately broken")

    class WrongReturn(Check):
        id = "misbehaves.wrong_return"
        title = "Returns a dict"
        def run(self, ctx, options):
            return {"accuracy": 1.0}

    class Hangs(Check):
        id = "misbehaves.hangs"
        title = "Hangs"
        def run(self, ctx, options):
            time.sleep(120)
            return self.result(metrics=[Metric("value", 1.0)])

    class Fine(Check):
        id = "misbehaves.fine"
        title = "Fine"
        primary_metric = "value"
        def run(self, ctx, options):
            import torch  # torch works in the worker thread
            return self.result(metrics=[Metric("value", float(torch.tensor(2.0).item()))])

    @hookimpl
    def harness_register_checks(register):
        for check in (Raises, WrongReturn, Hangs, Fine):
            register(check)
"""

REGISTERS_BADLY = """
    from harness import hookimpl
    @hookimpl
    def harness_register_checks(register):
        raise KeyError("no such table")
"""

SHADOW = """
    from harness import Check, hookimpl

    class Copy(Check):
        id = "misbehaves.fine"
        title = "Copy"

    @hookimpl
    def harness_register_checks(register):
        register(Copy)
"""


@pytest.fixture(scope="module")
def bad_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object, float]:
    root = tmp_path_factory.mktemp("bad")
    site = root / "site"
    site.mkdir()
    _fake_distribution(site, "harness-imports-badly", "1.0", {"imports_badly": "imports_badly"}, {"imports_badly": "import no_such_module_xyz\n"})
    _fake_distribution(site, "harness-registers-badly", "1.0", {"registers_badly": "registers_badly"}, {"registers_badly": REGISTERS_BADLY})
    _fake_distribution(site, "harness-misbehaves", "1.0", {"misbehaves": "misbehaves"}, {"misbehaves": MISBEHAVES})
    _fake_distribution(site, "harness-shadow", "1.0", {"shadow": "shadow_plugin"}, {"shadow_plugin": SHADOW})
    (root / "only.yaml").write_text("name: only\nchecks: {}\n")
    config = write_config(root, {
        "model": {"path": "builtin:tiny-bert"},
        "data": {"path": "builtin:clinical-triage", "synthetic": {"size": 200}},
        "suite": "only.yaml",
        "checks": {
            "accuracy.accuracy": {"n_boot": 200, "min": 0.0},
            "imports_badly.anything": {"max": 0.1, "some_option": 3},
            "registers_badly.check": {},
            "misbehaves.raises": {},
            "misbehaves.wrong_return": {},
            "misbehaves.hangs": {"timeout": 1},
            "misbehaves.fine": {"min": 2.0},
        },
        "output": {"dir": "out"},
    })
    started = time.perf_counter()
    done = run_cli("run", str(config), cwd=root, env=offline_env(PYTHONPATH=str(site)))
    return root / "out", done, time.perf_counter() - started


def _checks(out: Path) -> dict[str, dict]:
    return {c["id"]: c for c in json.loads((out / "results.json").read_text())["checks"]}


def test_each_bad_plugin_is_named_with_its_reason_and_its_checks_are_errors(bad_run) -> None:
    out, done, _ = bad_run
    assert done.returncode == 3, done.stderr
    checks = _checks(out)
    assert checks["imports_badly.anything"]["status"] == "error"
    assert "plugin 'imports_badly' failed to load (import): ModuleNotFoundError: No module named 'no_such_module_xyz'" in checks["imports_badly.anything"]["message"]
    assert checks["registers_badly.check"]["status"] == "error"
    assert "plugin 'registers_badly' failed to load (register): KeyError: 'no such table'" in checks["registers_badly.check"]["message"]
    failures = {f["name"]: f for f in json.loads((out / "results.json").read_text())["provenance"]["plugin_failures"]}
    assert set(failures) == {"imports_badly", "registers_badly", "shadow"}
    assert "plugin 'imports_badly' failed to load (import)" in done.stderr


def test_a_stolen_check_id_is_refused_naming_both_plugins(bad_run) -> None:
    out, done, _ = bad_run
    failures = {f["name"]: f for f in json.loads((out / "results.json").read_text())["provenance"]["plugin_failures"]}
    assert "check id 'misbehaves.fine' from plugin 'shadow' is already registered by plugin 'misbehaves'" in failures["shadow"]["error"]
    assert _checks(out)["misbehaves.fine"]["plugin"] == "misbehaves"


def test_raising_wrong_return_and_timeout_become_errors_with_the_reason(bad_run) -> None:
    out, done, elapsed = bad_run
    checks = _checks(out)
    assert checks["misbehaves.raises"]["status"] == "error"
    assert checks["misbehaves.raises"]["message"] == "ZeroDivisionError: deliberately broken"
    assert checks["misbehaves.wrong_return"]["status"] == "error"
    assert "run() returned dict, expected harness.CheckResult" in checks["misbehaves.wrong_return"]["message"]
    assert checks["misbehaves.hangs"]["status"] == "error"
    assert "timed out after 1 s" in checks["misbehaves.hangs"]["message"]
    saved = json.loads((out / "results.json").read_text())
    duration = saved["run"]["check_durations"]["misbehaves.hangs"] if "check_durations" in saved["run"] else checks["misbehaves.hangs"]["duration_s"]
    assert 1.0 <= duration < 10
    assert elapsed < 110  # the hung check's sleep(120) kept neither the run nor the process exit waiting


def test_every_other_check_still_runs_and_reports_everywhere(bad_run) -> None:
    out, done, _ = bad_run
    checks = _checks(out)
    assert checks["misbehaves.fine"]["status"] == "pass" and checks["misbehaves.fine"]["metrics"][0]["value"] == 2.0
    assert checks["accuracy.accuracy"]["status"] == "pass"
    assert list(checks) == ["accuracy.accuracy", "imports_badly.anything", "registers_badly.check", "misbehaves.raises",
                            "misbehaves.wrong_return", "misbehaves.hangs", "misbehaves.fine"]
    html = (out / "report.html").read_text()
    cases = {c.get("name"): c for c in ET.parse(out / "junit.xml").getroot().iter("testcase")}
    for check_id in checks:
        assert check_id in html and check_id in cases
    assert cases["misbehaves.hangs"].find("error") is not None and cases["misbehaves.fine"].find("error") is None
    assert "ERROR        misbehaves.hangs: CheckTimeout: timed out after 1 s" in done.stdout


# ---------------------------------------------------------------- the timeout itself


def test_call_with_timeout_returns_reraises_and_gives_up() -> None:
    assert call_with_timeout(lambda: 42, 5) == 42
    with pytest.raises(ZeroDivisionError):
        call_with_timeout(lambda: 1 / 0, 5)
    release = threading.Event()
    started = time.perf_counter()
    with pytest.raises(CheckTimeout, match=r"timed out after 0.2 s"):
        call_with_timeout(lambda: release.wait(30), 0.2)
    assert time.perf_counter() - started < 5
    release.set()
    main = threading.current_thread()
    assert call_with_timeout(threading.current_thread, None) is main  # no limit: runs right here
    assert call_with_timeout(threading.current_thread, 5) is not main


@pytest.mark.parametrize("value", ["soon", 0, -1, True])
def test_a_bad_timeout_is_a_config_error_naming_the_key(value: object, tmp_path: Path) -> None:
    from harness.config.settings import parse_config
    from harness.plugin.checks import RegisteredCheck

    registry = CheckRegistry({Throwaway.id: RegisteredCheck(Throwaway, "p")})
    (tmp_path / "s.yaml").write_text("name: s\nchecks: {}\n")
    config = parse_config({"suite": "s.yaml", "checks": {Throwaway.id: {"timeout": value}}})
    with pytest.raises(ConfigError, match=r"checks\.throwaway\.metric\.timeout: expected a number of seconds > 0"):
        build_plan(config, registry, suite=None, base_dir=tmp_path, source="audit.yaml")


def test_timeout_defaults_to_generous_and_null_means_none(tmp_path: Path) -> None:
    from harness.config.settings import parse_config
    from harness.plugin.checks import RegisteredCheck

    registry = CheckRegistry({Throwaway.id: RegisteredCheck(Throwaway, "p")})
    (tmp_path / "s.yaml").write_text("name: s\nchecks: {}\n")
    plan = build_plan(parse_config({"suite": "s.yaml", "checks": {Throwaway.id: {}}}), registry, suite=None, base_dir=tmp_path, source="a")
    assert plan.checks[0].timeout == DEFAULT_TIMEOUT_S >= 600
    plan = build_plan(parse_config({"suite": "s.yaml", "checks": {Throwaway.id: {"timeout": None}}}), registry, suite=None, base_dir=tmp_path, source="a")
    assert plan.checks[0].timeout is None


# ---------------------------------------------------------------- harness.testing's registration helper


def test_the_test_helper_refuses_a_bad_plugin_and_leaves_the_host_clean() -> None:
    import types

    from harness import hookimpl
    from harness.plugin.manager import build_host
    from harness.testing import PluginLoadError, registered

    host = build_host()
    before = (sorted(host.registry.checks), list(host.failures), sorted(n for n, _ in host.pm.list_name_plugin()))

    raising = types.ModuleType("raising")
    raising.harness_register_checks = hookimpl(lambda register: (_ for _ in ()).throw(KeyError("no such table")))  # type: ignore[attr-defined]
    with pytest.raises(PluginLoadError, match=r"plugin 'raising' failed \(register\): KeyError: 'no such table'"):
        with registered(raising, "raising", host):
            pass

    typo = types.ModuleType("typo")
    typo.harness_regster_checks = hookimpl(lambda register: None)  # type: ignore[attr-defined]
    with pytest.raises(PluginLoadError, match=r"plugin 'typo' could not be registered: PluginValidationError"):
        with registered(typo, "typo", host):
            pass

    with registered(types.ModuleType("good"), "good", host):
        with pytest.raises(PluginLoadError, match="already registered"):
            with registered(types.ModuleType("other"), "good", host):
                pass
    after = (sorted(host.registry.checks), list(host.failures), sorted(n for n, _ in host.pm.list_name_plugin()))
    assert after == before
