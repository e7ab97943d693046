"""White-box gradient canaries: the audit that catches broken DP noise whatever the model learned (issue 12, part 4).

The unit tests pin the planting (coordinates, inclusions regenerated from the
seed, placement in embedding rows no training text uses) and, through a real
Opacus DPOptimizer, that each observed total is exactly the canary's own
contribution when there is no noise. The end-to-end pair trains the built-in
tiny BERT with DP-SGD twice on the same data and seed: once as Opacus ships
it, once with its Gaussian noise divided by 100 while the accountant still
claims the calibrated epsilon. The first passes the audit, the second fails it
as "the DP implementation or its accounting is broken".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness_privacy import canaries as cm
from harness_privacy import gradient_canaries as gc


class _Toy:
    """A tiny model with input embeddings, built lazily (torch is imported by the tests that need it)."""

    @staticmethod
    def build(vocab: int = 40, width: int = 3) -> Any:
        import torch

        class Toy(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.embed = torch.nn.Embedding(vocab, width)
                self.head = torch.nn.Linear(width, 2)

            def get_input_embeddings(self) -> Any:
                return self.embed

            def forward(self, ids: Any) -> Any:
                return self.head(self.embed(ids).mean(dim=1))

        torch.manual_seed(0)
        return Toy()


def test_canaries_go_into_rows_no_training_text_uses_and_regenerate_from_the_seed() -> None:
    model = _Toy.build()
    planted = gc.GradientCanaries.plan(model, 60, seed=7, sample_rate=0.25, clip=1.0, used_token_ids=list(range(10)))
    assert planted.parameter == "embed.weight" and planted.placement == gc.PLACED_IN_UNUSED_ROWS
    rows = planted.coordinates // 3
    assert rows.min() >= 10 and len(set(planted.coordinates.tolist())) == 60 and planted.pool_size == 30 * 3
    record = planted.record()
    assert np.array_equal(gc.regenerate_included(record), planted.included)
    again = gc.GradientCanaries.plan(model, 60, seed=7, sample_rate=0.25, clip=1.0, used_token_ids=list(range(10)))
    assert np.array_equal(again.coordinates, planted.coordinates) and np.array_equal(again.included, planted.included)
    # too few unused rows: random coordinates of the largest trainable parameter, said so
    crowded = gc.GradientCanaries.plan(model, 60, seed=7, sample_rate=0.25, clip=1.0, used_token_ids=list(range(35)))
    assert crowded.placement == gc.PLACED_AT_RANDOM and crowded.pool_size == 40 * 3
    assert np.array_equal(gc.regenerate_included(crowded.record()), crowded.included)


def test_observed_totals_are_the_canaries_own_contributions_through_opacus() -> None:
    """With the noise at zero, a canary's total is exactly C x (times it was sampled): included ones only,
    and no data gradient leaks into the unused rows. With noise, an excluded canary's total is noise alone."""
    import torch
    from opacus import PrivacyEngine

    def train(noise: float) -> gc.GradientCanaries:
        model = _Toy.build()
        ids = torch.randint(0, 10, (64, 5), generator=torch.Generator().manual_seed(1))
        labels = (ids[:, 0] % 2).long()
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(ids, labels), batch_size=16)
        model.train()
        engine = PrivacyEngine(accountant="rdp")
        model, optimizer, loader = engine.make_private(module=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                                                       data_loader=loader, noise_multiplier=noise, max_grad_norm=0.5,
                                                       poisson_sampling=True)
        inner = model._module
        planted = gc.GradientCanaries.plan(inner, 30, seed=3, sample_rate=0.25, clip=0.5, used_token_ids=list(range(10)))
        planted.install(inner, optimizer)
        for _ in range(3):
            for batch_ids, batch_labels in loader:
                if len(batch_ids) == 0:
                    continue
                torch.nn.functional.cross_entropy(model(batch_ids), batch_labels).backward()
                optimizer.step()
                optimizer.zero_grad()
        return planted

    exact = train(0.0)
    assert exact.steps > 0 and exact.sampled[~exact.included].sum() == 0 and exact.sampled[exact.included].sum() > 0
    np.testing.assert_allclose(exact.totals, 0.5 * exact.sampled, rtol=0, atol=1e-6)
    noisy = train(2.0)
    assert not np.allclose(noisy.totals[~noisy.included], 0.0)
    # noise of standard deviation sigma * C = 1 per step: the excluded totals' spread is about sqrt(steps)
    spread = float(np.std(noisy.totals[~noisy.included]))
    assert 0.4 * np.sqrt(noisy.steps) < spread < 2.0 * np.sqrt(noisy.steps)


