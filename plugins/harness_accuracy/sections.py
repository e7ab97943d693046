"""The accuracy checks' report partials: charts and tables drawn from their evidence alone.

Called by the ``harness_report_sections`` hook, also for ``harness report
RESULTS.json`` (no model, no data), so everything here reads ``result``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness_accuracy.checks import N_, AccuracyCheck, CalibrationCheck, PerClassCheck, RocAucCheck

if TYPE_CHECKING:
    from harness import AuditResult, ReportSection

TEMPLATES = Path(__file__).parent / "templates"


def report_sections(result: "AuditResult") -> "list[ReportSection] | None":
    """Confusion matrix, recall per class, ROC curve and reliability diagram, inside their checks' blocks."""
    from harness import ReportSection
    from harness.outputs import charts

    sections = []

    def add(check_id: str, title: str, template: str, **context: Any) -> None:
        sections.append(ReportSection(title=title, template=template, context=context, search_path=str(TEMPLATES), check=check_id))

    accuracy = result.check(AccuracyCheck.id)
    if accuracy is not None and accuracy.evidence.get("confusion_matrix"):
        labels = accuracy.evidence.get("labels", [])
        add(AccuracyCheck.id, N_("Confusion matrix"), "harness_accuracy/confusion.html", labels=labels,
            confusion=accuracy.evidence["confusion_matrix"],
            chart=charts.confusion_matrix_svg(accuracy.evidence["confusion_matrix"], labels))
    per_class = result.check(PerClassCheck.id)
    if per_class is not None and per_class.evidence.get("per_class"):
        rows = per_class.evidence["per_class"]
        chart = charts.interval_bars_svg([(r["label"], r["recall"], r.get("recall_low"), r.get("recall_high")) for r in rows],
                                         xlabel=N_("recall (Wilson interval)"), title=N_("Recall per class"))
        add(PerClassCheck.id, N_("Per class"), "harness_accuracy/per_class.html", rows=rows, chart=chart)
    roc = result.check(RocAucCheck.id)
    if roc is not None and roc.evidence.get("roc_curve"):
        curve = roc.evidence["roc_curve"]
        add(RocAucCheck.id, N_("ROC curve"), "harness_accuracy/roc.html", chart=charts.roc_svg(curve["fpr"], curve["tpr"]),
            positive=curve.get("positive_label", ""))
    calibration = result.check(CalibrationCheck.id)
    if calibration is not None and calibration.evidence.get("calibration"):
        bins = calibration.evidence["calibration"].get("bins", [])
        add(CalibrationCheck.id, N_("Reliability diagram"), "harness_accuracy/reliability.html", bins=bins, chart=charts.reliability_svg(bins))
    return sections or None
