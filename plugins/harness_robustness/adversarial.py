"""Adversarial-sample training (opt-in): ``fine_tune: {adversarial_augment: {recipe: deepwordbug, examples: N}}``.

Why this shape: teams hardening a model want to know whether training on its
own adversarial examples helps, and by how much, on evidence an auditor can
re-check. So the procedure is the plain, documented one (adversarial data
augmentation, as in TextAttack's ``Trainer``):

1. fine-tune a first model exactly as the config says;
2. attack a class-stratified sample of N *training* examples with the recipe;
   every successful perturbation becomes a new training example with the
   original (true) label;
3. fine-tune again from the same initial weights on the augmented train split,
   with the same settings and seed;
4. attack the same class-stratified sample of the evaluation split with the
   first and with the final model, so "before" and "after" are measured on
   identical texts with an identical seed.

The recipe is picked as the robustness checks pick theirs: ``recipe: auto``
(the default) by the training texts' language (``chinese`` for Chinese,
``deepwordbug`` otherwise); a named recipe whose languages do not cover the
training texts is refused (exit 2) unless ``allow_language_mismatch: true``.

Everything (sizes, the recipe and why, the added examples' digest, both attack summaries with
intervals) goes into ``TrainingReport.extra["adversarial_augment"]``, which the
runner saves with the model and restores on ``--resume``; the robustness
plugin's report section renders it.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness import ConfigError

if TYPE_CHECKING:
    from harness import DatasetBundle, ModelHandle, RunContext, Split, TrainingReport
    # The config models are not in the public API: annotations only.
    from harness.config.settings import ModelConfig

__all__ = ["AdversarialAugment", "augment_options", "training_recipe", "train_hook", "KEY"]

KEY = "adversarial_augment"
SHOWN_EXAMPLES = 10


class AdversarialAugment(BaseModel):
    """The ``fine_tune.adversarial_augment`` options."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    recipe: str = Field(
        "auto", description="TextAttack recipe used to make the training examples; auto: by the training texts' language"
    )
    examples: int = Field(100, ge=1, le=1_000_000, description="training examples attacked (class-stratified)")
    query_budget: int | None = Field(None, ge=1, description="model queries allowed per attacked example")
    eval_examples: int | None = Field(
        None, ge=1, le=1_000_000, description="evaluation examples attacked before and after (default: examples)"
    )
    allow_language_mismatch: bool = Field(False, description="run a named recipe on training texts outside its languages")


def augment_options(spec: "ModelConfig") -> AdversarialAugment | None:
    """The validated options, or ``None`` when adversarial training is not asked for.

    Raises :class:`ConfigError` (one line, exit 2) for bad options, for an
    unknown or not offline-usable recipe, and when combined with DP training.
    """
    settings = spec.fine_tune
    extra = dict(getattr(settings, "model_extra", None) or {}) if settings is not None else {}
    if KEY not in extra:
        return None
    raw = extra[KEY]
    where = f"model.fine_tune.{KEY}"
    if "dp" in extra:
        raise ConfigError(f"{where}: cannot be combined with model.fine_tune.dp (DP accounting does not cover a second training pass)")
    if raw is None or raw is True:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping such as {{recipe: deepwordbug, examples: 100}}, got {raw!r}")
    try:
        options = AdversarialAugment(**raw)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        message = "unknown option" if first["type"] == "extra_forbidden" else first["msg"]
        raise ConfigError(f"{where}.{field}: {message}") from None
    from harness_robustness.recipes import AUTO, known_recipes, missing_resources

    if options.recipe == AUTO:
        return options
    if options.recipe not in known_recipes():
        import difflib

        close = difflib.get_close_matches(options.recipe, known_recipes(), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"{where}.recipe: unknown recipe {options.recipe!r}{hint}")
    missing = missing_resources(options.recipe)
    if missing:
        raise ConfigError(f"{where}.recipe: {options.recipe} needs {missing[0]}, which is not available offline")
    return options


def _augmented(train: "Split", successes: list[dict[str, Any]], label_names: tuple[str, ...]) -> "Split":
    """The train split plus one row per successful perturbation (true label, the source row's attributes)."""
    from harness import Split

    ids = list(train.ids)
    texts = list(train.texts)
    labels = list(int(x) for x in train.labels)
    sensitive = {name: list(values) for name, values in train.sensitive.items()}
    for number, success in enumerate(successes):
        source = int(success["index"])
        ids.append(f"{train.ids[source]}#adv{number}")
        texts.append(success["perturbed"])
        labels.append(int(train.labels[source]))
        for name, values in sensitive.items():
            values.append(train.sensitive[name][source])
    return Split(
        name=train.name,
        ids=tuple(ids),
        texts=tuple(texts),
        labels=np.asarray(labels, dtype=np.int64),
        sensitive={name: tuple(values) for name, values in sensitive.items()},
    )


def _summary(outcome: Any) -> dict[str, Any]:
    return {k: v for k, v in outcome.to_dict().items() if k not in ("successes", "components")}


