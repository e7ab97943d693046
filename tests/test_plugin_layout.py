"""The built-in plugins share one layout, the one a third party should copy, and use the public API.

For each of ``plugins/harness_*`` (read with ``ast``, so every module counts,
also those no test loads, and imports inside functions or under
``if TYPE_CHECKING:`` count too):

- ``__init__.py`` holds only the hook implementations: imports, ``@hookimpl``
  functions named ``harness_*``, nothing else (no Check class, no constant);
- no import cycle among the plugin's modules, and no module imports the
  package's ``__init__`` (``from pkg import submodule`` imports the submodule);
- from the core it imports only the names of ``harness.__all__`` (from
  ``harness`` itself) and ``harness.outputs.charts`` (the chart helpers, core
  for now), plus the private names listed in :data:`STILL_PRIVATE`, each with
  the reason a plugin needs it: the list of what the public API still lacks.
  An entry no plugin uses any more fails too, so the list only shrinks.

The example plugin (``examples/harness-keyword-guard``) and the scaffold's
``__init__.py`` template import from the core only names of ``harness.__all__``.
Registering every built-in plugin's checks imports neither NumPy nor torch.
"""

from __future__ import annotations

import ast
import json
import string
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

import harness

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ROOT / "plugins"
BUILTINS = ("harness_accuracy", "harness_fairness", "harness_privacy", "harness_robustness", "harness_explain", "harness_compression", "harness_mlflow")
EXAMPLE = ROOT / "examples" / "harness-keyword-guard" / "harness_keyword_guard"
SCAFFOLD_INIT = ROOT / "harness" / "cli" / "scaffold_templates" / "__init__.py.tmpl"

PUBLIC = frozenset(harness.__all__)
#: Core modules a built-in plugin may import besides ``harness`` itself.
ALLOWED_MODULES = frozenset({"harness.outputs.charts"})

