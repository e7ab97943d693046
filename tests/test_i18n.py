"""The report, the Markdown summary and the JUnit messages in Simplified Chinese (``output.language: zh``).

(a) every string marked for translation (templates, plugin partials, the marked Python modules,
    extracted with Babel and the repository's babel.cfg) has a real zh translation whose
    placeholders and markup match the English;
(b) a real small run on the built-in Chinese data, with the checks of the Chinese example's suite
    (examples/chinese-triage.yaml: the default suite), renders a zh report with no English left
    outside data (``translate="no"``); what is marked English (``lang="en"``) is the data's own
    text alone (the dataset's description), never a string the harness or its plugins wrote,
    charts included (drawn in Chinese, their data marked);
(c) the English outputs are what they were: the sentences equal the English code they replaced,
    and the English page carries none of the new markup;
(d) Markdown and JUnit in zh: JUnit stays well-formed XML, its messages are Chinese.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Iterator

import pytest

from harness.results.types import AuditResult, CheckResult, Coverage, ThresholdOutcome
from harness.text.i18n import LANGUAGES, LOCALE_DIR, check_language, lookup, translator
from harness.text.numbers import format_limit, format_number

ROOT = Path(__file__).resolve().parents[1]
CATALOG = LOCALE_DIR / "zh" / "LC_MESSAGES" / "harness.po"
HARNESS = str(Path(sys.executable).parent / "harness")
CJK = re.compile(r"[\u4e00-\u9fff]")

#: Latin words a Chinese compliance text keeps as they are. Acronyms: AUC, ROC, SHA (SHA-256), CPU,
#: SGD (DP-SGD). Eponyms of statistical methods, written in Latin script in Chinese statistics texts
#: ("Wilson 区间", "Bonferroni 校正"): Wilson, Clopper, Pearson, Newcombe, Bonferroni, MOVER, DeLong,
#: McNemar. Products named by their name: Fairlearn, Opacus, LiRA, PRV (the PRV accountant).
ALLOWED = {
    "AUC", "ROC", "SHA", "CPU", "SGD",
    "Wilson", "Clopper", "Pearson", "Newcombe", "Bonferroni", "MOVER", "DeLong", "McNemar",
    "Fairlearn", "Opacus", "LiRA", "PRV",
    "Steinke", "Nasr", "Jagielski",  # authors cited in method notes
}
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")

SUITE = """\
name: accuracy-fairness-pii
description: the accuracy and fairness suites together, and the PII scan
checks:
  accuracy.accuracy: {min: 0.8}
  accuracy.macro_f1: {min: 0.75}
  accuracy.per_class: {min: 0.7}
  accuracy.roc_auc: {min: 0.85}
  accuracy.calibration: {max: 0.08}
  fairness.group_metrics: {}
  fairness.demographic_parity_difference: {max: 0.1}
  fairness.demographic_parity_ratio: {min: 0.8}
  fairness.equalized_odds_difference: {max: 0.1}
  fairness.equal_opportunity_difference: {max: 0.1}
  fairness.worst_group_accuracy_gap: {max: 0.1}
  fairness.counterfactual: {max: 0.05}
  privacy.pii: {gate: false}
  robustness.attack_success_rate: {examples: 6, gate: false}
  privacy.membership_inference: {gate: false}
  privacy.artifact_pii: {}
"""

#: The built-in plugins whose check messages carry a message_id (their zh report shows no message in English).
TRANSLATED_PLUGINS = ("accuracy.", "fairness.", "privacy.", "robustness.")


# ---------------------------------------------------------------- (a) the catalog


def _extracted() -> dict[Any, set[str]]:
    """msgid (a tuple for plurals) -> files it was extracted from, with the mapping of babel.cfg."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: dict[Any, set[str]] = {}
    for filename, _line, message, _comments, _context in extract_from_dir(str(ROOT), method_map, options_map, keywords=DEFAULT_KEYWORDS):
        found.setdefault(message, set()).add(filename)
    return found


@pytest.fixture(scope="module")
def extracted() -> dict[Any, set[str]]:
    return _extracted()


@pytest.fixture(scope="module")
def catalog() -> Any:
    from babel.messages.pofile import read_po

    with CATALOG.open("rb") as handle:
        return read_po(handle, locale="zh", domain="harness")


