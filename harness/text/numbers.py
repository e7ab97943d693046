"""One way to write a number a person reads, in every output (report, Markdown, JUnit messages, CLI).

Before, one metric printed with 4 significant digits in the report, 3
decimals in the pull-request summary and 4 decimals in the comparison, so a
reviewer comparing outputs saw three different values. The policy:

- a measured value (metric, interval bound, difference): 3 decimals, or 3
  significant digits in scientific form when it is below 0.001 or at least
  100,000 in size (so small p-values and counts of tokens stay readable);
  ``None``, NaN and infinities are ``n/a``; integers print whole;
- a limit a person wrote in the config (a threshold): as written (``0.1``, ``0.8``);
- a p-value: 3 significant digits, ``<1e-4`` below that;
- a signed change: the value with its sign (``+0.012``).

Machine-readable fields (results.json, JUnit ``<property>`` values) keep full
precision; they are data, not display, and go through their own writer.
"""

from __future__ import annotations

import math
from typing import Any

NOT_AVAILABLE = "n/a"


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def format_number(value: Any) -> str:
    """A measured value as every output prints it: ``0.925``, ``1.2e-05``, ``42``, ``n/a``."""
    if not _finite(value):
        return NOT_AVAILABLE
    if isinstance(value, int):
        return str(value)
    if value != 0 and (abs(value) < 0.001 or abs(value) >= 100000):
        return f"{value:.3g}"
    return f"{value:.3f}"


def format_interval(low: Any, high: Any) -> str:
    """``[0.079, 0.351]``: an interval with both bounds in :func:`format_number`'s form."""
    return f"[{format_number(low)}, {format_number(high)}]"


def format_limit(value: Any) -> str:
    """A threshold as the config wrote it (``0.1``, ``0.8``, ``100``)."""
    return f"{value:g}" if _finite(value) else NOT_AVAILABLE


def format_signed(value: Any) -> str:
    """A change with its sign: ``+0.012``, ``-0.250``, ``n/a``."""
    if not _finite(value):
        return NOT_AVAILABLE
    shown = format_number(value)
    return shown if shown.startswith("-") else f"+{shown}"


def format_p(value: Any) -> str:
    """A p-value: ``0.0312``-style 3 significant digits, ``<1e-4`` below 1e-4."""
    if not _finite(value):
        return NOT_AVAILABLE
    return f"{value:.3g}" if value >= 1e-4 else "<1e-4"


def format_value(value: Any) -> str:
    """Any template value: numbers as :func:`format_number`, booleans ``true``/``false``, ``None`` ``n/a``, text as is."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or isinstance(value, (int, float)):
        return format_number(value)
    return str(value)
