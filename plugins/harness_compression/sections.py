"""The compression report partials, drawn from the results alone.

Called by the ``harness_report_sections`` hook, also for ``harness report
RESULTS.json`` (no model, no data), so everything here reads the checks'
evidence. Texts in it were masked (``ctx.redact``) when the checks ran.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness_compression.checks import N_, AgreementCheck, FootprintCheck, GroupRegressionCheck, RobustnessRegressionCheck

if TYPE_CHECKING:
    from harness import AuditResult, ReportSection

TEMPLATES = Path(__file__).parent / "templates"

#: The report's section titles and chart words as catalog msgids.
TITLE_AGREEMENT = N_("Compression and disagreeing examples")
TITLE_GROUPS = N_("Change per group")
TITLE_ATTACK = N_("The attack on both models")
TITLE_FOOTPRINT = N_("Size and latency")
CHART_XLABEL = N_("accuracy loss (original - compressed), paired interval")
CHART_TITLE = N_("Accuracy lost per group")


def _group_rows(evidence: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for row in evidence.get("groups", []):
        accuracy = row.get("accuracy") or {}
        interval = accuracy.get("interval") or {}
        change = accuracy.get("change")
        rows.append({
            **row,
            "loss": None if change is None else -change,
            "loss_low": None if not interval else -interval["high"],
            "loss_high": None if not interval else -interval["low"],
        })
    return rows


def report_sections(result: "AuditResult") -> "list[ReportSection] | None":
    """One partial inside each compression check's block."""
    from harness import ReportSection
    from harness.outputs import charts

    sections = []

    def add(check_id: str, title: str, template: str, **context: Any) -> None:
        sections.append(ReportSection(title=title, template=template, context=context, search_path=str(TEMPLATES), check=check_id))

    agreement = result.check(AgreementCheck.id)
    if agreement is not None and "mcnemar" in agreement.evidence:
        add(AgreementCheck.id, TITLE_AGREEMENT, "harness_compression/agreement.html", evidence=agreement.evidence)
    groups = result.check(GroupRegressionCheck.id)
    if groups is not None and groups.evidence.get("groups"):
        rows = _group_rows(groups.evidence)
        judged = [(r["group"], r["loss"], r["loss_low"], r["loss_high"]) for r in rows if r.get("judged")]
        chart = charts.interval_bars_svg(judged, xlabel=CHART_XLABEL, title=CHART_TITLE) if judged else None
        add(GroupRegressionCheck.id, TITLE_GROUPS, "harness_compression/groups.html", evidence=groups.evidence, rows=rows, chart=chart)
    attack = result.check(RobustnessRegressionCheck.id)
    if attack is not None and "original" in attack.evidence:
        add(RobustnessRegressionCheck.id, TITLE_ATTACK, "harness_compression/attack.html", evidence=attack.evidence)
    footprint = result.check(FootprintCheck.id)
    if footprint is not None and "latency" in footprint.evidence:
        add(FootprintCheck.id, TITLE_FOOTPRINT, "harness_compression/footprint.html", evidence=footprint.evidence)
    return sections or None
