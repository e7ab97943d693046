"""Comparison of a candidate run with a baseline run: the regression policy and the statistics.

* :mod:`harness.compare.policy`: which metrics may not regress, by how much,
  at which level; which runs may be compared at all;
* :mod:`harness.compare.engine`: the paired (or unpaired) tests per metric, and
  :func:`compare_runs`, the one entry point of ``harness compare`` and
  ``harness run --baseline``;
* :mod:`harness.compare.comparison`: the typed result (:class:`Comparison`),
  whose ``to_dict()`` is the ``comparison`` block of results.json.

Rendering (Markdown, JUnit, HTML) lives in :mod:`harness.outputs`.
"""

from harness.compare.comparison import Comparison, DeltaInterval, MetricChange, RunSummary, as_comparison
from harness.compare.engine import compare, compare_runs, read_run
from harness.compare.policy import RegressionPolicy, compatibility_problems, policy_from_gate, refuse_unless_forced

__all__ = [
    "Comparison", "DeltaInterval", "MetricChange", "RunSummary", "as_comparison",
    "compare", "compare_runs", "read_run",
    "RegressionPolicy", "compatibility_problems", "policy_from_gate", "refuse_unless_forced",
]