#: Private core names the built-in plugins still import, by plugin: ``module.name`` -> why.
#: Each is something the public API does not offer yet.
STILL_PRIVATE: dict[str, dict[str, str]] = {
    "harness_accuracy": {
        "harness.stats.intervals.bootstrap_intervals": "vectorised bootstrap of several statistics on one resample matrix",
        "harness.stats.intervals.error_bound_interval": "ECE interval from the bootstrap of its error bound",
        "harness.stats.intervals.percentile_interval": "percentile interval of precomputed bootstrap replicates",
        "harness.stats.intervals.resample_indices": "the (stratified) resample matrix shared by the batch statistics",
    },
    "harness_fairness": {
        "harness.stats.intervals.newcombe_interval": "interval of a difference of two proportions (disparities)",
        "harness.fileio.atomic_write_text": "atomic write of the mitigation's thresholds artifact",
        "harness.fileio.dump_json": "the harness's one JSON layout for that artifact",
        "harness.text.diff.marked_segments": "changed words marked in the report (as charts: a report helper)",
    },
    "harness_privacy": {
        "harness.text.pii.ALL_KINDS": "the core's PII detectors (privacy.pii, artifact_pii, harness anonymize)",
        "harness.text.pii.PLACEHOLDERS": "the core's PII placeholders",
        "harness.text.pii.PiiMatch": "the core's PII detectors",
        "harness.text.pii.find_pii": "the core's PII detectors",
        "harness.text.pii.mask_matches": "the core's PII masking",
        "harness.text.pii.mask_text": "the core's PII masking (also where ctx.redact is off)",
        "harness.text.pii.token_pii_kind": "PII in tokenizer vocabularies (artifact_pii)",
        "harness.fileio.atomic_write_bytes": "harness anonymize writes its output atomically",
        "harness.fileio.atomic_write_text": "harness anonymize writes its output atomically",
        "harness.ml.data.read_table": "harness anonymize reads CSV/TSV/Parquet as harness run does",
        "harness.ml.training.fine_tune": "the core's training loop (canaries planted in a non-DP run; shadow models)",
        "harness.ml.training.EpochBook": "the core loop's validation, early stopping and best-epoch restore, in the DP loop",
        "harness.ml.models": "shadow models are built as the core built the target (models.load_model)",
        "harness.ml.training": "shadow models fall back to the core's loop (training.fine_tune)",
        "harness.plugin.manager.get_host": "shadow models go through the loading and training hooks",
        "harness.run.context.Progress": "a quiet progress reporter for a shadow model's RunContext",
        "harness.run.executor.Task": "shadow models are units of work for ctx.executor",
        "harness.run.provenance.result_key": "a shadow's working folder keyed by its inputs and library versions",
        "harness.config.settings.FineTuneConfig": "the non-DP twin's fine_tune settings (runtime) and DP loop annotations",
    },
    "harness_explain": {
        "harness.stats.intervals.bootstrap_intervals": "one resample matrix for every faithfulness and reliance statistic",
        "harness.text.pii.find_pii": "personal-data spans weighed as protected and masked word by word in the highlighted texts",
        "harness.text.pii.PLACEHOLDERS": "the core's placeholder for a masked span in the highlighted texts",
        "harness.run.executor.Task": "chunks of texts to attribute are units of work for ctx.executor",
        "harness.run.executor.WorkerPool": "each executor worker rebuilds the model once for its chunks",
        "harness.ml.remote.pack_model": "the driver's weights shipped to executor workers (as the attack's)",
        "harness.ml.remote.unpack_model": "a worker's model rebuilt from the driver's weights",
    },
    "harness_compression": {
        "harness.ml.models": "a user's compressed model (compression.model) is loaded by the core's loader, as model.path",
        "harness.plugin.manager.get_host": "that model goes through the harness_load_model hook first, as model.path does",
        "harness.stats.paired.mcnemar_exact": "McNemar's exact test on correctness, the one harness compare uses",
    },
    "harness_robustness": {
        "harness.ml.training.fine_tune": "adversarial training runs the core's loop twice",
        "harness.run.provenance.result_key": "attack checkpoints keyed by their inputs and library versions",
        "harness.run.executor.Task": "attack chunks are units of work for ctx.executor",
        "harness.run.executor.WorkerPool": "attack chunks share a model and a built attack per worker (ctx.executor.map_pool)",
        "harness.run.executor.LocalExecutor": "run_attack called without a run (tests, scripts) attacks its chunks here",
        "harness.ml.remote.pack_model": "the model shipped to the attack's workers through the engine's object store",
        "harness.ml.remote.unpack_model": "a worker rebuilds the model and a recording predictor from that payload",
        "harness.ml.remote.cache_snapshot": "a worker starts each chunk from the run predictor's cache",
        "harness.ml.remote.replay_queries": "a worker's queries counted on the run's predictor as the local engine counts them",
        "harness.text.diff.marked_segments": "changed words marked in the report (as charts: a report helper)",
        "harness.text.language.detect_languages": "adversarial training picks its recipe by the training texts' language "
                                                  "(the runner measures only the evaluation texts: ctx.languages)",
    },
}
#: Private names any built-in plugin may import under ``if TYPE_CHECKING:`` only (hook parameter annotations).
TYPE_ONLY = frozenset({
    "harness.config.settings.AuditConfig",
    "harness.config.settings.ModelConfig",
    "harness.config.settings.FineTuneConfig",
})