def training_recipe(options: AdversarialAugment, texts: Any) -> Any:
    """The recipe adversarial training runs on these training ``texts`` (``recipes.RecipeChoice``), as the checks choose.

    ``auto``: by the texts' dominant language. A named recipe whose languages
    do not cover the texts (an English character recipe on Chinese notes) is
    a :class:`ConfigError` unless ``allow_language_mismatch``.
    """
    # Not in the public API (yet): the runner measures the evaluation texts only; training texts are measured here.
    from harness.text.language import detect_languages
    from harness_robustness.checks import MISMATCH_SHARE
    from harness_robustness.recipes import choose_recipe, describe_languages, recipe_languages

    profile = detect_languages(list(texts))
    choice = choose_recipe(options.recipe, profile, texts="training texts")
    languages = recipe_languages(choice.recipe)
    if (not options.allow_language_mismatch and languages and profile.n
            and profile.outside_share(languages) > MISMATCH_SHARE):
        raise ConfigError(
            f"model.fine_tune.{KEY}.recipe: {choice.recipe} is built for {', '.join(languages)} text but the training "
            f"texts are {describe_languages(profile)}; use recipe: auto (or one for their language), or set "
            f"allow_language_mismatch: true to run it anyway"
        )
    return choice


def _attack(handle: "ModelHandle", split: "Split", label_names: tuple[str, ...], options: AdversarialAugment, examples: int,
            seed: int, choice: Any, executor: Any = None) -> Any:
    from harness import Predictor
    from harness_robustness.attack import run_attack

    return run_attack(
        split.texts, split.labels, label_names, Predictor(handle),
        recipe=choice.recipe, examples=examples, query_budget=options.query_budget, seed=seed,
        changed_unit=choice.changed_unit, executor=executor,
    )


def train_hook(model: "ModelHandle", data: "DatasetBundle", spec: "ModelConfig", ctx: "RunContext") -> "TrainingReport | None":
    """Adversarial augmentation around the core's training loop; ``None`` when not asked for."""
    options = augment_options(spec)
    if options is None:
        return None
    from harness import TrainingReport
    # Not in the public API (yet): the core's fine-tuning loop, run twice here (before and after augmenting).
    from harness.ml.training import fine_tune
    from harness_robustness.redaction import redact_example

    assert spec.fine_tune is not None
    settings = spec.fine_tune
    progress = ctx.progress
    quiet = bool(getattr(progress, "quiet", False))
    train = data.splits["train"]
    evaluation = data.eval
    choice = training_recipe(options, train.texts)
    recipe = choice.recipe
    seed_train = int(ctx.rng("robustness:adversarial_augment:train").integers(0, 2**31 - 1))
    # The robustness checks seed their attack the same way: with equal examples their sample is this one.
    seed_eval = int(ctx.rng(f"robustness:{recipe}").integers(0, 2**31 - 1))
    eval_examples = options.eval_examples or options.examples

    initial = copy.deepcopy(model.model.state_dict())
    first = fine_tune(model, data, settings, seed=ctx.seed, progress=not quiet)
    first_state = copy.deepcopy(model.model.state_dict())
    progress(f"adversarial training: attacking {min(options.examples, len(train))} training examples with {recipe} ({choice.reason})")
    made = _attack(model, train, data.label_names, options, options.examples, seed_train, choice, ctx.executor)
    successes = list(made.successes)
    augmented = _augmented(train, successes, data.label_names)
    bundle = dataclasses.replace(data, splits={**data.splits, "train": augmented})
    progress(f"adversarial training: fine-tuning again on {len(train)} + {len(successes)} adversarial examples")
    model.model.load_state_dict(initial)
    second = fine_tune(model, bundle, settings, seed=ctx.seed, progress=not quiet)
    final_state = copy.deepcopy(model.model.state_dict())

    progress(f"adversarial training: attacking the same {min(eval_examples, len(evaluation))} {evaluation.name} examples before and after")
    model.model.load_state_dict(first_state)
    model.model.eval()
    before = _attack(model, evaluation, data.label_names, options, eval_examples, seed_eval, choice, ctx.executor)
    model.model.load_state_dict(final_state)
    model.model.eval()
    after = _attack(model, evaluation, data.label_names, options, eval_examples, seed_eval, choice, ctx.executor)
    model.refresh_digest()

    added = hashlib.sha256(json.dumps([[s["perturbed"], s["original_label"]] for s in successes], ensure_ascii=False).encode("utf-8"))
    record = {
        "recipe": recipe,
        "recipe_choice": choice.to_dict(),
        "changed_unit": choice.changed_unit,
        "query_budget": options.query_budget,
        "train_attack": _summary(made),
        "added": len(successes),
        "added_sha256": added.hexdigest(),
        "train_examples_before": len(train),
        "train_examples_after": len(augmented),
        "first_training": first.to_dict(),
        "evaluation": {
            "split": evaluation.name,
            "examples": before.examples,
            "seed": seed_eval,
            "before": _summary(before),
            "after": _summary(after),
        },
        "added_examples": [
            redact_example(ctx, {k: s[k] for k in ("original", "perturbed", "changed", "original_label")}, choice.changed_unit)
            for s in successes[:SHOWN_EXAMPLES]
        ],
    }
    return TrainingReport(
        method=f"adversarial augmentation ({recipe}), then {second.method}",
        settings=second.settings,
        epochs_run=second.epochs_run,
        best_epoch=second.best_epoch,
        stopped_early=second.stopped_early,
        history=second.history,
        train_examples=len(augmented),
        seconds=first.seconds + second.seconds,
        extra={KEY: record},
    )
