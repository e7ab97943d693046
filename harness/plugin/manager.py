"""The one PluginManager: entry-point discovery, allow/block lists, check registry.

Built-in plugins are found through the same ``harness`` entry-point group as
third-party ones (like pytest's default plugins and datasette's
DEFAULT_PLUGINS); the only privilege they get is that
``HARNESS_DISABLE_PLUGIN_AUTOLOAD`` and ``HARNESS_PLUGINS`` do not drop them.

Switches (environment variables, comma-separated plugin names):
- ``HARNESS_PLUGINS``: allow-list of external plugins to load (built-ins always load);
- ``HARNESS_DISABLE_PLUGINS``: block-list, applies to built-ins too;
- ``HARNESS_DISABLE_PLUGIN_AUTOLOAD``: any non-empty value loads no external plugin.

A plugin that fails to import, or raises while registering its checks, is
recorded in :attr:`PluginHost.failures` by name with its error; the others
load as usual, and a run plans the failed plugin's selected checks (ids
``<plugin>.<check>``) as stand-ins that end ``error`` with that reason
(:meth:`PluginHost.registry_for`). Entry points the switches keep out are
listed in :attr:`PluginHost.disabled` (``harness plugins --all``).
"""

from __future__ import annotations

import importlib.metadata
import os
from dataclasses import dataclass, field
from typing import Any, Iterable

import pluggy
from pydantic import ConfigDict

from harness.plugin import hookspecs
from harness.plugin.checks import CHECK_ID_PATTERN, Check, CheckOptions, CheckRegistry, RegisteredCheck

ENTRY_POINT_GROUP = "harness"
#: Entry-point names of the built-in plugins (declared in pyproject.toml).
DEFAULT_PLUGINS: tuple[str, ...] = ("accuracy", "fairness", "robustness", "privacy", "mlflow", "compression", "explain")


