"""audit-harness: audit Hugging Face text classifiers with pluggable, gated checks.

Everything a plugin or a user needs is importable from here, and only what is
listed in ``__all__`` is public: it changes only on purpose
(``tests/test_api_stability.py`` compares it with a snapshot). The modules
under ``harness.*`` are the implementation and may move.

- writing checks: ``hookimpl``, ``Check``, ``CheckOptions``, ``Threshold``,
  ``RunContext`` (what ``Check.run`` receives), ``ReportSection``;
- results: ``CheckResult``, ``Metric``, ``Interval``, ``ThresholdOutcome``, ``AuditResult``,
  and ``load_results`` (the one results.json reader);
- statistics: ``wilson_interval``, ``clopper_pearson_interval``, ``bootstrap_interval``;
- data and models for the loading and training hooks: ``DatasetBundle``,
  ``Split``, ``ModelHandle``, ``TrainingReport``, ``Predictor``, and
  ``encode`` / ``collate`` (tokenise and batch exactly as the built-in loop);
- errors: ``HarnessError``, ``UsageError``, ``ConfigError``, ``DataError``,
  ``ModelError``; ``did_you_mean`` for hints; ``run_command`` runs a plugin
  command's body with the core's exit codes and one-line messages;
- ``audit(config)``: run an audit from Python (a path, a dict or an AuditConfig).

Importing ``harness`` loads neither torch nor transformers: the names resolve on
first use (PEP 562), so ``import harness`` stays as light as ``harness --help``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    "hookimpl": "harness.plugin.hookspecs",
    "Check": "harness.plugin.checks",
    "CheckOptions": "harness.plugin.checks",
    "Threshold": "harness.plugin.checks",
    "ReportSection": "harness.plugin.sections",
    "RunContext": "harness.run.context",
    "CheckResult": "harness.results.types",
    "Metric": "harness.results.types",
    "ThresholdOutcome": "harness.results.types",
    "AuditResult": "harness.results.types",
    "load_results": "harness.results.io",
    "Interval": "harness.stats.intervals",
    "wilson_interval": "harness.stats.intervals",
    "clopper_pearson_interval": "harness.stats.intervals",
    "bootstrap_interval": "harness.stats.intervals",
    "DatasetBundle": "harness.ml.data",
    "Split": "harness.ml.data",
    "ModelHandle": "harness.ml.models",
    "TrainingReport": "harness.ml.training",
    "Predictor": "harness.ml.predict",
    "encode": "harness.ml.training",
    "collate": "harness.ml.training",
    "HarnessError": "harness.errors",
    "UsageError": "harness.errors",
    "ConfigError": "harness.errors",
    "DataError": "harness.errors",
    "ModelError": "harness.errors",
    "did_you_mean": "harness.text.suggest",
    "N_": "harness.text.i18n",
    "run_command": "harness.cli.guard",
    "audit": "harness.run.runner",
}

__all__ = [
    "AuditResult",
    "Check",
    "CheckOptions",
    "CheckResult",
    "ConfigError",
    "DataError",
    "DatasetBundle",
    "HarnessError",
    "Interval",
    "Metric",
    "ModelError",
    "ModelHandle",
    "N_",
    "Predictor",
    "ReportSection",
    "RunContext",
    "Split",
    "Threshold",
    "ThresholdOutcome",
    "TrainingReport",
    "UsageError",
    "audit",
    "bootstrap_interval",
    "clopper_pearson_interval",
    "collate",
    "did_you_mean",
    "encode",
    "hookimpl",
    "load_results",
    "run_command",
    "wilson_interval",
]

if TYPE_CHECKING:
    from harness.cli.guard import run_command
    from harness.errors import ConfigError, DataError, HarnessError, ModelError, UsageError
    from harness.ml.data import DatasetBundle, Split
    from harness.ml.models import ModelHandle
    from harness.ml.predict import Predictor
    from harness.ml.training import TrainingReport, collate, encode
    from harness.plugin.checks import Check, CheckOptions, Threshold
    from harness.plugin.hookspecs import hookimpl
    from harness.plugin.sections import ReportSection
    from harness.results.io import load_results
    from harness.results.types import AuditResult, CheckResult, Metric, ThresholdOutcome
    from harness.run.context import RunContext
    from harness.run.runner import audit
    from harness.stats.intervals import Interval, bootstrap_interval, clopper_pearson_interval, wilson_interval
    from harness.text.i18n import N_
    from harness.text.suggest import did_you_mean


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # resolve once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
