"""The robustness checks: one TextAttack attack per run and option set, read by both checks.

:func:`attack_outcome` runs the attack (``attack.py``) on a seeded,
class-stratified sample of the evaluation split through the run's shared
Predictor and keeps it in ``ctx.extra``; each check reports its numbers and the
successful examples with personal data masked (``redaction.py``). TextAttack
and NumPy are imported only when a check runs, so registering these checks
keeps ``harness --help`` light.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from pydantic import Field

from harness import Check, CheckOptions, CheckResult, Interval, Metric, Threshold
from harness_robustness.redaction import redact_example

if TYPE_CHECKING:
    from harness import RunContext

__all__ = ["ROBUSTNESS_CLAUSES", "AttackOptions", "attack_outcome", "AttackSuccessRate", "AccuracyUnderAttack", "CHECKS"]

ROBUSTNESS_CLAUSES = (
    "EU AI Act Art. 15(1)",
    "EU AI Act Art. 15(4)",
    "EU AI Act Art. 15(5)",
    "EU AI Act Art. 13(3)(b)(ii)",
    "NIST AI RMF MEASURE 2.7",
)


class AttackOptions(CheckOptions):
    recipe: str = Field("deepwordbug", description="TextAttack recipe (offline: deepwordbug, pruthi, char-swap, qwerty, char-insert-delete)")
    examples: int = Field(100, ge=1, le=100_000, description="class-stratified sample of the evaluation split")
    query_budget: int | None = Field(None, ge=1, description="model queries allowed per example")


def attack_outcome(ctx: "RunContext", options: AttackOptions) -> Any:
    """The run's attack for these options, done once and shared by the robustness checks."""
    from harness_robustness.attack import run_attack

    data = ctx.require_data()
    split = data.eval
    predictor = ctx.require_predictor()
    # What decides the attack besides the model (run_attack adds the model's identity and the library versions).
    fields = {"options": options.model_dump(mode="json"), "split": split.name, "data": split.fingerprint, "run_seed": ctx.seed}
    key = ("harness_robustness.attack", predictor.handle.weights_sha256, json.dumps(fields, sort_keys=True))
    if key not in ctx.extra:
        ctx.extra[key] = run_attack(
            split.texts, split.labels, data.label_names, predictor,
            recipe=options.recipe, examples=options.examples, query_budget=options.query_budget,
            seed=int(ctx.rng(f"robustness:{options.recipe}").integers(0, 2**31 - 1)),
            checkpoint_dir=ctx.checkpoint_dir("robustness", options.recipe), checkpoint_fields=fields,
        )
    return ctx.extra[key]


def _interval(bounds: Any) -> Interval | None:
    return Interval(bounds[0], bounds[1], method="wilson") if bounds else None


def _finite(value: Any) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


class _AttackCheck(Check):
    Options = AttackOptions
    regulations = ROBUSTNESS_CLAUSES

    def run(self, ctx: "RunContext", options: AttackOptions) -> CheckResult:  # type: ignore[override]
        outcome = attack_outcome(ctx, options)
        metrics = [
            Metric("attack_success_rate", _finite(outcome.attack_success_rate), _interval(outcome.attack_success_rate_interval)),
            Metric("accuracy_under_attack", _finite(outcome.accuracy_under_attack), _interval(outcome.accuracy_under_attack_interval)),
            Metric("original_accuracy", _finite(outcome.original_accuracy), _interval(outcome.original_accuracy_interval)),
            Metric("avg_words_perturbed", _finite(outcome.avg_words_perturbed), description="mean share of words changed in successful attacks (0 when every attack failed)"),
            Metric("avg_queries", _finite(outcome.avg_queries)),
        ]
        metrics.sort(key=lambda m: m.name != self.primary_metric)  # the gated metric first
        rate = outcome.attack_success_rate
        message = (
            f"{options.recipe}: {outcome.succeeded} of {outcome.succeeded + outcome.failed} attacked examples flipped"
            + (f" (success rate {rate:.3f})" if rate is not None else "")
            + f"; {outcome.skipped} already misclassified were skipped"
        )
        evidence = outcome.to_dict()
        evidence["successes"] = [redact_example(ctx, s) for s in evidence["successes"]]
        return self.result(metrics=metrics, evidence=evidence, message=message)


class AttackSuccessRate(_AttackCheck):
    id = "robustness.attack_success_rate"
    title = "Adversarial attack success rate"
    description = "Share of correctly classified examples whose prediction a TextAttack recipe flips with small edits."
    primary_metric = "attack_success_rate"
    default_thresholds = {"attack_success_rate": Threshold(max=0.5)}


class AccuracyUnderAttack(_AttackCheck):
    id = "robustness.accuracy_under_attack"
    title = "Accuracy under attack"
    description = "Accuracy on the attacked sample after the attack (examples it could not flip)."
    primary_metric = "accuracy_under_attack"
    default_thresholds = {"accuracy_under_attack": Threshold(min=0.3)}


CHECKS = (AttackSuccessRate, AccuracyUnderAttack)