def _placeholders(text: str) -> set[str]:
    named = set(re.findall(r"%\((\w+)\)[sdfr]", text))
    braces = set(re.findall(r"(?<!\{)\{(\w*)(?:[:!][^}]*)?\}(?!\})", text))
    return named | {"{" + name + "}" for name in braces}


def _words(text: str) -> list[str]:
    """English words of a catalog string outside placeholders, markup and the allowed acronyms and names."""
    text = re.sub(r"%\(\w+\)[sdfr]|\{\w*\}|<[^>]+>|&\w+;", " ", text)
    return [w for w in ENGLISH_WORD.findall(text) if w not in ALLOWED]


def _tags(text: str) -> set[str]:
    return set(re.findall(r"</?([a-z]+)", text))


def test_extraction_sees_every_marked_source(extracted: dict[Any, set[str]]) -> None:
    files = set().union(*extracted.values())
    for expected in ("templates/report.html", "templates/partials/comparison.html", "harness/outputs/html_view.py",
                     "harness/outputs/markdown.py", "harness/outputs/junit.py", "harness/results/types.py",
                     "harness/outputs/comparison.py", "harness/plugin/regulation.py", "harness/text/i18n.py"):
        assert expected in files, expected
    partials = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("plugins/*/templates/**/*.html"))
    assert partials and all(p in files for p in partials), set(partials) - files
    assert len(extracted) > 400


def test_every_msgid_has_a_real_translation_with_the_same_placeholders(extracted: dict[Any, set[str]], catalog: Any) -> None:
    problems = []
    for msgid, files in sorted(extracted.items(), key=str):
        entry = catalog.get(msgid)
        where = f"{msgid!r} ({', '.join(sorted(files))})"
        if entry is None:
            problems.append(f"missing: {where}")
            continue
        if entry.fuzzy:
            problems.append(f"fuzzy: {where}")
        forms = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not all(forms):
            problems.append(f"empty: {where}")
            continue
        ids = msgid if isinstance(msgid, tuple) else (msgid,)
        wanted = set().union(*(_placeholders(i) for i in ids))
        for form in forms:
            if _placeholders(form) != wanted:
                problems.append(f"placeholders {sorted(_placeholders(form))} != {sorted(wanted)}: {where}")
            if not _tags(ids[0]) <= _tags(form):
                problems.append(f"markup {sorted(_tags(ids[0]))} not kept: {where}")
            if _words(form) and not CJK.search(form):  # English words left over, and no Chinese: not translated
                problems.append(f"not Chinese: {form!r} for {where}")
    assert problems == [], "\n".join(problems[:40])


def test_the_catalog_holds_no_stale_entries(extracted: dict[Any, set[str]], catalog: Any) -> None:
    """Strings removed from the code leave the catalog too (pybabel update, see babel.cfg)."""
    stale = [m.id for m in catalog if m.id and m.id not in extracted]
    assert stale == []


def test_the_compiled_catalog_translates_and_falls_back() -> None:
    zh = translator("zh")
    assert zh.gettext("Verdict") == "结论"
    assert zh.gettext("not applicable") == "不适用"
    assert zh.ngettext("{decided} of {gated} gated check decided", "{decided} of {gated} gated checks decided", 3).startswith("{gated} 项")
    assert zh.gettext("a string nobody marked") == "a string nobody marked"
    assert lookup(zh, "a string nobody marked") is None and lookup(translator("en"), "anything") == "anything"
    assert translator("zh") is zh  # compiled once per process
    assert LANGUAGES == ("en", "zh")
    with pytest.raises(ValueError, match="unknown language 'fr'; expected one of en, zh"):
        check_language("fr")


# ---------------------------------------------------------------- (b) a real zh run


@dataclasses.dataclass
class ZhRun:
    folder: Path
    result: AuditResult
    results_json: dict[str, Any]
    report: str
    render_seconds: float


