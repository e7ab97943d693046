"""The JUnit XML and Markdown writers: structure, status mapping, escaping, determinism.

Results are built directly (no model run) except for one end-to-end test that
runs the real console script with ``--format junit --format markdown``.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from junitparser import Error, Failure, JUnitXml, Properties, Skipped

from conftest import SMOKE_CONFIG, run_cli, write_config
from harness.outputs.junit import render_junit
from harness.outputs.markdown import render_markdown
from harness.results.io import normalized
from harness.results.types import AuditResult, CheckResult, Metric, ThresholdOutcome
from harness.stats.intervals import Interval

SHA = "22aa39722ea74f4e102988496eac64e1843f6ee92ecd15c3494584e7010ab255"
HOSTILE = 'a|b `tick` [x](http://evil) <img src=x onerror=alert(1)> <script>alert("x")</script> ]]> \'q\' "dq" &amp; NUL\x00 bel\x07 esc\x1b \ufffe rtl\u202eevil\u2066iso\u2069 line1\nline2 @octocat www.evil.com'


def provenance(**data_extra) -> dict:
    return {
        "model": {"source": "builtin:tiny-bert", "weights_sha256": SHA},
        "data": {"source": "builtin:clinical-triage", "synthetic": True, **data_extra},
        "seed": 7,
        "packages": {"audit-harness": "0.1.0"},
        "plugin_failures": [],
    }


def sample_result(verdict: str = "fail", exit_code: int = 1) -> AuditResult:
    checks = (
        CheckResult(
            id="accuracy.accuracy", title="Accuracy", status="pass", message="accuracy 0.933 on 240 examples",
            metrics=(Metric("accuracy", 0.9333, Interval(0.9, 0.9625)), Metric("balanced_accuracy", 0.92)),
            thresholds=(ThresholdOutcome("accuracy", "min", 0.7, 0.9333, "pass"),),
            regulations=("EU AI Act Art. 15(1)",), plugin="accuracy", duration_s=0.25,
        ),
        CheckResult(
            id="accuracy.macro_f1", title="Macro F1", status="fail",
            message="macro_f1 = 0.41 >= 0.6 is false. macro_f1 0.410 on 240 examples",
            metrics=(Metric("macro_f1", 0.41, Interval(0.35, 0.47)),),
            thresholds=(ThresholdOutcome("macro_f1", "min", 0.6, 0.41, "fail"),),
            plugin="accuracy", duration_s=0.5,
        ),
        CheckResult(
            id="accuracy.calibration", title="Calibration", status="warn", message="few examples per bin",
            metrics=(Metric("expected_calibration_error", 0.05),),
            thresholds=(ThresholdOutcome("expected_calibration_error", "max", 0.1, 0.05, "pass"),),
            plugin="accuracy",
        ),
        CheckResult(
            id="fairness.demographic_parity_difference", title="Demographic parity", status="fail",
            message="demographic_parity_difference = 0.3 <= 0.1 is false.",
            metrics=(Metric("demographic_parity_difference", 0.3, Interval(0.2, 0.4)),),
            thresholds=(ThresholdOutcome("demographic_parity_difference", "max", 0.1, 0.3, "fail"),),
            gated=False, plugin="fairness", duration_s=1.0,
        ),
        CheckResult(
            id="fairness.equalized_odds", title="Equalized odds", status="skipped",
            message="no sensitive columns configured", plugin="fairness",
        ),
        CheckResult(
            id="privacy.membership_inference", title="Membership inference", status="error",
            message="RuntimeError: shadow model diverged", plugin="privacy", duration_s=2.0,
        ),
    )
    result = AuditResult(
        verdict=verdict, exit_code=exit_code, checks=checks, provenance=provenance(),
        run={"started_at": "2026-01-02T03:04:05+00:00", "duration_s": 12.5, "machine": {"hostname": "ci"}},
    )
    return normalized(result)


def hostile_result() -> AuditResult:
    check = CheckResult(
        id="custom.check<x>", title="Title " + HOSTILE, status="fail", message=HOSTILE,
        metrics=(Metric("m|<b>", 0.5, Interval(0.4, 0.6)),),
        thresholds=(ThresholdOutcome("m|<b>", "min", 0.9, 0.5, "fail"),),
        regulations=(HOSTILE,),
    )
    broken = CheckResult(id="custom.broken", title="Broken", status="error", message=HOSTILE)
    prov = provenance()
    prov["model"]["source"] = "https://evil.example/model?<x>\x00"
    prov["data"]["source"] = "[data](javascript:alert(1))"
    result = AuditResult(verdict="error", exit_code=3, checks=(check, broken), provenance=prov, run={"started_at": "t\x01"})
    return normalized(result)


def parse(xml: str) -> JUnitXml:
    return JUnitXml.fromstring(xml.encode("utf-8"))


def case_properties(case) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for props in case.iterchildren(Properties):
        for prop in props:
            found.setdefault(prop.name, []).append(prop.value)
    return found


def cases_by_name(xml: JUnitXml) -> dict:
    return {case.name: case for suite in xml for case in suite}


# ---------------------------------------------------------------- JUnit


def test_junit_counts_overall_and_per_suite():
    text = render_junit(sample_result())
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>\n<testsuites name="audit-harness"')
    xml = parse(text)
    assert (xml.tests, xml.failures, xml.errors, xml.skipped) == (6, 2, 1, 1)
    suites = {s.name: s for s in xml}
    assert list(suites) == ["accuracy", "fairness", "privacy"]
    assert (suites["accuracy"].tests, suites["accuracy"].failures, suites["accuracy"].errors, suites["accuracy"].skipped) == (3, 1, 0, 0)
    assert (suites["fairness"].tests, suites["fairness"].failures, suites["fairness"].skipped) == (2, 1, 1)
    assert (suites["privacy"].tests, suites["privacy"].errors) == (1, 1)
    assert suites["accuracy"].timestamp == "2026-01-02T03:04:05+00:00"
    assert suites["accuracy"].time == pytest.approx(0.75)
    names = [(c.classname, c.name) for s in xml for c in s]
    assert names == [("harness.accuracy", "accuracy.accuracy"), ("harness.accuracy", "accuracy.macro_f1"),
                     ("harness.accuracy", "accuracy.calibration"),
                     ("harness.fairness", "fairness.demographic_parity_difference"),
                     ("harness.fairness", "fairness.equalized_odds"), ("harness.privacy", "privacy.membership_inference")]


def test_junit_status_mapping_and_messages():
    cases = cases_by_name(parse(render_junit(sample_result())))
    passed, warned = cases["accuracy.accuracy"], cases["accuracy.calibration"]
    assert passed.is_passed and passed.result == [] and "accuracy 0.933 on 240 examples" in passed.system_out
    assert warned.is_passed and warned.result == [] and "few examples per bin" in warned.system_out

    (failure,) = cases["accuracy.macro_f1"].result
    assert isinstance(failure, Failure)
    assert failure.message == "macro_f1 = 0.41 >= 0.6 is false. macro_f1 0.410 on 240 examples"
    assert "macro_f1 = 0.410 >= 0.6" in failure.text.splitlines()[0]  # the comparison in harness.text.numbers' format

    (ungated,) = cases["fairness.demographic_parity_difference"].result
    assert isinstance(ungated, Failure)
    assert ungated.message == "[not gated] demographic_parity_difference = 0.3 <= 0.1 is false."

    (skipped,) = cases["fairness.equalized_odds"].result
    assert isinstance(skipped, Skipped) and skipped.message == "no sensitive columns configured"
    (error,) = cases["privacy.membership_inference"].result
    assert isinstance(error, Error) and error.message == "RuntimeError: shadow model diverged"
    assert cases["privacy.membership_inference"].time == pytest.approx(2.0)


def test_junit_properties():
    xml = parse(render_junit(sample_result()))
    cases = cases_by_name(xml)
    props = case_properties(cases["accuracy.accuracy"])
    assert props["metric.accuracy"] == ["0.9333"]
    assert props["metric.accuracy.ci_low"] == ["0.9"] and props["metric.accuracy.ci_high"] == ["0.9625"]
    assert props["metric.balanced_accuracy"] == ["0.92"] and "metric.balanced_accuracy.ci_low" not in props
    assert props["threshold.accuracy.min"] == ["0.7"]
    assert props["gated"] == ["true"]
    assert props["regulation"] == ["EU AI Act Art. 15(1)"]
    ungated = case_properties(cases["fairness.demographic_parity_difference"])
    assert ungated["gated"] == ["false"] and ungated["threshold.demographic_parity_difference.max"] == ["0.1"]

    for suite in xml:
        suite_props = {p.name: p.value for p in suite.properties()}
        assert suite_props["verdict"] == "fail"
        assert suite_props["exit_code"] == "1"
        assert suite_props["model.source"] == "builtin:tiny-bert"
        assert suite_props["model.weights_sha256"] == SHA
        assert suite_props["data.source"] == "builtin:clinical-triage"


def test_junit_is_deterministic_and_undefined_metrics_are_null():
    result = sample_result()
    assert render_junit(result) == render_junit(normalized(result))
    undefined = normalized(AuditResult(
        verdict="fail", exit_code=1, provenance={},
        checks=(CheckResult(id="solo", title="", status="fail", metrics=(Metric("x", float("nan")),),
                            thresholds=(ThresholdOutcome("x", "min", 0.5, None, "fail"),)),),
    ))
    xml = parse(render_junit(undefined))
    (suite,) = list(xml)
    assert suite.name == "solo"
    (case,) = list(suite)
    assert case_properties(case)["metric.x"] == ["null"]
    assert "x = n/a >= 0.5" in case.result[0].text


def test_junit_hostile_text_stays_well_formed():
    text = render_junit(hostile_result())
    root = ET.fromstring(text.encode("utf-8"))  # raises on any invalid character or markup
    assert root.tag == "testsuites"
    assert "\x00" not in text and "\x07" not in text and "\x1b" not in text and "\x01" not in text
    assert "<script>" not in text and "<img" not in text
    case, broken = [c for s in parse(text) for c in s]
    assert isinstance(broken.result[0], Error) and broken.result[0].message.startswith("a|b `tick`")
    assert case.name == "custom.check<x>"
    (failure,) = case.result
    assert '<script>alert("x")</script> ]]> \'q\' "dq"' in failure.message
    assert "NUL\ufffd bel\ufffd esc\ufffd" in failure.message
    # the one policy (harness/text/sanitize.py): a bidi control is shown as its escape in every output
    assert "rtl\\u202eevil" in failure.message and "\u202e" not in failure.message
    props = case_properties(case)
    assert props["metric.m|<b>"] == ["0.5"]
    suite_props = {p.name: p.value for s in parse(text) for p in s.properties()}
    assert suite_props["model.source"] == "https://evil.example/model?<x>\ufffd"


def test_junit_lone_surrogate_from_json_is_replaced():
    data = sample_result().to_dict()
    data["checks"][0]["message"] = "bad \ud800 half"
    text = render_junit(AuditResult.from_dict(data))
    text.encode("utf-8")  # a lone surrogate would raise here
    assert "bad \ufffd half" in text


# ---------------------------------------------------------------- Markdown


def table_rows(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("|")][2:]


def unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def test_markdown_structure():
    md = render_markdown(sample_result())
    lines = md.splitlines()
    assert lines[0] == "## \u274c Model audit: FAIL"
    assert "6 checks ran: 1 passed, 1 passed with a warning, 2 failed (1 not gated), 1 could not run (error), 1 skipped; exit code 1." in md
    assert "| Check | Status | Headline metric (95% CI) | Threshold | Gated |" in lines
    rows = table_rows(md)
    assert len(rows) == 6
    assert all(unescaped_pipes(row) == 6 for row in rows)
    assert "accuracy 0.933 [0.900, 0.963]" in rows[0]
    assert "accuracy \u2265 0.7" in rows[0] and rows[0].endswith("| yes |")
    assert "(not gated)" in rows[3] and rows[3].endswith("| no |")
    # The gated failure is explained in plain words; the ungated one is not listed as gating.
    gated_section = md.split("**Gated checks that failed:**")[1].split("**")[0]
    assert "macro\\_f1 = 0.410 misses the limit \\(at least 0.6; point estimate\\)" in gated_section
    assert "demographic" not in gated_section
    assert "shadow model diverged" in md.split("**Could not run:**")[1]
    assert md.rstrip().splitlines()[-1] == (
        "Provenance: model builtin:tiny-bert \u00b7 weights sha256 22aa39722ea7 \u00b7 "
        "data builtin:clinical-triage (synthetic) \u00b7 seed 7 \u00b7 audit-harness 0.1.0."
    )
    assert render_markdown(sample_result()) == md
    assert "http" not in md and "<" not in md


@pytest.mark.parametrize("verdict, exit_code, heading", [
    ("pass", 0, "## \u2705 Model audit: PASS"),
    ("error", 3, "## \u26a0\ufe0f Model audit: ERROR"),
    ("incomplete", 3, "## \u26a0\ufe0f Model audit: INCOMPLETE"),
])
def test_markdown_verdict_heading_has_words(verdict, exit_code, heading):
    assert render_markdown(sample_result(verdict, exit_code)).splitlines()[0] == heading


def test_markdown_escapes_hostile_text():
    md = render_markdown(hostile_result())
    assert "<" not in md and ">" not in md.replace("&gt;", "")
    assert "](" not in md
    assert "http" not in md.lower()
    assert "javascript:" not in md.lower()
    for bad in ("\x00", "\x07", "\x1b", "\u202e", "\u2066", "\u2069", "\ufffe"):
        assert bad not in md
    assert "\\|" in md and "\\`tick\\`" in md and "\\[x\\]" in md
    assert "&lt;script&gt;" in md
    assert "@octocat" not in md  # no @-mention
    assert "www.evil" not in md  # no autolink
    rows = table_rows(md)
    assert len(rows) == 2 and all(unescaped_pipes(row) == 6 for row in rows)
    # newlines in data never break the table or a list item
    assert "line1 line2" in md


def test_markdown_truncates_long_messages():
    check = CheckResult(id="x.y", title="Y", status="error", message="word " * 200)
    md = render_markdown(normalized(AuditResult(verdict="error", exit_code=3, checks=(check,), provenance={})))
    (line,) = [ln for ln in md.splitlines() if ln.startswith("- ")]
    assert line.endswith("\u2026") and len(line) < 340
    assert "Provenance: not recorded." in md


# ---------------------------------------------------------------- end to end


def test_cli_writes_junit_and_markdown(tmp_path: Path):
    config = write_config(tmp_path, {**SMOKE_CONFIG, "output": {"dir": "ignored", "formats": ["html", "json"]}})
    cli = run_cli("run", str(config), "--format", "junit", "--format", "markdown", "-o", "out", "-q", cwd=tmp_path, timeout=600)
    assert cli.returncode == 0, cli.stderr + cli.stdout
    out = tmp_path / "out"
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert not (out / "report.html").exists()
    xml = JUnitXml.fromfile(str(out / "junit.xml"))
    assert [c.name for s in xml for c in s] == [c["id"] for c in results["checks"]]
    assert xml.tests == len(results["checks"])
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("## \u2705 Model audit: PASS")
    assert len(table_rows(summary)) == len(results["checks"])
