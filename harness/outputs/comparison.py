"""What every rendering of a comparison shares: its one-sentence summary and how its numbers read.

The Markdown section is in :mod:`harness.outputs.markdown`, the JUnit suite in
:mod:`harness.outputs.junit`, the HTML section in
``templates/partials/comparison.html``; all of them start from a
:class:`~harness.compare.comparison.Comparison` (or its JSON block, read with
:func:`~harness.compare.comparison.as_comparison`).
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from harness.compare.comparison import Comparison, MetricChange, as_comparison

__all__ = ["summary_sentence", "format_value", "format_delta", "format_p"]


def format_value(value: Any) -> str:
    """A metric value of a comparison row (4 decimals; small values in scientific notation; n/a when undefined)."""
    if value is None or not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        return "n/a"
    return f"{value:.4f}" if value == 0 or abs(value) >= 1e-3 else f"{value:.2e}"


def format_delta(row: MetricChange) -> str:
    """Candidate minus baseline, signed, with its interval when one was computed."""
    delta = row.delta
    if delta is None:
        return "n/a"
    shown = f"{delta:+.4f}"
    interval = row.delta_interval
    if interval:
        shown += f" [{interval.low:+.4f}, {interval.high:+.4f}]"
    return shown


def format_p(value: Any) -> str:
    """A p-value: 3 significant digits, ``<1e-4`` below that, n/a when untested."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.3g}" if value >= 1e-4 else "<1e-4"


def summary_sentence(comparison: "Comparison | Mapping[str, Any]") -> str:
    """The comparison's outcome in one sentence (CLI, report, summary, ``harness compare``)."""
    comparison = as_comparison(comparison)
    regressions = comparison.regressions
    alpha = comparison.policy.alpha
    if regressions:
        return (f"{len(regressions)} significant regression{'s' if len(regressions) != 1 else ''} beyond tolerance "
                f"(alpha {alpha:g}): {', '.join(regressions)}; the gate fails.")
    return f"No significant regression beyond tolerance (alpha {alpha:g}) on any gated metric."