@pytest.fixture(scope="module")
def zh_run(tmp_path_factory: pytest.TempPathFactory) -> ZhRun:
    """One small audit of the built-in Chinese data (accuracy + fairness + PII scan), written in zh by ``harness.audit``."""
    import harness
    from harness.outputs.html import render_html
    from harness.plugin.manager import get_host
    from harness.results.io import load_results

    folder = tmp_path_factory.mktemp("i18n")
    (folder / "suite.yaml").write_text(SUITE, encoding="utf-8")
    harness.audit({
        "model": {"path": "builtin:tiny-bert", "fine_tune": None},
        "data": {"path": "builtin:clinical-triage-zh", "synthetic": {"size": 200}},
        "suite": str(folder / "suite.yaml"),
        "output": {"dir": str(folder / "out"), "language": "zh"},
        "seed": 0,
    })
    out = folder / "out"
    loaded = load_results(out / "results.json")
    started = time.perf_counter()
    render_html(loaded, get_host(), language="zh")
    seconds = time.perf_counter() - started
    return ZhRun(out, loaded, json.loads((out / "results.json").read_text(encoding="utf-8")),
                 (out / "report.html").read_text(encoding="utf-8"), seconds)


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}


class _Reader(HTMLParser):
    """Text a reader is meant to read in the page's language: outside data (translate="no"),
    plugin English (lang="en"), <head>, <script> and <style>. lang="en" elements are collected."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool, bool]] = []
        self.hidden = 0
        self.text: list[str] = []
        self.english: list[dict[str, Any]] = []
        self.labels: list[str] = []
        self.chart_labels: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        attributes = dict(attrs)
        english = attributes.get("lang") == "en"
        if english and not self.hidden:
            self.english.append({"text": "", "svg": False})
        if tag == "svg" and self.english and self.hidden:
            self.english[-1]["svg"] = True
        if not self.hidden and attributes.get("aria-label"):
            (self.chart_labels if tag == "svg" else self.labels).append(attributes["aria-label"] or "")
        hide = attributes.get("translate") == "no" or english or tag in ("head", "script", "style")
        self.stack.append((tag, hide, english and not self.hidden))
        self.hidden += hide

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            name, hide, _ = self.stack.pop()
            self.hidden -= hide
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.text.append(data)
        elif any(english for _, _, english in self.stack):
            self.english[-1]["text"] += data


def _read(html: str) -> _Reader:
    reader = _Reader()
    reader.feed(html)
    return reader


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _english_left(text: str) -> dict[str, int]:
    words: dict[str, int] = {}
    for word in ENGLISH_WORD.findall(text):
        if word not in ALLOWED:
            words[word] = words.get(word, 0) + 1
    return words


def test_the_zh_report_has_no_english_left(zh_run: ZhRun) -> None:
    page = zh_run.report
    assert '<html lang="zh-Hans">' in page
    assert re.search(r"<title>审计报告：", page)
    reader = _read(page)
    text = " ".join(reader.text)
    assert _english_left(text) == {}, re.sub(r"\s+", " ", text)[:3000]
    assert len(CJK.findall(text)) > 2000
    # aria labels speak the page's language too (the charts' own labels are inside lang="en")
    assert reader.labels and all(not _english_left(label) for label in reader.labels), reader.labels


def _data_texts(results: dict[str, Any]) -> set[str]:
    """Text of the data itself that a zh report may show as recorded: a user's own description of the dataset.

    The built-in generators' descriptions are harness text (``provenance.data.description_message``), shown
    translated like every other harness string, so for built-in data nothing may be left English.
    """
    data = results.get("provenance", {}).get("data") or {}
    description = data.get("description")
    if not description or data.get("description_message"):
        return set()
    return {re.sub(r"\s+", " ", description).strip()}


def test_the_fixture_runs_the_checks_of_the_chinese_example() -> None:
    """The zh fixture's suite has every check of the suite examples/chinese-triage.yaml runs (its sizes are smaller)."""
    import yaml

    example = yaml.safe_load((ROOT / "examples" / "chinese-triage.yaml").read_text(encoding="utf-8"))
    suite = yaml.safe_load((ROOT / "suites" / f"{example['suite']}.yaml").read_text(encoding="utf-8"))
    assert set(yaml.safe_load(SUITE)["checks"]) == set(suite["checks"])
    assert example["data"]["path"] == "builtin:clinical-triage-zh"


