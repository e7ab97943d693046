"""Built-in privacy suite: DP fine-tuning (Opacus), membership inference, an audit of the DP claim, PII scanning.

Each part lives in its own module and this package only wires them to the hooks:

- ``dp.py``: ``fine_tune: {dp: {...}}`` trains with Opacus through ``harness_train``
  and records the spent epsilon in ``TrainingReport.extra["dp"]``; check ``privacy.dp_epsilon``;
- ``membership.py``: check ``privacy.membership_inference`` (loss threshold, offline
  LiRA with shadow models) and the empirical epsilon lower bound it proves;
- ``pii.py``: check ``privacy.pii`` and the ``harness anonymize`` command;
- ``artifact_pii.py``: check ``privacy.artifact_pii`` (personal data in the released model files).

Heavy imports (torch, opacus) happen inside the functions that need them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from harness import Check, hookimpl
from harness_privacy import artifact_pii, dp, membership, pii

if TYPE_CHECKING:
    import click

    from harness.run.context import RunContext
    from harness.config.settings import AuditConfig, ModelConfig
    from harness.ml.data import DatasetBundle
    from harness.ml.models import ModelHandle
    from harness.plugin.sections import ReportSection
    from harness.results.types import AuditResult

TEMPLATES = Path(__file__).parent / "templates"
MODULES = (dp, membership, pii, artifact_pii)


@hookimpl
def harness_register_checks(register: Callable[[type[Check]], None]) -> None:
    for module in MODULES:
        for check in module.CHECKS:
            register(check)


@hookimpl
def harness_validate_config(config: "AuditConfig") -> None:
    """``model.fine_tune.dp`` options: a bad value ends the run before anything loads."""
    dp.validate_config(config)


@hookimpl
def harness_train(model: "ModelHandle", data: "DatasetBundle", spec: "ModelConfig", ctx: "RunContext") -> Any:
    """DP-SGD when ``fine_tune.dp`` is set; otherwise leave training to the next plugin or the core."""
    return dp.train_hook(model, data, spec, ctx)


@hookimpl
def harness_report_sections(result: "AuditResult", env: Any) -> "list[ReportSection] | None":
    sections: list = []
    for module in MODULES:
        sections.extend(module.report_sections(result, env) or [])
    return sections or None


@hookimpl
def harness_register_commands(cli: "click.Group") -> None:
    pii.register_commands(cli)
