"""What every rendering of a comparison shares: its one-sentence summary and how its numbers read.

The Markdown section is in :mod:`harness.outputs.markdown`, the JUnit suite in
:mod:`harness.outputs.junit`, the HTML section in
``templates/partials/comparison.html``; all of them start from a
:class:`~harness.compare.comparison.Comparison` (or its JSON block, read with
:func:`~harness.compare.comparison.as_comparison`).
"""

from __future__ import annotations

from typing import Any, Mapping

from harness.compare.comparison import Comparison, MetricChange, as_comparison
from harness.text.i18n import PLAIN, Plain, translator
from harness.text.numbers import NOT_AVAILABLE, format_number, format_p, format_signed

__all__ = ["summary_sentence", "format_value", "format_delta", "format_p"]


def format_value(value: Any) -> str:
    """A metric value of a comparison row, in the one number format (:func:`harness.text.numbers.format_number`)."""
    return format_number(value)


def format_delta(row: MetricChange, language: str = "en") -> str:
    """Candidate minus baseline, signed, with its interval when one was computed."""
    if row.delta is None:
        return translator(language).gettext(NOT_AVAILABLE)
    shown = format_signed(row.delta)
    interval = row.delta_interval
    if interval:
        shown += f" [{format_signed(interval.low)}, {format_signed(interval.high)}]"
    return shown


def summary_sentence(comparison: "Comparison | Mapping[str, Any]", language: str = "en", style: Plain = PLAIN) -> str:
    """The comparison's outcome in one sentence (CLI, report, summary, ``harness compare``)."""
    comparison = as_comparison(comparison)
    regressions = comparison.regressions
    alpha = comparison.policy.alpha
    tr = translator(language)
    if regressions:
        return style.format(
            tr.ngettext("{count} significant regression beyond tolerance (alpha {alpha}): {metrics}; the gate fails.",
                        "{count} significant regressions beyond tolerance (alpha {alpha}): {metrics}; the gate fails.", len(regressions)),
            count=len(regressions), alpha=f"{alpha:g}", metrics=style.join(tr.gettext(", "), [style.data(r) for r in regressions]))
    return style.format(tr.gettext("No significant regression beyond tolerance (alpha {alpha}) on any gated metric."), alpha=f"{alpha:g}")