def test_only_the_data_is_left_in_english(zh_run: ZhRun) -> None:
    """No lang="en" span is left in the zh report of built-in Chinese data: no harness or plugin string, no chart,
    not the built-in dataset's description (a user's own description would stay as written, marked English)."""
    page = zh_run.report
    reader = _read(page)
    data = _data_texts(zh_run.results_json)
    shown = [re.sub(r"\s+", " ", e["text"]).strip() for e in reader.english]
    assert [text for text in shown if text not in data] == []
    # the built-in dataset's description is harness text: translated, its numbers and group shown as data
    assert not data and "由本工具生成的合成中文（简体）临床分诊记录" in page
    assert not any(e["svg"] for e in reader.english) and not re.search(r'<svg [^>]*lang="en"', page)
    # the charts speak Chinese: their fixed words are translated, their data (class, group, attack names) marked
    assert page.count("<svg") >= 9 and "预测标签" in page and "真实标签" in page and "完美校准" in page
    assert re.search(r'<text[^>]* translate="no">(紧急|非紧急)</text>', page)
    # an aria label cannot mark its parts: besides the attribute names (data) it is Chinese
    names = set((zh_run.results_json["provenance"].get("data") or {}).get("sensitive_columns") or [])
    assert reader.chart_labels and all(CJK.search(label) for label in reader.chart_labels)
    assert [label for label in reader.chart_labels if _english_left(" ".join(w for w in label.split() if w not in names))] == []


def test_charts_speak_the_language_they_are_drawn_in() -> None:
    """English charts are drawn as before; in zh their fixed words are translated, data marked, the rest marked English."""
    from harness.outputs import charts

    matrix, labels = [[3, 1], [0, 2]], ["urgent", "routine"]
    english = str(charts.confusion_matrix_svg(matrix, labels))
    with charts.drawn_in("en"):
        assert str(charts.confusion_matrix_svg(matrix, labels)) == english
    assert "predicted" in english and "translate=" not in english and "lang=" not in english
    with charts.drawn_in("zh"):
        chinese = str(charts.confusion_matrix_svg(matrix, labels))
        own = str(charts.interval_bars_svg([("urgent", 0.5, 0.4, 0.6)], xlabel="a plugin's own words", title="Plugin chart"))
        mixed = str(charts.interval_bars_svg([("a", 0.5, None, None)], xlabel=charts.label("share predicted {cls}", cls="urgent"),
                                             title=charts.label("Selection rate by {attribute}", attribute="sex")))
    assert charts.chart_language() == "en"
    assert "预测标签" in chinese and 'aria-label="混淆矩阵' in chinese and re.search(r'<text[^>]* translate="no">urgent</text>', chinese)
    assert "lang=" not in chinese and "predicted" not in chinese
    assert re.search(r"<text[^>]* lang=\"en\">a plugin's own words</text>", own) and re.match(r'<svg [^>]*lang="en"', own)
    assert '预测为 <tspan translate="no">urgent</tspan> 的比例' in mixed and 'aria-label="按 sex 分组的选择率"' in mixed


def test_untranslated_plugin_text_is_marked_english_not_hidden(zh_run: ZhRun) -> None:
    """What stays English is what a plugin wrote (results.json) or drew (a chart), and it says so with lang="en"."""
    reader = _read(zh_run.report)
    recorded = [s for s in _strings(zh_run.results_json) if s]
    for element in reader.english:
        if element["svg"]:
            continue
        shown = re.sub(r"\s+", " ", element["text"]).strip().rstrip("\u2026").strip()
        assert shown, element
        assert any(shown in re.sub(r"\s+", " ", s) for s in recorded), f"lang=en text not written by a plugin: {shown!r}"


def _english_message(message_id: str, args: Any) -> str:
    """``message_id`` filled with ``args`` in English; an argument that is itself a message is filled first."""
    def argument(value: Any) -> Any:
        if isinstance(value, dict):
            return _english_message(value["message_id"], value["message_args"]) if value.get("message_id") else value["text"]
        return value

    return message_id.format(**{k: argument(v) for k, v in args.items()})


