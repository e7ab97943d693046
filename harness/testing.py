"""Test helpers for plugin authors: a pytest plugin, on by default once audit-harness is installed.

audit-harness declares this module under the ``pytest11`` entry point, so in
any project that has the harness installed these fixtures are available
without a conftest (or add ``pytest_plugins = ["harness.testing"]`` where
entry-point plugins are disabled, e.g. ``-p no:harness``):

- ``harness_plugin``: ``harness_plugin(module_or_object, name=...)`` registers a
  plugin in the process-wide host for this test only (unregistered after,
  even when the test fails); registration problems raise :class:`PluginLoadError`;
- ``harness_context``: a ready :class:`~harness.run.context.RunContext` on the
  built-in tiny BERT, fine-tuned with the built-in model's defaults, and a
  small built-in clinical-triage dataset (:data:`TINY_CONFIG`), to call
  ``MyCheck().run(ctx, options)`` directly; override the session fixture
  ``harness_config`` to change model or data (e.g. other fine-tuning, bias);
- ``harness_run``: ``harness_run({"my.check": {...}}, **overrides)`` runs a real
  audit of exactly those checks on :data:`TINY_CONFIG` with ``harness_config``
  and then ``overrides`` merged in, writes every output into the test's tmp
  folder and returns the :class:`~harness.results.types.AuditResult`.

Data and model are loaded and fine-tuned once per test session for each
distinct ``model``/``data``/``seed`` configuration (:class:`ContextCache`),
and shared by every ``harness_context`` and ``harness_run`` with that
configuration: a check must not train or modify ``ctx.model`` in place.

The same functions work outside pytest (:func:`registered`,
:func:`build_context`, :func:`run_checks`, :class:`ContextCache`). Nothing
heavy is imported until a fixture is used, so loading this plugin costs a
test session nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

import pytest

if TYPE_CHECKING:
    from harness.config.settings import AuditConfig
    from harness.run.context import RunContext
    from harness.plugin.manager import PluginHost
    from harness.results.types import AuditResult

#: The built-in tiny BERT on 300 synthetic notes, fine-tuned with the built-in model's
#: defaults (``BUILTIN_TINY_BERT_TRAINING``: up to 10 epochs with early stopping; a few
#: seconds on two CPU cores, once per session through :class:`ContextCache`). Partial
#: ``fine_tune`` settings merge over those defaults; ``model={"fine_tune": None}`` gives
#: the untrained model (it predicts one class) in a fraction of a second.
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
    checks: Mapping[str, Mapping[str, Any] | None], output_dir: Path, *, host: "PluginHost | None" = None,
    cache: "ContextCache | None" = None, **overrides: Any,
) -> "AuditResult":
    """Run a real audit of exactly ``checks`` (all formats written to ``output_dir``); returns the result.

    With ``cache``, data and model come from it (loaded and fine-tuned there
    once per configuration) instead of being loaded and trained for this run.
    """
    from harness.config.settings import load_config
    from harness.run.runner import Run

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    config = make_config(checks, output_dir, **_merge({"output": {"dir": str(output_dir / "out"), "formats": ["json", "html", "junit", "markdown"]}}, overrides))
    parsed, source, _ = load_config(config)
    prepared = cache.get(parsed, base_dir=output_dir, host=host) if cache is not None else None
    return Run(parsed, source="<harness.testing>", base_dir=output_dir, quiet=True, host=host, prepared=prepared).execute()


def _prepare(config: "AuditConfig", output_dir: Path, base_dir: Path, host: "PluginHost | None" = None) -> "RunContext":
    """Load data and model for ``config`` (fine-tuning it when the config says so) into a new RunContext."""
    from harness.run.context import Progress, RunContext
    from harness.run.runner import Run

    config = config.model_copy(update={"output": config.output.model_copy(update={"dir": str(output_dir)})})
    run = Run(config, source="<harness.testing>", base_dir=base_dir, quiet=True, host=host)
    ctx = RunContext(
        config=config, seed=config.seed, output_dir=output_dir, scratch_dir=output_dir / ".scratch",
        base_dir=base_dir, progress=Progress(quiet=True),
    )
    run.prepare(ctx)
    return ctx


def build_context(output_dir: Path, *, host: "PluginHost | None" = None, **overrides: Any) -> "RunContext":
    """A RunContext with data, model (fine-tuned per the config) and predictor loaded.

    The config is :data:`TINY_CONFIG` with ``overrides`` merged in; relative
    paths in it are relative to ``output_dir``.
    """
    from harness.config.settings import load_config

    output_dir = Path(output_dir)
    parsed, _, _ = load_config(_merge(TINY_CONFIG, {"output": {"dir": str(output_dir)}, **overrides}))
    return _prepare(parsed, output_dir, output_dir, host)


#: The hooks that decide what a prepared context holds: a plugin implementing one is part of the cache key.
_PREPARE_HOOKS = ("harness_load_dataset", "harness_load_model", "harness_train")


class ContextCache:
    """Prepared contexts (data loaded, model loaded and fine-tuned) by what decides them.

    The key is the config's ``model``, ``data`` and ``seed`` sections and the
    plugins implementing the loading and training hooks (plus the base folder
    when the config names relative local paths), so configs that differ only
    in checks, output or gate share one fine-tuned model. ``folder()`` gives
    each new entry its own folder (where the fine-tuned model is saved).
    The contexts are shared: never train or modify their model in place.
    """

    def __init__(self, folder: Callable[[], Path] | None = None) -> None:
        self._folder = folder or (lambda: Path(tempfile.mkdtemp(prefix="harness-context-")))
        self._contexts: dict[str, "RunContext"] = {}
        #: How many contexts were prepared (each one a data load and, usually, a fine-tuning).
        self.built = 0

    def __len__(self) -> int:
        return len(self._contexts)

    @staticmethod
    def key(config: "AuditConfig", base_dir: Path | None = None, host: "PluginHost | None" = None) -> str:
        """What decides a prepared context, as a string (see the class docstring)."""
        from harness.plugin.manager import get_host

        host = host or get_host()
        hooks = {
            name: sorted(f"{impl.plugin_name}@{id(impl.plugin)}" for impl in getattr(host.hook, name).get_hookimpls())
            for name in _PREPARE_HOOKS
        }
        local = [config.model.path, config.data.path or ""]
        if config.data.files is not None:
            local += [p for p in (config.data.files.train, config.data.files.validation, config.data.files.test) if p]
        relative = base_dir is not None and any(
            p and not Path(p).is_absolute() and (Path(base_dir) / p).exists() for p in local
        )
        return json.dumps({
            "model": config.model.model_dump(mode="json"),
            "data": config.data.model_dump(mode="json"),
            "seed": config.seed,
            "hooks": hooks,
            "base_dir": str(Path(base_dir).resolve()) if relative else None,
        }, sort_keys=True)

    def get(self, config: "AuditConfig", *, base_dir: Path | None = None, host: "PluginHost | None" = None) -> "RunContext":
        """The prepared context for ``config``, built on first request.

        ``base_dir``: where relative paths in the config point (default: the
        entry's own new folder, as :func:`build_context` does).
        """
        key = self.key(config, base_dir, host)
        if key not in self._contexts:
            folder = Path(self._folder())
            self._contexts[key] = _prepare(config, folder, Path(base_dir) if base_dir is not None else folder, host)
            self.built += 1
        return self._contexts[key]


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
    """Overrides merged into :data:`TINY_CONFIG` for ``harness_context`` and ``harness_run``;
    override this fixture (session scope) in your conftest.py or test module, e.g. for other
    fine-tuning: ``{"model": {"fine_tune": {"epochs": 4, "lr": 5e-3}}}`` (keys left out keep
    the built-in model's defaults)."""
    return {}


@pytest.fixture(scope="session")
def _harness_prepared(tmp_path_factory: pytest.TempPathFactory) -> ContextCache:
    """The session's prepared contexts: one data load and fine-tuning per distinct configuration,
    shared by ``harness_context`` and ``harness_run``."""
    return ContextCache(lambda: tmp_path_factory.mktemp("harness-context"))


@pytest.fixture()
def harness_context(_harness_prepared: ContextCache, harness_config: dict[str, Any], tmp_path: Path) -> "RunContext":
    """A fresh RunContext per test sharing the session's loaded data, model and predictor."""
    from harness.config.settings import load_config

    output = tmp_path / "harness-output"
    parsed, _, _ = load_config(_merge(TINY_CONFIG, harness_config))
    prepared = _harness_prepared.get(parsed)
    config = parsed.model_copy(update={"output": parsed.output.model_copy(update={"dir": str(output)})})
    return dataclasses.replace(prepared, config=config, output_dir=output, scratch_dir=output / ".scratch", extra={})


@pytest.fixture()
def harness_run(_harness_prepared: ContextCache, harness_config: dict[str, Any], tmp_path: Path) -> Callable[..., "AuditResult"]:
    """``harness_run(checks, **config_overrides) -> AuditResult`` on ``harness_config`` with the
    overrides merged in; outputs in ``tmp_path / "out"``; data and model from the session's cache."""

    def run(checks: Mapping[str, Mapping[str, Any] | None], **overrides: Any) -> "AuditResult":
        return run_checks(checks, tmp_path, cache=_harness_prepared, **_merge(harness_config, overrides))

    return run
