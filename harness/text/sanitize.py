"""Neutralise text from untrusted sources before it reaches an output: one policy, one sanitiser per output kind.

Everything an audit output shows can come from someone other than the
reviewer: dataset texts and labels, group names, model names, config values,
plugin messages, attack examples. Each output's own escaping (Jinja2's
autoescape, Markdown escaping, the XML serialiser) stops such text from
becoming markup; this module handles the characters escaping does not touch,
with ONE policy for every output:

* **Invisible direction and format controls are shown, not performed**:
  bidi embeddings/overrides (U+202A..U+202E), isolates (U+2066..U+2069), the
  direction marks (U+200E, U+200F, U+061C) and the byte-order mark U+FEFF
  become their visible escape, e.g. the six characters ``\\u202e``. A viewer
  obeys them silently, so a label can be made to *display* differently from
  what it is (the "Trojan Source" trick, CVE-2021-42574): a reviewer signing
  off on evidence must see what is really there, in the report as in the
  pull-request summary and the CI page.
* **Control characters become U+FFFD** (the replacement character): C0 controls
  except tab, newline and carriage return, DEL, C1 controls (U+0080..U+009F),
  lone surrogates (they can come out of JSON ``"\\ud800"``) and the
  non-characters U+FFFE / U+FFFF. They carry no meaning in evidence, several
  are invalid in HTML and XML 1.0 (an SVG chart or a JUnit file with one is
  not well-formed) and NUL truncates strings in C-based tools; the
  replacement character keeps the fact that something was there visible.

Everything else, including ordinary non-ASCII text and right-to-left scripts
themselves (Arabic, Hebrew) and CJK text, is left exactly as it is.

The sanitisers, one per output kind, all apply :func:`neutralize` first:

- :func:`finalize` for HTML (``jinja2.Environment(finalize=finalize)``: every
  ``{{ value }}`` in every template, plugins' partials included);
- :func:`one_line` for places that hold one line (chart labels, Markdown table
  cells, the CLI): line breaks become spaces, with an optional length limit;
- :func:`markdown_text` for GitHub Markdown: one line, links and mentions
  defanged, Markdown punctuation escaped;
- :func:`xml_text` for JUnit XML: what XML 1.0 can carry (the serialiser escapes the rest).
"""

from __future__ import annotations

import re
from typing import Any

#: Invisible controls that change how text displays: shown as visible escapes.
FORMAT_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff")

#: What replaces a control character.
REPLACEMENT = "\ufffd"
ELLIPSIS = "\u2026"

_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_FORMAT = re.compile("[" + "".join(sorted(FORMAT_CONTROLS)) + "]")
_NEEDS_WORK = re.compile(_CONTROLS.pattern[:-1] + "".join(sorted(FORMAT_CONTROLS)) + "]")

# Whitespace that would end a line, a table row or a list item: becomes one space.
_BREAKS = re.compile("[\r\n\t\x0b\x0c\x85\u2028\u2029]+")
# Things GitHub would turn into links or mentions; defanged before escaping.
_SCHEME = re.compile(r"(?i)\b(?:https?|ftps?)(?=:)")
_NAMED_SCHEME = re.compile(r"(?i)\b(mailto|xmpp|javascript|vbscript)(:)(?=\S)")
_WWW = re.compile(r"(?i)\b(www)(\.)")
# Markdown punctuation that can start emphasis, code, links, images or cells.
_MD_SPECIAL = re.compile(r"([\\`*_~|\[\]()!#])")


def neutralize(text: str) -> str:
    """``text`` under the one policy: format controls made visible, control characters replaced by U+FFFD.

    ``"ok" + NUL + RLO + "gnp.exe"`` becomes ``"ok" + U+FFFD + "\\u202egnp.exe"``
    (the last part as the six visible characters of the escape).
    """
    if not _NEEDS_WORK.search(text):
        return text  # the common case: no copy
    text = _FORMAT.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return _CONTROLS.sub(REPLACEMENT, text)


def clean_text(text: str) -> str:
    """The HTML sanitiser for a plain string (what :func:`finalize` applies): :func:`neutralize`."""
    return neutralize(text)


def finalize(value: Any) -> Any:
    """Jinja2 ``finalize`` hook: neutralise every plain ``str`` a template outputs.

    ``markupsafe.Markup`` values pass through unchanged: they are markup the
    harness built itself (already escaped partials, charts whose text was
    cleaned when drawn), and translating them here could not be told apart
    from a template bug. Non-strings (numbers, None, ...) are returned as they
    are, for Jinja to convert as usual.
    """
    from markupsafe import Markup

    if isinstance(value, str) and not isinstance(value, Markup):
        return neutralize(value)
    return value


def one_line(value: Any, limit: int | None = None) -> str:
    """Neutralised text on one line (breaks and tabs become one space), at most ``limit`` characters."""
    text = neutralize(value if isinstance(value, str) else str(value))
    text = _BREAKS.sub(" ", text)
    text = re.sub(" {2,}", " ", text).strip()
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + ELLIPSIS
    return text


def markdown_text(value: Any, limit: int | None = None) -> str:
    """Data-derived text made inert for a GitHub Markdown page (also inside a table cell)."""
    text = one_line(value, limit)
    text = _SCHEME.sub(lambda m: re.sub("[tT]", lambda t: "x" if t.group() == "t" else "X", m.group()), text)  # hxxp://
    text = _NAMED_SCHEME.sub(r"\1[:]", text)
    text = _WWW.sub(r"\1[.]", text)
    text = text.replace("@", "@\u200b")  # no @-mentions, no e-mail autolinks
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def xml_text(value: Any) -> str:
    """``value`` as neutralised text that XML 1.0 can carry (the serialiser escapes ``<``, ``&``...)."""
    return neutralize(value if isinstance(value, str) else str(value))
