"""Membership inference: exact-ROC metrics against scikit-learn, the epsilon audit's math, and end to end runs.

The metric tests are pure NumPy and take milliseconds; the end-to-end tests
run the real CLI on a deliberately overfit tiny BERT (small train set, many
epochs, no early stopping) and, when DP fine-tuning is available, on a DP one.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import run_cli, write_config
from harness.stats.intervals import clopper_pearson_interval
from harness_privacy import mia_metrics as mm
from harness_privacy import shadow


@pytest.mark.parametrize("seed, n_members, n_nonmembers, ties", [(0, 50, 70, False), (1, 200, 200, True), (2, 7, 300, True)])
def test_exact_roc_and_auc_match_scikit_learn(seed: int, n_members: int, n_nonmembers: int, ties: bool) -> None:
    from sklearn.metrics import roc_auc_score, roc_curve

    rng = np.random.default_rng(seed)
    members = rng.normal(0.4, 1.0, n_members)
    nonmembers = rng.normal(0.0, 1.0, n_nonmembers)
    if ties:  # rounded scores: many ties, inside and across the two groups
        members, nonmembers = np.round(members, 1), np.round(nonmembers, 1)
    roc = mm.exact_roc(members, nonmembers)
    y = np.r_[np.ones(n_members), np.zeros(n_nonmembers)]
    scores = np.r_[members, nonmembers]
    fpr, tpr, thresholds = roc_curve(y, scores, drop_intermediate=False)
    np.testing.assert_allclose(roc.fpr, fpr)
    np.testing.assert_allclose(roc.tpr, tpr)
    np.testing.assert_allclose(roc.thresholds[1:], thresholds[1:])
    assert mm.roc_auc(roc) == pytest.approx(roc_auc_score(y, scores), abs=1e-12)
    auc, interval = mm.delong_interval(members, nonmembers)
    assert auc == pytest.approx(roc_auc_score(y, scores), abs=1e-12)
    assert interval.method == "delong" and interval.low < auc < interval.high
    # best balanced accuracy = max over sklearn's thresholds of (TPR + 1 - FPR) / 2
    assert mm.best_balanced_accuracy(roc)[0] == pytest.approx(np.max((tpr + 1 - fpr) / 2))
    # TPR at 1% FPR: the largest sklearn TPR whose FPR is at most 1%
    at = mm.tpr_at_fpr(roc, 0.01)
    if n_nonmembers >= 100:
        assert at.resolvable and at.tpr == pytest.approx(tpr[fpr <= 0.01].max())
        assert at.interval is not None and at.interval.method == "clopper-pearson" and at.interval.low <= at.tpr <= at.interval.high
    else:
        assert not at.resolvable and at.tpr is None and "100 non-members" in at.note
    assert not mm.tpr_at_fpr(roc, 0.001).resolvable  # never 1000 non-members here


def test_delong_width_matches_the_bootstrap_spread() -> None:
    """DeLong's standard error is an independent formula: it must agree with the bootstrap's spread."""
    rng = np.random.default_rng(3)
    members, nonmembers = rng.normal(0.8, 1, 300), rng.normal(0, 1, 300)
    _, interval = mm.delong_interval(members, nonmembers)
    boot = [mm.roc_auc(mm.exact_roc(rng.choice(members, members.size), rng.choice(nonmembers, nonmembers.size))) for _ in range(400)]
    assert interval.width / 2 / 1.96 == pytest.approx(np.std(boot), rel=0.2)


def test_vectorised_clopper_pearson_matches_harness_stats() -> None:
    counts = np.array([0, 1, 5, 37, 99, 100])
    low, high = mm.clopper_pearson_bounds(counts, 100, 0.95)
    for k, lo, hi in zip(counts, low, high):
        reference = clopper_pearson_interval(int(k), 100, 0.95)
        assert lo == pytest.approx(reference.low, abs=1e-12) and hi == pytest.approx(reference.high, abs=1e-12)


def test_epsilon_bound_on_constructed_rocs() -> None:
    rng = np.random.default_rng(0)
    # perfect separation of 500 + 500: on the held-out half (250 each) Clopper-Pearson alone caps the bound at
    # log(TPR_low / FPR_high) with TPR_low = 0.025**(1/250), FPR_high = 1 - TPR_low
    perfect = mm.audit_epsilon({"oracle": (np.ones(500), np.zeros(500))}, delta=0.0, rng=rng)
    cap = 0.025 ** (1 / 250)
    assert perfect.epsilon_lower_bound == pytest.approx(math.log(cap / (1 - cap)), rel=1e-6)
    assert perfect.epsilon_lower_bound > 4
    assert perfect.evaluation == {"members": 250, "nonmembers": 250, "true_positives": 250, "false_positives": 0}
    # random scores prove nothing (the bound is clipped at 0); checked over several draws
    for seed in range(5):
        draw = np.random.default_rng(100 + seed)
        random = mm.audit_epsilon({"noise": (draw.random(400), draw.random(400))}, delta=1e-5, rng=draw)
        assert random.epsilon_lower_bound < 0.3
    # the bound grows with the attack's strength and shrinks with delta
    weak = mm.audit_epsilon({"a": (rng.normal(1, 1, 1000), rng.normal(0, 1, 1000))}, delta=0.0, rng=np.random.default_rng(1))
    strong = mm.audit_epsilon({"a": (rng.normal(3, 1, 1000), rng.normal(0, 1, 1000))}, delta=0.0, rng=np.random.default_rng(1))
    assert 0 < weak.epsilon_lower_bound < strong.epsilon_lower_bound
    # one threshold by hand: TPR = 0.9, FPR = 0.1 on 1000 each
    by_hand = mm.epsilon_bounds([900], [100], 1000, 1000, delta=0.0)[0]
    lo = clopper_pearson_interval(900, 1000).low
    hi = clopper_pearson_interval(100, 1000).high
    assert by_hand == pytest.approx(max(math.log(lo / hi), math.log((1 - hi) / (1 - lo))))


def test_epsilon_audit_chooses_on_one_half_and_bounds_on_the_other() -> None:
    """A threshold overfit to noise on the selection half must not carry a positive bound to the other half."""
    rng = np.random.default_rng(7)
    members, nonmembers = rng.random(60), rng.random(60)
    audit = mm.audit_epsilon({"noise": (members, nonmembers)}, delta=0.0, rng=np.random.default_rng(0))
    assert audit.evaluation["members"] == 30 and audit.evaluation["nonmembers"] == 30
    assert audit.epsilon_lower_bound == 0.0
    with pytest.raises(ValueError, match="same members"):
        mm.audit_epsilon({"a": ([1, 2, 3], [0, 1, 2]), "b": ([1, 2], [0, 1])}, delta=0.0, rng=rng)


def test_attack_scores() -> None:
    logits = np.array([[2.0, 0.0, -1.0], [0.0, 30.0, 0.0], [1.0, 1.0, 1.0]])
    labels = np.array([0, 1, 2])
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    p = probs[np.arange(3), labels]
    np.testing.assert_allclose(shadow.loss_scores(logits, labels), np.log(p), atol=1e-12)
    phi = shadow.logit_confidence(logits, labels)
    np.testing.assert_allclose(phi[[0, 2]], np.log(p / (1 - p))[[0, 2]])
    assert phi[1] == pytest.approx(30 - math.log(2))  # p_y ~ 1: exact from logits, where log(p / (1 - p)) overflows
    # offline LiRA: the candidate far above its OUT distribution ranks first; a constant shift of all shadows changes nothing
    target = np.array([5.0, 1.0, 0.0])
    shadows = np.array([[0.0, 1.0, 0.2], [0.2, 1.2, -0.2], [-0.2, 0.8, 0.0]])
    z, info = shadow.lira_offline_scores(target, shadows)
    assert info["variance"] == "global" and np.argmax(z) == 0
    shifted, _ = shadow.lira_offline_scores(target, shadows - 3.0)
    np.testing.assert_allclose(np.argsort(shifted), np.argsort(z))


# ---------------------------------------------------------------- end to end

OVERFIT_TRAINING = {"epochs": 30, "lr": 3.0e-3, "batch_size": 8, "early_stopping_patience": None, "warmup_ratio": 0.0,
                    "weight_decay": 0.0, "save_model": False}


def _membership(folder: Path) -> dict[str, Any]:
    results = json.loads((folder / "out" / "results.json").read_text(encoding="utf-8"))
    return next(c for c in results["checks"] if c["id"] == "privacy.membership_inference")


def _metric(check: dict[str, Any], name: str) -> Any:
    return next(m for m in check["metrics"] if m["name"] == name)


def test_overfit_model_leaks_membership_end_to_end(tmp_path: Path) -> None:
    config = write_config(tmp_path, {
        # opt-in canaries on a non-DP run: the one-run audit decides the epsilon bound
        "model": {"path": "builtin:tiny-bert", "fine_tune": {**OVERFIT_TRAINING, "canaries": 200}},
        "data": {"path": "builtin:clinical-triage", "synthetic": {"size": 400}, "split": {"train": 0.35, "validation": 0.3, "test": 0.35}},
        "suite": "privacy",
        "checks": {"privacy.membership_inference": {"max": 0.99, "thresholds": {"tpr_at_1pct_fpr": {"max": 1.0}}, "shadow_models": 2,
                                                    "exposed_examples": 5},
                   "privacy.dp_epsilon": {"enabled": False}, "privacy.pii": {"enabled": False}},
        "output": {"dir": "out", "formats": ["json", "html"]},
    })
    done = run_cli("run", str(config), "-q", cwd=tmp_path, timeout=900)
    assert done.returncode == 0, done.stderr + done.stdout
    check = _membership(tmp_path)
    assert set(check["evidence"]["attacks"]) == {"loss", "lira"}
    for name in ("auc", "loss_auc", "lira_auc"):
        auc = _metric(check, name)
        assert auc["value"] > 0.55 and auc["interval"]["low"] > 0.5 and auc["interval"]["method"] == "delong", name
    bound = _metric(check, "epsilon_lower_bound")["value"]
    assert bound == _metric(check, "canary_epsilon_lower_bound")["value"] > 0.1  # an overfit model leaks its canaries
    assert bound <= _metric(check, "canary_audit_power")["value"]
    assert _metric(check, "split_audit_power")["value"] > 0  # the split audit states its power too
    assert _metric(check, "claimed_epsilon")["value"] is None and "no claimed epsilon" in check["message"]
    # 140 non-members: 1% FPR is resolvable, 0.1% is not, and the metric says so instead of a number
    assert _metric(check, "tpr_at_1pct_fpr")["interval"]["method"] == "clopper-pearson"
    assert _metric(check, "tpr_at_0.1pct_fpr")["value"] is None and "not resolvable" in _metric(check, "tpr_at_0.1pct_fpr")["description"]
    shadows = check["evidence"]["shadow"]
    half = shadows["population_size"] // 2
    assert shadows["population_split"] == "validation" and shadows["population_size"] > 100
    assert shadows["shadow_models"] == 2 and shadows["train_examples_each"] == [half, half] and shadows["variance"] == "global"
    assert shadows["method"].startswith("harness.ml.training")  # trained the target's way, by the core loop (no DP asked)
    assert len(check["evidence"]["exposed_examples"]) == 5
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "Auditing the privacy guarantee" in html and "Most exposed training examples" in html and "<svg" in html


def test_attack_choice_follows_how_the_model_was_trained() -> None:
    from harness.errors import ConfigError
    from harness_privacy.membership import MembershipOptions, _resolve_attacks

    assert _resolve_attacks(MembershipOptions(), True, "validation", 80) == (("loss", "lira"), [])
    attacks, notes = _resolve_attacks(MembershipOptions(), False, "validation", 80)
    assert attacks == ("loss",) and "audited as loaded" in notes[0]
    attacks, notes = _resolve_attacks(MembershipOptions(), True, "validation", 0)
    assert attacks == ("loss",) and "no population split 'validation'" in notes[0]
    with pytest.raises(ConfigError, match="audits the model as loaded"):
        _resolve_attacks(MembershipOptions(attacks=("loss", "lira")), False, "validation", 80)


def test_model_audited_as_loaded_gets_the_loss_attack_only(tmp_path: Path) -> None:
    from harness.ml.tiny_bert import build_tiny_bert
    from harness.ml.builtin_data import LABELS, SyntheticSpec, generate_clinical_triage

    frame = generate_clinical_triage(SyntheticSpec(size=120))
    model, tokenizer = build_tiny_bert(frame["text"].tolist(), LABELS, seed=0)
    model.save_pretrained(tmp_path / "model")
    tokenizer.save_pretrained(tmp_path / "model")
    config = write_config(tmp_path, {
        "model": {"path": str(tmp_path / "model")}, "data": {"synthetic": {"size": 120}}, "suite": "smoke",
        "checks": {"privacy.membership_inference": {"gate": False}}, "output": {"dir": "out", "formats": ["json"]},
    })
    done = run_cli("run", str(config), "-q", cwd=tmp_path)
    check = _membership(tmp_path)
    assert check["status"] in ("pass", "fail", "inconclusive") and list(check["evidence"]["attacks"]) == ["loss"], done.stderr
    assert "audited as loaded" in check["message"] and "shadow" not in check["evidence"]


def test_a_broken_dp_claim_fails_the_audit(tmp_path: Path) -> None:
    """A training plugin that claims epsilon 0.05 for a model it overfit without DP: the attack refutes the claim."""
    import types

    from harness import hookimpl
    from harness.config.settings import load_config
    from harness.plugin.manager import build_host
    from harness.run.runner import Run

    def harness_train(model: Any, data: Any, spec: Any, ctx: Any) -> Any:
        import dataclasses

        from harness.ml import training
        report = training.fine_tune(model, data, spec.fine_tune, seed=ctx.seed, progress=False)
        return dataclasses.replace(report, extra={"dp": {"epsilon": 0.05, "delta": 1e-5, "accountant": "made up", "noise_multiplier": 5.0,
                                                         "sample_rate": 0.01, "steps": 10}})

    host = build_host()
    host.register_plugin(types.SimpleNamespace(harness_train=hookimpl(harness_train)), "broken-dp")
    config, source, base = load_config({
        "model": {"path": "builtin:tiny-bert", "fine_tune": OVERFIT_TRAINING},
        "data": {"path": "builtin:clinical-triage", "synthetic": {"size": 300}, "split": {"train": 0.5, "validation": 0.0, "test": 0.5}},
        "suite": "smoke",
        "checks": {"privacy.membership_inference": {"max": 1.0, "attacks": ["loss"]}},
        "output": {"dir": str(tmp_path / "out"), "formats": ["json"]},
    })
    result = Run(config, source=source, base_dir=base, quiet=True, host=host).execute()
    check = result.check("privacy.membership_inference")
    assert check is not None and check.status == "fail", check
    assert "the DP implementation or its accounting is broken" in check.message
    assert check.metric("epsilon_lower_bound").value > 0.05 == check.metric("claimed_epsilon").value
    assert result.exit_code == 1


def test_dp_model_stays_below_its_claimed_epsilon_but_the_audit_cannot_refute_8(tmp_path: Path) -> None:
    """A claim of 8 is above what 100 canaries (or 75 + 75 held-out examples) can ever prove: inconclusive, never a pass."""
    config = write_config(tmp_path, {
        "model": {"path": "builtin:tiny-bert", "fine_tune": {**OVERFIT_TRAINING, "epochs": 8, "batch_size": 16, "dp": {"target_epsilon": 8}}},
        "data": {"path": "builtin:clinical-triage", "synthetic": {"size": 300}, "split": {"train": 0.5, "validation": 0.0, "test": 0.5}},
        "suite": "privacy",
        "checks": {"privacy.membership_inference": {"max": 1.0, "thresholds": {"tpr_at_1pct_fpr": {"max": 1.0}}}, "privacy.pii": {"enabled": False}},
        "output": {"dir": "out", "formats": ["json"]},
    })
    done = run_cli("run", str(config), "-q", cwd=tmp_path, timeout=900)
    assert (tmp_path / "out" / "results.json").exists(), done.stderr + done.stdout
    check = _membership(tmp_path)
    claimed = _metric(check, "claimed_epsilon")["value"]
    assert claimed is not None and 0 < claimed <= 8.0
    assert _metric(check, "epsilon_lower_bound")["value"] < claimed
    power = _metric(check, "epsilon_audit_power")["value"]
    # a DP run plants text canaries and inserts gradient canaries by default; the white-box gradient audit decides
    assert check["evidence"]["decisive_audit"].startswith("white-box gradient canary audit (")
    assert power == _metric(check, "gradient_canary_audit_power")["value"] < claimed
    assert 0 < _metric(check, "canary_audit_power")["value"] < claimed and check["evidence"]["canary_audit"]["canaries"] == 100
    assert 0 < _metric(check, "split_audit_power")["value"] < claimed
    assert check["status"] == "inconclusive" and "this audit cannot refute the claimed epsilon" in check["message"]
    assert check["evidence"]["claimed"]["accountant"]
    assert check["evidence"]["epsilon_audit"]["delta"] == check["evidence"]["claimed"]["delta"] == check["evidence"]["canary_audit"]["delta"]
    assert check["evidence"]["gradient_canary_audit"]["delta"] == check["evidence"]["claimed"]["delta"]


def test_exposed_examples_are_masked_by_the_pii_scanner() -> None:
    from harness_privacy.membership import _mask

    masked = _mask("Seen by Dr Smith, call 555-201-7788 or write to jane.doe@example.org")
    assert "555-201-7788" not in masked and "jane.doe@example.org" not in masked
    assert "[" in masked  # typed placeholders


def test_report_partial_shows_the_canary_audit_and_its_power() -> None:
    """The membership partial: canary count, planted, bound and power, the split audit's power, and the
    plain sentence when the claim is above the power; everything escaped (autoescape)."""
    from harness.outputs.html import make_environment
    from harness_privacy import canaries as cm
    from harness_privacy.membership import TEMPLATES

    rng = np.random.default_rng(0)
    included = rng.random(200) < 0.5
    canary = cm.audit(rng.normal(0, 1, 200), included, delta=1e-4).to_dict()
    split = {"epsilon_lower_bound": 0.0, "level": 0.95, "delta": 1e-4, "attack": "<script>x</script>", "power": 3.1,
             "method": "split", "evaluation": {}}
    evidence = {"members": {"count": 10}, "non_members": {"count": 10, "split": "test"}, "auc_interval_method": "DeLong",
                "attacks": {}, "notes": ["<b>note</b>"], "exposed_examples": [], "canary_audit": canary,
                "decisive_audit": "canary audit (200 canaries)", "epsilon_audit_power": canary["power"]}
    template = make_environment([str(TEMPLATES)]).get_template("harness_privacy/membership.html")

    def render(claim: float) -> str:
        return template.render(evidence=evidence, chart="", audit=split, metrics={},
                               claimed={"epsilon": claim, "delta": 1e-4, "accountant": "rdp"})

    html = render(8.0)
    assert "this audit cannot refute the claimed epsilon" in html and "Power of the canary audit" in html
    assert f"{canary['canaries']} canaries, {canary['included']} planted" in html
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;note&lt;/b&gt;" in html
    low = render(0.5 * canary["power"])
    assert "cannot refute" not in low and "Consistent with the claim" in low
