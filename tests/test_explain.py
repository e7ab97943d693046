"""The explanations plugin (harness_explain): attributions that add up, faithfulness that is measured, and a gate that bites.

- completeness: the word scores of every text add up to ``f(x) - f(baseline)``
  computed here by two plain forward passes, and Captum's token attributions
  agree with integrated gradients written out by hand (trapezoid rule, many
  steps, ``inputs_embeds``);
- faithfulness: the check's comprehensiveness and sufficiency of one text
  equal the ERASER formula computed here with the model called directly on
  the erased texts (same random draws);
- ``explain.protected_term_reliance``: a model trained on notes whose label
  follows "female" fails the gate through the real CLI (exit 1, whole
  interval above 0.05, sex the largest category), while the built-in model's
  value is reported with an interval of real width;
- the highlighted-text section escapes hostile text (no element or handler
  from data) and shows personal data masked.
"""

from __future__ import annotations

import json
import math
from html.parser import HTMLParser
from typing import Any

import pytest

from conftest import run_cli, write_config

pytest.importorskip("captum")

HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


def _logits(handle: Any, texts: list[str]) -> Any:
    import torch

    encoded = handle.tokenizer(texts, truncation=True, max_length=handle.max_length, padding=True, return_tensors="pt")
    with torch.no_grad():
        return handle.model(**encoded).logits.double()


def test_attributions_add_up_to_the_output_change_and_match_a_hand_written_integral(harness_context: Any) -> None:
    """Completeness against two direct forward passes, at the default 32 steps (a miss is recorded and flagged,
    never hidden) and converged at 512 steps, where the word scores also match a hand-written integral."""
    import torch

    from harness_explain.attribution import attribute_texts, baseline_ids, flag_limit, kept_special_ids

    handle = harness_context.model
    texts = list(harness_context.data.eval.texts)[:3] + ["Zqxv unseen wordz: 45 y/o male, chest pain."]  # [UNK] tokens too
    targets = harness_context.predictor.predict(texts).tolist()
    tokenizer, model = handle.tokenizer, handle.model
    special = kept_special_ids(tokenizer)
    assert tokenizer.unk_token_id not in special and tokenizer.cls_token_id in special
    default = attribute_texts(handle, texts, targets, n_steps=32, batch_size=4)
    converged = attribute_texts(handle, texts, targets, n_steps=512, batch_size=4)
    embeddings = model.get_input_embeddings()
    for text, target, quick, attribution in zip(texts, targets, default, converged):
        ids = tokenizer([text], return_tensors="pt")["input_ids"]
        base = baseline_ids(ids, special, tokenizer.pad_token_id)
        assert base[0, 0] == tokenizer.cls_token_id and base[0, -1] == tokenizer.sep_token_id and (base[0, 1:-1] == tokenizer.pad_token_id).all()
        mask = torch.ones_like(ids)
        with torch.no_grad():
            gap = float(model(input_ids=ids, attention_mask=mask).logits[0, target] - model(input_ids=base, attention_mask=mask).logits[0, target])
        # the recorded delta is exactly the completeness miss of the word scores, at any step count
        for result in (quick, attribution):
            assert abs(result.gap - gap) < 1e-4
            assert abs((result.total - gap) - result.delta) < 1e-3
        assert quick.flagged(0.05) == (abs(quick.total - gap) > flag_limit(gap, 0.05) + 1e-3) or abs(abs(quick.delta) - flag_limit(gap, 0.05)) < 1e-3
        # converged: the word scores add up to the output change
        assert abs(attribution.total - gap) <= 0.01 * max(1.0, abs(gap)), (text, attribution.total, gap)
        # an independent integral: trapezoid rule over 600 steps of the gradient wrt the word embeddings
        x, b = embeddings(ids).detach(), embeddings(base).detach()
        alphas = torch.linspace(0, 1, 601)
        path = (b + alphas[:, None, None] * (x - b)).requires_grad_(True)
        output = model(inputs_embeds=path, attention_mask=mask.expand(len(alphas), -1)).logits[:, target].sum()
        (grads,) = torch.autograd.grad(output, path)
        average = (grads[:-1] + grads[1:]).mean(dim=0) / 2
        by_token = (average * (x - b)[0]).sum(dim=-1)
        assert abs(by_token.sum().item() - gap) <= 0.02 * max(1.0, abs(gap))
        # per word: the hand integral summed over each word's tokens equals the plugin's word score
        encoded = tokenizer(text, return_offsets_mapping=True)
        per_unit = [0.0] * len(attribution.units)
        for score, (begin, end) in zip(by_token.tolist(), encoded["offset_mapping"]):
            if end > begin:
                per_unit[max(j for j, u in enumerate(attribution.units) if u.start <= begin)] += score
        scale = max(abs(s) for s in attribution.scores)
        assert max(abs(a - h) for a, h in zip(attribution.scores, per_unit)) <= 0.03 * max(scale, 1.0)