def _modules(package: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of a plugin package."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str, str | None, bool]]:
    """(line, module, imported name or None, under TYPE_CHECKING) for every import, relative ones resolved."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str, str | None, bool]] = []

    def visit(node: ast.AST, typing_only: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, typing_only)
            return
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name, None, typing_only) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.extend((node.lineno, base, alias.name, typing_only) for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child, typing_only)

    visit(tree, False)
    return found


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _plugin_imports(name: str) -> dict[str, list[tuple[int, str, str | None, bool]]]:
    modules = _modules(PLUGINS / name)
    return {module: imports(_parse(path), module, path.name == "__init__.py") for module, path in modules.items()}


def _core_names(found: list[tuple[int, str, str | None, bool]]) -> list[tuple[int, str, bool]]:
    """(line, what, under TYPE_CHECKING) for each import from the core: ``harness.X`` for ``from harness import X``."""
    names = []
    for line, module, name, typing_only in found:
        if module == "harness" or module.startswith("harness."):
            names.append((line, f"{module}.{name}" if name else module, typing_only))
    return names


def _allowed(what: str, typing_only: bool, plugin: str | None) -> bool:
    module, _, name = what.rpartition(".")
    if module == "harness":
        return name in PUBLIC
    if what in ALLOWED_MODULES or module in ALLOWED_MODULES:
        return True
    if plugin is None:  # the example and the scaffold: the public names only
        return False
    return what in STILL_PRIVATE.get(plugin, {}) or (typing_only and what in TYPE_ONLY)


@pytest.mark.parametrize("plugin", BUILTINS)
def test_init_holds_only_hook_implementations(plugin: str) -> None:
    path = PLUGINS / plugin / "__init__.py"
    tree = _parse(path)
    problems = []
    for index, node in enumerate(tree.body):
        if index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            continue  # the docstring
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            if not all(isinstance(child, (ast.Import, ast.ImportFrom)) for child in node.body):
                problems.append(f"line {node.lineno}: only imports under TYPE_CHECKING")
            continue
        if isinstance(node, ast.FunctionDef):
            hooked = any((isinstance(d, ast.Name) and d.id == "hookimpl") or (isinstance(d, ast.Attribute) and d.attr == "hookimpl")
                         for d in node.decorator_list)
            if not hooked or not node.name.startswith("harness_"):
                problems.append(f"line {node.lineno}: {node.name} is not a hook implementation")
            continue
        kind = "class " + node.name if isinstance(node, ast.ClassDef) else type(node).__name__
        problems.append(f"line {node.lineno}: {kind} belongs in a module of its own (checks.py, sections.py...)")
    assert not problems, f"{path.relative_to(ROOT)}:\n" + "\n".join(problems)


@pytest.mark.parametrize("plugin", BUILTINS)
def test_no_import_cycle_and_no_module_imports_the_package_init(plugin: str) -> None:
    modules = _modules(PLUGINS / plugin)
    graph: dict[str, set[str]] = defaultdict(set)
    into_init = []
    for module, found in _plugin_imports(plugin).items():
        for line, target, name, _ in found:
            if target != plugin and not target.startswith(plugin + "."):
                continue
            if name is not None and f"{target}.{name}" in modules:
                target = f"{target}.{name}"  # ``from pkg import submodule``
            if target == plugin and module != plugin:
                into_init.append(f"{module} line {line}: imports {name or target} from the package __init__")
            if target != module:
                graph[module].add(target)
    assert not into_init, "\n".join(into_init)

    cycles = []
    state: dict[str, int] = {}  # 1 on the stack, 2 done

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*stack[stack.index(nxt):], nxt]))
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for module in sorted(modules):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


@pytest.mark.parametrize("plugin", BUILTINS)
def test_plugins_import_only_the_public_api_from_the_core(plugin: str) -> None:
    used: set[str] = set()
    wrong = []
    for module, found in _plugin_imports(plugin).items():
        for line, what, typing_only in _core_names(found):
            used.add(what)
            if not _allowed(what, typing_only, plugin):
                where = " (under TYPE_CHECKING)" if typing_only else ""
                wrong.append(f"{module} line {line}: {what}{where}")
    assert not wrong, "private core imports (use `from harness import ...`, or list a genuine need in STILL_PRIVATE):\n" + "\n".join(wrong)
    stale = sorted(set(STILL_PRIVATE.get(plugin, {})) - used)
    assert not stale, f"no longer imported by {plugin}, drop from STILL_PRIVATE: {stale}"


def test_the_example_plugin_and_the_scaffold_import_only_public_names() -> None:
    sources = {str(path.relative_to(ROOT)): path.read_text(encoding="utf-8") for path in sorted(EXAMPLE.rglob("*.py"))}
    values = {"title": "Demo", "check_id": "demo.check", "class_name": "Demo", "package": "harness_demo", "dist": "harness-demo", "slug": "demo"}
    sources[str(SCAFFOLD_INIT.relative_to(ROOT))] = string.Template(SCAFFOLD_INIT.read_text(encoding="utf-8")).substitute(values)
    wrong = []
    for where, source in sources.items():
        found = imports(ast.parse(source), "harness_demo", True)
        wrong += [f"{where} line {line}: {what}" for line, what, typing_only in _core_names(found) if not _allowed(what, typing_only, None)]
    assert not wrong, "third-party code must import only `from harness import <name of harness.__all__>`:\n" + "\n".join(wrong)


def test_registering_the_builtin_checks_imports_neither_numpy_nor_torch() -> None:
    probe = (
        "import importlib, json, sys\n"
        f"for name in {BUILTINS!r}:\n"
        "    plugin = importlib.import_module(name)\n"
        "    getattr(plugin, 'harness_register_checks', lambda register: None)(lambda check: None)  # harness_mlflow registers none\n"
        "print(json.dumps(sorted(m for m in ('numpy', 'torch', 'transformers', 'scipy', 'sklearn', 'pandas', 'textattack', 'opacus') if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
