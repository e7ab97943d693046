"""Built-in accuracy suite: how often the model is right, how sure we are, and how calibrated.

All five checks read one :class:`~harness_accuracy.metrics.AccuracyReport`,
computed once per run from the shared Predictor's outputs on the evaluation
split, so the model sees each text once. Interval methods per metric are in
:data:`harness_accuracy.metrics.INTERVAL_METHODS` (Wilson for proportions, a
bootstrap over examples for F1/AUC/ECE, stratified by class only for the
metrics defined per class); each ``Interval.method`` names its own.

Layout, the same in every built-in plugin: this module holds only the hook
implementations, each delegating; the checks are in ``checks.py``, the
numbers in ``metrics.py`` (NumPy, imported when a check runs) and the report
partials in ``sections.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from harness import hookimpl

if TYPE_CHECKING:
    from harness import AuditResult, Check, ReportSection


@hookimpl
def harness_register_checks(register: "Callable[[type[Check]], None]") -> None:
    from harness_accuracy.checks import CHECKS

    for check in CHECKS:
        register(check)


@hookimpl
def harness_report_sections(result: "AuditResult", env: Any) -> "list[ReportSection] | None":
    """Charts and tables inside the accuracy checks' blocks, drawn from their evidence alone."""
    from harness_accuracy.sections import report_sections

    return report_sections(result)
