"""The one-run canary audit (Steinke, Nasr and Jagielski 2023): its bound, its power, planting, and the DP schedule.

The math tests take milliseconds. Not here yet: the end-to-end test in which DP
with deliberately broken noise (scaled down 100x while the accountant claims the
calibrated epsilon) is caught by the canaries; on the built-in tiny BERT with
AdamW, noise/100 at a claim the audit's power can reach still stops the model
from learning, so the canaries have nothing to reveal (issue 12, part 4).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness_privacy import canaries as cm


def _reference_p_value(m: int, r: int, v: int, eps: float, delta: float) -> float:
    """The authors' published Algorithm, loop for loop."""
    from scipy.stats import binom

    q = 1 / (1 + math.exp(-eps))
    beta = binom.sf(v - 1, r, q)
    alpha, total = 0.0, 0.0
    for i in range(1, v + 1):
        total += binom.pmf(v - i, r, q)
        if total > i * alpha:
            alpha = total / i
    return min(beta + alpha * delta * 2 * m, 1.0)


@pytest.mark.parametrize("m, r, v, eps, delta", [(100, 40, 35, 1.0, 1e-5), (1000, 200, 190, 2.0, 1e-4), (50, 50, 50, 3.0, 0.0), (300, 60, 30, 0.5, 1e-3)])
def test_p_value_is_the_papers_algorithm(m: int, r: int, v: int, eps: float, delta: float) -> None:
    assert cm.p_value(m, r, v, eps, delta) == pytest.approx(_reference_p_value(m, r, v, eps, delta), rel=1e-9, abs=1e-15)


def test_bound_and_power() -> None:
    # all r correct, delta 0: the bound solves q^r = p with q = e^eps / (1 + e^eps)
    for r, p in ((100, 0.05), (1000, 0.01)):
        q = p ** (1 / r)
        assert cm.epsilon_lower_bound(r, r, r, 0.0, p) == pytest.approx(math.log(q / (1 - q)), abs=1e-6)
    # chance-level guessing proves nothing; delta only lowers a bound
    assert cm.epsilon_lower_bound(200, 200, 100, 1e-5, 0.05) == 0.0
    assert cm.epsilon_lower_bound(500, 500, 500, 1e-4, 0.05) < cm.epsilon_lower_bound(500, 500, 500, 0.0, 0.05)
    # power grows only logarithmically with the canaries: a claim of 8 is out of reach of a few hundred
    powers = {m: cm.power(m, delta=1e-5) for m in (100, 500, 1000)}
    assert powers[100] < powers[500] < powers[1000] < 8
    assert 3.0 < powers[500] < 5.0


