"""The one table of output formats: name -> (file it writes, writer).

``output.formats`` in a config and ``harness run --format`` name the entries of
:data:`OUTPUT_FORMATS` (config/ sits below outputs/ in the layer order and
keeps its own tuple of names; ``tests/test_output_registry.py`` holds the two,
and the CLI's choices, equal). ``json`` is always written, and written last,
so that the manifest in results.json lists every other file of the run and
``complete: true`` comes after them.

Rendering needs only the AuditResult (and, for HTML, the plugin host for the
plugins' report sections), so every file can be produced again later from
results.json.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from harness.fileio import atomic_write_text
from harness.integrity.manifest import RESULTS_FILE, write_results
from harness.results.io import normalized
from harness.results.types import AuditResult

if TYPE_CHECKING:
    from harness.plugin.manager import PluginHost

__all__ = ["OutputFormat", "OUTPUT_FORMATS", "output_file", "write_output", "remove_stale_outputs", "write_outputs"]

#: (result, path of the file to write, plugin host, language) -> None
Writer = Callable[[AuditResult, Path, "PluginHost | None", str], None]


@dataclass(frozen=True)
class OutputFormat:
    name: str
    file_name: str
    write: Writer


def _write_json(result: AuditResult, path: Path, host: "PluginHost | None" = None, language: str = "en") -> None:
    """results.json with its manifest (digests of the body and of every file already in the folder); the same in every language."""
    assert path.name == RESULTS_FILE, path  # integrity.manifest names the file; the table only repeats it
    write_results(result.to_dict(), path.parent)


def _write_html(result: AuditResult, path: Path, host: "PluginHost | None" = None, language: str = "en") -> None:
    from harness.outputs.html import render_html

    atomic_write_text(path, render_html(result, host, language=language))


def _write_junit(result: AuditResult, path: Path, host: "PluginHost | None" = None, language: str = "en") -> None:
    from harness.outputs.junit import render_junit

    atomic_write_text(path, render_junit(normalized(result), language=language))


def _write_markdown(result: AuditResult, path: Path, host: "PluginHost | None" = None, language: str = "en") -> None:
    from harness.outputs.markdown import render_markdown

    atomic_write_text(path, render_markdown(normalized(result), language=language))


#: Every output format, in the order ``output.formats`` lists them by default.
OUTPUT_FORMATS: dict[str, OutputFormat] = {
    entry.name: entry
    for entry in (
        OutputFormat("json", RESULTS_FILE, _write_json),
        OutputFormat("html", "report.html", _write_html),
        OutputFormat("junit", "junit.xml", _write_junit),
        OutputFormat("markdown", "summary.md", _write_markdown),
    )
}


def output_file(name: str) -> str:
    """The file format ``name`` writes (``html`` -> ``report.html``)."""
    return OUTPUT_FORMATS[name].file_name


def write_output(name: str, result: AuditResult, folder: Path, host: "PluginHost | None" = None, language: str = "en") -> Path:
    """Write one format into ``folder`` in ``language`` (``output.language``); the path written."""
    entry = OUTPUT_FORMATS[name]
    path = folder / entry.file_name
    entry.write(result, path, host, language)
    return path


def remove_stale_outputs(folder: Path) -> None:
    """Delete the rendered files of an earlier run in ``folder`` (results.json is kept for --resume).

    While a run is in progress only results.json (``complete: false``) may be
    there, so nobody mistakes an old report for the new run's.
    """
    for name, entry in OUTPUT_FORMATS.items():
        if name != "json":
            (folder / entry.file_name).unlink(missing_ok=True)


def write_outputs(result: AuditResult, folder: Path, formats: Sequence[str], host: "PluginHost | None" = None,
                  language: str = "en") -> list[Path]:
    """Write every requested format in ``language``; JSON last (always, requested or not) so its manifest lists the rest."""
    written = [write_output(name, result, folder, host, language) for name in formats if name != "json"]
    written.append(write_output("json", result, folder, host, language))
    return written