def test_faithfulness_equals_the_eraser_formula_computed_directly(harness_context: Any) -> None:
    import numpy as np

    from harness_explain.attribution import attribute_texts
    from harness_explain.faithfulness import ERASER_BINS, erase, k_for, keep_only, measure_faithfulness, top_units

    handle = harness_context.model
    text = max(harness_context.data.eval.texts[:20], key=len)
    target = int(harness_context.predictor.predict([text])[0])
    (attribution,) = attribute_texts(handle, [text], [target], n_steps=16)
    result = measure_faithfulness([attribution], harness_context.predictor, np.random.default_rng(7))

    def p(t: str) -> float:
        logits = _logits(handle, [t])[0]
        return float(torch_softmax(logits)[target])

    ranked = top_units(attribution)
    assert [attribution.scores[i] for i in ranked] == sorted((attribution.scores[i] for i in ranked), reverse=True)
    rng = np.random.default_rng(7)
    full = p(text)
    comp, suff, comp_random, suff_random = [], [], [], []
    for share in ERASER_BINS:
        k = k_for(share, len(ranked))
        top = ranked[:k]
        drawn = [ranked[int(j)] for j in rng.choice(len(ranked), size=k, replace=False)]
        comp.append(full - p(erase(attribution, top)))
        suff.append(full - p(keep_only(attribution, top)))
        comp_random.append(full - p(erase(attribution, drawn)))
        suff_random.append(full - p(keep_only(attribution, drawn)))
    assert math.isclose(result.probability[0], full, abs_tol=1e-5)
    for got, expected in ((result.comprehensiveness, comp), (result.sufficiency, suff),
                          (result.comprehensiveness_random, comp_random), (result.sufficiency_random, suff_random)):
        assert math.isclose(float(got[0]), float(np.mean(expected)), abs_tol=1e-5)


def torch_softmax(logits: Any) -> Any:
    import torch

    return torch.softmax(logits, dim=-1)


def test_word_units_keep_hyphenated_words_and_chinese_terms_whole() -> None:
    from harness_explain.protected import protected_spans, unit_categories
    from harness_explain.units import text_units

    text = "72-year-old female, SOB; she's unwell. Email a.b@example.com"
    units = text_units(text)
    words = [text[u.start:u.end] for u in units]
    assert words[:4] == ["72-year-old", "female", ",", "SOB"] and "she's" in words
    categories = dict(zip(words, unit_categories(units, protected_spans(text))))
    assert categories["72-year-old"] == ("age_band",) and categories["female"] == ("sex",) and categories["she's"] == ("sex",)
    assert categories["SOB"] == () and "pii:email" in categories["example"]
    zh = "72岁女性患者，维吾尔族，胸痛。"
    zh_units = text_units(zh)
    zh_words = [zh[u.start:u.end] for u in zh_units]
    assert "女性" in zh_words and "维吾尔族" in zh_words
    zh_categories = dict(zip(zh_words, unit_categories(zh_units, protected_spans(zh))))
    assert zh_categories["女性"] == ("sex",) and zh_categories["维吾尔族"] == ("ethnicity",)
    assert len(text_units(zh, "character")) == len(zh)


