"""Built-in explanations plugin (Captum): why the model decides, and whether that explanation can be trusted.

One :class:`~harness_explain.analysis.ExplainAnalysis` per run attributes the
texts a reviewer asks about (misclassified evaluation examples, successful
adversarial examples, counterfactual flips and a class-stratified sample) with
integrated gradients over the input embeddings (Captum's
``LayerIntegratedGradients``) through the shared Predictor's model and
device, reads the attributions per word (jieba words or characters for
Chinese), records each text's completeness (convergence delta) and flags those
above the tolerance. Three checks read it: ``explain.attributions`` (the
highlighted texts and top words per class), ``explain.faithfulness`` (ERASER
comprehensiveness and sufficiency against random words, with intervals) and
``explain.protected_term_reliance`` (the share of attribution mass on the
fairness plugin's identity terms and on personal data; gated).

Layout, the same in every built-in plugin: this module holds only the hook
implementations, each delegating; the checks are in ``checks.py`` (reading
``analysis.py``; ``selection.py``, ``attribution.py``, ``units.py``,
``faithfulness.py``, ``protected.py`` and ``statistics.py`` compute) and the
report partials in ``sections.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from harness import hookimpl

if TYPE_CHECKING:
    from harness import AuditResult, Check, ReportSection


@hookimpl
def harness_register_checks(register: "Callable[[type[Check]], None]") -> None:
    from harness_explain.checks import CHECKS

    for check in CHECKS:
        register(check)


@hookimpl
def harness_report_sections(result: "AuditResult", env: Any) -> "list[ReportSection] | None":
    """Highlighted texts (a colour-blind-safe diverging scale, values in titles and tables) and top words per class."""
    from harness_explain.sections import report_sections

    return report_sections(result)
