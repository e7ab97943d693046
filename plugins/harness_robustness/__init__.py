"""Built-in adversarial robustness suite (TextAttack): how easily do small edits flip the classifier?

The attack runs on a seeded, class-stratified sample of the evaluation split,
with TextAttack's own recipes, through the run's shared Predictor
(``wrapper.py``), TextAttack imported offline (``offline.py``). Recipes that
need downloaded resources end at once as ``error`` naming what is missing
(``recipes.py``). Progress is checkpointed per chunk of examples under the
output folder (``ctx.checkpoint_dir``, emptied by a run without ``--resume``),
keyed by the model's weights, the data, the options and the library versions,
so ``harness run --resume`` continues an interrupted attack and nothing else.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from pydantic import Field

from harness import Check, CheckOptions, CheckResult, Metric, Threshold, hookimpl
from harness.stats.intervals import Interval

if TYPE_CHECKING:
    from harness.config.settings import AuditConfig, ModelConfig
    from harness.run.context import RunContext
    from harness.ml.data import DatasetBundle
    from harness.ml.models import ModelHandle
    from harness.plugin.sections import ReportSection
    from harness.results.types import AuditResult

TEMPLATES = Path(__file__).parent / "templates"

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


def redact_example(ctx: "RunContext", example: dict) -> dict:
    """An attack example as results and the report may show it: personal data masked in texts and changed words."""
    out = {**example, "original": ctx.redact(example["original"]), "perturbed": ctx.redact(example["perturbed"])}
    if "changed" in example:
        out["changed"] = [[index, ctx.redact(old), ctx.redact(new)] for index, old, new in example["changed"]]
    return out


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


@hookimpl
def harness_register_checks(register: Callable[[type[Check]], None]) -> None:
    for check in CHECKS:
        register(check)


@hookimpl
def harness_validate_config(config: "AuditConfig") -> None:
    """``model.fine_tune.adversarial_augment``: bad options end the run before anything loads."""
    from harness_robustness.adversarial import augment_options

    augment_options(config.model)


@hookimpl
def harness_train(model: "ModelHandle", data: "DatasetBundle", spec: "ModelConfig", ctx: "RunContext") -> Any:
    """Adversarial-sample training when ``fine_tune.adversarial_augment`` is set (see ``adversarial.py``)."""
    from harness_robustness.adversarial import train_hook

    return train_hook(model, data, spec, ctx)


def _adversarial_section(result: "AuditResult", check: Any) -> "ReportSection | None":
    from harness.plugin.sections import ReportSection
    from harness.text.diff import marked_segments
    from harness_robustness.adversarial import KEY

    record = (result.provenance.get("fine_tuning") or {}).get(KEY)
    if not record:
        return None
    added = [{**s, "segments": marked_segments(s["original"], s["perturbed"])} for s in record.get("added_examples", [])]
    return ReportSection(
        title="Adversarial training: robustness before and after", template="harness_robustness/adversarial.html",
        context={"record": record, "added": added}, search_path=str(TEMPLATES), order=50,
        check=check.id if check is not None else None,
    )


@hookimpl
def harness_report_sections(result: "AuditResult", env: Any) -> "list[ReportSection] | None":
    """The attack's budget and components, its successful examples with the changed words marked, and
    the before/after comparison of adversarial training when the run did it."""
    from harness.plugin.sections import ReportSection
    from harness.text.diff import marked_segments

    check = result.check(AttackSuccessRate.id) or result.check(AccuracyUnderAttack.id)
    sections = []
    adversarial = _adversarial_section(result, check)
    if adversarial is not None:
        sections.append(adversarial)
    if check is not None and "successes" in check.evidence:
        evidence = check.evidence
        examples = [{**s, "segments": marked_segments(s["original"], s["perturbed"])} for s in evidence.get("successes", [])[:20]]
        sections.append(ReportSection(
            title="Attack and examples", template="harness_robustness/attack.html",
            context={"evidence": evidence, "examples": examples, "shown": len(examples)},
            search_path=str(TEMPLATES), check=check.id,
        ))
    return sections or None
