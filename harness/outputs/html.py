"""The HTML compliance report (``report.html``); the table of output formats is :mod:`harness.outputs.registry`.

The HTML is rendered by Jinja2 with autoescape on, from templates/ plus the
partials plugins contribute through ``harness_report_sections``. It loads
nothing from the network and runs no script (a Content-Security-Policy meta
tag says so to the browser too). Rendering needs only the AuditResult, so
``harness report RESULTS.json`` reproduces the page without model or data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from harness.resources import resource_dir
from harness.plugin.sections import ReportSection
from harness.text.numbers import format_signed, format_value
from harness.results.io import normalized
from harness.results.types import AuditResult, suite_of

if TYPE_CHECKING:
    import jinja2

    from harness.plugin.manager import PluginHost




STATUS_ICONS = {"pass": "\u2714", "fail": "\u2718", "inconclusive": "?", "incomplete": "?", "warn": "\u26a0", "error": "\u203c",
                "skipped": "\u2013", "not_applicable": "\u2205"}


#: A threshold outcome as the report words it.
OUTCOME_WORDS = {"pass": "met", "fail": "NOT met", "inconclusive": "inconclusive"}


def make_environment(search_paths: Sequence[str] = ()) -> "jinja2.Environment":
    """The one Jinja2 environment: autoescape always on, undefined variables are errors."""
    import jinja2

    loader = jinja2.FileSystemLoader([str(resource_dir("templates")), *search_paths])
    from harness.text.sanitize import finalize

    env = jinja2.Environment(
        loader=loader, autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True, finalize=finalize,
    )
    env.filters["num"] = format_value
    env.filters["signed"] = format_signed
    from harness.integrity.signing import short_fingerprint

    env.filters["short_fingerprint"] = short_fingerprint
    env.globals["status_icon"] = STATUS_ICONS
    env.globals["outcome_word"] = OUTCOME_WORDS
    return env


def collect_sections(result: AuditResult, host: "PluginHost | None") -> list[ReportSection]:
    if host is None:
        return []
    probe_env = make_environment()
    sections: list[ReportSection] = []
    for contributed in host.hook.harness_report_sections(result=result, env=probe_env):
        for section in contributed or []:
            if not isinstance(section, ReportSection):
                raise TypeError(f"harness_report_sections must return ReportSection objects, got {type(section).__name__}")
            sections.append(section)
    return sorted(sections, key=lambda s: (s.order, s.title))


def render_html(result: AuditResult, host: "PluginHost | None" = None) -> str:
    """The compliance report: one self-contained, script-free, autoescaped HTML page."""
    from markupsafe import Markup

    from harness.outputs import html_view as report_view
    result = normalized(result)
    sections = collect_sections(result, host)
    env = make_environment([s.search_path for s in sections if s.search_path])
    suites = report_view.group_by_suite(result)
    by_name = {suite.name: suite for suite in suites}
    standalone = []
    for section in sections:
        # each partial escapes its own data (autoescape); its output is then trusted markup
        html = Markup(env.get_template(section.template).render(**section.context, result=result))
        item = {"title": section.title, "html": html}
        if section.check and suite_of(section.check) in by_name:
            by_name[suite_of(section.check)].check_sections.setdefault(section.check, []).append(item)
        elif section.suite in by_name:
            by_name[section.suite].sections.append(item)  # type: ignore[index]
        else:
            standalone.append(item)
    from harness.text.sanitize import clean_text

    page = env.get_template("report.html").render(
        result=result,
        verdict_sentence=report_view.verdict_sentence(result),
        failed_gated=report_view.failed_gated(result),
        undecided_gated=report_view.undecided_gated(result),
        informational_findings=report_view.informational_findings(result),
        method_notes=report_view.method_notes(result),
        suites=suites,
        sections=standalone,
        limitations=report_view.limitations(result),
        mapping=report_view.regulatory_mapping(result),
        clause_index=report_view.clause_index(result),
        appendix=report_view.appendix(result),
        comparison_sentence=_comparison_sentence(result),
    )
    # defence in depth: no template path (|e, Markup built from data) can slip a NUL or bidi control through
    return clean_text(page)


def _comparison_sentence(result: AuditResult) -> str:
    if not result.comparison:
        return ""
    from harness.outputs.comparison import summary_sentence

    return summary_sentence(result.comparison)
