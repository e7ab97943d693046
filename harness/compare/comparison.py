"""The comparison of two runs as typed, immutable values.

:func:`harness.compare.engine.compare` returns a :class:`Comparison`; its
:meth:`Comparison.to_dict` is the JSON block results.json stores as
``comparison`` (and ``harness compare --json`` prints), and
:meth:`Comparison.from_dict` reads that block back, so the renderers in
:mod:`harness.outputs` work on the same type whether the comparison was just
computed or comes from a results file written earlier.

Nothing here renders: the words and tables are in ``harness/outputs`` and
``templates/partials/comparison.html``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from harness.compare.policy import RegressionPolicy
from harness.text.i18n import N_

__all__ = ["COMPARISON_VERSION", "DeltaInterval", "MetricChange", "RunSummary", "Comparison", "as_comparison"]

COMPARISON_VERSION = "1"

#: What ``MetricChange.change`` says (the renderers may show other strings read from older files as they are).
#: Each is a catalog msgid too: a report in another language shows the change in its words.
CHANGES = (
    N_("missing"),  # the candidate lacks the check or the metric
    N_("undefined"),  # the metric is undefined (null) in one of the runs
    N_("unchanged"),  # untested, delta exactly 0
    N_("changed (untested)"),  # no interval recorded and not recomputable
    N_("changed (direction unknown)"),  # significant, but no threshold or known metric says which way is better
    N_("no significant change"),
    N_("improved"),
    N_("worse, within tolerance"),
    N_("regressed"),
)


@dataclass(frozen=True)
class DeltaInterval:
    """An interval for candidate minus baseline at ``level``."""

    low: float
    high: float
    level: float

    def to_dict(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, "level": self.level}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "DeltaInterval":
        return cls(low=data.get("low"), high=data.get("high"), level=data.get("level", 0.95))  # type: ignore[arg-type]


@dataclass(frozen=True)
class MetricChange:
    """One metric of one check, baseline against candidate, and what the policy makes of it."""

    check: str
    metric: str
    key: str  # "<check>.<metric>"
    baseline: float | None
    candidate: float | None = None
    delta: float | None = None
    delta_interval: DeltaInterval | None = None
    p_value: float | None = None
    method: str = ""
    paired: bool = False
    direction: str | None = None  # "higher" or "lower" is better; None: unknown
    significant: bool | None = None  # None: untested
    tolerance: float = 0.0
    gated: bool = False
    change: str = ""  # one of CHANGES
    regression: bool = False
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check, "metric": self.metric, "key": self.key,
            "baseline": self.baseline, "candidate": self.candidate, "delta": self.delta,
            "delta_interval": None if self.delta_interval is None else self.delta_interval.to_dict(),
            "p_value": self.p_value, "method": self.method, "paired": self.paired, "direction": self.direction,
            "significant": self.significant, "tolerance": self.tolerance,
            "gated": self.gated, "change": self.change, "regression": self.regression, "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "MetricChange":
        check, metric = data.get("check", ""), data.get("metric", "")
        interval = data.get("delta_interval")
        return cls(
            check=check, metric=metric, key=data.get("key", f"{check}.{metric}"),
            baseline=data.get("baseline"), candidate=data.get("candidate"), delta=data.get("delta"),
            delta_interval=DeltaInterval.from_dict(interval) if isinstance(interval, Mapping) and interval else None,
            p_value=data.get("p_value"), method=data.get("method", ""), paired=data.get("paired", False),
            direction=data.get("direction"), significant=data.get("significant"), tolerance=data.get("tolerance", 0.0),
            gated=data.get("gated", False), change=data.get("change", ""), regression=data.get("regression", False),
            note=data.get("note", ""),
        )


@dataclass(frozen=True)
class RunSummary:
    """Which run one side of the comparison is: where it was read from, its model, verdict and evaluation data."""

    path: str | None = None
    model: str | None = None
    weights_sha256: str | None = None
    verdict: str | None = None
    schema_version: str | None = None
    eval_split: str | None = None
    eval_fingerprint: str | None = None
    started_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "model": self.model, "weights_sha256": self.weights_sha256, "verdict": self.verdict,
            "schema_version": self.schema_version, "eval_split": self.eval_split,
            "eval_fingerprint": self.eval_fingerprint, "started_at": self.started_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RunSummary":
        return cls(**{name: data.get(name) for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Comparison:
    """Candidate against baseline, per check and metric; the gate fails on any regression."""

    baseline: RunSummary
    candidate: RunSummary
    policy: RegressionPolicy
    paired: bool  # both runs scored the same examples (matched by id)
    shared_examples: int
    pairing_note: str
    forced: tuple[str, ...]  # compatibility problems overridden with --force
    rows: tuple[MetricChange, ...]
    version: str = COMPARISON_VERSION

    @property
    def regressions(self) -> tuple[str, ...]:
        """Keys (``check.metric``) of the gated metrics that regressed."""
        return tuple(row.key for row in self.rows if row.regression)

    @property
    def verdict(self) -> str:
        return "fail" if self.regressions else "pass"

    @property
    def exit_code(self) -> int:
        return 1 if self.regressions else 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON block (results.json ``comparison``, ``harness compare --json``)."""
        return {
            "version": self.version,
            "baseline": self.baseline.to_dict(),
            "candidate": self.candidate.to_dict(),
            "policy": self.policy.to_dict(),
            "paired": self.paired,
            "shared_examples": self.shared_examples,
            "pairing_note": self.pairing_note,
            "forced": list(self.forced),
            "rows": [row.to_dict() for row in self.rows],
            "regressions": list(self.regressions),
            "verdict": self.verdict,
            "exit_code": self.exit_code,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Comparison":
        """The block :meth:`to_dict` wrote; ``regressions``, ``verdict`` and ``exit_code`` follow from the rows."""
        return cls(
            baseline=RunSummary.from_dict(data.get("baseline") or {}),
            candidate=RunSummary.from_dict(data.get("candidate") or {}),
            policy=RegressionPolicy.from_dict(data.get("policy") or {}),
            paired=bool(data.get("paired")),
            shared_examples=data.get("shared_examples", 0),
            pairing_note=data.get("pairing_note", ""),
            forced=tuple(data.get("forced") or ()),
            rows=tuple(MetricChange.from_dict(row) for row in data.get("rows") or ()),
            version=data.get("version", COMPARISON_VERSION),
        )


def as_comparison(value: "Comparison | Mapping[str, Any]") -> Comparison:
    """``value`` as a Comparison: itself, or read from its JSON block (``AuditResult.comparison``)."""
    return value if isinstance(value, Comparison) else Comparison.from_dict(value)
