"""The robustness checks: one TextAttack attack per run and option set, read by both checks.

:func:`attack_outcome` runs the attack (``attack.py``) on a seeded,
class-stratified sample of the evaluation split through the run's shared
Predictor and keeps it in ``ctx.extra``; each check reports its numbers and the
successful examples with personal data masked (``redaction.py``). TextAttack
and NumPy are imported only when a check runs, so registering these checks
keeps ``harness --help`` light.

The recipe: ``recipe: auto`` (the default) picks one by the evaluation texts'
language as the runner measured it (``ctx.languages``): ``chinese`` for Chinese
texts, ``deepwordbug`` otherwise (``recipes.choose_recipe``); the choice and why
are in the evidence (``recipe_choice``). A named recipe declares the languages
it is valid for (:meth:`_AttackCheck.supported_languages`), so an English
character recipe on Chinese texts is ``not_applicable`` (the runner's reason
names the languages) unless ``allow_language_mismatch: true``, which runs it
and says so among the limitations.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from pydantic import Field

from harness import Check, CheckOptions, CheckResult, Interval, Metric, Threshold
from harness_robustness.redaction import redact_example
from harness import N_  # marks a message id for extraction (babel.cfg); the report translates it

if TYPE_CHECKING:
    from harness import RunContext

__all__ = [
    "ROBUSTNESS_CLAUSES", "AttackOptions", "attack_outcome", "recipe_choice", "language_limitation", "AttackSuccessRate",
    "AccuracyUnderAttack", "CHECKS",
]

ROBUSTNESS_CLAUSES = (
    "EU AI Act Art. 15(1)",
    "EU AI Act Art. 15(4)",
    "EU AI Act Art. 15(5)",
    "EU AI Act Art. 13(3)(b)(ii)",
    "NIST AI RMF MEASURE 2.7",
)


#: A named recipe is out of its languages when more than this share of the texts with a detected language is
#: outside them: the runner's rule for not_applicable (``harness.text.language.OUTSIDE_SHARE_LIMIT``).
MISMATCH_SHARE = 0.5


class AttackOptions(CheckOptions):
    recipe: str = Field(
        "auto",
        description="TextAttack recipe (offline: deepwordbug, pruthi, char-swap, qwerty, char-insert-delete; chinese for "
        "Chinese text), or auto: chosen by the evaluation texts' language (chinese for Chinese, deepwordbug otherwise)",
    )
    examples: int = Field(100, ge=1, le=100_000, description="class-stratified sample of the evaluation split")
    query_budget: int | None = Field(None, ge=1, description="model queries allowed per example")
    allow_language_mismatch: bool = Field(
        False, description="run a named recipe on texts outside its languages (e.g. deepwordbug on Chinese), with a limitation",
    )


#: The checks' messages as catalog msgids (the recipe is data; numbers are passed formatted).
FLIPPED = N_("{recipe}: {succeeded} of {attacked} attacked examples flipped; {skipped} already misclassified were skipped")
FLIPPED_RATE = N_("{recipe}: {succeeded} of {attacked} attacked examples flipped (success rate {rate}); "
                  "{skipped} already misclassified were skipped")


def recipe_choice(ctx: "RunContext", options: AttackOptions) -> Any:
    """The recipe these options run on this run's evaluation texts (``recipes.RecipeChoice``)."""
    from harness_robustness.recipes import choose_recipe

    return choose_recipe(options.recipe, ctx.languages)


def attack_outcome(ctx: "RunContext", options: AttackOptions) -> Any:
    """The run's attack for these options, done once and shared by the robustness checks."""
    from harness_robustness.attack import run_attack

    data = ctx.require_data()
    split = data.eval
    predictor = ctx.require_predictor()
    choice = recipe_choice(ctx, options)
    # What decides the attack besides the model (run_attack adds the model's identity and the library versions):
    # the recipe as chosen ("auto" resolved), so an attack of English texts is never read back for Chinese ones.
    fields = {
        "options": options.model_dump(mode="json"), "recipe": choice.recipe, "split": split.name,
        "data": split.fingerprint, "run_seed": ctx.seed,
    }
    key = ("harness_robustness.attack", predictor.handle.weights_sha256, json.dumps(fields, sort_keys=True))
    if key not in ctx.extra:
        ctx.extra[key] = run_attack(
            split.texts, split.labels, data.label_names, predictor,
            recipe=choice.recipe, examples=options.examples, query_budget=options.query_budget,
            seed=int(ctx.rng(f"robustness:{choice.recipe}").integers(0, 2**31 - 1)),
            checkpoint_dir=ctx.checkpoint_dir("robustness", choice.recipe), checkpoint_fields=fields,
            changed_unit=choice.changed_unit, executor=ctx.executor,
        )
    return ctx.extra[key]


