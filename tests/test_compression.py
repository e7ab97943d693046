"""The compression audit's numbers and compressions, checked against independent computations.

- intervals and tests: the agreement's Clopper-Pearson interval against statsmodels'
  ``proportion_confint(method="beta")``, McNemar against statsmodels' exact
  ``mcnemar`` and scipy's ``binomtest``, the paired-bootstrap changes against a plain
  loop over the same resample matrix, the no-change bound against its closed form,
  the ECE against the accuracy plugin's ``calibration``;
- compressions on a tiny BERT: global L1 pruning zeroes exactly the smallest
  weights and leaves no hooks, torchao int8 turns every nn.Linear weight into int8
  storage, fp16 / bf16 cast every floating weight;
- options: a bad method, amount or combination is refused by the options model.
"""

from __future__ import annotations

import math

import numpy as np
import pytest


def _pairs(seed: int = 0, n: int = 300) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    original = np.where(rng.random(n) < 0.85, y, 1 - y)
    compressed = np.where(rng.random(n) < 0.9, original, 1 - original)
    group = rng.integers(0, 3, n)
    return y, original, compressed, group


def test_agreement_interval_and_mcnemar_match_statsmodels_and_scipy() -> None:
    from scipy.stats import binomtest
    from statsmodels.stats.contingency_tables import mcnemar
    from statsmodels.stats.proportion import proportion_confint

    from harness_compression import pairstats as ps

    y, original, compressed, _ = _pairs()
    agree = int(np.sum(original == compressed))
    share = ps.share(agree, len(y), 0.95)
    low, high = proportion_confint(agree, len(y), alpha=0.05, method="beta")
    assert share.interval.method == "clopper-pearson"
    assert share.interval.low == pytest.approx(low, abs=1e-12) and share.interval.high == pytest.approx(high, abs=1e-12)

    right_o, right_c = original == y, compressed == y
    result = ps.mcnemar(right_o, right_c)
    table = [[int(np.sum(right_o & right_c)), int(np.sum(right_o & ~right_c))],
             [int(np.sum(~right_o & right_c)), int(np.sum(~right_o & ~right_c))]]
    assert (result["right_only_original"], result["right_only_compressed"]) == (table[0][1], table[1][0])
    assert result["p_value"] == pytest.approx(mcnemar(table, exact=True).pvalue, rel=1e-9)
    b, c = table[0][1], table[1][0]
    assert result["p_value"] == pytest.approx(binomtest(b, b + c, 0.5).pvalue, rel=1e-12)


def test_paired_changes_equal_a_loop_over_the_same_resamples() -> None:
    from harness_compression import pairstats as ps

    y, original, compressed, group = _pairs(1)
    idx = ps.resamples(len(y), 400, np.random.default_rng(7))
    for g in range(3):
        mask = group == g
        for name, den, hit_o, hit_c in (
            ("accuracy", mask, original == y, compressed == y),
            ("tpr", mask & (y == 1), original == 1, compressed == 1),
            ("fpr", mask & (y == 0), original == 1, compressed == 1),
        ):
            got = ps.paired_change(den, hit_o, hit_c, idx, 0.95)
            assert got.n == den.sum()
            assert got.original == pytest.approx(np.mean(hit_o[den])) and got.compressed == pytest.approx(np.mean(hit_c[den]))
            replicates = []
            for row in idx:  # the definition, one resample at a time
                d, o, c = den[row], hit_o[row], hit_c[row]
                replicates.append(np.mean(c[d]) - np.mean(o[d]) if d.any() else math.nan)
            replicates = np.asarray(replicates)
            replicates = replicates[np.isfinite(replicates)]
            assert got.interval.method == ps.BOOTSTRAP, name
            assert got.interval.low == pytest.approx(np.quantile(replicates, 0.025), abs=1e-12), name
            assert got.interval.high == pytest.approx(np.quantile(replicates, 0.975), abs=1e-12), name


def test_no_discordant_example_gives_the_exact_bound_not_a_zero_width_interval() -> None:
    from statsmodels.stats.proportion import proportion_confint

    from harness_compression import pairstats as ps

    y, original, _, _ = _pairs(2, n=40)
    idx = ps.resamples(len(y), 200, np.random.default_rng(0))
    got = ps.paired_change(np.ones(len(y), dtype=bool), original == y, original == y, idx, 0.95)
    bound = 1 - 0.025 ** (1 / 40)  # Clopper-Pearson upper limit of 0 of 40, closed form
    assert got.change == 0 and got.discordant == 0
    assert got.interval.method == ps.NO_CHANGE_BOUND
    assert got.interval.high == pytest.approx(bound, rel=1e-9) == pytest.approx(proportion_confint(0, 40, alpha=0.05, method="beta")[1])
    assert got.interval.low == -got.interval.high


def test_ece_and_its_bootstrap_equal_the_accuracy_plugins_calibration() -> None:
    from harness_accuracy.metrics import calibration

    from harness_compression import pairstats as ps

    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 250)
    probs = rng.dirichlet(np.ones(3), 250)
    assert ps.ece(probs.max(1), probs.argmax(1) == y, 15) == pytest.approx(calibration(y, probs, 15).ece, abs=1e-12)
    idx = ps.resamples(250, 50, rng)
    batch = ps.ece_batch(probs.max(1), probs.argmax(1) == y, idx, 15)
    for row, value in zip(idx[:10], batch[:10]):
        assert value == pytest.approx(calibration(y[row], probs[row], 15).ece, abs=1e-12)


