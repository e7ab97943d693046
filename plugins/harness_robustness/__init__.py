"""Built-in adversarial robustness suite (TextAttack): how easily do small edits flip the classifier?

The attack runs on a seeded, class-stratified sample of the evaluation split,
with TextAttack's own recipes, through the run's shared Predictor
(``wrapper.py``), TextAttack imported offline (``offline.py``). Recipes that
need downloaded resources end at once as ``error`` naming what is missing
(``recipes.py``). Progress is checkpointed per chunk of examples under the
output folder (``ctx.checkpoint_dir``, emptied by a run without ``--resume``),
keyed by the model's weights, the data, the options and the library versions,
so ``harness run --resume`` continues an interrupted attack and nothing else.

Layout, the same in every built-in plugin: this module holds only the hook
implementations, each delegating; the checks are in ``checks.py`` (the attack
in ``attack.py``), adversarial training (``fine_tune.adversarial_augment``)
in ``adversarial.py`` and the report partials in ``sections.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from harness import hookimpl

if TYPE_CHECKING:
    from harness import AuditResult, Check, DatasetBundle, ModelHandle, ReportSection, RunContext
    # The config models are not in the public API: annotations only.
    from harness.config.settings import AuditConfig, ModelConfig


@hookimpl
def harness_register_checks(register: "Callable[[type[Check]], None]") -> None:
    from harness_robustness.checks import CHECKS

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


@hookimpl
def harness_report_sections(result: "AuditResult", env: Any) -> "list[ReportSection] | None":
    """The attack's budget and components, its successful examples with the changed words marked, and
    the before/after comparison of adversarial training when the run did it."""
    from harness_robustness.sections import report_sections

    return report_sections(result)
