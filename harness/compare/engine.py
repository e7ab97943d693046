"""Compare a candidate run with a baseline run: per check and metric, beyond noise?

The question a release pipeline asks is "is the candidate at least as good as
what is in production, on every check, beyond noise?". For every metric both
runs report this module gives baseline, candidate, delta, an interval for the
delta, a p-value and the method used (see :mod:`harness.stats.paired`), then
applies the regression policy (:mod:`harness.compare.policy`).

:func:`compare_runs` is the one entry point, used by ``harness compare`` and
by ``harness run --baseline``: it refuses runs that cannot be compared (unless
forced), builds the policy from a gate section plus overrides, and returns a
typed :class:`~harness.compare.comparison.Comparison`. :func:`read_run` reads
a results.json to compare, through the one results reader
(:mod:`harness.results.io`).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Mapping

from harness.compare.comparison import Comparison, DeltaInterval, MetricChange, RunSummary
from harness.compare.policy import RegressionPolicy, eval_fingerprint, policy_from_gate, refuse_unless_forced

__all__ = ["compare", "compare_runs", "read_run"]

#: Tolerance when checking that a metric recomputed from the stored predictions
#: reproduces the recorded value: results written before scores were stored
#: unrounded kept 6 digits, which moves ROC-AUC through ties; current ones match exactly.
_REPRODUCE_TOL = {"roc_auc": 1e-4}


def read_run(path: Path) -> dict[str, Any]:
    """The body of a results.json to compare; refused (UsageError, exit 2) exactly as ``harness report`` refuses it."""
    from harness.results.io import parse_results, read_results_json

    data = read_results_json(path)
    parse_results(data, path)  # a body the AuditResult cannot read is not compared either
    return data


def compare_runs(
    baseline: Mapping[str, Any],
    candidate: Mapping[str, Any],
    *,
    gate: Any = None,
    overrides: Mapping[str, Any] | None = None,
    force: bool = False,
    baseline_path: str | None = None,
    candidate_path: str | None = None,
) -> Comparison:
    """Refuse (unless ``force``), build the policy and compare two results.json bodies.

    ``gate``: the gate section (a GateConfig or its dict) the policy comes from;
    None takes the one the candidate recorded in its provenance. ``overrides``:
    ``no_regression``, ``tolerance`` and ``alpha`` given on the command line.
    """
    if gate is None:
        gate = ((candidate.get("provenance") or {}).get("config") or {}).get("gate")
    policy = policy_from_gate(gate, **(overrides or {}))
    problems = refuse_unless_forced(baseline, candidate, force)
    return compare(baseline, candidate, policy, baseline_path=baseline_path, candidate_path=candidate_path,
                   forced_problems=problems)


# ---------------------------------------------------------------- the comparison


@dataclass(frozen=True)
class _Examples:
    ids: tuple[str, ...]
    labels: Any  # np.ndarray
    predictions: Any
    scores: Any


def _examples(results: Mapping[str, Any]) -> _Examples | None:
    import numpy as np

    block = results.get("predictions")
    if not isinstance(block, Mapping):
        return None
    try:
        ids = tuple(str(i) for i in block["ids"])
        labels = np.asarray(block["labels"], dtype=np.int64)
        predictions = np.asarray(block["predictions"], dtype=np.int64)
        scores = np.asarray(block["scores"], dtype=float)
    except (KeyError, TypeError, ValueError):
        return None
    if not (len(ids) == len(labels) == len(predictions) == len(scores)) or len(set(ids)) != len(ids):
        return None
    return _Examples(ids, labels, predictions, scores)


def _pair(base: _Examples, cand: _Examples) -> tuple[Any, Any, Any, Any, Any] | None:
    """Align the candidate's examples to the baseline's by id: (labels, base_pred, base_scores, cand_pred, cand_scores)."""
    import numpy as np

    if set(base.ids) != set(cand.ids):
        return None
    where = {example_id: i for i, example_id in enumerate(cand.ids)}
    order = np.array([where[i] for i in base.ids], dtype=np.int64)
    if not np.array_equal(base.labels, cand.labels[order]):
        return None  # same ids, different labels: not the same examples
    return base.labels, base.predictions, base.scores, cand.predictions[order], cand.scores[order]


def _reproduces(name: str, recorded: float | None, examples: _Examples | None, k: int) -> bool:
    from harness.stats.paired import RECOMPUTABLE

    if examples is None or recorded is None or name not in RECOMPUTABLE:
        return False
    value = RECOMPUTABLE[name].fn(examples.labels, examples.predictions, examples.scores, k)
    return math.isfinite(value) and abs(value - recorded) <= _REPRODUCE_TOL.get(name, 1e-6) + 1e-9


def _direction(check: Mapping[str, Any] | None, other: Mapping[str, Any] | None, metric: str) -> str | None:
    from harness.stats.paired import RECOMPUTABLE

    for source in (check, other):
        for threshold in (source or {}).get("thresholds", []):
            if threshold.get("metric") == metric:
                return "higher" if threshold.get("op") == "min" else "lower"
    if metric in RECOMPUTABLE:
        return "higher" if RECOMPUTABLE[metric].higher_is_better else "lower"
    return None


def _metrics(check: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {m["name"]: m for m in check.get("metrics", []) if isinstance(m, Mapping) and "name" in m}


def _rng(seed: int, key: str) -> Any:
    import numpy as np

    return np.random.default_rng([seed & 0xFFFFFFFF, zlib.crc32(key.encode("utf-8"))])


def _run_summary(results: Mapping[str, Any], path: str | None) -> RunSummary:
    prov = results.get("provenance") or {}
    model = prov.get("model") or {}
    split, fingerprint = eval_fingerprint(results)
    return RunSummary(
        path=path,
        model=model.get("source"),
        weights_sha256=model.get("weights_sha256"),
        verdict=results.get("verdict"),
        schema_version=results.get("schema_version"),
        eval_split=split,
        eval_fingerprint=fingerprint,
        started_at=(results.get("run") or {}).get("started_at"),
    )


@dataclass(frozen=True)
class _Setting:
    """What every metric's test shares: the policy, the examples of both runs, and the number of classes."""

    policy: RegressionPolicy
    base_ex: _Examples | None
    cand_ex: _Examples | None
    paired: Any
    k: int
    seed: int


