"""harness-keyword-guard, tested with the harness's pytest plugin (harness.testing)."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pytest

import harness_keyword_guard as guard
from harness_keyword_guard import ProtectedTerms, ProtectedTermsOptions

#: Every urgent note about a woman mislabelled: a tiny BERT fine-tuned on them learns to
#: lean on identity words, so the guard has something to find (21 of 71 texts flip).
BIASED: dict[str, Any] = {
    "model": {"fine_tune": {"epochs": 4, "lr": 5e-3, "batch_size": 8}},
    "data": {"synthetic": {"size": 400, "bias": 1.0, "bias_group": "sex=female"}},
}


@pytest.fixture(scope="session")
def harness_config() -> dict[str, Any]:
    """Overrides harness.testing's fixture for this module: harness_context gets the biased model."""
    return BIASED


def test_removal_is_whole_word_and_case_insensitive() -> None:
    pattern = guard.word_pattern(["he", "Black", "woman"])
    text = "He says the 62-year-old black Woman has chest pain; Blackwell's theory, womanhood."
    assert guard.strip_words(text, pattern) == "says the 62-year-old has chest pain; Blackwell's theory, womanhood."
    parts = guard.marked_parts(text, pattern)
    assert "".join(p["text"] for p in parts) == text
    assert [p["text"] for p in parts if p["removed"]] == ["He", "black", "Woman"]


def test_analyse_finds_exactly_the_texts_a_keyword_model_flips() -> None:
    texts = ["a woman with fever", "a man with fever", "fever", "She is a woman", "he coughs"]
    pattern = guard.word_pattern(["woman", "man", "she", "he"])
    indices = [i for i, t in enumerate(texts) if pattern.search(t)]

    def predict(batch: list[str]) -> np.ndarray:  # "a model" that only reads the word woman
        return np.array([int("woman" in t.lower()) for t in batch])

    analysis = guard.analyse(texts, indices, pattern, predict)
    assert indices == [0, 1, 3, 4]
    assert [analysis.indices[p] for p in analysis.flipped] == [0, 3]


def _independent_strip(text: str, words: list[str]) -> str:
    """A second implementation: tokenise, drop protected tokens, join (BERT ignores the spacing)."""
    lowered = {w.lower() for w in words}
    return " ".join(tok for tok in re.findall(r"[\w'-]+|[^\w\s]", text) if tok.lower() not in lowered)


def test_flip_rate_matches_an_independent_recount(harness_context) -> None:
    options = ProtectedTermsOptions()
    result = ProtectedTerms().run(harness_context, options)
    split = harness_context.data.eval
    words = {w.lower() for w in options.words}
    with_terms = [t for t in split.texts if words & {tok.lower() for tok in re.findall(r"[\w'-]+", t)}]
    predictor = harness_context.predictor
    before = predictor.predict(with_terms)
    after = predictor.predict([_independent_strip(t, options.words) for t in with_terms])
    flips = int((before != after).sum())
    metric = result.metric("flip_rate")
    assert result.evidence["tested"] == len(with_terms) > 20
    assert result.evidence["flipped"] == flips > 0  # the biased model does lean on the words
    assert metric is not None and metric.value == flips / len(with_terms)
    assert metric.interval.method == "wilson" and metric.interval.low < metric.value < metric.interval.high


def test_sampling_is_seeded_and_bounded(harness_context) -> None:
    first = ProtectedTerms().run(harness_context, ProtectedTermsOptions(max_examples=10))
    second = ProtectedTerms().run(harness_context, ProtectedTermsOptions(max_examples=10))
    assert first.evidence["tested"] == 10 and first.evidence["texts_with_terms"] > 10
    assert first.evidence == second.evidence


def test_no_protected_word_means_skipped(harness_context) -> None:
    result = ProtectedTerms().run(harness_context, ProtectedTermsOptions(words=["zyzzyva"]))
    assert result.status == "skipped" and "no text" in result.message


def test_a_run_gates_on_it_and_the_report_strikes_the_words_out(harness_plugin, harness_run, harness_config, tmp_path) -> None:
    harness_plugin(guard, name="keyword_guard")  # already loaded when installed; registered for this test otherwise
    result = harness_run({"keyword_guard.protected_terms": {"max": 0.01, "shown": 3}}, **harness_config)
    check = result.check("keyword_guard.protected_terms")
    assert check is not None and check.plugin == "keyword_guard"
    assert check.status == "fail" and result.exit_code == 1
    assert check.thresholds[0].comparison.startswith("flip_rate = ")
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved["checks"][0]["evidence"]["flipped"] == check.evidence["flipped"]
    html = (tmp_path / "out" / "report.html").read_text()
    assert "Texts whose prediction depends on protected words" in html and "<del>" in html
    assert 'name="keyword_guard.protected_terms"' in (tmp_path / "out" / "junit.xml").read_text()