def test_audit_on_simulated_scores() -> None:
    rng = np.random.default_rng(0)
    included = rng.random(1000) < 0.5
    perfect = cm.audit(np.where(included, 5.0, -5.0) + rng.normal(0, 0.1, 1000), included, delta=1e-5)
    # perfect separation: every guess right up to the smaller of the two groups (k = m/2 overshoots it by chance)
    assert 0.75 * perfect.power < perfect.epsilon_lower_bound <= perfect.power
    assert all(row["correct"] == row["guesses"] for row in perfect.grid if row["guesses"] // 2 <= min(included.sum(), (~included).sum()))
    assert perfect.power == pytest.approx(cm.power(1000, 1e-5))
    blind = cm.audit(rng.normal(0, 1, 1000), included, delta=1e-5)
    assert blind.epsilon_lower_bound == 0.0 and blind.power == perfect.power
    # randomised response at epsilon 1 (the ideal 1-DP guesser): the bound stays below 1, as the theorem promises
    eps = 1.0
    keep = rng.random(1000) < math.exp(eps) / (1 + math.exp(eps))
    rr = cm.audit(np.where(keep == included, 1.0, -1.0) + rng.normal(0, 0.01, 1000), included, delta=0.0)
    assert 0.0 <= rr.epsilon_lower_bound < eps


def test_canaries_are_reproducible_and_planted_only_in_the_training_copy() -> None:
    from harness.config.settings import DataConfig
    from harness.ml.data import load_dataset
    from harness.ml.tiny_bert import build_tiny_bert

    data = load_dataset(DataConfig(path="builtin:clinical-triage", synthetic={"size": 60}), seed=0, base_dir=Path.cwd())
    _, tokenizer = build_tiny_bert(data.splits["train"].texts, data.label_names, seed=0)
    a = cm.make_canaries(200, 7, len(data.label_names), tokenizer)
    b = cm.make_canaries(200, 7, len(data.label_names), tokenizer)
    assert a.texts == b.texts and a.digest == b.digest and np.array_equal(a.included, b.included)
    assert a.digest != cm.make_canaries(200, 8, len(data.label_names), tokenizer).digest
    assert 70 < a.included.sum() < 130 and len(set(a.texts)) == 200
    assert all("[UNK]" not in tokenizer.tokenize(text) for text in a.texts[:20])
    record = cm.record_for(a, cm.CanaryOptions(count=200, seed=7))
    assert cm.regenerate(record, len(data.label_names), tokenizer).digest == a.digest
    planted = cm.plant(data, a)
    train = data.splits["train"]
    assert len(planted.splits["train"]) == len(train) + a.included.sum()
    assert len(data.splits["train"]) == len(train)  # the run's data is untouched
    assert planted.splits["test"] is data.splits["test"] and planted.splits["validation"] is data.splits["validation"]


def test_canary_options() -> None:
    from harness.config.settings import ModelConfig
    from harness.errors import ConfigError

    def options(value: Any, dp: bool) -> Any:
        fine_tune = {"epochs": 1} if value is ... else {"epochs": 1, "canaries": value}
        return cm.canary_options(ModelConfig(path="builtin:tiny-bert", fine_tune=fine_tune), dp=dp)

    assert options(..., dp=True) == cm.CanaryOptions() and options(..., dp=False) is None  # default for DP, opt-in otherwise
    assert options(300, dp=False).count == 300 and options(False, dp=True) is None
    assert cm.resolve_count(cm.CanaryOptions(), 180) == 100 and cm.resolve_count(cm.CanaryOptions(), 6000) == 1000
    assert cm.resolve_count(cm.CanaryOptions(), 900) == 450 and cm.resolve_count(cm.CanaryOptions(count=30), 900) == 30
    assert options({"count": 50, "seed": 3}, dp=False) == cm.CanaryOptions(count=50, seed=3)
    with pytest.raises(ConfigError, match="model.fine_tune.canaries.cont: unknown option"):
        options({"cont": 50}, dp=False)
    with pytest.raises(ConfigError, match="model.fine_tune.canaries"):
        options("many", dp=False)


def test_noise_is_calibrated_for_the_steps_the_loop_runs() -> None:
    """600 examples, batch 8, 3 epochs: Opacus' epochs-based calibration covers 224 steps, the loop runs 225."""
    from opacus.accountants import RDPAccountant

    from harness_privacy.dp_training import DPSettings, calibrate_noise, poisson_schedule

    rate, per_epoch, total = poisson_schedule(600, 8, 3)
    assert (rate, per_epoch, total) == (1 / 75, 75, 225)
    assert int(3 / rate) == 224  # what make_private_with_epsilon would have calibrated for
    dp = DPSettings(target_epsilon=2.0, delta=1 / 6000, delta_source="config", max_grad_norm=1.0, accountant="rdp", grad_sample_mode="hooks", max_physical_batch_size=8)
    sigma = calibrate_noise(dp, rate, total)
    accountant = RDPAccountant()
    accountant.history = [(sigma, rate, total)]
    assert accountant.get_epsilon(delta=dp.delta) <= dp.target_epsilon
    assert poisson_schedule(61, 16, 2) == (0.25, 4, 8)


def test_one_sided_guesser_counts_only_low_scores() -> None:
    """Memorisation: every planted canary fits its label, an unseen one matches it by chance; the lowest scores are
    then all excluded canaries while the top is mixed, and the one-sided guesser (fixed in the grid) proves more."""
    rng = np.random.default_rng(1)
    m = 400
    included = rng.random(m) < 0.5
    chance = rng.random(m) < 0.5
    scores = np.where(included | chance, 4.0, -4.0) + rng.normal(0, 0.5, m)
    result = cm.audit(scores, included, delta=1e-5)
    low = [row for row in result.grid if row["side"] == "low"]
    assert [row["guesses"] for row in low] == cm.low_guess_counts(m) == [40, 80]
    assert all(row["correct"] == row["guesses"] for row in low)
    assert result.side == "low" and result.epsilon_lower_bound > max(row["epsilon_lower_bound"] for row in result.grid if row["side"] == "both")
    assert len(result.grid) == len(cm.guessers(m)) == 5 and result.power == pytest.approx(cm.power(m, 1e-5))


def test_a_mechanism_weaker_than_its_claim_is_caught_and_a_sound_one_is_not() -> None:
    """Broken DP in the abstract: a mechanism that claims epsilon 0.5 but, with its noise turned
    down, behaves like randomised response at epsilon 4 on membership. The audit's bound rises
    above the claim (caught); the honest epsilon-0.5 mechanism stays below it on the same canaries.

    (End to end, the built-in tiny BERT trained with its DP noise divided by 100 learns nothing
    at the claims this audit can refute, so it leaks nothing to catch: see the issue-12 note.)
    """
    rng = np.random.default_rng(1)
    m, claim = 400, 0.5
    included = rng.random(m) < 0.5

    def randomised_response(eps: float) -> np.ndarray:
        keep = rng.random(m) < math.exp(eps) / (1 + math.exp(eps))
        return np.where(keep == included, 1.0, -1.0) + rng.normal(0, 0.01, m)

    broken = cm.audit(randomised_response(4.0), included, delta=1e-5)
    sound = cm.audit(randomised_response(claim), included, delta=1e-5)
    assert broken.power > claim and broken.epsilon_lower_bound > claim
    assert sound.epsilon_lower_bound <= claim
