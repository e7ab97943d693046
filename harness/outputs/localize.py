"""What every output shares to speak a language other than English (:mod:`harness.text.i18n`).

The English outputs never come here for their words: every function returns
the stored English text unchanged when the language is ``en`` and the style is
plain, so English reports stay exactly what they were.

In another language, a check's message is rebuilt from its parts: the
threshold sentences the gate put in front of it are worded again from the
stored outcomes, and the plugin's own part is translated from its
``message_id``/``message_args`` when it has them, else looked up by exact
msgid, else kept in the plugin's English (marked ``lang="en"`` in HTML, so the
reader sees it is untranslated).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from markupsafe import Markup, escape

from harness.results.types import CheckResult, ThresholdOutcome
from harness.text.i18n import PLAIN, Plain, lookup, translator
from harness.text.sanitize import neutralize

__all__ = ["HtmlStyle", "HTML_STYLE", "style_for_html", "check_message", "check_title", "plugin_text", "limitation_text", "gate_prefix"]


class HtmlStyle(Plain):
    """Sentences for the HTML report in another language: data ``translate="no"``, plugin English ``lang="en"``, escaped."""

    def data(self, value: object) -> Markup:
        return Markup('<span translate="no">{}</span>').format(neutralize(value if isinstance(value, str) else str(value)))

    def english(self, value: str) -> Markup:
        if isinstance(value, Markup):
            return Markup('<span lang="en">{}</span>').format(value)
        return Markup('<span lang="en">{}</span>').format(neutralize(value)) if value else Markup("")

    def format(self, template: str, **values: object) -> Markup:
        return Markup(escape(template)).format(**values)

    def join(self, separator: str, parts: "list[Any] | tuple[Any, ...]") -> Markup:
        return Markup(escape(separator)).join(parts)


HTML_STYLE = HtmlStyle()


def style_for_html(language: str) -> Plain:
    """The style of the HTML report in ``language``: plain for English (the strings are autoescaped as before)."""
    return PLAIN if language == "en" else HTML_STYLE


def gate_prefix(check: CheckResult) -> tuple[tuple[ThresholdOutcome, ...], str]:
    """The threshold outcomes the gate wrote in front of ``check.message``, and the plugin's message after them.

    The gate (``harness.run.gate.apply_thresholds``) prefixes the failed
    thresholds' sentences, or else the inconclusive ones', and a full stop.
    A message that does not start with them is the plugin's alone.
    """
    message = check.message or ""
    for kind in ("fail", "inconclusive"):
        outcomes = tuple(o for o in check.thresholds if o.outcome == kind)
        if not outcomes:
            continue
        full = "; ".join(o.sentence for o in outcomes) + "."
        if message == full:
            return outcomes, ""
        if message.startswith(full + " "):
            return outcomes, message[len(full) + 1:]
        return (), message  # the gate would have used these outcomes: the message was not written by it
    return (), message


def _argument(value: Any, style: Plain, language: str) -> Any:
    """A message argument: names are data (never translated); numbers stay numbers so format specs apply.

    An argument that is itself a message (``{"message_id", "message_args"}`` or ``{"text"}``) is shown as one.
    """
    if isinstance(value, Mapping):
        return limitation_text(value, language, style)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return style.data(value)


def _formatted(template: str, args: Mapping[str, Any], style: Plain, language: str) -> str | None:
    try:
        return style.format(template, **{str(k): _argument(v, style, language) for k, v in args.items()})
    except (KeyError, IndexError, ValueError, TypeError):
        return None  # the catalog's placeholders do not fit these arguments: the plugin's English below


def plugin_text(text: str, language: str, style: Plain = PLAIN, translations: Any = None) -> str:
    """A string a plugin computed (a title, a limitation line): translated by exact msgid, else its English, marked."""
    if language == "en" and style is PLAIN:
        return text
    found = lookup(translations or translator(language), text)
    if found is not None:
        return found if style is PLAIN else style.format("{text}", text=found)
    return style.english(text)


def limitation_text(note: Any, language: str, style: Plain = PLAIN) -> str:
    """One ``evidence["limitations"]`` entry: a plain string, or ``{"text", "message_id", "message_args"}``.

    The mapping's ``text`` is the English line; in another language its
    ``message_id`` is translated and filled with ``message_args`` (shown as
    data, untranslated), else the ``text`` is looked up like a plain string.
    """
    if not isinstance(note, Mapping):
        return plugin_text(str(note), language, style)
    text = str(note.get("text") or "")
    if language == "en" and style is PLAIN:
        return text
    message_id = note.get("message_id")
    args = note.get("message_args")
    if message_id and isinstance(args, Mapping):
        shown = _formatted(translator(language).gettext(str(message_id)), args, style, language)
        if shown is not None:
            return shown
    return plugin_text(text, language, style)


def check_title(check: CheckResult, language: str, style: Plain = PLAIN) -> str:
    return plugin_text(check.title, language, style)


def _own_message(check: CheckResult, text: str, language: str, style: Plain) -> str:
    """The plugin's part of the message in ``language``."""
    if not text:
        return text
    if check.message_id:
        shown = _formatted(translator(language).gettext(check.message_id), check.message_args, style, language)
        if shown is not None:
            return shown
    return plugin_text(text, language, style)


def check_message(check: CheckResult, language: str = "en", style: Plain = PLAIN) -> str:
    """``check.message`` for a reader of ``language`` (the stored message itself in English)."""
    if language == "en" and style is PLAIN:
        return check.message
    tr = translator(language)
    outcomes, own = gate_prefix(check)
    shown = _own_message(check, own, language, style)
    if not outcomes:
        return shown
    sentences = style.join(tr.gettext("; "), [o.sentence_in(language, style) for o in outcomes])
    if shown:
        return style.format(tr.gettext("{sentences}. {message}"), sentences=sentences, message=shown)
    return style.format(tr.gettext("{sentences}."), sentences=sentences)


def join_words(items: Iterable[Any], language: str, style: Plain = PLAIN, separator: str = ", ") -> str:
    """Items joined with ``separator`` as ``language`` writes it (``, `` -> ``、``)."""
    parts = list(items)
    if language == "en" and style is PLAIN:
        return separator.join(parts)
    return style.join(translator(language).gettext(separator), parts)