def test_a_normal_models_reliance_is_reported_with_an_interval(harness_context: Any) -> None:
    from harness_explain.analysis import ExplainOptions
    from harness_explain.checks import ProtectedTermReliance

    options = ExplainOptions(sample=40, misclassified=0, adversarial=0, counterfactual=0, n_steps=16, n_boot=500)
    result = ProtectedTermReliance().run(harness_context, options)
    metric = result.metric("protected_term_reliance")
    assert metric is not None and metric.interval is not None and metric.n == 40 - result.evidence["excluded_flagged"]
    assert 0 <= metric.interval.low < metric.value < metric.interval.high <= 1 and metric.interval.width > 0.005
    assert result.regulations == ("EU AI Act Art. 13(1)", "NIST AI RMF MEASURE 2.9")
    categories = {m.name for m in result.metrics}
    assert {"reliance[sex]", "reliance[age_band]"} <= categories
    # the share is the protected mass over all mass, recomputed here from the words themselves
    from harness_explain.analysis import explain_analysis
    from harness_explain.protected import protected_spans

    analysis = explain_analysis(harness_context, options)
    protected = total = 0.0
    for i in analysis.scored("sample"):
        attribution = analysis.attributions[i]
        spans = protected_spans(attribution.text)
        for unit, score in zip(attribution.units, attribution.scores):
            total += abs(score)
            if any(s.start < unit.end and unit.start < s.end for s in spans):
                protected += abs(score)
    assert math.isclose(metric.value, protected / total, rel_tol=1e-9)


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A real CLI run on notes whose label follows the patient's sex ("female" -> urgent), hostile text in every note."""

    from harness.ml.builtin_data import SyntheticSpec, generate_clinical_triage

    folder = tmp_path_factory.mktemp("explain-planted")
    frame = generate_clinical_triage(SyntheticSpec(size=360))
    frame = frame[frame["sex"].isin(["female", "male"])].copy()
    frame["label"] = ["urgent" if sex == "female" else "non-urgent" for sex in frame["sex"]]
    frame["text"] = [f"{text} {HOSTILE}" for text in frame["text"]]
    frame[["text", "label", "sex"]].to_csv(folder / "notes.csv", index=False)
    (folder / "suite.yaml").write_text(
        "name: explain-test\nchecks:\n"
        "  explain.attributions: {sample: 30, misclassified: 4, adversarial: 0, counterfactual: 3, n_steps: 16, n_boot: 400, shown: 4}\n"
        "  explain.faithfulness: {sample: 30, misclassified: 4, adversarial: 0, counterfactual: 3, n_steps: 16, n_boot: 400}\n"
        "  explain.protected_term_reliance: {sample: 30, misclassified: 4, adversarial: 0, counterfactual: 3, n_steps: 16, n_boot: 400}\n",
        encoding="utf-8")
    config = write_config(folder, {
        "model": {"path": "builtin:tiny-bert", "fine_tune": {"epochs": 4, "lr": 3e-3, "batch_size": 16}},
        "data": {"path": str(folder / "notes.csv"), "sensitive": ["sex"]},
        "suite": str(folder / "suite.yaml"), "output": {"dir": "out"}, "seed": 0,
    })
    cli = run_cli("run", str(config), cwd=folder, timeout=900)
    results = json.loads((folder / "out" / "results.json").read_text(encoding="utf-8"))
    return {"cli": cli, "results": results, "html": (folder / "out" / "report.html").read_text(encoding="utf-8")}


def _check(results: dict[str, Any], check_id: str) -> dict[str, Any]:
    return next(c for c in results["checks"] if c["id"] == check_id)


