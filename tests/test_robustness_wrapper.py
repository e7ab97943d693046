"""PredictorModelWrapper: same attack outcomes as TextAttack's stock HuggingFaceModelWrapper, faster."""

from __future__ import annotations

import time

import pytest

torch = pytest.importorskip("torch")

from harness.ml.predict import Predictor  # noqa: E402
from harness_robustness.offline import import_textattack  # noqa: E402
from harness_robustness.wrapper import make_wrapper, predictor_wrapper_class  # noqa: E402


@pytest.fixture(scope="module")
def setup(tiny_attack_model):
    handle, texts, labels = tiny_attack_model
    return handle, list(zip(texts[:8], labels[:8]))


def _attack(wrapper, test):
    textattack = import_textattack()
    from textattack.attack_recipes import DeepWordBugGao2018

    attack = DeepWordBugGao2018.build(wrapper)
    dataset = textattack.datasets.Dataset([(text, int(label)) for text, label in test])
    args = textattack.AttackArgs(num_examples=len(test), random_seed=0, query_budget=200, disable_stdout=True, silent=True)
    start = time.perf_counter()
    results = textattack.Attacker(attack, dataset, args).attack_dataset()
    elapsed = time.perf_counter() - start
    outcomes = [
        (type(r).__name__, r.perturbed_result.attacked_text.text, r.perturbed_result.num_queries, r.original_result.output)
        for r in results
    ]
    return outcomes, elapsed


def test_outcomes_match_stock_wrapper(setup, capsys):
    handle, test = setup
    textattack = import_textattack()
    stock = textattack.models.wrappers.HuggingFaceModelWrapper(handle.model, handle.tokenizer)
    predictor = Predictor(handle)
    ours = make_wrapper(predictor)

    stock_outcomes, stock_time = _attack(stock, test)
    our_outcomes, our_time = _attack(ours, test)

    assert our_outcomes == stock_outcomes
    kinds = {kind for kind, *_ in our_outcomes}
    assert "SuccessfulAttackResult" in kinds, our_outcomes  # the attack did something
    # A second attack on the same texts is served from the Predictor's cache.
    forward_before = predictor.stats().forward_texts
    again, again_time = _attack(make_wrapper(predictor), test)
    assert again == stock_outcomes
    stats = predictor.stats()
    assert stats.cache_hits > 0
    assert stats.forward_texts == forward_before
    with capsys.disabled():
        print(f"\n[attack timing] stock {stock_time:.2f}s, predictor {our_time:.2f}s "
              f"({stock_time / our_time:.1f}x), predictor cached rerun {again_time:.2f}s; {stats}")


def test_wrapper_interface(setup):
    handle, test = setup
    textattack = import_textattack()
    predictor = Predictor(handle)
    wrapper = make_wrapper(predictor)
    assert isinstance(wrapper, textattack.models.wrappers.ModelWrapper)
    assert isinstance(wrapper, predictor_wrapper_class())
    assert wrapper.model is handle.model and wrapper.tokenizer is handle.tokenizer
    texts = [text for text, _ in test[:3]]
    out = wrapper(texts)
    stock = textattack.models.wrappers.HuggingFaceModelWrapper(handle.model, handle.tokenizer)(texts)
    assert isinstance(out, torch.Tensor) and out.dtype == stock.dtype and out.shape == stock.shape
    assert torch.allclose(out, stock, atol=1e-5)
    assert wrapper.tokenize(texts) == stock.tokenize(texts) if hasattr(stock, "tokenize") else True
    with pytest.raises(NotImplementedError, match="gradient"):
        wrapper.get_grad(texts[0])


def test_harness_attack_path_matches_stock_and_restores_textattack(setup):
    """attack_pairs (memoised word splitting + Predictor) gives the stock Attacker's outcomes, query counts included."""
    from textattack.attack_recipes import DeepWordBugGao2018
    from textattack.shared import attacked_text

    from harness_robustness.attack import attack_pairs
    from harness_robustness.speedups import fast_text_ops

    handle, test = setup
    textattack = import_textattack()
    stock_outcomes, _ = _attack(textattack.models.wrappers.HuggingFaceModelWrapper(handle.model, handle.tokenizer), test)
    original = attacked_text.words_from_text
    results = attack_pairs(DeepWordBugGao2018.build(make_wrapper(Predictor(handle))), list(test), seed=0, query_budget=200)
    ours = [(type(r).__name__, r.perturbed_result.attacked_text.text, r.perturbed_result.num_queries, r.original_result.output)
            for r in results]
    assert ours == stock_outcomes
    assert attacked_text.words_from_text is original  # the memo is scoped to the harness's attacks
    with fast_text_ops():
        memo = attacked_text.words_from_text
        assert memo is not original
        text = "Pt's BP 120/80, e-mail x@y.org; follow-up in 2 wks."
        first = memo(text)
        first.append("mutated")  # callers get a fresh list each time
        assert memo(text) == original(text)
        assert memo(text, ["BP"]) == original(text, ["BP"])
    assert attacked_text.words_from_text is original
