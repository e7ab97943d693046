"""JUnit XML for CI pages: one testsuite per suite, one testcase per check.

GitLab, Jenkins and the GitHub test-reporter actions all read this layout:

* ``<testsuites name="audit-harness">`` with the totals of the run;
* one ``<testsuite>`` per suite (the check id's prefix before the first dot),
  carrying the run's verdict and provenance as ``<properties>``;
* one ``<testcase classname="harness.<suite>" name="<check id>">`` per check,
  in results order, with its metrics, thresholds and gating as properties.

Status mapping: ``fail`` -> ``<failure>`` (prefixed "[not gated] " when the
check does not gate: CI shows it, the verdict is what gates), ``inconclusive``
-> ``<failure type="inconclusive">`` prefixed "[inconclusive] " when gated
(JUnit has no third outcome, and an undecided gate is not a pass) and
``<system-out>`` only when not gated, ``error`` -> ``<error>``, ``skipped`` and
``not_applicable`` -> ``<skipped>``; ``warn`` and ``pass`` pass, with their
message in ``<system-out>``.

A comparison with a baseline adds ``<testsuite name="comparison">``: one
testcase per compared metric, a ``<failure type="regression">`` for each
regression (:func:`add_comparison_suite`; alone, for ``harness compare -o``:
:func:`render_comparison_junit`).

The tree is built with :mod:`xml.etree.ElementTree` (never by string
concatenation), and every text and attribute goes through
:func:`harness.outputs.xml.xml_safe` first: XML 1.0 cannot carry most control
characters even as character references, so arbitrary dataset or plugin text
must never reach the file unfiltered. The output depends on the result alone
(no clock), so the same result always gives the same bytes.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from typing import Any, Mapping

from harness.compare.comparison import Comparison, as_comparison
from harness.outputs.common import nested_get
from harness.outputs.comparison import format_delta, format_p, format_value
from harness.outputs.localize import check_message, check_title, plugin_text
from harness.outputs.xml import add_properties, document, sub_element, xml_safe
from harness.results.types import AuditResult, CheckResult, suite_of
from harness.text.i18n import N_, status_word, translator
from harness.text.numbers import NOT_AVAILABLE

__all__ = ["render_junit", "add_comparison_suite", "render_comparison_junit", "xml_safe"]


def _number(value: Any) -> str:
    """A number as a property value: shortest round-trip form; undefined is ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else "null"
    return xml_safe(value)


def _seconds(value: Any) -> str:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return "0.000"
    return f"{seconds:.3f}" if math.isfinite(seconds) and seconds >= 0 else "0.000"


def _suite_properties(result: AuditResult, language: str = "en") -> list[tuple[str, str]]:
    prov = result.provenance
    coverage = result.coverage
    items: list[tuple[str, str]] = [
        ("verdict", result.verdict),
        ("exit_code", str(result.exit_code)),
        ("complete", "true" if result.complete else "false"),
        ("coverage", coverage.line_in(language, checks=result.checks)),
        ("gated_checks_decided", translator(language).gettext("{decided} of {gated}").format(decided=coverage.decided, gated=coverage.gated)),
        ("informational_findings", str(result.coverage.informational_findings)),  # apart from gate failures
    ]
    optional = [
        ("model.source", nested_get(prov, "model", "source")),
        ("model.weights_sha256", nested_get(prov, "model", "weights_sha256")),
        ("data.source", nested_get(prov, "data", "source")),
        ("data.synthetic", nested_get(prov, "data", "synthetic")),
        ("seed", nested_get(prov, "seed")),
        ("config_sha256", nested_get(prov, "config_sha256")),
        ("harness.version", nested_get(prov, "packages", "audit-harness")),
    ]
    items.extend((name, _number(value)) for name, value in optional if value is not None)
    failures = nested_get(prov, "plugin_failures") or []
    if failures:
        items.append(("plugin_failures", str(len(failures))))
    return items


