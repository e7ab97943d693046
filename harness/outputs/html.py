"""The HTML compliance report (``report.html``); the table of output formats is :mod:`harness.outputs.registry`.

The HTML is rendered by Jinja2 with autoescape on, from templates/ plus the
partials plugins contribute through ``harness_report_sections``. It loads
nothing from the network and runs no script (a Content-Security-Policy meta
tag says so to the browser too). Rendering needs only the AuditResult, so
``harness report RESULTS.json`` reproduces the page without model or data.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from harness.outputs.localize import check_message, check_title, limitation_text, plugin_text, style_for_html
from harness.resources import resource_dir
from harness.plugin.sections import ReportSection
from harness.text.i18n import N_, check_language, html_lang, lookup, read_catalog, status_word, translator, verdict_word
from harness.text.numbers import NOT_AVAILABLE, format_signed, format_value
from harness.results.io import normalized
from harness.results.types import AuditResult, suite_of

if TYPE_CHECKING:
    import gettext

    import jinja2

    from harness.plugin.manager import PluginHost




STATUS_ICONS = {"pass": "\u2714", "fail": "\u2718", "inconclusive": "?", "incomplete": "?", "warn": "\u26a0", "error": "\u203c",
                "skipped": "\u2013", "not_applicable": "\u2205"}


#: A threshold outcome as the report words it.
OUTCOME_WORDS = {"pass": N_("met"), "fail": N_("NOT met"), "inconclusive": N_("inconclusive")}


def make_environment(search_paths: Sequence[str] = (), language: str = "en",
                     translations: "gettext.NullTranslations | None" = None) -> "jinja2.Environment":
    """The one Jinja2 environment: autoescape always on, undefined variables are errors.

    Templates speak ``language`` through Jinja2's i18n extension (``{% trans %}``,
    ``_()``, newstyle: placeholders are escaped like any other value), with
    ``translations`` (default: the harness catalog of that language). In a
    language other than English, the ``data`` filter and the ``notranslate``
    attribute mark names and numbers as data (``translate="no"``), and the
    ``status``/``verdict`` filters word a status; in English they change
    nothing, so the English page is what it was before.
    """
    import jinja2
    from markupsafe import Markup

    loader = jinja2.FileSystemLoader([str(resource_dir("templates")), *search_paths])
    from harness.text.sanitize import finalize

    env = jinja2.Environment(
        loader=loader, autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True, finalize=finalize, extensions=["jinja2.ext.i18n"],
    )
    check_language(language)
    tr = translations or translator(language)
    env.install_gettext_translations(tr, newstyle=True)  # type: ignore[attr-defined]
    style = style_for_html(language)
    env.filters["num"] = format_value if language == "en" else _localized_number(tr)
    env.filters["signed"] = format_signed if language == "en" else _localized_number(tr, format_signed)
    from harness.integrity.signing import short_fingerprint

    env.filters["short_fingerprint"] = short_fingerprint
    env.filters["data"] = (lambda value: value) if language == "en" else style.data
    env.filters["status"] = lambda status, form="": _status_shown(status, form, language)
    env.filters["verdict"] = lambda verdict: verdict.upper() if language == "en" else verdict_word(verdict, language)
    # a plugin's string, or a {text, message_id, message_args} mapping (shown as its text in English)
    env.filters["localized"] = lambda text: limitation_text(text, language, style) if isinstance(text, Mapping) else plugin_text(text, language, style, tr)
    env.filters["change"] = env.filters["localized"]  # a comparison row's change (harness.compare.comparison.CHANGES)
    # markup left in English (a chart drawn outside harness.outputs.charts' language): marked lang="en" on a translated page
    env.filters["english"] = (lambda markup: markup) if language == "en" else (lambda markup: Markup('<div lang="en">{}</div>').format(markup))
    env.globals["style"] = style
    env.globals["notranslate"] = "" if language == "en" else Markup(' translate="no"')
    env.globals["language"] = language
    env.globals["html_lang"] = html_lang(language)
    env.globals["status_icon"] = STATUS_ICONS
    env.globals["outcome_word"] = {key: tr.gettext(word) for key, word in OUTCOME_WORDS.items()}
    env.globals["title_of"] = lambda check: check_title(check, language, style)
    env.globals["message_of"] = lambda check: check_message(check, language, style)
    return env


def _localized_number(tr: "gettext.NullTranslations", format_function: Any = format_value) -> Any:
    """A number filter whose ``n/a`` is worded in the page's language."""
    not_available = tr.gettext(NOT_AVAILABLE)

    def shown(value: Any) -> Any:
        text = format_function(value)
        return not_available if text == NOT_AVAILABLE else text

    return shown


def _status_shown(status: str, form: str, language: str) -> str:
    """A check status in a template: as stored (``form=""``), ``"upper"`` or ``"words"`` (``not applicable``) in English."""
    if language != "en":
        return status_word(status, language)
    if form == "upper":
        return status.upper()
    if form == "words":
        return status.replace("_", " ")
    return status