def test_membership_message_is_translated_not_english(zh_run: ZhRun) -> None:
    """The membership-inference message is a template with the attack name and numbers as args, its parts translated."""
    from harness.outputs.localize import gate_prefix

    check = next(c for c in zh_run.result.checks if c.id == "privacy.membership_inference")
    own = gate_prefix(check)[1]
    assert check.message_id and _english_message(check.message_id, check.message_args) == own, check.message
    english = " ".join(re.sub(r"\s+", " ", e["text"]) for e in _read(zh_run.report).english if not e["svg"])
    assert "attack AUC" not in english and "proves" not in english and "audited as loaded" not in english, [
        english[max(0, i - 300):i + 100] for i in [english.find("audited as loaded")]]
    assert "攻击的 AUC 为" in zh_run.report


def test_builtin_check_messages_are_translated_not_english(zh_run: ZhRun) -> None:
    """The accuracy, fairness, PII and robustness checks give their messages a message_id: none is shown lang="en"."""
    from harness.outputs.localize import gate_prefix

    english = [re.sub(r"\s+", " ", e["text"]).strip() for e in _read(zh_run.report).english]
    checks = [c for c in zh_run.result.checks if c.id.startswith(TRANSLATED_PLUGINS)]
    assert {c.id for c in checks} >= {"accuracy.accuracy", "fairness.group_metrics", "privacy.pii", "robustness.attack_success_rate"}
    left = []
    for check in checks:
        own = gate_prefix(check)[1]
        if not own:
            continue
        if not check.message_id and lookup(translator("zh"), own) is None:
            left.append(f"{check.id}: no message_id: {own!r}")
        elif check.message_id and _english_message(check.message_id, check.message_args) != own:
            left.append(f"{check.id}: message_id does not give the English message: {own!r}")
        elif any(own in text for text in english):
            left.append(f"{check.id}: shown in English: {own!r}")
    assert left == [], "\n".join(left)


def test_core_sentences_and_known_plugin_strings_are_translated(zh_run: ZhRun) -> None:
    page = zh_run.report
    for sentence in ("模型审计报告", "结论", "覆盖情况：", "范围与来源", "法规对照", "局限", "方法说明", "附录：全部指标",
                     "准确率", "人口均等差异", "混淆矩阵"):
        assert sentence in page, sentence
    assert ("发布门禁不予放行" in page) or ("审计无法作出判定" in page) or ("所有门禁检查项均满足其阈值" in page)
    assert "Model audit report" not in page and "Verdict:" not in page
    # a fixed plugin message is translated by exact msgid (the fairness checks on 200 notes judge no attribute)
    fixed = "no attribute could be judged: fewer than two groups large enough to judge"
    if any(c["message"] == fixed for c in zh_run.results_json["checks"]):
        assert "没有任何属性可供判定" in page and fixed not in page


def test_fairness_limitation_lines_are_translated_not_english(zh_run: ZhRun) -> None:
    """The fairness plugin writes its limitation lines as {text, message_id, message_args}: none is shown lang="en"."""
    english = " ".join(re.sub(r"\s+", " ", e["text"]) for e in _read(zh_run.report).english)
    from markupsafe import escape

    notes = [note for check in zh_run.results_json["checks"] if check["id"].startswith("fairness.")
             for note in (check.get("evidence") or {}).get("limitations", [])]
    assert notes, "the fixture run should leave some fairness limitation (200 notes: small groups)"
    for note in notes:
        assert isinstance(note, dict) and note["message_id"].format(**note["message_args"]) == note["text"], note
        assert note["text"] not in english, note["text"]
        assert str(escape(note["text"])) not in zh_run.report, note["text"]


def test_a_limitation_may_be_a_string_or_a_mapping_with_a_message_id() -> None:
    from harness.outputs.html import render_html
    from harness.outputs.localize import HTML_STYLE, limitation_text

    template = "group {group} of {attribute} has {count} examples, below the minimum: insufficient data, not judged."
    args = {"group": "'hui'", "attribute": "ethnicity", "count": 19}
    mapping = {"text": template.format(**args), "message_id": template, "message_args": args}
    assert limitation_text(mapping, "en") == mapping["text"] and limitation_text("a line", "en") == "a line"
    assert limitation_text(mapping, "zh") == "ethnicity 的分组 'hui' 只有 19 个样本，低于最小样本量：数据不足，未作判定。"
    shown = limitation_text(mapping, "zh", HTML_STYLE)
    assert '<span translate="no">ethnicity</span>' in shown and 'lang="en"' not in shown
    assert limitation_text({"text": "plugin words"}, "zh", HTML_STYLE) == '<span lang="en">plugin words</span>'
    assert limitation_text("plugin words", "zh", HTML_STYLE) == '<span lang="en">plugin words</span>'
    as_string = CheckResult("x.y", "Title", "pass", evidence={"limitations": [mapping["text"], "plain"]})
    as_mapping = CheckResult("x.y", "Title", "pass", evidence={"limitations": [mapping, "plain"]})
    assert render_html(_result(as_mapping)) == render_html(_result(as_string))  # English: byte-identical
    assert "数据不足" in render_html(_result(as_mapping), language="zh")


