"""The regression policy of a comparison, and which runs may be compared at all.

A metric matched by ``no_regression`` (default: every metric of a gated check)
that got significantly worse (p < ``alpha``) by more than its tolerance is a
regression, and any regression fails the gate (exit code 1); the statistics
that decide "significantly" are in :mod:`harness.compare.engine`.

Inputs that cannot be compared meaningfully (different results schema, a
different evaluation dataset by fingerprint, different labels, an unfinished
run) are refused with one line (exit 2) unless ``force`` is set; forcing is
recorded in the comparison so a reader sees it.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any, Mapping

from harness.errors import UsageError


@dataclass(frozen=True)
class RegressionPolicy:
    """Which metrics may not regress, by how much (absolute), and at which significance level."""

    no_regression: tuple[str, ...] | None = None  # None: every metric of a gated check
    tolerance: Mapping[str, float] = field(default_factory=dict)
    alpha: float = 0.05
    n_boot: int = 1000
    level: float = 0.95

    def gated(self, check_id: str, metric: str, check_gated: bool) -> bool:
        if self.no_regression is None:
            return check_gated
        return any(_matches(p, check_id, metric) for p in self.no_regression)

    def tolerance_for(self, check_id: str, metric: str) -> float:
        exact = f"{check_id}.{metric}"
        if exact in self.tolerance:
            return float(self.tolerance[exact])
        if check_id in self.tolerance:
            return float(self.tolerance[check_id])
        for pattern, value in self.tolerance.items():
            if _matches(pattern, check_id, metric):
                return float(value)
        return 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "no_regression": None if self.no_regression is None else list(self.no_regression),
            "tolerance": dict(self.tolerance),
            "alpha": self.alpha,
            "n_boot": self.n_boot,
            "level": self.level,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RegressionPolicy":
        """The policy as :meth:`to_dict` wrote it (a comparison read back from results.json)."""
        no_regression = data.get("no_regression")
        return cls(
            no_regression=None if no_regression is None else tuple(no_regression),
            tolerance=dict(data.get("tolerance") or {}),
            alpha=data.get("alpha", 0.05),
            n_boot=data.get("n_boot", 1000),
            level=data.get("level", 0.95),
        )


def _matches(pattern: str, check_id: str, metric: str) -> bool:
    return fnmatch.fnmatchcase(check_id, pattern) or fnmatch.fnmatchcase(f"{check_id}.{metric}", pattern)


def policy_from_gate(gate: Any, **overrides: Any) -> RegressionPolicy:
    """Build the policy from a config's ``gate`` section (a GateConfig or its dict) plus CLI overrides."""
    data: dict[str, Any] = {}
    if gate is not None:
        data = gate.model_dump() if hasattr(gate, "model_dump") else dict(gate)
    no_regression = data.get("no_regression")
    tolerance = dict(data.get("tolerance") or {})
    alpha = data.get("alpha", 0.05)
    if overrides.get("no_regression"):
        no_regression = list(overrides["no_regression"])
    if overrides.get("tolerance"):
        tolerance.update(overrides["tolerance"])
    if overrides.get("alpha") is not None:
        alpha = overrides["alpha"]
    return RegressionPolicy(
        no_regression=None if no_regression is None else tuple(no_regression), tolerance=tolerance, alpha=float(alpha)
    )


# ---------------------------------------------------------------- refusing


def eval_fingerprint(results: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(name, fingerprint) of the split a results.json was evaluated on, from its provenance."""
    data = (results.get("provenance") or {}).get("data") or {}
    split = data.get("eval_split")
    fingerprint = ((data.get("splits") or {}).get(split) or {}).get("fingerprint") if split else None
    return split, fingerprint


def compatibility_problems(baseline: Mapping[str, Any], candidate: Mapping[str, Any]) -> list[str]:
    """Reasons the two runs cannot be compared as like for like (empty: they can)."""
    problems = []
    if baseline.get("schema_version") != candidate.get("schema_version"):
        problems.append(
            f"results schema versions differ (baseline {baseline.get('schema_version')}, candidate {candidate.get('schema_version')})"
        )
    b_split, b_fp = eval_fingerprint(baseline)
    c_split, c_fp = eval_fingerprint(candidate)
    if b_split != c_split:
        problems.append(f"evaluation splits differ (baseline {b_split!r}, candidate {c_split!r})")
    elif b_fp != c_fp:
        problems.append(
            f"the evaluation data differ (fingerprint of split {b_split!r}: baseline {str(b_fp)[:12]}, candidate {str(c_fp)[:12]})"
        )
    b_labels = ((baseline.get("provenance") or {}).get("data") or {}).get("label_names")
    c_labels = ((candidate.get("provenance") or {}).get("data") or {}).get("label_names")
    if b_labels != c_labels:
        problems.append(f"label names differ (baseline {b_labels}, candidate {c_labels})")
    for role, results in (("baseline", baseline), ("candidate", candidate)):
        if results.get("complete") is False:
            problems.append(f"the {role} run did not finish (complete: false)")
    return problems


def refuse_unless_forced(baseline: Mapping[str, Any], candidate: Mapping[str, Any], force: bool) -> list[str]:
    """Raise a UsageError naming the first problem unless ``force``; return the problems (for the record)."""
    problems = compatibility_problems(baseline, candidate)
    if problems and not force:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise UsageError(f"cannot compare: {problems[0]}{more}; pass --force to compare anyway")
    return problems
