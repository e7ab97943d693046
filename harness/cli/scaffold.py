"""``harness plugin new NAME``: write a ready, pip-installable plugin package.

The templates live in ``harness/cli/scaffold_templates/`` (shipped in the wheel)
and are filled with :class:`string.Template` (``$$name``), which leaves the
Jinja2 braces of the report partial alone. The generated package is the same
shape as the built-ins: an entry point in the ``harness`` group, one check
registered through ``harness_register_checks``, a report partial through
``harness_report_sections``, and tests that use :mod:`harness.testing`.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path

from harness.errors import UsageError

TEMPLATE_DIR = Path(__file__).parent / "scaffold_templates"
NAME_PATTERN = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")


@dataclass(frozen=True)
class PluginNames:
    """Every name derived from the one the user typed (``keyword-guard``)."""

    name: str
    slug: str  # entry-point name and check-id prefix: keyword_guard
    package: str  # harness_keyword_guard
    dist: str  # harness-keyword-guard
    class_name: str  # KeywordGuardCheck
    title: str  # Keyword guard

    @property
    def check_id(self) -> str:
        return f"{self.slug}.prediction_share"

    @classmethod
    def from_name(cls, name: str) -> "PluginNames":
        from harness.plugin.manager import DEFAULT_PLUGINS

        raw = name.strip()
        if raw.lower().startswith("harness-") or raw.lower().startswith("harness_"):
            raw = raw[len("harness-"):]
        if not NAME_PATTERN.fullmatch(raw):
            raise UsageError(
                f"plugin name {name!r}: use lowercase letters, digits and single '-' or '_' between them, "
                "starting with a letter (e.g. 'keyword-guard')"
            )
        slug = raw.replace("-", "_")
        if slug in DEFAULT_PLUGINS:
            raise UsageError(f"plugin name {name!r} is taken by a built-in plugin ({', '.join(DEFAULT_PLUGINS)})")
        words = slug.split("_")
        return cls(
            name=raw, slug=slug, package=f"harness_{slug}", dist=f"harness-{slug.replace('_', '-')}",
            class_name="".join(w.capitalize() for w in words) + "Check", title=" ".join(words).capitalize(),
        )


def _files(names: PluginNames) -> dict[str, str]:
    """Output path (relative to the package folder) -> template file name."""
    return {
        "pyproject.toml": "pyproject.toml.tmpl",
        "README.md": "README.md.tmpl",
        f"{names.package}/__init__.py": "__init__.py.tmpl",
        f"{names.package}/templates/{names.package}/counts.html": "counts.html.tmpl",
        f"tests/test_{names.slug}.py": "test_plugin.py.tmpl",
    }


def create_plugin(name: str, parent: Path, *, force: bool = False) -> Path:
    """Write the package for plugin ``name`` into ``parent/<dist name>``; returns that folder.

    Refuses (UsageError, exit 2) a bad name or a non-empty target unless ``force``.
    """
    names = PluginNames.from_name(name)
    target = Path(parent).expanduser() / names.dist
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise UsageError(f"{target} already exists and is not empty (choose another --dir, or --force to overwrite)")
    values = {
        "name": names.name, "slug": names.slug, "package": names.package, "dist": names.dist,
        "class_name": names.class_name, "title": names.title, "check_id": names.check_id,
    }
    from harness.fileio import atomic_write_text

    for relative, template in _files(names).items():
        text = string.Template((TEMPLATE_DIR / template).read_text(encoding="utf-8")).substitute(values)
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
    return target
