"""The languages the report, the Markdown summary and the JUnit messages can be written in.

Every output takes its language at render time and looks its words up in a
translations object for that language, never in a process-global locale:

    _ = translator(language).gettext
    _("Verdict")                                # msgid: the English text
    _("{n} of {total} checks").format(n=3, total=5)

Message ids are the English text, so the English output is the msgid itself
(:class:`gettext.NullTranslations`). The catalogs are the standard gettext
route, kept as Babel ``.po`` files (one ``harness`` domain) under
``harness/text/locale/<language>/LC_MESSAGES/harness.po`` and compiled in
memory on first use, so no build step is needed. To regenerate the template
after marking strings (``babel.cfg`` at the repository root says what is read):

    pybabel extract -F babel.cfg --no-location --sort-output --omit-header -o harness/text/locale/harness.pot .
    pybabel update -i harness/text/locale/harness.pot -d harness/text/locale -D harness -l zh --no-fuzzy-matching

(the .pot is a by-product: it is not kept; tests/test_i18n.py extracts with the
same mapping and fails on any msgid the catalog lacks or leaves fuzzy or empty).

Data (texts, label and group names, check ids, metric names, numbers, hashes,
paths, versions) is never looked up. Strings a plugin computed at run time
(check titles and messages, limitation lines) are looked up by exact message
id (:func:`lookup`): found, they are shown translated; not found, they stay as
the plugin wrote them and the outputs mark them as English.

This module is the text layer: it imports the standard library, and Babel
only when a catalog is first read.
"""

from __future__ import annotations

import functools
import gettext
import io
from collections.abc import Mapping
from pathlib import Path

__all__ = ["LANGUAGES", "DEFAULT_LANGUAGE", "DOMAIN", "LOCALE_DIR", "translator", "lookup", "format_message", "html_lang", "N_",
           "read_catalog", "check_language", "Plain", "PLAIN", "STATUS_WORDS", "VERDICT_WORDS", "status_word", "verdict_word"]

#: Every language an output can be rendered in (``output.language``, ``harness report --language``).
LANGUAGES: tuple[str, ...] = ("en", "zh")
DEFAULT_LANGUAGE = "en"
DOMAIN = "harness"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

#: The ``lang`` attribute of the HTML page per language (BCP 47: Simplified Chinese is zh-Hans).
_HTML_LANG = {"en": "en", "zh": "zh-Hans"}


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark for extraction, translate later"
    """Mark ``message`` for extraction without translating it (it is looked up where it is shown).

    Plugins mark their titles, chart labels and message ids with it (``from harness import N_``);
    babel.cfg extracts every ``N_(...)`` of the built-in plugins into the catalog.
    """
    return message


def check_language(language: str) -> str:
    """``language`` if the outputs can be written in it; ValueError naming the allowed values otherwise."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; expected one of {', '.join(LANGUAGES)}")
    return language


def html_lang(language: str) -> str:
    """The ``<html lang>`` value for ``language`` (``zh`` -> ``zh-Hans``)."""
    return _HTML_LANG[check_language(language)]


def read_catalog(language: str, directory: Path | None = None, domain: str = DOMAIN) -> "gettext.GNUTranslations | None":
    """The ``.po`` catalog of ``domain`` for ``language`` under ``directory``, compiled in memory; None when there is none.

    Fuzzy and empty entries are left out (write_mo skips them), so an
    unfinished translation falls back to the English msgid rather than
    showing a guess.
    """
    path = (directory or LOCALE_DIR) / language / "LC_MESSAGES" / f"{domain}.po"
    if not path.is_file():
        return None
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=domain)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@functools.lru_cache(maxsize=None)
def translator(language: str = DEFAULT_LANGUAGE) -> gettext.NullTranslations:
    """The translations of ``language``: the msgids themselves for English, the compiled catalog otherwise.

    Cached per language (the catalog is read once per process); the object is
    only read from, so callers on several threads may share it.
    """
    check_language(language)
    if language == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    catalog = read_catalog(language)
    if catalog is None:
        raise FileNotFoundError(f"the {language} catalog {DOMAIN}.po is missing from this installation ({LOCALE_DIR})")
    return catalog


def lookup(translations: gettext.NullTranslations, message: str) -> str | None:
    """The translation of a plugin-computed ``message`` by exact msgid, or None when the catalog has none.

    English (the null translations) always "has" it: the msgid is the English text.
    """
    if not message:
        return message
    chain: gettext.NullTranslations | None = translations
    while chain is not None:
        if type(chain) is gettext.NullTranslations:
            return message
        if message in getattr(chain, "_catalog", {}):
            return chain.gettext(message)
        chain = getattr(chain, "_fallback", None)
    return None


def format_message(translations: gettext.NullTranslations, message_id: str, args: "Mapping[str, object]") -> str:
    """``message_id`` translated and filled with ``args`` (plain text).

    An argument that is itself a message, ``{"message_id", "message_args"}``
    (or ``{"text"}`` alone, a plugin's English), is filled the same way first:
    a message assembled from parts keeps each part translatable.
    """
    def argument(value: object) -> object:
        if isinstance(value, Mapping):
            if value.get("message_id") and isinstance(value.get("message_args"), Mapping):
                return format_message(translations, str(value["message_id"]), value["message_args"])
            text = str(value.get("text") or "")
            return lookup(translations, text) or text
        return value

    return translations.gettext(message_id).format(**{str(k): argument(v) for k, v in args.items()})


class Plain:
    """How a sentence marks its parts in plain text (Markdown, JUnit, the CLI, results.json): it does not.

    A sentence built from a msgid takes a style: :meth:`data` wraps an
    identifier, name or number that is never translated, :meth:`english` a
    plugin's text that the catalog has no translation for, :meth:`format`
    fills a translated template and :meth:`join` joins parts. The HTML report
    passes a style that marks them (``translate="no"``, ``lang="en"``) and
    escapes; this one returns the text unchanged, so the English sentences
    are exactly what they were before translation existed.
    """

    def data(self, value: object) -> str:
        return value if isinstance(value, str) else str(value)

    def english(self, value: str) -> str:
        return value

    def format(self, template: str, **values: object) -> str:
        return template.format(**values)

    def join(self, separator: str, parts: "list[str] | tuple[str, ...]") -> str:
        return separator.join(parts)


PLAIN = Plain()

#: A check's status in words (msgids; the English outputs print the status as it is stored).
STATUS_WORDS: dict[str, str] = {
    "pass": N_("pass"), "fail": N_("fail"), "inconclusive": N_("inconclusive"), "warn": N_("warn"), "error": N_("error"),
    "skipped": N_("skipped"), "not_applicable": N_("not applicable"),
}
#: A run's verdict in words (msgids), as the headings print it.
VERDICT_WORDS: dict[str, str] = {"pass": N_("PASS"), "fail": N_("FAIL"), "error": N_("ERROR"), "incomplete": N_("INCOMPLETE")}


def status_word(status: str, language: str) -> str:
    """``status`` as a reader of ``language`` reads it; English keeps the stored word with spaces (``not applicable``)."""
    word = STATUS_WORDS.get(status, status.replace("_", " "))
    return translator(language).gettext(word) if status in STATUS_WORDS else word


def verdict_word(verdict: str, language: str) -> str:
    """The run's verdict as a heading prints it (``PASS``; ``通过`` in Chinese)."""
    word = VERDICT_WORDS.get(verdict, verdict.upper())
    return translator(language).gettext(word) if verdict in VERDICT_WORDS else word
