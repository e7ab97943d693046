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
from harness.text.numbers import format_limit, format_number
from harness.text.sanitize import markdown_text
from harness.outputs.comparison import format_delta, format_p, format_value, summary_sentence
from harness.results.types import UNDECIDED, AuditResult, CheckResult, Metric

__all__ = ["render_markdown", "render_comparison_section", "render_comparison_markdown", "md_escape"]

MAX_MESSAGE = 300

VERDICT_HEADINGS = {
    "pass": ("\u2705", "PASS"),
    "fail": ("\u274c", "FAIL"),
    "error": ("\u26a0\ufe0f", "ERROR"),
    "incomplete": ("\u26a0\ufe0f", "INCOMPLETE"),
}
STATUS_LABELS = {
    "pass": "\u2705 pass",
    "fail": "\u274c fail",
    "warn": "\u26a0\ufe0f warn",
    "error": "\u26a0\ufe0f error",
    "skipped": "\u23ed\ufe0f skipped",
    "inconclusive": "\u2753 inconclusive",
    "not_applicable": "\u23ed\ufe0f not applicable",
}

def md_escape(value: Any, limit: int | None = None) -> str:
    """Data-derived text made inert for a GitHub Markdown page (:func:`harness.text.sanitize.markdown_text`)."""
    return markdown_text(value, limit)


def _num(value: Any) -> str:
    return format_number(value)


def _bound(value: Any) -> str:
    return format_limit(value)


def _metric_cell(metric: Metric | None) -> str:
    if metric is None:
        return "\u2014"
    shown = f"{md_escape(metric.name)} {_num(metric.value)}"
    if metric.interval is not None:
        # Our own brackets around numbers, followed by " |": they cannot form a link.
        shown += f" [{_num(metric.interval.low)}, {_num(metric.interval.high)}]"
    return shown


def _threshold_cell(check: CheckResult) -> str:
    if not check.thresholds:
        return "\u2014"
    parts = []
    for outcome in check.thresholds:
        sign = "\u2265" if outcome.op == "min" else "\u2264"
        part = f"{md_escape(outcome.metric)} {sign} {_bound(outcome.bound)}"
        if outcome.outcome == "fail":
            part += " (not met)"
        elif outcome.outcome == "inconclusive":
            part += " (inconclusive)"
        parts.append(part)
    return "; ".join(parts)


def _status_cell(check: CheckResult) -> str:
    label = STATUS_LABELS.get(check.status, md_escape(check.status))
    if check.status == "fail" and not check.gated:
        label += " (not gated)"
    return label


def _check_name(check: CheckResult) -> str:
    if check.title and check.title != check.id:
        return f"{md_escape(check.title, 120)} ({md_escape(check.id, 120)})"
    return md_escape(check.id, 120)


def _why(check: CheckResult, outcome_kind: str) -> str:
    """The thresholds of one outcome kind (fail or inconclusive), in plain words; else the check's message."""
    reasons = [md_escape(o.sentence) for o in check.thresholds if o.outcome == outcome_kind]
    if reasons:
        return "; ".join(reasons) + "."
    return md_escape(check.message, MAX_MESSAGE) or "the check gave no message."


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _counts_sentence(result: AuditResult) -> str:
    checks = result.checks
    if not checks:
        sentence = "No checks ran"
    else:
        counts = result.counts
        parts = []
        if counts["pass"]:
            parts.append(f"{counts['pass']} passed")
        if counts["warn"]:
            parts.append(f"{counts['warn']} passed with a warning")
        if counts["inconclusive"]:
            parts.append(f"{counts['inconclusive']} inconclusive")
        if counts["fail"]:
            ungated = sum(1 for c in checks if c.status == "fail" and not c.gated)
            part = f"{counts['fail']} failed"
            if ungated:
                part += f" ({ungated} not gated)"
            parts.append(part)
        if counts["error"]:
            parts.append(f"{counts['error']} could not run (error)")
        if counts["skipped"]:
            parts.append(f"{counts['skipped']} skipped")
        if counts["not_applicable"]:
            parts.append(f"{counts['not_applicable']} not applicable")
        sentence = f"{_plural(len(checks), 'check')} ran: " + ", ".join(parts)
    sentence += f"; exit code {result.exit_code}."
    if not result.complete:
        sentence += " The run did not finish, so these results are partial."
    return sentence


def _provenance_line(result: AuditResult) -> str:
    prov = result.provenance
    parts = []
    model = nested_get(prov, "model", "source")
    if model is not None:
        parts.append(f"model {md_escape(model, 120)}")
    sha = nested_get(prov, "model", "weights_sha256")
    if isinstance(sha, str) and sha:
        parts.append(f"weights sha256 {md_escape(sha[:12])}")
    data = nested_get(prov, "data", "source")
    if data is not None:
        shown = f"data {md_escape(data, 120)}"
        if nested_get(prov, "data", "synthetic") is True:
            shown += " (synthetic)"
        parts.append(shown)
    seed = nested_get(prov, "seed")
    if seed is not None:
        parts.append(f"seed {md_escape(seed)}")
    version = nested_get(prov, "packages", "audit-harness")
    if version is not None:
        parts.append(f"audit-harness {md_escape(version, 40)}")
    return "Provenance: " + " \u00b7 ".join(parts) + "." if parts else "Provenance: not recorded."