@pytest.fixture(scope="module")
def tiny() -> object:
    """An untrained tiny BERT of the built-in kind: enough for the compressions' mechanics."""
    import torch

    from harness.ml.builtin_data import LABELS, SyntheticSpec, generate_clinical_triage
    from harness.ml.models import ModelHandle
    from harness.ml.tiny_bert import build_tiny_bert

    texts = generate_clinical_triage(SyntheticSpec(size=80))["text"].tolist()
    model, tokenizer = build_tiny_bert(texts, LABELS, seed=0)
    handle = ModelHandle(model=model.eval(), tokenizer=tokenizer, device=torch.device("cpu"), source="builtin:tiny-bert",
                         label_names=LABELS, max_length=64)
    handle.refresh_digest()
    return handle, texts


def test_magnitude_pruning_zeroes_the_globally_smallest_linear_weights_permanently(tiny: object) -> None:
    import torch

    from harness_compression.compress import build_compressed, linear_sparsity

    handle, _ = tiny
    pruned, details = build_compressed(handle, {"method": "magnitude-prune", "amount": 0.9})
    linears = [m for m in pruned.model.modules() if isinstance(m, torch.nn.Linear)]
    weights = torch.cat([m.weight.detach().abs().reshape(-1) for m in linears])
    assert details["linear_sparsity"] == pytest.approx(0.9, abs=1.0 / weights.numel() + 1e-12)
    assert linear_sparsity(pruned.model) == details["linear_sparsity"]
    # global L1: every weight kept is at least as large as every weight removed, across all layers
    originals = torch.cat([m.weight.detach().abs().reshape(-1) for m in handle.model.modules() if isinstance(m, torch.nn.Linear)])
    kept = weights != 0
    assert originals[~kept].max() <= originals[kept].min()
    assert all(not hasattr(m, "weight_orig") and not m._forward_pre_hooks for m in linears)  # made permanent
    assert linear_sparsity(handle.model) == 0.0  # the audited model is untouched
    assert pruned.weights_sha256 != handle.weights_sha256


def test_int8_dynamic_stores_every_linear_weight_as_int8_and_halves_the_bytes(tiny: object) -> None:
    pytest.importorskip("torchao")
    import torch

    from harness_compression.compress import build_compressed, weights_digest
    from harness_compression.footprint import parameter_bytes

    handle, texts = tiny
    quantized, details = build_compressed(handle, {"method": "int8-dynamic"})
    linears = [m for m in quantized.model.modules() if isinstance(m, torch.nn.Linear)]
    assert details["modules"] == len(linears) > 0
    for module in linears:
        inner, _ = module.weight.__tensor_flatten__()
        assert module.weight.qdata.dtype == torch.int8, inner
    assert parameter_bytes(quantized.model) < parameter_bytes(handle.model)
    assert weights_digest(quantized.model) == quantized.weights_sha256 != handle.weights_sha256
    encoded = handle.tokenizer(texts[:8], padding=True, return_tensors="pt")
    with torch.inference_mode():
        assert quantized.model(**encoded).logits.shape == handle.model(**encoded).logits.shape


@pytest.mark.parametrize(("method", "dtype"), [("fp16", "float16"), ("bf16", "bfloat16")])
def test_casts_change_every_floating_weight(tiny: object, method: str, dtype: str) -> None:
    import torch

    from harness_compression.compress import build_compressed
    from harness_compression.footprint import parameter_bytes

    handle, texts = tiny
    cast, details = build_compressed(handle, {"method": method})
    assert details["dtype"] == dtype
    assert {str(p.dtype) for p in cast.model.parameters()} == {f"torch.{dtype}"}
    assert parameter_bytes(cast.model) * 2 == parameter_bytes(handle.model)  # every tensor of the state dict is floating here
    encoded = handle.tokenizer(texts[:4], padding=True, return_tensors="pt")
    with torch.inference_mode():
        assert torch.isfinite(cast.model(**encoded).logits.float()).all()


@pytest.mark.parametrize(("options", "needle"), [
    ({"method": "int4"}, "Input should be 'int8-dynamic', 'fp16', 'bf16' or 'magnitude-prune'"),
    ({"method": "magnitude-prune"}, "magnitude-prune needs amount"),
    ({"method": "magnitude-prune", "amount": 1.5}, "strictly between 0 and 1"),
    ({"method": "fp16", "amount": 0.5}, "amount applies to magnitude-prune only"),
    ({"method": "fp16", "model": "./m"}, "either method"),
    ({"model": "builtin:tiny-bert"}, "not a compressed model"),
])
def test_bad_options_are_refused(options: dict, needle: str) -> None:
    from pydantic import ValidationError

    from harness_compression.options import CompressionOptions

    with pytest.raises(ValidationError) as error:
        CompressionOptions.model_validate(options)
    assert needle in error.value.errors()[0]["msg"]
    assert CompressionOptions.model_validate({}).spec() == {"method": "int8-dynamic"}
