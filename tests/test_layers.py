"""The core's imports point one way only: down the layer order, with no cycles.

The order is read from the folders of ``harness/`` (see ``LAYERS``). A module
may import its own layer and any layer below; an import of a higher layer is
allowed only under ``if TYPE_CHECKING:`` (annotations), as in pytest. Imports
inside functions count: a function-local import still runs. The test reads the
source with ``ast``, so it needs no import of the harness and sees every module,
also those no test happens to load.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "harness"

#: Bottom to top. Each entry is a layer: the top-level names of ``harness`` in it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "fileio", "resources", "text"),
    ("stats",),
    ("results",),
    ("plugin",),
    ("config",),
    ("ml",),
    ("integrity",),
    ("compare",),
    ("outputs",),
    ("run",),
    # The facade (harness/__init__.py) re-exports the public API from every layer, run_command from
    # cli/ included; cli/docs.py documents it, so the two share the top layer with the CLI.
    ("cli", "__init__"),
    ("testing", "__main__"),
)
LEVEL = {name: index for index, layer in enumerate(LAYERS) for name in layer}

#: Only ml/ may import these (the rest of the core stays light: ``harness --help`` loads none).
HEAVY = ("torch", "transformers", "pandas", "datasets", "textattack", "opacus")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_name(module: str) -> str:
    """``harness.run.gate`` -> ``run``; ``harness`` (the public facade) -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) for every import that runs, skipping ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.append((node.lineno, candidate if _is_module(candidate) else base))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _is_module(dotted: str) -> bool:
    parts = dotted.split(".")
    if parts[0] != "harness":
        return False
    path = ROOT.joinpath(*parts)
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def core_modules() -> list[Path]:
    return sorted(p for p in CORE.rglob("*.py") if "__pycache__" not in p.parts)


def internal_edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in core_modules():
        edges[module_name(path)] = {m for _, m in runtime_imports(path) if m == "harness" or m.startswith("harness.")}
    return edges


def test_every_core_folder_has_a_layer() -> None:
    tops = {top_name(module_name(p)) for p in core_modules()}
    assert tops <= set(LEVEL), f"modules outside the layer order: {sorted(tops - set(LEVEL))}: add them to LAYERS"


def test_imports_point_down_the_layer_order() -> None:
    upward = []
    for path in core_modules():
        source = module_name(path)
        for line, target in runtime_imports(path):
            if not (target == "harness" or target.startswith("harness.")):
                continue
            if LEVEL[top_name(target)] > LEVEL[top_name(source)]:
                upward.append(f"{path.relative_to(ROOT)}:{line} imports {target} ({top_name(source)} -> {top_name(target)})")
    assert not upward, "imports against the layer order:\n" + "\n".join(upward)


def test_the_core_has_no_import_cycle() -> None:
    edges = internal_edges()
    # The facade (harness/__init__.py) runs before any submodule; it is the top, not a node inside a cycle.
    graph = {m: {t for t in targets if t != "harness" and t in edges} for m, targets in edges.items() if m != "harness"}
    cycle = _find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_only_ml_imports_the_heavy_libraries() -> None:
    offenders = []
    for path in core_modules():
        if top_name(module_name(path)) == "ml":
            continue
        for line, target in runtime_imports(path):
            if target.split(".")[0] in HEAVY:
                offenders.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert not offenders, "heavy imports outside harness/ml:\n" + "\n".join(offenders)


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state:
                found = walk(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = walk(node)
            if found:
                return found
    return None


# -- the checker itself is not vacuous ------------------------------------------------------------


def test_the_checker_sees_an_upward_import_and_a_cycle(tmp_path: Path) -> None:
    text = CORE / "text"
    probe = text / "_layer_probe.py"
    probe.write_text("from harness.run.gate import verdict\n\ndef f():\n    import harness.cli.main\n", encoding="utf-8")
    try:
        lines = [target for _, target in runtime_imports(probe)]
        assert lines == ["harness.run.gate", "harness.cli.main"]
        with pytest.raises(AssertionError, match="text -> run"):
            test_imports_point_down_the_layer_order()
    finally:
        probe.unlink()
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_type_checking_imports_are_allowed() -> None:
    probe = CORE / "text" / "_layer_probe.py"
    probe.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from harness.run.context import RunContext\n", encoding="utf-8"
    )
    try:
        assert [t for _, t in runtime_imports(probe)] == ["typing"]
    finally:
        probe.unlink()
