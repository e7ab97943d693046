"""Test helpers for plugin authors: a pytest plugin, on by default once audit-harness is installed.

audit-harness declares this module under the ``pytest11`` entry point, so in
any project that has the harness installed these fixtures are available
without a conftest (or add ``pytest_plugins = ["harness.testing"]`` where
entry-point plugins are disabled, e.g. ``-p no:harness``):

- ``harness_plugin``: ``harness_plugin(module_or_object, name=...)`` registers a
  plugin in the process-wide host for this test only (unregistered after,
  even when the test fails); registration problems raise :class:`PluginLoadError`;
- ``harness_context``: a ready :class:`~harness.run.context.RunContext` on the
  built-in tiny BERT and a small built-in clinical-triage dataset (data,
  model and predictor loaded once per session, a fresh context per test), to
  call ``MyCheck().run(ctx, options)`` directly; override the session fixture
  ``harness_config`` to change model or data (e.g. fine-tune, add bias);
- ``harness_run``: ``harness_run({"my.check": {...}})`` runs a real audit of
  exactly those checks, writes every output into the test's tmp folder and
  returns the :class:`~harness.results.types.AuditResult`.

The same functions work outside pytest (:func:`registered`,
:func:`build_context`, :func:`run_checks`). Nothing heavy is imported until a
fixture is used, so loading this plugin costs a test session nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

import pytest

if TYPE_CHECKING:
    from harness.run.context import RunContext
    from harness.plugin.manager import PluginHost
    from harness.results.types import AuditResult

#: Small and quick (a fraction of a second to load): the built-in tiny BERT, seeded but not
#: fine-tuned, on 300 synthetic notes. Pass ``model={"fine_tune": {"epochs": 3}}`` to
#: :func:`build_context` / ``harness_run`` when a test needs a model that learnt something.
TINY_CONFIG: dict[str, Any] = {
    "model": {"path": "builtin:tiny-bert"},
    "data": {"path": "builtin:clinical-triage", "synthetic": {"size": 300}},
    "seed": 0,
}


class PluginLoadError(RuntimeError):
    """A plugin registered by a test helper failed to register (the message says why)."""


def _merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@contextlib.contextmanager
def registered(plugin: object, name: str | None = None, host: "PluginHost | None" = None) -> Iterator["PluginHost"]:
    """Register ``plugin`` in ``host`` (default: the process-wide one) for the ``with`` block."""
    from harness.plugin.manager import get_host

    host = host or get_host()
    name = name or getattr(plugin, "__name__", type(plugin).__name__)
    if host.pm.get_plugin(name) is plugin:  # already loaded (e.g. installed, found by its entry point)
        yield host
        return
    if host.pm.get_plugin(name) is not None or host.pm.is_registered(plugin):
        raise PluginLoadError(f"a plugin named {name!r} (or this very object under another name) is already registered")
    before = len(host.failures)
    try:
        host.register_plugin(plugin, name)
    except Exception as exc:  # pluggy refuses hookimpls that match no hookspec
        host.unregister_plugin(name)
        raise PluginLoadError(f"plugin {name!r} could not be registered: {type(exc).__name__}: {exc}") from exc
    new = host.failures[before:]
    if new:
        host.unregister_plugin(name)
        raise PluginLoadError("; ".join(f"plugin {f.name!r} failed ({f.stage}): {f.error}" for f in new))
    try:
        yield host
    finally:
        host.unregister_plugin(name)


def make_config(checks: Mapping[str, Mapping[str, Any] | None], suite_dir: Path, **overrides: Any) -> dict[str, Any]:
    """A config that runs exactly ``checks`` on the tiny model and data (``overrides`` merge in)."""
    from harness.fileio import atomic_write_text

    suite = suite_dir / "harness-testing-suite.yaml"
    atomic_write_text(suite, "name: harness-testing\ndescription: the checks a test selected\nchecks: {}\n")
    config = _merge(TINY_CONFIG, overrides)
    config["suite"] = str(suite)
    config["checks"] = {check_id: dict(settings or {}) for check_id, settings in checks.items()}
    return config


def run_checks(
    checks: Mapping[str, Mapping[str, Any] | None], output_dir: Path, *, host: "PluginHost | None" = None, **overrides: Any
) -> "AuditResult":
    """Run a real audit of exactly ``checks`` (all formats written to ``output_dir``); returns the result."""
    from harness.config.settings import load_config
    from harness.run.runner import Run

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    config = make_config(checks, output_dir, **_merge({"output": {"dir": str(output_dir / "out"), "formats": ["json", "html", "junit", "markdown"]}}, overrides))
    parsed, source, _ = load_config(config)
    return Run(parsed, source="<harness.testing>", base_dir=output_dir, quiet=True, host=host).execute()


def build_context(output_dir: Path, **overrides: Any) -> "RunContext":
    """A RunContext with data, model (fine-tuned per the config) and predictor loaded."""
    from harness.config.settings import load_config
    from harness.run.context import Progress, RunContext
    from harness.run.runner import Run

    output_dir = Path(output_dir)
    config = _merge(TINY_CONFIG, {"output": {"dir": str(output_dir)}, **overrides})
    parsed, _, _ = load_config(config)
    run = Run(parsed, source="<harness.testing>", base_dir=output_dir, quiet=True)
    ctx = RunContext(
        config=parsed, seed=parsed.seed, output_dir=output_dir, scratch_dir=output_dir / ".scratch",
        base_dir=output_dir, progress=Progress(quiet=True),
    )
    run.prepare(ctx)
    return ctx


# ---------------------------------------------------------------- pytest fixtures


@pytest.fixture()
def harness_plugin() -> Iterator[Callable[..., "PluginHost"]]:
    """``harness_plugin(plugin, name=None)``: register for this test; unregistered afterwards."""
    with contextlib.ExitStack() as stack:

        def register(plugin: object, name: str | None = None, host: "PluginHost | None" = None) -> "PluginHost":
            return stack.enter_context(registered(plugin, name, host))

        yield register


@pytest.fixture(scope="session")
def harness_config() -> dict[str, Any]:
    """Overrides merged into :data:`TINY_CONFIG` for ``harness_context``; override this fixture
    (session scope) in your conftest.py, e.g. to fine-tune: ``{"model": {"fine_tune": {"epochs": 4}}}``."""
    return {}


@pytest.fixture(scope="session")
def _harness_prepared() -> dict[str, "RunContext"]:
    """Loaded contexts by config: one load per distinct ``harness_config`` in the session
    (a conftest deeper in the tree may override it for its tests only)."""
    return {}


@pytest.fixture()
def harness_context(
    _harness_prepared: dict[str, "RunContext"], harness_config: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path,
) -> "RunContext":
    """A fresh RunContext per test sharing the session's loaded data, model and predictor."""
    import json

    key = json.dumps(harness_config, sort_keys=True, default=str)
    if key not in _harness_prepared:
        _harness_prepared[key] = build_context(tmp_path_factory.mktemp("harness-context"), **harness_config)
    output = tmp_path / "harness-output"
    return dataclasses.replace(_harness_prepared[key], output_dir=output, scratch_dir=output / ".scratch", extra={})


@pytest.fixture()
def harness_run(tmp_path: Path) -> Callable[..., "AuditResult"]:
    """``harness_run(checks, **config_overrides) -> AuditResult``; outputs in ``tmp_path / "out"``."""

    def run(checks: Mapping[str, Mapping[str, Any] | None], **overrides: Any) -> "AuditResult":
        return run_checks(checks, tmp_path, **overrides)

    return run
