"""The Markdown summary for a pull request comment or ``$GITHUB_STEP_SUMMARY``.

Layout: a heading with the verdict (an icon AND the word), one sentence of
counts, the gated checks that failed and why in plain words (and the checks
that could not run), a table of every check with its headline metric and
95% interval, the comparison with a baseline when there is one
(:func:`render_comparison_section`; alone, for ``harness compare``:
:func:`render_comparison_markdown`), then one provenance line.

Everything that comes from data, plugins or configuration passes through
:func:`md_escape` before it reaches the page. A PR comment is rendered by
GitHub, so text from a dataset could otherwise inject HTML, images, links,
@-mentions, table cells or reversed (bidi) text. The summary links to nothing:
no URLs, no images, no HTML. The output depends on the result alone, so the
same result always gives the same bytes.
"""

from __future__ import annotations

from typing import Any, Mapping

from harness.compare.comparison import Comparison, RunSummary, as_comparison
from harness.outputs.common import nested_get
from harness.text.i18n import status_word, translator, verdict_word
from harness.text.numbers import NOT_AVAILABLE, format_limit, format_number
from harness.text.sanitize import markdown_text
from harness.outputs.comparison import format_delta, format_p, summary_sentence
from harness.outputs.localize import check_message, check_title, plugin_text
from harness.results.types import UNDECIDED, AuditResult, CheckResult, Metric

__all__ = ["render_markdown", "render_comparison_section", "render_comparison_markdown", "md_escape"]

MAX_MESSAGE = 300

VERDICT_HEADINGS = {
    "pass": ("\u2705", "PASS"),
    "fail": ("\u274c", "FAIL"),
    "error": ("\u26a0\ufe0f", "ERROR"),
    "incomplete": ("\u26a0\ufe0f", "INCOMPLETE"),
}
STATUS_ICONS = {
    "pass": "\u2705",
    "fail": "\u274c",
    "warn": "\u26a0\ufe0f",
    "error": "\u26a0\ufe0f",
    "skipped": "\u23ed\ufe0f",
    "inconclusive": "\u2753",
    "not_applicable": "\u23ed\ufe0f",
}
#: A status with its icon, as the English summary prints it.
STATUS_LABELS = {status: f"{icon} {status.replace('_', ' ')}" for status, icon in STATUS_ICONS.items()}


def _status_label(status: str, language: str) -> str:
    if status not in STATUS_ICONS:
        return md_escape(status)
    return f"{STATUS_ICONS[status]} {status_word(status, language)}"


def md_escape(value: Any, limit: int | None = None) -> str:
    """Data-derived text made inert for a GitHub Markdown page (:func:`harness.text.sanitize.markdown_text`)."""
    return markdown_text(value, limit)


def _num(value: Any, language: str = "en") -> str:
    shown = format_number(value)
    return translator(language).gettext(shown) if shown == NOT_AVAILABLE else shown


def _bound(value: Any) -> str:
    return format_limit(value)


def _metric_cell(metric: Metric | None, language: str = "en") -> str:
    if metric is None:
        return "\u2014"
    shown = f"{md_escape(metric.name)} {_num(metric.value, language)}"
    if metric.interval is not None:
        # Our own brackets around numbers, followed by " |": they cannot form a link.
        shown += f" [{_num(metric.interval.low, language)}, {_num(metric.interval.high, language)}]"
    return shown


def _threshold_cell(check: CheckResult, language: str = "en") -> str:
    if not check.thresholds:
        return "\u2014"
    _ = translator(language).gettext
    parts = []
    for outcome in check.thresholds:
        sign = "\u2265" if outcome.op == "min" else "\u2264"
        part = f"{md_escape(outcome.metric)} {sign} {_bound(outcome.bound)}"
        if outcome.outcome == "fail":
            part += _(" (not met)")
        elif outcome.outcome == "inconclusive":
            part += _(" (inconclusive)")
        parts.append(part)
    return _("; ").join(parts)


def _status_cell(check: CheckResult, language: str = "en") -> str:
    label = _status_label(check.status, language)
    if check.status == "fail" and not check.gated:
        label += translator(language).gettext(" (not gated)")
    return label


def _check_name(check: CheckResult, language: str = "en") -> str:
    title = check_title(check, language)
    if check.title and check.title != check.id:
        return translator(language).gettext("{title} ({id})").format(title=md_escape(title, 120), id=md_escape(check.id, 120))
    return md_escape(check.id, 120)


