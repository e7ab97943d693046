"""Word-level differences between two texts, for marking edits in reports.

Counterfactual swaps and adversarial attacks both show a changed text with the
changed words marked; the segments are plain strings (escaped by the template
that wraps the changed ones in ``<mark>``), never markup built here.
"""

from __future__ import annotations

import difflib
import re


def marked_segments(original: str, changed: str) -> list[tuple[str, bool]]:
    """``changed`` split into (text, is_changed) segments, whitespace kept."""
    a, b = re.findall(r"\S+|\s+", original), re.findall(r"\S+|\s+", changed)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    return [("".join(b[j1:j2]), op != "equal") for op, _, _, j1, j2 in matcher.get_opcodes() if j2 > j1]
