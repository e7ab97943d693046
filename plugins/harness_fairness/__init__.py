"""Built-in fairness suite (Fairlearn): does the model treat groups differently, where, by how much, how sure are we.

One :class:`~harness_fairness.analysis.FairnessAnalysis` per run, computed
from the shared Predictor's outputs on the evaluation split, feeds every
disparity check: group metrics (equal to Fairlearn's MetricFrame, with Wilson
or bootstrap intervals) for each sensitive attribute alone and for every
intersection, the disparities over groups large enough to judge (closed-form
intervals that cover, see ``metrics.disparities``), and (for multiclass
models) each class one-vs-rest. Groups below the minimum size are listed as
"insufficient data", never dropped silently and never allowed to decide the
verdict on their own.

Layout, the same in every built-in plugin: this module holds only the hook
implementations, each delegating; the checks are in ``checks.py`` (reading
``analysis.py``; ``metrics.py``, ``counterfactual.py`` with the identity
terms of ``terms.py`` (Chinese: ``counterfactual_zh.py`` on jieba's words,
with ``terms_zh.py``), and ``mitigation.py`` compute) and the report partials
in ``sections.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from harness import hookimpl

if TYPE_CHECKING:
    from harness import AuditResult, Check, ReportSection


@hookimpl
def harness_register_checks(register: "Callable[[type[Check]], None]") -> None:
    from harness_fairness.checks import CHECKS

    for check in CHECKS:
        register(check)


@hookimpl
def harness_report_sections(result: "AuditResult", env: Any) -> "list[ReportSection] | None":
    """Per-group bars with interval whiskers, and the worst counterfactual examples with changed words marked."""
    from harness_fairness.sections import report_sections

    return report_sections(result)