def _check_properties(check: CheckResult, language: str = "en") -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = [
        ("status", check.status),
        ("gated", "true" if check.gated else "false"),
    ]
    if check.title:
        items.append(("title", check_title(check, language)))
    if check.plugin:
        items.append(("plugin", check.plugin))
    for metric in check.metrics:
        items.append((f"metric.{metric.name}", _number(metric.value)))
        if metric.interval is not None:
            items.append((f"metric.{metric.name}.ci_low", _number(metric.interval.low)))
            items.append((f"metric.{metric.name}.ci_high", _number(metric.interval.high)))
            items.append((f"metric.{metric.name}.ci_level", _number(metric.interval.level)))
    for outcome in check.thresholds:
        items.append((f"threshold.{outcome.metric}.{outcome.op}", _number(outcome.bound)))
        items.append((f"threshold.{outcome.metric}.{outcome.op}.passed", "true" if outcome.passed else "false"))
        items.append((f"threshold.{outcome.metric}.{outcome.op}.outcome", outcome.outcome))
    items.extend(("regulation", reference) for reference in check.regulations)
    return items


#: A threshold outcome as the JUnit text words it (msgids).
OUTCOME_WORDS = {"pass": N_("met"), "fail": N_("NOT MET"), "inconclusive": N_("INCONCLUSIVE")}


def _comparisons(check: CheckResult, language: str = "en") -> str:
    _ = translator(language).gettext
    return "\n".join(f"{o.comparison_in(language)}: {_(OUTCOME_WORDS[o.outcome])} ({o.sentence_in(language)})" for o in check.thresholds)


def _testcase(parent: ET.Element, check: CheckResult, suite: str, language: str = "en") -> None:
    _ = translator(language).gettext
    case = sub_element(parent, "testcase", {"classname": f"harness.{suite}", "name": check.id, "time": _seconds(check.duration_s)})
    add_properties(case, _check_properties(check, language))
    message = check_message(check, language) or ""
    if check.status == "fail":
        shown = message or _("threshold not met")
        if not check.gated:
            shown = _("[not gated] ") + shown
        sub_element(case, "failure", {"message": shown, "type": "threshold" if check.thresholds else "check"},
             "\n".join(part for part in (_comparisons(check, language), message) if part))
    elif check.status == "inconclusive" and check.gated:
        sub_element(case, "failure", {"message": _("[inconclusive] ") + (message or _("the check could not decide")), "type": "inconclusive"},
             "\n".join(part for part in (_comparisons(check, language), message) if part))
    elif check.status == "error":
        sub_element(case, "error", {"message": message or _("check raised an error"), "type": "error"}, message)
    elif check.status in ("skipped", "not_applicable"):
        prefix = "" if check.status == "skipped" else _("not applicable: ")
        sub_element(case, "skipped", {"message": prefix + (message or _("skipped"))})
    status = check.status if language == "en" else status_word(check.status, language)
    lines = [f"[{status}] {check_title(check, language) or check.id}"]
    if message:
        lines.append(message)
    comparisons = _comparisons(check, language)
    if comparisons:
        lines.append(comparisons)
    sub_element(case, "system-out", None, "\n".join(lines))


