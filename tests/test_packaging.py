"""The wheel carries templates/, suites/, the schema, and declares the built-in plugins."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _warnings(output: str) -> list[str]:
    """Warning lines of a build (setuptools' own, or as ``build`` reprints them), bar the environment's
    "byte-compiling is disabled" (PYTHONDONTWRITEBYTECODE)."""
    return [line for line in output.splitlines() if "warning" in line.lower() and "byte-compiling is disabled" not in line]


def test_wheel_contains_resources_and_entry_points(tmp_path: Path) -> None:
    # build from a clean copy: setuptools' build/ folder in the checkout keeps files
    # deleted since the last build and would put them in the wheel
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", "audit-report*"))
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path), str(source)],
        check=True, capture_output=True, text=True, timeout=300,
    )
    # quiet: no setuptools warning about the package layout (data folders left out of `packages`) or the metadata
    noise = _warnings(built.stdout + built.stderr)
    assert noise == [], "\n".join(noise)
    wheel = next(tmp_path.glob("audit_harness-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(archive.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt"))
        metadata = next(archive.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
    for template in (ROOT / "templates").rglob("*.html"):
        assert f"harness/templates/{template.relative_to(ROOT / 'templates')}" in names
    for suite in (ROOT / "suites").glob("*.yaml"):
        assert f"harness/suites/{suite.name}" in names
    assert "harness/results/schema/results.schema.json" in names
    for catalog in (ROOT / "harness" / "text" / "locale").rglob("*.po"):  # the report's translations (output.language)
        assert f"harness/text/locale/{catalog.relative_to(ROOT / 'harness' / 'text' / 'locale').as_posix()}" in names
    assert "harness/text/locale/zh/LC_MESSAGES/harness.po" in names
    scaffold = sorted((ROOT / "harness" / "cli" / "scaffold_templates").glob("*.tmpl"))  # harness plugin new
    assert scaffold
    for template in scaffold:
        assert f"harness/cli/scaffold_templates/{template.name}" in names
    assert "[pytest11]\nharness = harness.testing" in entry_points  # plugin authors' fixtures
    assert "harness_accuracy/__init__.py" in names
    assert "harness_robustness/offline.py" in names
    for plugin in ("harness_accuracy", "harness_fairness", "harness_robustness", "harness_explain"):
        assert f"{plugin}/__init__.py" in names
        plugin_templates = ROOT / "plugins" / plugin / "templates"
        for template in plugin_templates.rglob("*.html"):
            assert f"{plugin}/templates/{template.relative_to(plugin_templates)}" in names
    for name in ("accuracy", "fairness", "robustness", "privacy", "explain"):  # built-ins, registered like third parties
        assert f"\n{name} = harness_{name}\n" in entry_points
    assert not any(n.endswith("details.html") for n in names)  # nothing stale
    assert "[harness]\naccuracy = harness_accuracy" in entry_points
    assert "[console_scripts]\nharness = harness.cli.main:main" in entry_points
    assert "Requires-Python: >=3.11" in metadata
    assert not any(n.startswith("tests/") for n in names)


def test_resources_resolve_in_the_editable_layout() -> None:
    from harness.resources import resource_dir

    assert (resource_dir("templates") / "report.html").is_file()
    assert (resource_dir("suites") / "default.yaml").is_file()


def test_cli_start_imports_neither_torch_nor_transformers() -> None:
    probe = (
        "import sys\n"
        "from harness.cli.main import main\n"
        "for args in (['--help'], ['checks'], ['plugins']):\n"
        "    try:\n"
        "        main(args, standalone_mode=False)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'datasets', 'sklearn', 'pandas') if m in sys.modules)\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "HEAVY="


def test_editable_build_is_quiet_and_maps_every_data_folder(tmp_path: Path) -> None:
    """What ``pip install -e .`` runs (PEP 660 build_editable): no setuptools warnings, and the
    editable finder knows the templates and suites folders (harness.resources reads them there)."""
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", "audit-report*"))
    probe = (
        "import sys\n"
        "from setuptools import build_meta\n"
        "print('WHEEL=' + build_meta.build_editable(sys.argv[1]))\n"
    )
    (tmp_path / "out").mkdir()
    built = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "out")], cwd=source, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    noise = _warnings(built.stdout + built.stderr)
    assert noise == [], "\n".join(noise)
    wheel = tmp_path / "out" / built.stdout.strip().splitlines()[-1].removeprefix("WHEEL=")
    with zipfile.ZipFile(wheel) as archive:
        finder = next(archive.read(n).decode() for n in archive.namelist() if n.endswith("_finder.py"))
    for package, folder in (("harness.templates", "templates"), ("harness.suites", "suites"), ("harness.templates.partials", "templates/partials")):
        assert f"'{package}': ['{source / folder}']" in finder
