"""audit-harness: audit Hugging Face text classifiers with pluggable, gated checks.

The public API (kept small, and listed in ``__all__``):

- ``hookimpl``: the marker plugin hooks are implemented with;
- ``Check``, ``CheckOptions``, ``Threshold``: what a plugin subclasses and declares;
- ``CheckResult``, ``Metric``, ``AuditResult``, ``Interval``: typed results;
- ``audit(config)``: run an audit from Python (a path, a dict or an AuditConfig).

Importing ``harness`` loads neither torch nor transformers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.checks import Check, CheckOptions, Threshold
from harness.hookspecs import hookimpl
from harness.results import AuditResult, CheckResult, Metric
from harness.stats import Interval

if TYPE_CHECKING:
    from harness.config import AuditConfig

__all__ = ["AuditResult", "Check", "CheckOptions", "CheckResult", "Interval", "Metric", "Threshold", "audit", "hookimpl"]


def audit(config: "Any | AuditConfig | None" = None, **kwargs: Any) -> AuditResult:
    """Run an audit; see :func:`harness.runner.audit` for the keyword arguments."""
    from harness.runner import audit as run_audit

    return run_audit(config, **kwargs)