def _why(check: CheckResult, outcome_kind: str, language: str = "en") -> str:
    """The thresholds of one outcome kind (fail or inconclusive), in plain words; else the check's message."""
    _ = translator(language).gettext
    reasons = [md_escape(o.sentence_in(language)) for o in check.thresholds if o.outcome == outcome_kind]
    if reasons:
        return _("; ").join(reasons) + _(".")
    return md_escape(check_message(check, language), MAX_MESSAGE) or _("the check gave no message.")


def _counts_sentence(result: AuditResult, language: str = "en") -> str:
    tr = translator(language)
    _ = tr.gettext
    checks = result.checks
    if not checks:
        sentence = _("No checks ran")
    else:
        counts = result.counts
        parts = []
        if counts["pass"]:
            parts.append(_("{count} passed").format(count=counts["pass"]))
        if counts["warn"]:
            parts.append(_("{count} passed with a warning").format(count=counts["warn"]))
        if counts["inconclusive"]:
            parts.append(_("{count} inconclusive").format(count=counts["inconclusive"]))
        if counts["fail"]:
            ungated = sum(1 for c in checks if c.status == "fail" and not c.gated)
            part = _("{count} failed").format(count=counts["fail"])
            if ungated:
                part += _(" ({count} not gated)").format(count=ungated)
            parts.append(part)
        if counts["error"]:
            parts.append(_("{count} could not run (error)").format(count=counts["error"]))
        if counts["skipped"]:
            parts.append(_("{count} skipped").format(count=counts["skipped"]))
        if counts["not_applicable"]:
            parts.append(_("{count} not applicable").format(count=counts["not_applicable"]))
        ran = tr.ngettext("{count} check ran: {parts}", "{count} checks ran: {parts}", len(checks))
        sentence = ran.format(count=len(checks), parts=_(", ").join(parts))
    sentence += _("; exit code {code}.").format(code=result.exit_code)
    if not result.complete:
        sentence += _(" The run did not finish, so these results are partial.")
    return sentence


def _provenance_line(result: AuditResult, language: str = "en") -> str:
    _ = translator(language).gettext
    prov = result.provenance
    parts = []
    model = nested_get(prov, "model", "source")
    if model is not None:
        parts.append(_("model {model}").format(model=md_escape(model, 120)))
    sha = nested_get(prov, "model", "weights_sha256")
    if isinstance(sha, str) and sha:
        parts.append(_("weights sha256 {sha}").format(sha=md_escape(sha[:12])))
    data = nested_get(prov, "data", "source")
    if data is not None:
        shown = _("data {data}").format(data=md_escape(data, 120))
        if nested_get(prov, "data", "synthetic") is True:
            shown += _(" (synthetic)")
        parts.append(shown)
    seed = nested_get(prov, "seed")
    if seed is not None:
        parts.append(_("seed {seed}").format(seed=md_escape(seed)))
    version = nested_get(prov, "packages", "audit-harness")
    if version is not None:
        parts.append(f"audit-harness {md_escape(version, 40)}")
    return _("Provenance: {parts}.").format(parts=" \u00b7 ".join(parts)) if parts else _("Provenance: not recorded.")