def render_junit(result: AuditResult, language: str = "en") -> str:
    """The run as JUnit XML (a complete document, declaration included, newline-terminated); its messages in ``language``.

    Element and attribute names, ``type`` attributes and property names stay as
    CI tools read them; messages and human-readable property values are translated.
    """
    suites: dict[str, list[CheckResult]] = {}
    for check in result.checks:
        suites.setdefault(suite_of(check.id), []).append(check)

    def totals(checks: list[CheckResult]) -> dict[str, str]:
        return {
            "tests": str(len(checks)),
            "failures": str(sum(c.status == "fail" or (c.status == "inconclusive" and c.gated) for c in checks)),
            "errors": str(sum(c.status == "error" for c in checks)),
            "skipped": str(sum(c.status in ("skipped", "not_applicable") for c in checks)),
        }

    run = result.run if isinstance(result.run, Mapping) else {}
    run_time = run.get("duration_s")
    if not isinstance(run_time, (int, float)) or isinstance(run_time, bool):
        run_time = sum(float(c.duration_s or 0) for c in result.checks)
    root = ET.Element("testsuites", {"name": "audit-harness", **totals(list(result.checks)), "time": _seconds(run_time)})
    timestamp = run.get("started_at")
    hostname = nested_get(run, "machine", "hostname")
    suite_props = _suite_properties(result, language)
    for name, checks in suites.items():
        attrib: dict[str, Any] = {"name": name, **totals(checks), "time": _seconds(sum(float(c.duration_s or 0) for c in checks))}
        if timestamp:
            attrib["timestamp"] = timestamp
        if hostname:
            attrib["hostname"] = hostname
        suite = sub_element(root, "testsuite", attrib)
        add_properties(suite, suite_props)
        for check in checks:
            _testcase(suite, check, name, language)
    if result.comparison:
        add_comparison_suite(root, result.comparison, language)  # one testcase per compared metric, failures for regressions
    return document(root)


# ---------------------------------------------------------------- a comparison with a baseline


def add_comparison_suite(root: ET.Element, comparison: "Comparison | Mapping[str, Any]", language: str = "en") -> None:
    """Append a ``<testsuite name="comparison">``: one testcase per compared metric, failures for regressions."""
    _ = translator(language).gettext
    comparison = as_comparison(comparison)
    rows = comparison.rows
    failures = sum(1 for r in rows if r.regression)
    if root.tag == "testsuites":  # keep the document's totals the sum of its suites
        for name, extra in (("tests", len(rows)), ("failures", failures)):
            root.set(name, str(int(root.get(name, "0")) + extra))
    suite = sub_element(root, "testsuite", {"name": "comparison", "tests": str(len(rows)), "failures": str(failures), "errors": "0", "skipped": "0", "time": "0.000"})
    base, cand = comparison.baseline, comparison.candidate
    add_properties(suite, [
        ("baseline.model", base.model or ""), ("baseline.weights_sha256", base.weights_sha256 or ""),
        ("candidate.model", cand.model or ""), ("paired", "true" if comparison.paired else "false"),
        ("verdict", comparison.verdict),
    ])
    for row in rows:
        case = sub_element(suite, "testcase", {"classname": "harness.comparison", "name": row.key, "time": "0.000"})
        add_properties(case, [
            ("baseline", format_value(row.baseline)), ("candidate", format_value(row.candidate)), ("delta", format_delta(row)),
            ("p_value", format_p(row.p_value)), ("method", row.method or ""), ("change", row.change),
            ("gated", "true" if row.gated else "false"), ("tolerance", repr(float(row.tolerance or 0.0))),
        ])
        change = plugin_text(row.change, language)
        text = _("{key}: baseline {baseline}, candidate {candidate}, delta {delta}, p {p} ({method}): {change}").format(
            key=row.key, baseline=_shown(format_value(row.baseline), language), candidate=_shown(format_value(row.candidate), language),
            delta=format_delta(row, language), p=_shown(format_p(row.p_value), language),
            method=row.method or (plugin_text(row.note, language) if row.note else "") or _("untested"), change=change)
        if row.regression:
            sub_element(case, "failure", {"message": _("regression: {change}").format(change=change), "type": "regression"}, text)
        sub_element(case, "system-out", None, text)


def _shown(text: str, language: str) -> str:
    """A formatted number whose ``n/a`` is worded in ``language``."""
    return translator(language).gettext(text) if text == NOT_AVAILABLE else text


def render_comparison_junit(comparison: "Comparison | Mapping[str, Any]") -> str:
    """The comparison alone as a JUnit document (``harness compare -o``)."""
    root = ET.Element("testsuites", {"name": "audit-harness comparison", "tests": "0", "failures": "0", "errors": "0", "skipped": "0", "time": "0.000"})
    add_comparison_suite(root, comparison)
    return document(root)
