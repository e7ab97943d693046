"""Built-in MLflow tracking: each finished audit logged as an MLflow run (optional extra ``audit-harness[mlflow]``).

Off unless the config has an ``mlflow:`` section::

    mlflow:
      tracking_uri: http://mlflow.internal:5000   # required
      experiment: release-audits                  # default: audit-harness
      run_name: nightly-release-gate              # optional; default: MLflow's generated name

What a run gets (``harness_mlflow.tracking``): params (model, weights digest,
data source and fingerprint, suite, seed, config digest), every metric with
its interval bounds, the verdict and exit code as tags, and results.json,
report.html, junit.xml and summary.md as artifacts. Logging happens after
every output is written; a tracking server that cannot be reached gives a
warning on stderr and changes nothing else: not the outputs, not the exit code.

Layout, the same in every built-in plugin: this module holds only the hook
implementations; the settings are checked in ``settings.py``, the logging is
in ``tracking.py`` (MLflow is imported there, when a run is logged).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness import hookimpl

if TYPE_CHECKING:
    from harness import AuditResult, RunContext
    from harness.config.settings import AuditConfig


@hookimpl
def harness_validate_config(config: "AuditConfig") -> None:
    """``mlflow:`` keys and the MLflow library, checked before anything loads (exit 2)."""
    from harness_mlflow.settings import settings_of

    settings_of(config)


@hookimpl
def harness_run_done(result: "AuditResult", ctx: "RunContext") -> None:
    """Log the finished run to MLflow when configured; a failure is a warning, never the audit's outcome."""
    from harness_mlflow.settings import settings_of
    from harness_mlflow.tracking import log_run_safely

    settings = settings_of(ctx.config)
    if settings is not None:
        log_run_safely(result, ctx, settings)