def test_zh_rendering_is_fast(zh_run: ZhRun) -> None:
    assert zh_run.render_seconds < 10, zh_run.render_seconds


def test_results_json_is_the_same_in_every_language(zh_run: ZhRun) -> None:
    """results.json is data: no translated word in it; the language is recorded only as a non-default setting."""
    body = {k: v for k, v in zh_run.results_json.items() if k not in ("provenance", "manifest")}
    texts = " ".join(_strings(body))
    for word in ("通过", "未通过", "无法判定", "覆盖情况", "门禁"):
        assert word not in texts
    assert zh_run.results_json["provenance"]["config"]["output"]["language"] == "zh"


def test_report_command_renders_either_language(zh_run: ZhRun, tmp_path: Path) -> None:
    results = zh_run.folder / "results.json"
    for args, lang in (([], "zh-Hans"), (["--language", "en"], "en"), (["--language", "zh"], "zh-Hans")):
        target = tmp_path / f"report-{lang}-{len(args)}.html"
        done = subprocess.run([HARNESS, "report", str(results), "-o", str(target), *args], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert f'<html lang="{lang}">' in target.read_text(encoding="utf-8")
    bad = subprocess.run([HARNESS, "report", str(results), "--language", "fr"], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "fr" in bad.stderr


# ---------------------------------------------------------------- (c) English unchanged


def _old_sentence(o: ThresholdOutcome) -> str:
    """ThresholdOutcome.sentence as it was written before translation (the golden)."""
    need = "at least" if o.op == "min" else "at most"
    if o.value is None:
        return f"{o.metric} could not be computed, so its threshold ({need} {format_limit(o.bound)}) cannot be met"
    if o.gate_on == "interval" and o.interval is not None:
        low, high = (format_number(v) for v in o.interval)
        if o.outcome == "inconclusive":
            more = f" (about {o.needed_n} examples would decide it, where the interval rests on {o.n} now)" if o.needed_n and o.n else ""
            return f"the interval [{low}, {high}] of {o.metric} contains the limit {format_limit(o.bound)}: more examples are needed{more}"
        side = "meets" if o.outcome == "pass" else "misses"
        return f"the whole interval [{low}, {high}] of {o.metric} {side} the limit ({need} {format_limit(o.bound)})"
    verb = "meets" if o.outcome == "pass" else "misses"
    return f"{o.metric} = {format_number(o.value)} {verb} the limit ({need} {format_limit(o.bound)}; point estimate)"


def _old_line(c: Coverage) -> str:
    text = f"{c.decided} of {c.gated} gated check{'s' if c.gated != 1 else ''} decided"
    for check_id, status, reason in c.undecided:
        text += f"; {check_id}: {status.replace('_', ' ')}" + (f", {reason}" if reason else "")
    if c.informational:
        text += f"; {c.informational} informational check{'s' if c.informational != 1 else ''} ({c.informational_findings} with findings) not gated"
    return text


OUTCOMES = [
    ThresholdOutcome("accuracy", op, 0.8, value, outcome, gate_on, interval, needed, n)
    for op in ("min", "max")
    for value, outcome, gate_on, interval, needed, n in (
        (None, "fail", "interval", None, None, None),
        (0.9, "pass", "interval", (0.85, 0.95), None, 100),
        (0.7, "fail", "interval", (0.6, 0.75), None, 100),
        (0.81, "inconclusive", "interval", (0.7, 0.9), 420, 100),
        (0.81, "inconclusive", "interval", (0.7, 0.9), None, None),
        (0.9, "pass", "estimate", None, None, None),
        (0.7, "fail", "estimate", None, None, None),
        (float("nan"), "fail", "estimate", None, None, None),
    )
]


@pytest.mark.parametrize("outcome", OUTCOMES, ids=lambda o: f"{o.op}-{o.outcome}-{o.gate_on}-{o.value}")
def test_english_threshold_sentences_are_unchanged(outcome: ThresholdOutcome) -> None:
    assert outcome.sentence == _old_sentence(outcome)
    assert outcome.sentence_in("en") == outcome.sentence
    assert CJK.search(outcome.sentence_in("zh"))


def test_english_outputs_of_the_zh_run_are_unchanged(zh_run: ZhRun) -> None:
    """The same results rendered in English: the sentences the English code wrote, and none of the new markup."""
    from harness.outputs.html import render_html
    from harness.outputs.junit import render_junit
    from harness.outputs.markdown import render_markdown
    from harness.plugin.manager import get_host

    result = zh_run.result
    coverage = result.coverage
    assert coverage.line == _old_line(coverage) == zh_run.results_json["coverage"]["line"]
    for check in result.checks:
        for outcome in check.thresholds:
            assert outcome.sentence == _old_sentence(outcome)
    page = render_html(result, get_host(), language="en")
    assert page.startswith('<!DOCTYPE html>\n<html lang="en">\n')
    assert "<h1>Model audit report</h1>" in page
    assert f'<p class="coverage"><strong>Coverage:</strong> {_escape(_old_line(coverage))}.</p>' in page
    assert 'translate="no"' not in page and 'lang="en"' not in page.split("\n", 2)[2]
    for word in ("模型审计报告", "覆盖情况", "范围与来源", "门禁", "无法判定", "结论："):  # no catalog word, only the data's Chinese
        assert word not in page
    markdown = render_markdown(result)
    assert markdown.startswith("## ") and "Model audit: " in markdown.splitlines()[0]
    assert f"Coverage: {_md(coverage.line)}." in markdown
    junit = render_junit(result)
    assert f'name="coverage" value="{_escape(coverage.line)}"' in junit


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


def _md(text: str) -> str:
    from harness.outputs.markdown import md_escape

    return md_escape(text)


def test_check_results_without_message_ids_are_written_as_before() -> None:
    import jsonschema

    check = CheckResult("x.y", "Title", "pass", message="m")
    assert "message_id" not in check.to_dict() and "message_args" not in check.to_dict()
    tagged = dataclasses.replace(check, message_id="{n} things", message_args={"n": 3})
    data = tagged.to_dict()
    assert data["message_id"] == "{n} things" and data["message_args"] == {"n": 3}
    assert CheckResult.from_dict(data) == tagged and CheckResult.from_dict(check.to_dict()) == check
    schema = json.loads((ROOT / "harness" / "results" / "schema" / "results.schema.json").read_text(encoding="utf-8"))
    for item in (check.to_dict(), data):
        jsonschema.validate(item, {"$ref": "#/$defs/check", "$defs": schema["$defs"]})
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**data, "message_args": "n=3"}, {"$ref": "#/$defs/check", "$defs": schema["$defs"]})