def test_a_model_keyed_on_female_fails_protected_term_reliance(planted: dict[str, Any]) -> None:
    cli, results = planted["cli"], planted["results"]
    assert cli.returncode == 1, cli.stdout + cli.stderr
    check = _check(results, "explain.protected_term_reliance")
    assert check["status"] == "fail", check["message"]
    (outcome,) = check["thresholds"]
    assert outcome["outcome"] == "fail" and outcome["gate_on"] == "interval" and outcome["interval"][0] > 0.05
    metrics = {m["name"]: m for m in check["metrics"]}
    headline = metrics["protected_term_reliance"]
    assert headline["value"] > 0.2 and headline["interval"]["low"] > 0.05
    categories = {name: m["value"] for name, m in metrics.items() if name.startswith("reliance[")}
    assert max(categories, key=categories.get) == "reliance[sex]"
    assert check["regulations"] == ["EU AI Act Art. 13(1)", "NIST AI RMF MEASURE 2.9"]
    top = check["evidence"]["top_terms"][0]
    assert "sex" in top["categories"]
    # the gate reads it like every other gated metric, and the outputs say so
    assert "protected_term_reliance" in cli.stdout and results["verdict"] == "fail"


def test_attributions_are_complete_and_faithfulness_is_measured(planted: dict[str, Any]) -> None:
    results = planted["results"]
    attributions = _check(results, "explain.attributions")
    evidence = attributions["evidence"]
    assert evidence["counts"]["sample"] == 30 and evidence["method"]["n_steps"] == 16
    for example in evidence["examples"]:
        assert abs(example["delta"]) <= example["limit"] or example["flagged"]
    faithfulness = _check(results, "explain.faithfulness")
    metrics = {m["name"]: m for m in faithfulness["metrics"]}
    gain = metrics["comprehensiveness_gain"]
    assert gain["interval"] is not None and gain["interval"]["low"] <= gain["value"] <= gain["interval"]["high"]
    assert math.isclose(gain["value"], metrics["comprehensiveness"]["value"] - metrics["comprehensiveness_random"]["value"], abs_tol=1e-9)
    assert faithfulness["status"] in ("pass", "fail", "inconclusive")


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.handlers: list[str] = []
        self.highlighted: list[str] = []
        self._in_text = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]
        if tag == "p" and ("class", "xp-text") in attrs:
            self._in_text = 1
        elif self._in_text and tag == "span":
            style = dict(attrs).get("style") or ""
            assert style == "" or style.startswith("background-color: rgba("), style
            assert "url(" not in style

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self._in_text = 0

    def handle_data(self, data: str) -> None:
        if self._in_text:
            self.highlighted.append(data)


def test_highlighted_texts_escape_hostile_text_and_mask_personal_data(planted: dict[str, Any]) -> None:
    html = planted["html"]
    assert "Highlighted texts" in html and "Top words per class" in html and "Protected terms" in html
    parser = _Elements()
    parser.feed(html)
    assert "script" not in parser.tags and "img" not in parser.tags and parser.handlers == []
    shown = "".join(parser.highlighted)
    assert "<script>" in shown and "onerror" in shown  # shown as text, escaped in the source
    assert "&lt;" in html and "<script>alert" not in html and "<img src=x" not in html  # each character a unit of its own: escaped one by one
    evidence = _check(planted["results"], "explain.attributions")["evidence"]
    texts = ["".join(s[0] for s in e["segments"]) for e in evidence["examples"]]
    assert not any("@" in t and "[EMAIL]" not in t for t in texts)  # e-mail addresses are masked, never shown
    assert 'class="xp-sr"' in html and 'title="+' in html  # values for screen readers and print, and in titles


def test_a_bad_explain_option_stops_the_run_before_anything_loads(tmp_path: Any) -> None:
    from conftest import SMOKE_CONFIG

    config = write_config(tmp_path, {**SMOKE_CONFIG, "suite": "explain", "checks": {"explain.attributions": {"zh_unit": "words"}}})
    cli = run_cli("run", str(config), "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert cli.returncode == 2, cli.stdout + cli.stderr
    assert "checks.explain.attributions.zh_unit" in cli.stderr and "Traceback" not in cli.stderr
    assert len(cli.stderr.strip().splitlines()) == 1
