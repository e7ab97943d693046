"""The shared Predictor: same outputs as unpadded single-text inference, each text once."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from harness.ml.models import ModelHandle
from harness.ml.tiny_bert import build_tiny_bert
from harness.ml.predict import Predictor
from harness.ml.builtin_data import SyntheticSpec, generate_clinical_triage


@pytest.fixture(scope="module")
def handle() -> ModelHandle:
    texts = generate_clinical_triage(SyntheticSpec(size=200, seed=3))["text"].tolist()
    model, tokenizer = build_tiny_bert(texts, ["a", "b", "c"], seed=0)
    model.eval()
    return ModelHandle(model, tokenizer, torch.device("cpu"), "builtin:tiny-bert", ("a", "b", "c"), max_length=128)


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return generate_clinical_triage(SyntheticSpec(size=60, seed=4))["text"].tolist()


def test_batched_padded_outputs_match_one_text_at_a_time(handle: ModelHandle, texts: list[str]) -> None:
    predictor = Predictor(handle, batch_size=7)
    batched = predictor.logits(texts)
    with torch.no_grad():
        single = np.stack([
            handle.model(**handle.tokenizer(t, return_tensors="pt", truncation=True, max_length=128)).logits[0].numpy()
            for t in texts
        ])
    assert batched.shape == (len(texts), 3)
    np.testing.assert_allclose(batched, single, atol=1e-5)
    assert predictor.stats().forward_batches == -(-len(texts) // 7)


def test_each_distinct_text_is_computed_once(handle: ModelHandle, texts: list[str]) -> None:
    predictor = Predictor(handle, batch_size=16)
    first = predictor.logits(texts)
    again = predictor.logits(list(reversed(texts)))
    np.testing.assert_array_equal(again, first[::-1])
    with_repeats = predictor.logits([texts[0], "a brand new text", texts[0], "a brand new text"])
    np.testing.assert_array_equal(with_repeats[0], with_repeats[2])
    stats = predictor.stats()
    assert stats.forward_texts == len(texts) + 1
    assert stats.cache_hits == len(texts) + 3
    assert stats.texts_requested == 2 * len(texts) + 4
    assert stats.requests == 3
    assert stats.cache_size == len(texts) + 1


def test_probabilities_and_predictions_agree_with_logits(handle: ModelHandle, texts: list[str]) -> None:
    predictor = Predictor(handle)
    probs = predictor.probabilities(texts)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(probs.argmax(axis=1), predictor.predict(texts))
    assert predictor.logits([]).shape == (0, 3)


def test_batches_are_length_sorted_and_token_capped(handle: ModelHandle) -> None:
    predictor = Predictor(handle, batch_size=4, max_tokens_per_batch=30)
    batches = predictor._batches([10, 3, 12, 5, 4, 11, 2])
    flat = [i for batch in batches for i in batch]
    assert sorted(flat) == list(range(7))
    lengths = [10, 3, 12, 5, 4, 11, 2]
    assert [lengths[i] for i in flat] == sorted(lengths)
    for batch in batches:
        assert len(batch) <= 4
        assert len(batch) == 1 or max(lengths[i] for i in batch) * len(batch) <= 30