def render_markdown(result: AuditResult, language: str = "en") -> str:
    """The run as GitHub-flavoured Markdown (newline-terminated), in ``language``."""
    _ = translator(language).gettext
    icon, word = VERDICT_HEADINGS.get(result.verdict, ("\u26a0\ufe0f", md_escape(result.verdict).upper()))
    if language != "en" and result.verdict in VERDICT_HEADINGS:
        word = verdict_word(result.verdict, language)
    lines = [_("## {icon} Model audit: {verdict}").format(icon=icon, verdict=word), "", _counts_sentence(result, language), "",
             _("Coverage: {line}.").format(line=md_escape(result.coverage.line_in(language, checks=result.checks))), ""]

    failed = [c for c in result.checks if c.status == "fail" and c.gated]
    if failed:
        lines.append(_("**Gated checks that failed:**"))
        lines.append("")
        lines.extend("- " + _("{check}: {reason}").format(check=_check_name(c, language), reason=_why(c, "fail", language)) for c in failed)
        lines.append("")
    undecided = [c for c in result.checks if c.gated and c.status in UNDECIDED]
    if undecided:
        lines.append(_("**Gated checks that could not decide:**"))
        lines.append("")
        lines.extend("- " + _("{check} ({status}): {reason}").format(check=_check_name(c, language), status=_status_label(c.status, language),
                                                                  reason=_why(c, "inconclusive", language)) for c in undecided)
        lines.append("")
    informational = [c for c in result.checks if not c.gated and c.status in ("fail", "warn", "inconclusive")]
    if informational:
        lines.append(_("**Informational findings (not gated):**"))
        lines.append("")
        lines.extend("- " + _("{check} ({status}): {reason}").format(
            check=_check_name(c, language), status=_status_label(c.status, language),
            reason=md_escape(check_message(c, language), MAX_MESSAGE) or _("no message given.")) for c in informational)
        lines.append("")
    errored = [c for c in result.checks if c.status == "error"]
    plugin_failures = nested_get(result.provenance, "plugin_failures") or []
    if errored or plugin_failures:
        lines.append(_("**Could not run:**"))
        lines.append("")
        for check in errored:
            message = md_escape(check_message(check, language), MAX_MESSAGE) or _("no message given.")
            lines.append("- " + _("{check}: {reason}").format(check=_check_name(check, language), reason=message))
        for failure in plugin_failures:
            name = md_escape(nested_get(failure, "name") or _("unknown plugin"), 120)
            error = md_escape(nested_get(failure, "error") or _("no message given."), MAX_MESSAGE)
            lines.append("- " + _("plugin {name} failed to load: {error}").format(name=name, error=error))
        lines.append("")

    if result.checks:
        lines.append(_("| Check | Status | Headline metric (95% CI) | Threshold | Gated |"))
        lines.append("|---|---|---|---|---|")
        for check in result.checks:
            headline = check.metrics[0] if check.metrics else None
            cells = [
                _check_name(check, language),
                _status_cell(check, language),
                _metric_cell(headline, language),
                _threshold_cell(check, language),
                _("yes") if check.gated else _("no"),
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")

    if result.comparison:
        lines.extend(render_comparison_section(result.comparison, language))
    lines.append(_provenance_line(result, language))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- a comparison with a baseline

CHANGE_ICONS = {"regressed": "\u274c", "improved": "\u2b06\ufe0f", "missing": "\u274c", "undefined": "\u26a0\ufe0f"}


def render_comparison_section(comparison: "Comparison | Mapping[str, Any]", language: str = "en") -> list[str]:
    """The comparison as Markdown lines (a section of the summary, or the whole of ``harness compare``)."""
    _ = translator(language).gettext
    comparison = as_comparison(comparison)
    base, cand = comparison.baseline, comparison.candidate
    lines = [_("### Comparison with the baseline"), ""]
    icon = "\u274c" if comparison.regressions else "\u2705"
    lines.append(f"{icon} {md_escape(summary_sentence(comparison, language))}")
    lines.append("")

    def who(run: RunSummary) -> str:
        sha = run.weights_sha256 or ""
        return f"{md_escape(run.model or _('unknown'), 100)}" + (_(" (weights {sha})").format(sha=md_escape(sha[:12])) if sha else "")

    note = str(comparison.pairing_note)
    note = plugin_text(note, language)
    lines.append(_("Baseline: {baseline}; candidate: {candidate}. {note}.").format(
        baseline=who(base), candidate=who(cand), note=md_escape(note[:1].upper() + note[1:])))
    for problem in comparison.forced:
        lines.append("\n" + _("**Compared with --force although** {problem}.").format(problem=md_escape(problem)))
    lines.append("")
    lines.append(_("| Check | Metric | Baseline | Candidate | \u0394 (95% CI) | p | Change | Gated | Method |"))
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for row in comparison.rows:
        change = row.change
        shown = f"{CHANGE_ICONS.get(change, '')} {md_escape(plugin_text(change, language))}".strip()
        if row.regression:
            shown = f"**{shown}**"
        cells = [
            md_escape(row.check, 80), md_escape(row.metric, 60), _num(row.baseline, language), _num(row.candidate, language),
            format_delta(row, language), _num_p(row.p_value, language), shown, _("yes") if row.gated else _("no"),
            md_escape(row.method or row.note or "", 160),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    return lines


def _num_p(value: Any, language: str) -> str:
    shown = format_p(value)
    return translator(language).gettext(shown) if shown == NOT_AVAILABLE else shown


def render_comparison_markdown(comparison: "Comparison | Mapping[str, Any]", language: str = "en") -> str:
    """The comparison alone as a Markdown document (``harness compare``)."""
    return "\n".join(render_comparison_section(comparison, language)) + "\n"