@dataclass(frozen=True)
class PluginInfo:
    """What ``harness plugins`` shows about one loaded plugin."""

    name: str
    module: str
    version: str
    source: str  # "entry point (distribution)" or "local"
    builtin: bool
    hooks: tuple[str, ...]
    checks: tuple[str, ...]


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not be loaded or registered, and why."""

    name: str
    stage: str  # "import" or "register"
    error: str


def _env_names(variable: str) -> set[str]:
    return {name.strip() for name in os.environ.get(variable, "").split(",") if name.strip()}


@dataclass
class PluginHost:
    """The plugin manager of a process plus what it learnt while loading."""

    pm: pluggy.PluginManager
    registry: CheckRegistry = field(default_factory=CheckRegistry)
    failures: list[PluginFailure] = field(default_factory=list)
    #: Entry points the switches kept out: (name, version, source, why).
    disabled: list[tuple[str, str, str, str]] = field(default_factory=list)
    _sources: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (version, source)

    @property
    def hook(self) -> Any:
        return self.pm.hook

    def register_plugin(self, plugin: object, name: str, *, version: str = "", source: str = "local") -> None:
        """Register a plugin object (a module or any object with hookimpls) and its checks.

        Used for entry points and by tests and notebooks to add a plugin for
        the life of the process; :meth:`unregister_plugin` takes it back out.
        """
        self.pm.register(plugin, name=name)
        self._sources[name] = (version, source)
        self.pm.check_pending()
        self._register_checks_of(name)

    def unregister_plugin(self, name: str) -> None:
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin)
        self._sources.pop(name, None)
        self.failures = [failure for failure in self.failures if failure.name != name]
        for check_id in [cid for cid, reg in self.registry.checks.items() if reg.plugin == name]:
            del self.registry.checks[check_id]

    def _register_checks_of(self, name: str) -> None:
        plugin = self.pm.get_plugin(name)
        for impl in self.pm.hook.harness_register_checks.get_hookimpls():
            if impl.plugin is not plugin:
                continue
            staged = CheckRegistry(dict(self.registry.checks))

            def register(check_class: type[Check], _plugin: str = name, _staged: CheckRegistry = staged) -> None:
                _staged.register(check_class, _plugin)

            try:
                impl.function(register=register)
            except Exception as exc:  # a bad plugin must not take the others down
                self.failures.append(PluginFailure(name, "register", f"{type(exc).__name__}: {exc}"))
                continue
            self.registry = staged

    def registry_for(self, check_ids: "Iterable[str]") -> CheckRegistry:
        """The registry, plus a stand-in for each wanted id that belongs to a plugin that failed.

        A check id whose first part is the name of a plugin that failed to
        import or register (the convention ``<plugin>.<check>``, which
        ``harness plugin new`` follows) is not reported as an unknown id:
        it is planned with a stand-in that errors with the plugin's failure,
        so the run names the plugin and reason, marks the check ``error``,
        and still runs every other check.
        """
        failed = {failure.name: failure for failure in self.failures}
        registry = CheckRegistry(dict(self.registry.checks))
        for check_id in check_ids:
            failure = failed.get(check_id.split(".", 1)[0])
            if failure is not None and registry.get(check_id) is None and CHECK_ID_PATTERN.fullmatch(check_id):
                registry.checks[check_id] = RegisteredCheck(_failed_plugin_check(check_id, failure), failure.name)
        return registry

    def plugin_infos(self) -> list[PluginInfo]:
        infos = []
        for name, plugin in sorted(self.pm.list_name_plugin()):
            if plugin is None or name.startswith("_"):
                continue
            version, source = self._sources.get(name, ("", "local"))
            hooks = sorted(
                caller.name
                for caller in self.pm.get_hookcallers(plugin) or []
            )
            checks = sorted(cid for cid, reg in self.registry.checks.items() if reg.plugin == name)
            infos.append(
                PluginInfo(
                    name=name,
                    module=getattr(plugin, "__name__", type(plugin).__name__),
                    version=version,
                    source=source,
                    builtin=name in DEFAULT_PLUGINS,
                    hooks=tuple(hooks),
                    checks=tuple(checks),
                )
            )
        return infos


class _AnyOptions(CheckOptions):
    model_config = ConfigDict(extra="allow", frozen=True)


def _failed_plugin_check(check_id: str, failure: PluginFailure) -> type[Check]:
    """A stand-in check for ``check_id`` of a plugin that failed: running it raises the failure."""

    def run(self: Check, ctx: Any, options: CheckOptions) -> Any:
        raise RuntimeError(f"plugin {failure.name!r} failed to load ({failure.stage}): {failure.error}")

    return type("FailedPluginCheck", (Check,), {
        "id": check_id, "title": check_id, "primary_metric": "value", "Options": _AnyOptions, "run": run,
        "description": f"stand-in: plugin {failure.name!r} failed to load",
    })


def _why_not_loaded(name: str) -> str | None:
    """Why the switches keep entry point ``name`` out, or ``None`` when it loads."""
    if name in _env_names("HARNESS_DISABLE_PLUGINS"):
        return "HARNESS_DISABLE_PLUGINS"
    if name in DEFAULT_PLUGINS:
        return None
    if os.environ.get("HARNESS_DISABLE_PLUGIN_AUTOLOAD"):
        return "HARNESS_DISABLE_PLUGIN_AUTOLOAD"
    if "HARNESS_PLUGINS" in os.environ and name not in _env_names("HARNESS_PLUGINS"):
        return "not in HARNESS_PLUGINS"
    return None


def _load_entry_points(host: PluginHost) -> None:
    seen: set[str] = set()
    for entry_point in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
        if entry_point.name in seen:
            continue
        seen.add(entry_point.name)
        dist = entry_point.dist
        version = dist.version if dist is not None else ""
        source = f"entry point ({dist.metadata['Name']})" if dist is not None else "entry point"
        why = _why_not_loaded(entry_point.name)
        if why is not None:
            host.disabled.append((entry_point.name, version, source, why))
            continue
        try:
            plugin = entry_point.load()
        except Exception as exc:
            host.failures.append(PluginFailure(entry_point.name, "import", f"{type(exc).__name__}: {exc}"))
            continue
        try:
            host.register_plugin(plugin, entry_point.name, version=version, source=source)
        except Exception as exc:
            host.failures.append(PluginFailure(entry_point.name, "register", f"{type(exc).__name__}: {exc}"))


def build_host() -> PluginHost:
    """A fresh plugin host with every enabled entry-point plugin loaded."""
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    host = PluginHost(pm)
    _load_entry_points(host)
    return host


_host: PluginHost | None = None


def get_host() -> PluginHost:
    """The process-wide plugin host, loaded once, lazily (as llm and tox do)."""
    global _host
    if _host is None:
        _host = build_host()
    return _host

