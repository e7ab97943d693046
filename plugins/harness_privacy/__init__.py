"""Built-in privacy suite: DP fine-tuning (Opacus), membership inference, an audit of the DP claim, PII scanning.

Layout, the same in every built-in plugin: this module holds only the hook
implementations, each delegating. Each check lives in its own module, beside
its report partial; ``checks.py`` lists them and ``sections.py`` gathers the
partials:

- ``dp.py``: ``fine_tune: {dp: {...}}`` trains with Opacus (``dp_training.py``)
  through ``harness_train`` and records the spent epsilon in
  ``TrainingReport.extra["dp"]``; check ``privacy.dp_epsilon``;
- ``membership.py``: check ``privacy.membership_inference`` (loss threshold, offline
  LiRA with shadow models, ``shadow.py``) and the empirical epsilon lower bound it
  proves (``mia_metrics.py``, and the one-run canary audit of ``canaries.py``);
- ``pii.py``: check ``privacy.pii``; ``anonymize.py``: the ``harness anonymize`` command;
- ``artifact_pii.py``: check ``privacy.artifact_pii`` (personal data in the released model files).

Heavy imports (numpy, torch, opacus) happen inside the functions that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from harness import hookimpl

if TYPE_CHECKING:
    import click

    from harness import AuditResult, Check, DatasetBundle, ModelHandle, ReportSection, RunContext
    # The config models are not in the public API: annotations only.
    from harness.config.settings import AuditConfig, ModelConfig


@hookimpl
def harness_register_checks(register: "Callable[[type[Check]], None]") -> None:
    from harness_privacy.checks import CHECKS

    for check in CHECKS:
        register(check)


@hookimpl
def harness_validate_config(config: "AuditConfig") -> None:
    """``model.fine_tune.dp`` and ``model.fine_tune.canaries``: a bad value ends the run before anything loads."""
    from harness_privacy.dp import validate_config

    validate_config(config)


@hookimpl
def harness_train(model: "ModelHandle", data: "DatasetBundle", spec: "ModelConfig", ctx: "RunContext") -> Any:
    """DP-SGD when ``fine_tune.dp`` is set; otherwise leave training to the next plugin or the core."""
    from harness_privacy.dp import train_hook

    return train_hook(model, data, spec, ctx)


@hookimpl
def harness_report_sections(result: "AuditResult", env: Any) -> "list[ReportSection] | None":
    """The DP accounting, the membership attacks, the personal data found in texts and in the model files."""
    from harness_privacy.sections import report_sections

    return report_sections(result)


@hookimpl
def harness_register_commands(cli: "click.Group") -> None:
    """``harness anonymize DATA -o OUT``: a copy of a data file with personal data masked."""
    from harness_privacy.anonymize import anonymize_command

    cli.add_command(anonymize_command)