def compare(
    baseline: Mapping[str, Any],
    candidate: Mapping[str, Any],
    policy: RegressionPolicy | None = None,
    *,
    baseline_path: str | None = None,
    candidate_path: str | None = None,
    forced_problems: Iterable[str] = (),
) -> Comparison:
    """The comparison of two results.json bodies (already checked for compatibility: see :func:`compare_runs`)."""
    policy = policy or RegressionPolicy()
    seed = int((candidate.get("provenance") or {}).get("seed") or 0)
    labels = ((candidate.get("provenance") or {}).get("data") or {}).get("label_names") or []
    base_ex, cand_ex = _examples(baseline), _examples(candidate)
    paired = _pair(base_ex, cand_ex) if base_ex is not None and cand_ex is not None else None
    setting = _Setting(policy, base_ex, cand_ex, paired, len(labels), seed)
    candidate_checks = {c["id"]: c for c in candidate.get("checks", [])}
    rows: list[MetricChange] = []
    for base_check in baseline.get("checks", []):
        cand_check = candidate_checks.get(base_check["id"])
        cand_metrics = _metrics(cand_check) if cand_check else {}
        for name, base_metric in _metrics(base_check).items():
            rows.append(_metric_change(base_check, cand_check, name, base_metric, cand_metrics.get(name), setting))
    return Comparison(
        baseline=_run_summary(baseline, baseline_path),
        candidate=_run_summary(candidate, candidate_path),
        policy=policy,
        paired=paired is not None,
        shared_examples=len(paired[0]) if paired is not None else 0,
        pairing_note=_pairing_note(base_ex, cand_ex, paired),
        forced=tuple(forced_problems),
        rows=tuple(rows),
    )


