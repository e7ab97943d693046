""""Did you mean ...?" hints for unknown names (config keys, suites, check ids, plugin options)."""

from __future__ import annotations

import difflib
from typing import Iterable


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or ``""`` when none is close.

    Public (``harness.did_you_mean``), so a plugin's own config errors read like the core's.
    """
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