def test_auto_count_has_the_most_power_and_the_audit_reads_the_record() -> None:
    for delta in (1e-5, 1e-3):
        best = gc.auto_count(delta)
        powers = {m: cm.power(m, delta, 0.95, gc.GUESS_FRACTIONS, ()) for m in gc.COUNT_GRID}
        assert powers[best] == pytest.approx(max(powers.values()), abs=1e-9)
    model = _Toy.build(vocab=400)
    planted = gc.GradientCanaries.plan(model, 200, seed=0, sample_rate=0.1, clip=1.0, used_token_ids=[0, 1])
    planted.totals = np.where(planted.included, 3.0, 0.0) + np.random.default_rng(0).normal(0, 0.1, 200)
    result = gc.audit(planted.record(), delta=1e-5)
    # perfect separation: every guess right at the largest fixed guess count, so the bound is the audit's power
    assert result.method == gc.METHOD and result.correct == result.guesses == 120
    assert result.epsilon_lower_bound == pytest.approx(result.power) and result.power == pytest.approx(cm.power(200, 1e-5, 0.95, gc.GUESS_FRACTIONS, ()))
    planted.totals = np.random.default_rng(1).normal(0, 1, 200)
    assert gc.audit(planted.record(), delta=1e-5).epsilon_lower_bound < 0.5 * result.power


# ------------------------------------------------------------------ end to end: sound vs broken noise


DP_RUN = {
    "model": {"path": "builtin:tiny-bert", "fine_tune": {"epochs": 3, "lr": 3e-3, "batch_size": 16, "early_stopping_patience": None,
                                                         "warmup_ratio": 0.0, "save_model": False, "canaries": False,
                                                         "dp": {"target_epsilon": 1.0}}},
    "data": {"path": "builtin:clinical-triage", "synthetic": {"size": 200}, "split": {"train": 0.5, "validation": 0.0, "test": 0.5}},
    "suite": "privacy",
    "checks": {"privacy.membership_inference": {"attacks": ["loss"]}, "privacy.pii": {"enabled": False},
               "privacy.artifact_pii": {"enabled": False}},
}

#: Loaded at interpreter start (sitecustomize) in the CLI process of the broken run: Opacus' Gaussian noise
#: divided by 100, while the optimizer's noise multiplier, which the accountant reads, stays as calibrated.
BREAK_THE_NOISE = """
import opacus.optimizers.optimizer as dp_optimizer
import opacus.optimizers.optimizer_fast_gradient_clipping as ghost_optimizer

honest = dp_optimizer._generate_noise


def broken(std, reference, generator=None, secure_mode=False):
    return honest(std / 100, reference, generator=generator, secure_mode=secure_mode)


dp_optimizer._generate_noise = broken
if hasattr(ghost_optimizer, "_generate_noise"):
    ghost_optimizer._generate_noise = broken
"""


def test_sound_dp_passes_the_gradient_canary_audit(tmp_path: Path) -> None:
    from harness.config.settings import load_config
    from harness.run.runner import Run

    config, source, base = load_config({**DP_RUN, "output": {"dir": str(tmp_path / "sound"), "formats": ["json"]}})
    result = Run(config, source=source, base_dir=base, quiet=True).execute()
    check = result.check("privacy.membership_inference")
    assert check is not None and check.status == "pass", check.message
    claimed = check.metric("claimed_epsilon").value
    gradient = check.evidence["gradient_canary_audit"]
    assert check.evidence["decisive_audit"].startswith("white-box gradient canary audit (")
    assert gradient["placement"] == gc.PLACED_IN_UNUSED_ROWS and gradient["delta"] == check.evidence["claimed"]["delta"]
    assert check.metric("epsilon_lower_bound").value == gradient["epsilon_lower_bound"] <= claimed < gradient["power"]
    assert check.metric("gradient_canary_audit_power").value == check.metric("epsilon_audit_power").value == gradient["power"]