def collect_sections(result: AuditResult, host: "PluginHost | None", language: str = "en") -> list[ReportSection]:
    if host is None:
        return []
    from harness.outputs.charts import drawn_in

    probe_env = make_environment(language=language)
    sections: list[ReportSection] = []
    with drawn_in(language):  # charts the sections draw speak the page's language (harness.outputs.charts)
        contributed_sections = host.hook.harness_report_sections(result=result, env=probe_env)
    for contributed in contributed_sections:
        for section in contributed or []:
            if not isinstance(section, ReportSection):
                raise TypeError(f"harness_report_sections must return ReportSection objects, got {type(section).__name__}")
            sections.append(section)
    return sorted(sections, key=lambda s: (s.order, s.title))


def section_translations(sections: Sequence[ReportSection], language: str) -> "gettext.NullTranslations":
    """The harness catalog of ``language``, then the catalog each plugin ships beside its templates.

    A plugin provides one as ``<search_path>/locale/<language>/LC_MESSAGES/<domain>.po``
    (any domain name; see docs/plugins.md). The harness catalog is not changed:
    a copy heads the chain.
    """
    base = translator(language)
    if language == "en":
        return base
    chain = copy.copy(base)
    seen: set[Path] = set()
    for section in sections:
        if not section.search_path:
            continue
        folder = Path(section.search_path) / "locale" / language / "LC_MESSAGES"
        if folder in seen or not folder.is_dir():
            continue
        seen.add(folder)
        for po in sorted(folder.glob("*.po")):
            catalog = read_catalog(language, folder.parent.parent, po.stem)
            if catalog is not None:
                chain.add_fallback(catalog)
    return chain


def _speaks(env: "jinja2.Environment", template: str, translations: "gettext.NullTranslations") -> bool:
    """Whether a partial is translated: it marks its strings and the catalogs translate at least one of them."""
    source, _, _ = env.loader.get_source(env, template)  # type: ignore[union-attr]
    def msgid(message: Any) -> Any:  # a {% trans %} with variables is extracted as (msgid, None)
        return message[0] if isinstance(message, tuple) and message else message

    return any(isinstance(msgid(message), str) and lookup(translations, msgid(message)) is not None
               for _, _, message in env.extract_translations(source))  # type: ignore[attr-defined]


def render_html(result: AuditResult, host: "PluginHost | None" = None, language: str = "en") -> str:
    """The compliance report: one self-contained, script-free, autoescaped HTML page, in ``language``."""
    from markupsafe import Markup

    from harness.outputs import html_view as report_view
    check_language(language)
    result = normalized(result)
    sections = collect_sections(result, host, language)
    translations = section_translations(sections, language)
    env = make_environment([s.search_path for s in sections if s.search_path], language, translations)
    style = style_for_html(language)
    suites = report_view.group_by_suite(result)
    by_name = {suite.name: suite for suite in suites}
    standalone = []
    speaks: dict[str, bool] = {}
    for section in sections:
        # each partial escapes its own data (autoescape); its output is then trusted markup
        html = Markup(env.get_template(section.template).render(**section.context, result=result))
        title = section.title
        if language != "en":
            if section.template not in speaks:
                speaks[section.template] = _speaks(env, section.template, translations)
            if not speaks[section.template]:  # a partial left in English says so to the reader (and to screen readers)
                html = Markup('<div lang="en">{}</div>').format(html)
            title = plugin_text(section.title, language, style, translations)
        item = {"title": title, "html": html}
        if section.check and suite_of(section.check) in by_name:
            by_name[suite_of(section.check)].check_sections.setdefault(section.check, []).append(item)
        elif section.suite in by_name:
            by_name[section.suite].sections.append(item)  # type: ignore[index]
        else:
            standalone.append(item)
    from harness.text.sanitize import clean_text

    page = env.get_template("report.html").render(
        result=result,
        verdict_sentence=report_view.verdict_sentence(result, language, style),
        coverage_line=result.coverage.line_in(language, style, result.checks),
        failed_gated=report_view.failed_gated(result),
        undecided_gated=report_view.undecided_gated(result),
        informational_findings=report_view.informational_findings(result),
        method_notes=report_view.method_notes(result, language),
        suites=suites,
        sections=standalone,
        limitations=report_view.limitations(result, language, style),
        mapping=report_view.regulatory_mapping(result),
        clause_index=report_view.clause_index(result),
        appendix=report_view.appendix(result),
        comparison_sentence=_comparison_sentence(result, language, style),
    )
    # defence in depth: no template path (|e, Markup built from data) can slip a NUL or bidi control through
    return clean_text(page)


def _comparison_sentence(result: AuditResult, language: str = "en", style: Any = None) -> str:
    if not result.comparison:
        return ""
    from harness.outputs.comparison import summary_sentence

    return summary_sentence(result.comparison, language, style or style_for_html(language))
