"""Neutralise text from untrusted sources before it reaches a report.

Everything an audit report shows can come from someone other than the
reviewer: dataset texts and labels, group names, model names, config values,
plugin messages, attack examples. Jinja2's autoescaping already stops such
text from becoming markup; this module handles the characters escaping does
not touch:

* **Bidirectional controls** (U+202A..U+202E embeddings/overrides, U+2066..U+2069
  isolates). A browser obeys them silently, so a label or an example can be
  made to *display* differently from what it is (the "Trojan Source" trick,
  CVE-2021-42574): ``approve\\u202e`` can read as something else entirely, and
  a reviewer signing off on audit evidence must see what is really there.
  They are replaced by their visible escape, e.g. the six characters
  ``\\u202e``, so the trick is shown rather than performed.
* **NUL and the other C0 control characters** (except tab, newline and
  carriage return) and DEL. NUL truncates strings in C-based tools and
  parsers (grep treats the file as binary, some viewers stop reading), and
  the other controls are invalid in HTML and XML 1.0 (an SVG chart with one
  is not well-formed). They carry no meaning in evidence, so they are removed.

Everything else, including ordinary non-ASCII text and right-to-left scripts
themselves (Arabic, Hebrew), is left exactly as it is.

Use :func:`finalize` as ``jinja2.Environment(finalize=finalize)`` so every
``{{ value }}`` in every template (the report's and plugins' partials) is
cleaned, and :func:`clean_text` in other writers (charts, Markdown, JUnit).
"""

from __future__ import annotations

import re
from typing import Any

#: Bidi embedding/override controls (LRE, RLE, PDF, LRO, RLO) and isolates (LRI, RLI, FSI, PDI).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

#: C0 controls other than \t \n \r, and DEL: removed outright.
_STRIP = "".join(chr(c) for c in range(0x20) if chr(c) not in "\t\n\r") + "\x7f"

_TABLE = {ord(c): None for c in _STRIP}
_TABLE.update({ord(c): f"\\u{ord(c):04x}" for c in BIDI_CONTROLS})

_NEEDS_CLEANING = re.compile("[" + re.escape(_STRIP + "".join(sorted(BIDI_CONTROLS))) + "]")


def clean_text(text: str) -> str:
    """``text`` with NUL/C0 controls (except tab, CR, LF) and DEL removed and bidi controls made visible.

    >>> clean_text("ok\\x00\\u202egnp.exe")
    'ok\\\\u202egnp.exe'
    """
    if not _NEEDS_CLEANING.search(text):
        return text  # the common case: no copy
    return text.translate(_TABLE)


def finalize(value: Any) -> Any:
    """Jinja2 ``finalize`` hook: clean every plain ``str`` a template outputs.

    ``markupsafe.Markup`` values pass through unchanged: they are markup the
    harness built itself (already escaped partials, charts whose text was
    cleaned when drawn), and translating them here could not be told apart
    from a template bug. Non-strings (numbers, None, ...) are returned as they
    are, for Jinja to convert as usual.
    """
    from markupsafe import Markup

    if isinstance(value, str) and not isinstance(value, Markup):
        return clean_text(value)
    return value