def render_markdown(result: AuditResult) -> str:
    """The run as GitHub-flavoured Markdown (newline-terminated)."""
    icon, word = VERDICT_HEADINGS.get(result.verdict, ("\u26a0\ufe0f", md_escape(result.verdict).upper()))
    lines = [f"## {icon} Model audit: {word}", "", _counts_sentence(result), "",
             f"Coverage: {md_escape(result.coverage.line)}.", ""]

    failed = [c for c in result.checks if c.status == "fail" and c.gated]
    if failed:
        lines.append("**Gated checks that failed:**")
        lines.append("")
        lines.extend(f"- {_check_name(c)}: {_why(c, 'fail')}" for c in failed)
        lines.append("")
    undecided = [c for c in result.checks if c.gated and c.status in UNDECIDED]
    if undecided:
        lines.append("**Gated checks that could not decide:**")
        lines.append("")
        lines.extend(f"- {_check_name(c)} ({STATUS_LABELS.get(c.status, md_escape(c.status))}): {_why(c, 'inconclusive')}" for c in undecided)
        lines.append("")
    informational = [c for c in result.checks if not c.gated and c.status in ("fail", "warn", "inconclusive")]
    if informational:
        lines.append("**Informational findings (not gated):**")
        lines.append("")
        lines.extend(f"- {_check_name(c)} ({STATUS_LABELS.get(c.status, md_escape(c.status))}): {md_escape(c.message, MAX_MESSAGE) or 'no message given.'}" for c in informational)
        lines.append("")
    errored = [c for c in result.checks if c.status == "error"]
    plugin_failures = nested_get(result.provenance, "plugin_failures") or []
    if errored or plugin_failures:
        lines.append("**Could not run:**")
        lines.append("")
        for check in errored:
            message = md_escape(check.message, MAX_MESSAGE) or "no message given."
            lines.append(f"- {_check_name(check)}: {message}")
        for failure in plugin_failures:
            name = md_escape(nested_get(failure, "name") or "unknown plugin", 120)
            error = md_escape(nested_get(failure, "error") or "no message given.", MAX_MESSAGE)
            lines.append(f"- plugin {name} failed to load: {error}")
        lines.append("")

    if result.checks:
        lines.append("| Check | Status | Headline metric (95% CI) | Threshold | Gated |")
        lines.append("|---|---|---|---|---|")
        for check in result.checks:
            headline = check.metrics[0] if check.metrics else None
            cells = [
                _check_name(check),
                _status_cell(check),
                _metric_cell(headline),
                _threshold_cell(check),
                "yes" if check.gated else "no",
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")

    if result.comparison:
        lines.extend(render_comparison_section(result.comparison))
    lines.append(_provenance_line(result))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- a comparison with a baseline

CHANGE_ICONS = {"regressed": "\u274c", "improved": "\u2b06\ufe0f", "missing": "\u274c", "undefined": "\u26a0\ufe0f"}


def render_comparison_section(comparison: "Comparison | Mapping[str, Any]") -> list[str]:
    """The comparison as Markdown lines (a section of the summary, or the whole of ``harness compare``)."""
    comparison = as_comparison(comparison)
    base, cand = comparison.baseline, comparison.candidate
    lines = ["### Comparison with the baseline", ""]
    icon = "\u274c" if comparison.regressions else "\u2705"
    lines.append(f"{icon} {md_escape(summary_sentence(comparison))}")
    lines.append("")

    def who(run: RunSummary) -> str:
        sha = run.weights_sha256 or ""
        return f"{md_escape(run.model or 'unknown', 100)}" + (f" (weights {md_escape(sha[:12])})" if sha else "")

    note = str(comparison.pairing_note)
    lines.append(f"Baseline: {who(base)}; candidate: {who(cand)}. {md_escape(note[:1].upper() + note[1:])}.")
    for problem in comparison.forced:
        lines.append(f"\n**Compared with --force although** {md_escape(problem)}.")
    lines.append("")
    lines.append("| Check | Metric | Baseline | Candidate | \u0394 (95% CI) | p | Change | Gated | Method |")
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for row in comparison.rows:
        change = row.change
        shown = f"{CHANGE_ICONS.get(change, '')} {md_escape(change)}".strip()
        if row.regression:
            shown = f"**{shown}**"
        cells = [
            md_escape(row.check, 80), md_escape(row.metric, 60), format_value(row.baseline), format_value(row.candidate),
            format_delta(row), format_p(row.p_value), shown, "yes" if row.gated else "no",
            md_escape(row.method or row.note or "", 160),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    return lines


def render_comparison_markdown(comparison: "Comparison | Mapping[str, Any]") -> str:
    """The comparison alone as a Markdown document (``harness compare``)."""
    return "\n".join(render_comparison_section(comparison)) + "\n"
