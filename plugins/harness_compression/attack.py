"""The robustness plugin's attack on both models: same recipe, same sample, same seed.

The original's attack is exactly ``robustness.attack_success_rate``'s for the
same recipe and sample size (``harness_robustness.checks.attack_outcome``: run
once and shared when that check runs too); the compressed model is attacked by
``harness_robustness.attack.run_attack`` with the seed that check derives, so
both attacks draw the same examples and the same search randomness.

The change of the success rate is paired: per sampled example the attack
succeeded, failed, or was skipped (already misclassified) on each model, and the
bootstrap resamples the sampled examples once for both. With no example whose
outcome differs, the interval is the exact bound (``pairstats``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from harness import wilson_interval
from harness_compression.compress import compressed_model
from harness_compression.options import AttackRegressionOptions

if TYPE_CHECKING:
    from harness import RunContext

__all__ = ["attack_pair", "paired_success_change"]


def paired_success_change(original: list[str], compressed: list[str], rng: Any, n_boot: int, level: float) -> dict[str, Any]:
    """Change (compressed - original) of succeeded / (succeeded + failed), with a paired bootstrap over examples."""
    import numpy as np

    from harness import Interval, clopper_pearson_interval
    from harness_compression.pairstats import BOOTSTRAP, NO_CHANGE_BOUND

    so = np.asarray([s == "succeeded" for s in original])
    sc = np.asarray([s == "succeeded" for s in compressed])
    ao = np.asarray([s != "skipped" for s in original])
    ac = np.asarray([s != "skipped" for s in compressed])
    if not ao.any() or not ac.any():
        return {"value": None, "interval": None, "n": len(original), "discordant": None}
    value = float(sc.sum() / ac.sum() - so.sum() / ao.sum())
    discordant = int(np.sum((so != sc) | (ao != ac)))
    if discordant == 0:
        bound = clopper_pearson_interval(0, int(ao.sum()), level).high
        interval = Interval(-bound, bound, level, NO_CHANGE_BOUND)
    else:
        idx = rng.integers(0, len(original), size=(n_boot, len(original)))
        with np.errstate(divide="ignore", invalid="ignore"):
            reps = sc[idx].sum(1) / ac[idx].sum(1) - so[idx].sum(1) / ao[idx].sum(1)
        finite = reps[np.isfinite(reps)]
        alpha = (1 - level) / 2
        interval = Interval(float(np.quantile(finite, alpha)), float(np.quantile(finite, 1 - alpha)), level, BOOTSTRAP) if finite.size else None
    return {"value": value, "interval": interval.to_dict() if interval else None, "n": len(original), "discordant": discordant}


def attack_pair(ctx: "RunContext", options: AttackRegressionOptions) -> dict[str, Any]:
    """Attack the original (shared with the robustness checks) and the compressed model on the same sample and seed."""
    from harness_robustness.attack import run_attack, stratified_sample
    from harness_robustness.checks import AttackOptions, attack_outcome, recipe_choice

    data = ctx.require_data()
    split = data.eval
    spec = options.spec()
    attack_options = AttackOptions(recipe=options.recipe, examples=options.examples, query_budget=options.query_budget)
    choice = recipe_choice(ctx, attack_options)
    ctx.progress(f"compression: {choice.recipe} attack on {options.examples} examples, original then compressed")
    original = attack_outcome(ctx, attack_options)
    # the seed robustness.attack_success_rate derives (checks.attack_outcome): same sample, same search randomness
    seed = int(ctx.rng(f"robustness:{choice.recipe}").integers(0, 2**31 - 1))
    twin = compressed_model(ctx, spec)
    fields = {"options": attack_options.model_dump(mode="json"), "recipe": choice.recipe, "split": split.name,
              "data": split.fingerprint, "run_seed": ctx.seed, "compression": json.dumps(spec, sort_keys=True)}
    compressed = run_attack(
        split.texts, split.labels, data.label_names, twin.predictor, recipe=choice.recipe, examples=options.examples,
        query_budget=options.query_budget, seed=seed, checkpoint_dir=ctx.checkpoint_dir("compression", "attack", choice.recipe),
        checkpoint_fields=fields, changed_unit=choice.changed_unit,
    )
    sample = stratified_sample([int(v) for v in split.labels], options.examples, seed)
    status_o = _per_example(original, sample, ctx.require_predictor(), split.texts, split.labels)
    status_c = _per_example(compressed, sample, twin.predictor, split.texts, split.labels)
    change = paired_success_change([status_o[i] for i in sample], [status_c[i] for i in sample],
                                   ctx.rng(f"compression:attack:{json.dumps(spec, sort_keys=True)}"), options.n_boot, options.level)
    newly = sorted(i for i in sample if status_c[i] == "succeeded" and status_o[i] == "failed")
    by_index = {int(s["index"]): s for s in compressed.successes}
    return {
        "spec": spec, "recipe": choice.recipe, "examples": len(sample), "seed": seed,
        "original": _summary(original), "compressed": _summary(compressed), "change": change,
        "newly_flipped": [_masked(ctx, by_index[i]) for i in newly[: options.listed] if i in by_index],
    }


def _per_example(outcome: Any, sample: list[int], predictor: Any, texts: Any, labels: Any) -> dict[int, str]:
    """succeeded / failed / skipped per sampled index.

    The outcome names its successful examples by index; of the others, TextAttack
    skips exactly those the model already misclassifies (the untargeted goal is
    met before any edit), which the model's own prediction tells. The counts
    must match the outcome's, or the pairing would be wrong: checked.
    """
    succeeded = {int(s["index"]) for s in outcome.successes}
    predicted = predictor.predict([texts[i] for i in sample])
    status = {}
    for i, guess in zip(sample, predicted):
        status[i] = "succeeded" if i in succeeded else ("skipped" if int(guess) != int(labels[i]) else "failed")
    counts = [sum(v == k for v in status.values()) for k in ("succeeded", "failed", "skipped")]
    if counts != [outcome.succeeded, outcome.failed, outcome.skipped]:
        raise RuntimeError(f"per-example attack outcomes {counts} do not match the attack's counts "
                           f"{[outcome.succeeded, outcome.failed, outcome.skipped]}: cannot pair the two attacks")
    return status


def _summary(outcome: Any) -> dict[str, Any]:
    rate = outcome.attack_success_rate
    attacked = outcome.succeeded + outcome.failed
    interval = wilson_interval(outcome.succeeded, attacked) if attacked else None
    return {"attack_success_rate": rate, "interval": interval.to_dict() if interval else None, "succeeded": outcome.succeeded,
            "failed": outcome.failed, "skipped": outcome.skipped, "accuracy_under_attack": outcome.accuracy_under_attack}


def _masked(ctx: "RunContext", success: dict[str, Any]) -> dict[str, Any]:
    return {"index": success["index"], "original": ctx.redact(str(success["original"])), "perturbed": ctx.redact(str(success["perturbed"])),
            "original_label": success["original_label"], "perturbed_label": success["perturbed_label"]}