# ---------------------------------------------------------------- messages, plugins' partials


def _result(*checks: CheckResult) -> AuditResult:
    return AuditResult(verdict="incomplete", exit_code=1, checks=checks, provenance={})


def test_a_message_id_is_translated_and_a_message_without_one_is_marked_english() -> None:
    from harness.outputs.html import render_html
    from harness.text.language import NOT_APPLICABLE_MESSAGE

    args = {"check": "x.counts", "languages": "en", "profile": "zh 100%", "outside": 100}
    with_id = CheckResult("x.counts", "Counts", "not_applicable", message=NOT_APPLICABLE_MESSAGE.format(**args),
                          message_id=NOT_APPLICABLE_MESSAGE, message_args=args)
    without = CheckResult("x.other", "Other", "skipped", message="the plugin's own words")
    page = render_html(_result(with_id, without), language="zh")
    assert "的方法仅适用于" in page and NOT_APPLICABLE_MESSAGE.format(**args) not in page
    assert '<span lang="en">the plugin&#39;s own words</span>' in page
    assert '<span translate="no">x.counts</span>' in page
    english = render_html(_result(with_id, without))
    assert NOT_APPLICABLE_MESSAGE.format(**args) in english.replace("&#39;", "'")


def test_the_gate_prefix_is_worded_again_and_the_plugin_part_kept() -> None:
    from harness.outputs.localize import check_message

    outcome = ThresholdOutcome("rate", "max", 0.1, 0.2, "fail", "interval", (0.15, 0.25), None, 50)
    check = CheckResult("x.rate", "Rate", "fail", message=f"{outcome.sentence}. plugin detail", thresholds=(outcome,))
    assert check_message(check, "en") == check.message
    shown = check_message(check, "zh")
    assert shown.startswith("rate 的整个区间 [0.150, 0.250] 未满足限值（至多 0.1）。") and shown.endswith("plugin detail")