def _metric_change(base_check: Mapping[str, Any], cand_check: Mapping[str, Any] | None, name: str,
                   base_metric: Mapping[str, Any], cand_metric: Mapping[str, Any] | None, setting: _Setting) -> MetricChange:
    """One metric of one check: tested, classified (improved, regressed, ...), gated by the policy."""
    from harness.stats import paired as paired_stats

    policy = setting.policy
    check_id = base_check["id"]
    key = f"{check_id}.{name}"
    gated = policy.gated(check_id, name, bool((cand_check or base_check).get("gated", True)))
    row = MetricChange(
        check=check_id, metric=name, key=key, baseline=base_metric.get("value"),
        direction=_direction(cand_check, base_check, name), tolerance=policy.tolerance_for(check_id, name), gated=gated,
    )
    if cand_check is None or cand_metric is None:
        status = (cand_check or {}).get("status")
        note = f"the candidate has no {'check' if cand_check is None else 'metric'} here" + (f" (check status {status})" if status else "")
        return replace(row, change="missing", note=note, regression=gated)
    b_value, c_value = base_metric.get("value"), cand_metric.get("value")
    row = replace(row, candidate=c_value)
    if b_value is None or c_value is None:
        return replace(row, change="undefined", note="the metric is undefined in the " + ("candidate" if c_value is None else "baseline"),
                        regression=gated and c_value is None and b_value is not None)
    delta = c_value - b_value
    outcome = _test(name, base_metric, cand_metric, setting, _rng(setting.seed, key), paired_stats)
    if outcome is None:
        return replace(row, delta=delta, method="none: no interval recorded and not recomputable from predictions",
                        change="unchanged" if delta == 0 else "changed (untested)")
    significant = outcome.p_value is not None and math.isfinite(outcome.p_value) and outcome.p_value < policy.alpha
    row = replace(
        row, delta=outcome.delta, p_value=outcome.p_value, method=outcome.method, paired=outcome.paired, significant=significant,
        delta_interval=None if outcome.low is None else DeltaInterval(outcome.low, outcome.high, policy.level),
    )
    if row.direction is None:
        return replace(row, change="changed (direction unknown)" if significant else "no significant change")
    worse = outcome.delta < 0 if row.direction == "higher" else outcome.delta > 0
    if not significant or outcome.delta == 0:
        return replace(row, change="no significant change")
    if not worse:
        return replace(row, change="improved")
    if abs(outcome.delta) <= row.tolerance:
        return replace(row, change="worse, within tolerance")
    return replace(row, change="regressed", regression=gated)


def _pairing_note(base: _Examples | None, cand: _Examples | None, paired: Any) -> str:
    if paired is not None:
        return f"paired: both runs scored the same {len(paired[0])} examples (matched by id)"
    if base is None or cand is None:
        missing = " and ".join(role for role, ex in (("baseline", base), ("candidate", cand)) if ex is None)
        return f"unpaired: the {missing} results keep no per-example predictions"
    return "unpaired: the runs scored different examples (ids or labels differ)"


def _test(name: str, base_metric: Mapping[str, Any], cand_metric: Mapping[str, Any], setting: _Setting, rng: Any, ps: Any) -> Any:
    """Pick and run the test for one metric; None when nothing can be tested."""
    policy, base_ex, cand_ex, paired, k = setting.policy, setting.base_ex, setting.cand_ex, setting.paired, setting.k
    b_value, c_value = base_metric["value"], cand_metric["value"]
    if _reproduces(name, b_value, base_ex, k) and _reproduces(name, c_value, cand_ex, k):
        spec = ps.RECOMPUTABLE[name]
        if paired is not None:
            labels, bp, bs, cp, cs = paired
            boot = ps.paired_bootstrap(spec, k, labels, bp, bs, cp, cs, rng, n_boot=policy.n_boot, level=policy.level)
            if name in ("accuracy", "micro_f1"):
                b, c, p = ps.mcnemar_exact(bp == labels, cp == labels)
                return ps.TestOutcome(boot.delta, boot.low, boot.high, p,
                                      f"McNemar exact test ({b} baseline-only correct, {c} candidate-only correct, "
                                      f"{len(labels)} paired examples); interval by paired bootstrap", True)
            return boot
        assert base_ex is not None and cand_ex is not None
        return ps.unpaired_bootstrap(
            spec, k, (base_ex.labels, base_ex.predictions, base_ex.scores), (cand_ex.labels, cand_ex.predictions, cand_ex.scores),
            rng, n_boot=policy.n_boot, level=policy.level,
        )
    bi, ci = base_metric.get("interval"), cand_metric.get("interval")
    if bi and ci and None not in (bi.get("low"), bi.get("high"), ci.get("low"), ci.get("high")):
        return ps.interval_normal(b_value, bi["low"], bi["high"], bi.get("level", 0.95),
                                  c_value, ci["low"], ci["high"], ci.get("level", 0.95), level=policy.level)
    return None
