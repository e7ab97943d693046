"""The fairness checks' report partials, drawn from their evidence alone.

Called by the ``harness_report_sections`` hook, also for ``harness report
RESULTS.json`` (no model, no data), so everything here reads ``result``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from harness_fairness.checks import N_, CounterfactualCheck, GroupMetricsCheck

if TYPE_CHECKING:
    from harness import AuditResult, ReportSection

TEMPLATES = Path(__file__).parent / "templates"


def report_sections(result: "AuditResult") -> "list[ReportSection] | None":
    """Per-group bars with interval whiskers, and the worst counterfactual examples with changed words marked."""
    from harness import ReportSection
    from harness.outputs import charts
    from harness.text.diff import marked_segments
    from harness_fairness.counterfactual_zh import has_han, marked_words

    sections = []
    groups = result.check(GroupMetricsCheck.id)
    if groups is not None and groups.evidence.get("tables"):
        shown = []
        for table in groups.evidence["tables"]:
            rows = [(g["group"], g["metrics"]["selection_rate"]["value"], g["metrics"]["selection_rate"]["low"], g["metrics"]["selection_rate"]["high"])
                    for g in table["groups"]]
            chart = charts.interval_bars_svg(rows, xlabel=charts.label(N_("share predicted {cls}"), cls=table["class"]),
                                             title=charts.label(N_("Selection rate by {attribute}"), attribute=table["attribute"])) if " & " not in table["attribute"] else None
            shown.append({**table, "chart": chart})
        sections.append(ReportSection(title=N_("Groups"), template="harness_fairness/groups.html", context={"tables": shown},
                                      search_path=str(TEMPLATES), check=GroupMetricsCheck.id))
    counterfactual = result.check(CounterfactualCheck.id)
    if counterfactual is not None and counterfactual.evidence.get("attributes"):
        examples = []
        for attribute in counterfactual.evidence["attributes"]:
            for example in attribute.get("worst", []):
                # Chinese has no spaces: its changed words are marked on the segmenter's words
                mark = marked_words if has_han(example["original"]) or has_han(example["swapped"]) else marked_segments
                examples.append({**example, "attribute": attribute["attribute"], "segments": mark(example["original"], example["swapped"])})
        sections.append(ReportSection(title=N_("Worst counterfactual examples"), template="harness_fairness/counterfactual.html",
                                      context={"examples": examples}, search_path=str(TEMPLATES), check=CounterfactualCheck.id))
    return sections or None