class _Host:
    """The plugin host as render_html uses it: only the report-sections hook."""

    def __init__(self, sections: list[Any]) -> None:
        self.hook = type("Hook", (), {"harness_report_sections": staticmethod(lambda result, env: [sections])})()


def test_a_third_party_partial_is_english_or_uses_its_own_catalog(tmp_path: Path) -> None:
    from harness.outputs.html import render_html
    from harness.plugin.sections import ReportSection

    plain, own = tmp_path / "plain", tmp_path / "own"
    (plain / "thirdparty").mkdir(parents=True)
    (plain / "thirdparty" / "part.html").write_text("<p>Counted {{ n }} words.</p>\n", encoding="utf-8")
    (own / "ownparty").mkdir(parents=True)
    (own / "ownparty" / "part.html").write_text("<p>{% trans n=n %}Counted {{ n }} words.{% endtrans %}</p>\n", encoding="utf-8")
    po = own / "locale" / "zh" / "LC_MESSAGES" / "ownparty.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
                  'msgid "Counted %(n)s words."\nmsgstr "统计了 %(n)s 个词。"\n\nmsgid "Word counts"\nmsgstr "词数统计"\n', encoding="utf-8")
    check = CheckResult("x.words", "Words", "pass")
    sections = [ReportSection(title="Third-party counts", template="thirdparty/part.html", context={"n": 3}, search_path=str(plain), check="x.words"),
                ReportSection(title="Word counts", template="ownparty/part.html", context={"n": 4}, search_path=str(own), check="x.words")]
    page = render_html(_result(check), _Host(sections), language="zh")  # type: ignore[arg-type]
    assert '<div lang="en"><p>Counted 3 words.</p>\n</div>' in page
    assert '<span lang="en">Third-party counts</span>' in page
    assert "<p>统计了 4 个词。</p>" in page and "<h4>词数统计</h4>" in page
    english = render_html(_result(check), _Host(sections))  # type: ignore[arg-type]
    assert "<p>Counted 3 words.</p>" in english and "<p>Counted 4 words.</p>" in english and 'lang="en"><p>' not in english


# ---------------------------------------------------------------- (d) Markdown and JUnit in zh


def test_markdown_and_junit_in_chinese(zh_run: ZhRun) -> None:
    summary = (zh_run.folder / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("## ") and "模型审计：" in summary.splitlines()[0]
    assert "覆盖情况：" in summary and "| 检查项 | 状态 |" in summary and "来源：" in summary
    for english in ("Coverage:", "Gated checks", "| Check |", "Provenance:", " passed", "exit code"):
        assert english not in summary
    junit = (zh_run.folder / "junit.xml").read_text(encoding="utf-8")
    root = ET.fromstring(junit.encode("utf-8"))  # well-formed
    messages = [e.get("message", "") for e in root.iter() if e.tag in ("failure", "error", "skipped")]
    assert messages and all(CJK.search(m) for m in messages), messages
    coverage = next(p.get("value") for p in root.iter("property") if p.get("name") == "coverage")
    assert "项门禁检查中有" in (coverage or "")
    outs = [e.text or "" for e in root.iter("system-out")]
    assert outs and all(re.match(r"\[(通过|未通过|无法判定|警告|出错|已跳过|不适用)\] ", o) for o in outs), outs[:3]
    # machine-read fields stay as CI tools expect them
    assert {e.get("type") for e in root.iter("failure")} <= {"threshold", "check", "inconclusive", "regression"}
    assert all(p.get("value") in ("pass", "fail", "inconclusive", "warn", "error", "skipped", "not_applicable")
               for p in root.iter("property") if p.get("name") == "status")
