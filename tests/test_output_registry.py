"""One table of output formats (harness.outputs.registry), and everything that names formats agrees with it.

config/ is below outputs/ in the layer order, so it keeps its own tuple of
format names (``OUTPUT_FORMATS``) and the CLI its own ``--format`` choices;
this test holds them equal to the registry.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.outputs.registry import OUTPUT_FORMATS, output_file, remove_stale_outputs, write_outputs
from harness.results.types import AuditResult, CheckResult


def test_config_and_cli_name_exactly_the_registered_formats() -> None:
    from harness.cli.main import main
    from harness.config.settings import OUTPUT_FORMATS as CONFIG_FORMATS, OutputConfig

    assert tuple(OUTPUT_FORMATS) == CONFIG_FORMATS
    assert OutputConfig().formats == list(OUTPUT_FORMATS)
    (option,) = [p for p in main.commands["run"].params if p.name == "formats"]
    assert tuple(option.type.choices) == tuple(OUTPUT_FORMATS)
    # integrity/ (below outputs/) names the report it re-renders when signing, and the manifest file
    from harness.integrity.manifest import RESULTS_FILE
    from harness.integrity.signing import REPORT_FILE

    assert (output_file("html"), output_file("json")) == (REPORT_FILE, RESULTS_FILE)


def test_each_format_writes_its_one_file_and_json_comes_last(tmp_path: Path) -> None:
    assert {name: output_file(name) for name in OUTPUT_FORMATS} == {
        "json": "results.json", "html": "report.html", "junit": "junit.xml", "markdown": "summary.md"}
    result = AuditResult(verdict="pass", exit_code=0, checks=(CheckResult(id="a.b", title="A", status="pass"),), provenance={})
    written = write_outputs(result, tmp_path, ["markdown", "junit"])
    assert [p.name for p in written] == ["summary.md", "junit.xml", "results.json"]  # results.json even unrequested, last
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junit.xml", "results.json", "summary.md"]
    listed = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))["manifest"]["outputs"]
    assert set(listed) == {"junit.xml", "summary.md"}  # the manifest lists what was written before it
    remove_stale_outputs(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]  # kept for --resume
