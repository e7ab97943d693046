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
from harness.text.numbers import format_number, format_p, format_signed

__all__ = ["summary_sentence", "format_value", "format_delta", "format_p"]


def format_value(value: Any) -> str:
    """A metric value of a comparison row, in the one number format (:func:`harness.text.numbers.format_number`)."""
    return format_number(value)


def format_delta(row: MetricChange) -> str:
    """Candidate minus baseline, signed, with its interval when one was computed."""
    if row.delta is None:
        return "n/a"
    shown = format_signed(row.delta)
    interval = row.delta_interval
    if interval:
        shown += f" [{format_signed(interval.low)}, {format_signed(interval.high)}]"
    return shown


def summary_sentence(comparison: "Comparison | Mapping[str, Any]") -> str:
    """The comparison's outcome in one sentence (CLI, report, summary, ``harness compare``)."""
    comparison = as_comparison(comparison)
    regressions = comparison.regressions
    alpha = comparison.policy.alpha
    if regressions:
        return (f"{len(regressions)} significant regression{'s' if len(regressions) != 1 else ''} beyond tolerance "
                f"(alpha {alpha:g}): {', '.join(regressions)}; the gate fails.")
    return f"No significant regression beyond tolerance (alpha {alpha:g}) on any gated metric."
