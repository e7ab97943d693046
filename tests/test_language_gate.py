"""A check whose method does not know the data's language is not_applicable, never pass, and counts against coverage."""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any

import pytest

import harness
from harness import Check, Metric, hookimpl
from harness.plugin.manager import get_host


class EnglishOnly(Check):
    id = "langprobe.english_only"
    title = "English-only method"
    languages = ("en",)
    primary_metric = "score"
    ran: list[str] = []

    def run(self, ctx, options):  # type: ignore[no-untyped-def]
        EnglishOnly.ran.append(self.id)
        return self.result(metrics=[Metric("score", 1.0)])


class AnyLanguage(Check):
    id = "langprobe.any_language"
    title = "Language-independent method"  # languages = None: third-party checks default to any language
    primary_metric = "score"

    def run(self, ctx, options):  # type: ignore[no-untyped-def]
        return self.result(metrics=[Metric("score", 1.0)])


@pytest.fixture()
def langprobe() -> Any:
    module = types.ModuleType("langprobe")

    @hookimpl
    def harness_register_checks(register):  # type: ignore[no-untyped-def]
        register(EnglishOnly)
        register(AnyLanguage)

    module.harness_register_checks = harness_register_checks  # type: ignore[attr-defined]
    host = get_host()
    host.register_plugin(module, "langprobe")
    EnglishOnly.ran.clear()
    try:
        yield
    finally:
        host.unregister_plugin("langprobe")


def _audit(tmp_path: Path, dataset: str) -> harness.AuditResult:
    suite = tmp_path / "suite.yaml"
    suite.write_text(json.dumps({"name": "langprobe", "checks": {"langprobe.english_only": {"min": 0.5}, "langprobe.any_language": {"min": 0.5}}}))
    return harness.audit(
        {"model": {"path": "builtin:tiny-bert", "fine_tune": None}, "data": {"path": dataset, "synthetic": {"size": 120}}, "suite": str(suite),
         "output": {"dir": str(tmp_path / "out")}},
        quiet=True,
    )


def test_an_english_only_check_on_chinese_data_is_not_applicable_and_the_verdict_is_not_pass(tmp_path: Path, langprobe: Any) -> None:
    result = _audit(tmp_path, "builtin:clinical-triage-zh")
    english, anything = result.check("langprobe.english_only"), result.check("langprobe.any_language")
    assert english is not None and anything is not None
    assert english.status == "not_applicable" and not EnglishOnly.ran  # run() was never called
    assert "valid for en" in english.message and "zh 100%" in english.message
    assert anything.status == "pass"
    assert result.verdict != "pass" and result.coverage.decided < result.coverage.gated
    languages = result.provenance["languages"]
    assert languages["shares"] == {"zh": 1.0} and languages["split"] == result.provenance["data"]["eval_split"]
    saved = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert saved["provenance"]["languages"]["counts"]["zh"] == languages["n"]


def test_the_same_check_runs_on_english_data(tmp_path: Path, langprobe: Any) -> None:
    result = _audit(tmp_path, "builtin:clinical-triage")
    assert result.check("langprobe.english_only").status == "pass" and EnglishOnly.ran
    assert result.provenance["languages"]["shares"]["en"] > 0.9
