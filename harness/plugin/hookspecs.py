"""Every hook a plugin can implement. These docstrings ARE the plugin docs.

Plugins implement hooks with ``@harness.hookimpl`` and are found through the
``harness`` entry-point group (built-ins too). Hooks that give one answer
(load a model, load a dataset, train) are ``firstresult``: the first plugin
that returns something other than ``None`` wins and the core's default runs
only when none does. Everything else is a plain broadcast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import pluggy

if TYPE_CHECKING:
    from pathlib import Path

    import click

    import jinja2

    from harness.config.settings import AuditConfig, DataConfig, ModelConfig
    from harness.ml.data import DatasetBundle
    from harness.ml.models import ModelHandle
    from harness.ml.training import TrainingReport
    from harness.plugin.checks import Check
    from harness.plugin.sections import ReportSection
    from harness.results.types import AuditResult, CheckResult
    from harness.run.context import RunContext

PROJECT_NAME = "harness"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

#: The hooks in the order a run calls them, under the phase they belong to (the docs' headings).
LIFECYCLE: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ('Registration', 'when plugins load, before any config is read', ('harness_register_checks', 'harness_register_commands')),
    ('Configuration', 'after the core validated the config, before anything is loaded', ('harness_validate_config',)),
    ('Loading and training', 'data first, then the model, then fine-tuning when the config asks for it', ('harness_load_dataset', 'harness_load_model', 'harness_train')),
    ('The run', 'around the checks', ('harness_run_start', 'harness_check_done', 'harness_run_done')),
    ('The report', 'whenever a report is rendered, also from a results file alone', ('harness_report_sections',)),
)


# ---- Registration: when plugins load, before any config is read ----------------------------------


@hookspec
def harness_register_checks(register: "Callable[[type[Check]], None]") -> None:
    """Register the checks this plugin provides.

    Called once when plugins load, before any config is validated, so that
    ``harness checks`` can list every check and config keys can be checked.

    :param register: call ``register(MyCheck)`` once per :class:`harness.Check`
        subclass. Registering an id that another plugin already owns is refused
        and reported with both plugins' names.
    """


@hookspec
def harness_register_commands(cli: "click.Group") -> None:
    """Add commands to the ``harness`` command line.

    :param cli: the top-level click group; call ``cli.add_command(...)``
        or decorate functions with ``@cli.command()``. Keep heavy imports
        inside the command functions so ``harness --help`` stays fast.
    """


# ---- Configuration: after the core validated the config, before anything is loaded ---------------


@hookspec
def harness_validate_config(config: "AuditConfig", base_dir: "Path") -> None:
    """Check plugin-specific settings before anything is loaded or written.

    The core validates the config it knows; keys it keeps for plugins (such
    as ``model.fine_tune.dp`` or ``model.fine_tune.adversarial_augment``) are
    checked here. Raise :class:`harness.ConfigError` with a one-line
    message naming the key (``model.fine_tune.dp.delta: ...``): the run stops
    with exit code 2 before data, model or outputs are touched.

    :param config: the whole validated audit config.
    :param base_dir: the folder relative paths in the config are read from (the
        config file's; the working directory for a config given as a mapping),
        so a path a plugin owns can be checked as the core checks ``data.path``.
        Implementations that do not need it leave the parameter out.
    """


# ---- Loading and training: data first, then the model, then fine-tuning when the config asks for it ----


@hookspec(firstresult=True)
def harness_load_dataset(spec: "DataConfig", ctx: "RunContext") -> "DatasetBundle | None":
    """Load the dataset from a source the core does not know.

    Return a :class:`harness.DatasetBundle` (its splits already
    made), or ``None`` to fall through to the core's loaders (CSV, JSONL,
    Parquet, saved Hugging Face datasets, ``builtin:``).

    :param spec: the ``data`` section of the config.
    :param ctx: the run context (``ctx.data`` and ``ctx.model`` are not set yet).
    """


@hookspec(firstresult=True)
def harness_load_model(spec: "ModelConfig", ctx: "RunContext") -> "ModelHandle | None":
    """Load the model to audit from a source the core does not know.

    Return a :class:`harness.ModelHandle` to take over, or ``None`` to
    let the next plugin (and finally the core's Hugging Face loader) try.

    :param spec: the ``model`` section of the config (``spec.path`` is the
        user's string, for instance ``onnx:model.onnx``).
    :param ctx: the run context; ``ctx.data`` is already loaded (a loader may
        need the label names) and ``ctx.device`` is chosen.
    """


@hookspec(firstresult=True)
def harness_train(
    model: "ModelHandle", data: "DatasetBundle", spec: "ModelConfig", ctx: "RunContext"
) -> "TrainingReport | None":
    """Replace the fine-tuning loop (the privacy plugin adds DP-SGD here).

    Called only when the config asks for fine-tuning. Train ``model.model`` in
    place and return a :class:`harness.TrainingReport`, or return
    ``None`` to leave it to the next plugin and finally the core's loop.

    :param model: the loaded model and tokenizer, on ``ctx.device``.
    :param data: the dataset with its train and validation splits.
    :param spec: the ``model`` section of the config; ``spec.fine_tune`` holds
        the training settings, including any plugin-specific keys.
    :param ctx: the run context (seeded RNGs, output and scratch folders).
    """


# ---- The run: around the checks ------------------------------------------------------------------


@hookspec
def harness_run_start(ctx: "RunContext") -> None:
    """A run is starting: data and model are loaded, no check has run yet.

    :param ctx: the run context of this run.
    """


@hookspec
def harness_check_done(result: "CheckResult", ctx: "RunContext") -> None:
    """One check finished and its gated result was written to results.json.

    :param result: the check's final result (status already gated).
    :param ctx: the run context of this run.
    """


@hookspec
def harness_run_done(result: "AuditResult", ctx: "RunContext") -> None:
    """The run finished and every output file is written.

    :param result: the audit result of the whole run.
    :param ctx: the run context of this run.
    """


# ---- The report: whenever a report is rendered, also from a results file alone -------------------


@hookspec
def harness_report_sections(result: "AuditResult", env: "jinja2.Environment") -> "list[ReportSection] | None":
    """Add sections to the HTML report.

    Return a list of :class:`harness.ReportSection` (title, template
    name, context, and the folder holding the template), or ``None``. Called
    when any report is rendered, including ``harness report RESULTS.json``,
    so it must work from the results alone (no model, no data).

    :param result: the audit result being rendered.
    :param env: the Jinja2 environment (autoescape on); a plugin may read its
        globals and filters but must not change them.
    """