LANGUAGE_MISMATCH = N_(
    "the {recipe} recipe is built for {languages} text but the evaluation texts are {profile}; it ran only because "
    "{setting} is set, so its edits may not be realistic for these texts (an English character recipe puts Latin "
    "letters into Chinese words) and its numbers may not show how robust the model is"
)


def language_limitation(ctx: "RunContext", recipe: str) -> dict[str, Any] | None:
    """The limitation line of a recipe run on texts outside its languages (``allow_language_mismatch``), else ``None``.

    A mapping ``{"text", "message_id", "message_args"}`` (docs/plugins.md): the English line and its msgid.
    """
    from harness_robustness.recipes import describe_languages, recipe_languages

    languages = recipe_languages(recipe)
    profile = ctx.languages
    if not languages or profile is None or not profile.n or profile.outside_share(languages) <= MISMATCH_SHARE:
        return None
    args = {"recipe": recipe, "languages": ", ".join(languages), "profile": describe_languages(profile),
            "setting": "allow_language_mismatch"}
    return {"text": LANGUAGE_MISMATCH.format(**args), "message_id": LANGUAGE_MISMATCH, "message_args": args}


def _interval(bounds: Any) -> Interval | None:
    return Interval(bounds[0], bounds[1], method="wilson") if bounds else None


def _finite(value: Any) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


class _AttackCheck(Check):
    Options = AttackOptions
    regulations = ROBUSTNESS_CLAUSES
    #: With ``recipe: auto``; a named recipe has its own (:meth:`supported_languages`).
    languages = ("en", "zh")

    def supported_languages(self, options: AttackOptions) -> tuple[str, ...] | None:  # type: ignore[override]
        """The chosen recipe's languages (``auto``: every language it picks a recipe for); any with the override."""
        if options.allow_language_mismatch:
            return None
        from harness_robustness.recipes import recipe_languages

        return recipe_languages(options.recipe)  # None for an unknown recipe: run() ends as error naming it

    def run(self, ctx: "RunContext", options: AttackOptions) -> CheckResult:  # type: ignore[override]
        choice = recipe_choice(ctx, options)
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
        args: dict[str, Any] = {
            "recipe": outcome.recipe, "succeeded": outcome.succeeded, "attacked": outcome.succeeded + outcome.failed,
            "skipped": outcome.skipped, **({"rate": f"{rate:.3f}"} if rate is not None else {}),
        }
        template = FLIPPED_RATE if rate is not None else FLIPPED
        evidence = outcome.to_dict()
        evidence["successes"] = [redact_example(ctx, s, outcome.changed_unit) for s in evidence["successes"]]
        evidence["recipe_choice"] = choice.to_dict()
        limitation = language_limitation(ctx, outcome.recipe) if options.allow_language_mismatch else None
        if limitation is not None:
            evidence["limitations"] = [limitation]
        return self.result(metrics=metrics, evidence=evidence, message=template.format(**args), message_id=template,
                           message_args=args)


class AttackSuccessRate(_AttackCheck):
    id = "robustness.attack_success_rate"
    title = N_("Adversarial attack success rate")
    description = "Share of correctly classified examples whose prediction a TextAttack recipe flips with small edits."
    primary_metric = "attack_success_rate"
    default_thresholds = {"attack_success_rate": Threshold(max=0.5)}


class AccuracyUnderAttack(_AttackCheck):
    id = "robustness.accuracy_under_attack"
    title = N_("Accuracy under attack")
    description = "Accuracy on the attacked sample after the attack (examples it could not flip)."
    primary_metric = "accuracy_under_attack"
    default_thresholds = {"accuracy_under_attack": Threshold(min=0.3)}


CHECKS = (AttackSuccessRate, AccuracyUnderAttack)