def test_dp_with_its_noise_divided_by_100_is_caught(tmp_path: Path) -> None:
    """The bug the audit exists for, through the real CLI: the noise scaled down 100x while the accountant still
    claims the calibrated epsilon. The run fails (exit 1) saying the DP implementation or its accounting is broken."""
    import json

    from conftest import offline_env, run_cli, write_config

    patch = tmp_path / "patch"
    patch.mkdir()
    (patch / "sitecustomize.py").write_text(BREAK_THE_NOISE, encoding="utf-8")
    config = write_config(tmp_path, {**DP_RUN, "output": {"dir": "broken", "formats": ["json"]}})
    done = run_cli("run", str(config), "-q", cwd=tmp_path, env={**offline_env(), "PYTHONPATH": str(patch)}, timeout=900)
    results = json.loads((tmp_path / "broken" / "results.json").read_text(encoding="utf-8"))
    check = next(c for c in results["checks"] if c["id"] == "privacy.membership_inference")
    metric = {m["name"]: m["value"] for m in check["metrics"]}
    assert done.returncode == 1 and results["verdict"] == "fail", done.stderr[-2000:]
    assert check["status"] == "fail" and "the DP implementation or its accounting is broken" in check["message"]
    epsilon = next(m["value"] for c in results["checks"] if c["id"] == "privacy.dp_epsilon" for m in c["metrics"] if m["name"] == "epsilon")
    assert metric["claimed_epsilon"] == pytest.approx(epsilon) and epsilon <= 1.0  # the accountant's calibrated claim
    assert metric["epsilon_lower_bound"] > metric["claimed_epsilon"]
    assert check["evidence"]["gradient_canary_audit"]["correct"] >= 0.9 * check["evidence"]["gradient_canary_audit"]["guesses"]


def test_report_partial_shows_the_gradient_audit_and_reads_its_bound() -> None:
    """The membership partial with a gradient audit: its rows, its method, and the reading from its bound
    (not the text canaries'); the parameter name is escaped."""
    from harness.outputs.html import make_environment
    from harness_privacy.membership import TEMPLATES

    rng = np.random.default_rng(0)
    included = rng.random(200) < 0.5
    text = cm.audit(rng.normal(0, 1, 200), included, delta=1e-4).to_dict()
    strong = cm.audit(np.where(included, 5.0, 0.0), included, delta=1e-4, fractions=gc.GUESS_FRACTIONS, low_fractions=())
    gradient = {**strong.to_dict(), "method": gc.METHOD, "parameter": "<b>embed</b>", "steps": 21, "inserted": 300}
    split = {"epsilon_lower_bound": 0.0, "level": 0.95, "delta": 1e-4, "attack": "loss", "power": 3.1, "method": "split", "evaluation": {}}
    evidence = {"members": {"count": 10}, "non_members": {"count": 10, "split": "test"}, "auc_interval_method": "DeLong",
                "attacks": {}, "notes": [], "exposed_examples": [], "canary_audit": text, "gradient_canary_audit": gradient,
                "decisive_audit": "white-box gradient canary audit (200 canaries)", "epsilon_audit_power": gradient["power"]}
    template = make_environment([str(TEMPLATES)]).get_template("harness_privacy/membership.html")
    html = template.render(evidence=evidence, chart="", audit=split, metrics={},
                           claimed={"epsilon": 0.5 * strong.epsilon_lower_bound, "delta": 1e-4, "accountant": "prv"})
    assert "Gradient canary audit (white-box, the DP-SGD mechanism itself)" in html and "Power of the gradient canary audit" in html
    assert "&lt;b&gt;embed&lt;/b&gt;" in html and "<b>embed" not in html
    assert "the DP implementation or its accounting is broken" in html  # the gradient bound is above the claim
    assert "Canary audit (one training run)" in html  # the text canaries still reported
