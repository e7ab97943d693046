"""Compare a candidate run with a baseline run: per check and metric, beyond noise?

The question a release pipeline asks is "is the candidate at least as good as
what is in production, on every check, beyond noise?". For every metric both
runs report this module gives baseline, candidate, delta, an interval for the
delta, a p-value and the method used (see :mod:`harness.stats.paired`), then
applies the regression policy: a metric matched by ``no_regression`` that got
significantly worse (p < alpha) by more than its tolerance is a regression,
and any regression fails the gate (exit code 1).

Inputs that cannot be compared meaningfully (different results schema, a
different evaluation dataset by fingerprint, different labels, an unfinished
run) are refused with one line (exit 2) unless ``force`` is set; forcing is
recorded in the comparison so a reader sees it.

The comparison is a plain JSON-ready dict (it is embedded in results.json as
``comparison``); the renderers below turn it into Markdown and JUnit, and
``templates/partials/comparison.html`` into the HTML report section.
"""

from __future__ import annotations

import fnmatch
import json
import math
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from harness.errors import UsageError

COMPARISON_VERSION = "1"
#: Tolerance when checking that a metric recomputed from the stored predictions
#: reproduces the recorded value: results written before scores were stored
#: unrounded kept 6 digits, which moves ROC-AUC through ties; current ones match exactly.
_REPRODUCE_TOL = {"roc_auc": 1e-4}


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


# ---------------------------------------------------------------- loading and refusing


def load_results_file(path: Path, role: str) -> dict[str, Any]:
    """A results.json as a dict, with a one-line UsageError for anything that is not one."""
    from harness.outputs.html import load_results

    load_results(path)  # every "not a results file" message lives there
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "schema_version" not in data:
        raise UsageError(f"{path}: not a harness results file (no schema_version) [{role}]")
    return data


def _eval_fingerprint(results: Mapping[str, Any]) -> tuple[str | None, str | None]:
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
    b_split, b_fp = _eval_fingerprint(baseline)
    c_split, c_fp = _eval_fingerprint(candidate)
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


def _run_summary(results: Mapping[str, Any], path: str | None) -> dict[str, Any]:
    prov = results.get("provenance") or {}
    model = prov.get("model") or {}
    split, fingerprint = _eval_fingerprint(results)
    return {
        "path": path,
        "model": model.get("source"),
        "weights_sha256": model.get("weights_sha256"),
        "verdict": results.get("verdict"),
        "schema_version": results.get("schema_version"),
        "eval_split": split,
        "eval_fingerprint": fingerprint,
        "started_at": (results.get("run") or {}).get("started_at"),
    }


def compare(
    baseline: Mapping[str, Any],
    candidate: Mapping[str, Any],
    policy: RegressionPolicy | None = None,
    *,
    baseline_path: str | None = None,
    candidate_path: str | None = None,
    forced_problems: Iterable[str] = (),
) -> dict[str, Any]:
    """The comparison of two results.json dicts (already checked for compatibility)."""
    from harness.stats import paired as paired_stats
    policy = policy or RegressionPolicy()
    seed = int((candidate.get("provenance") or {}).get("seed") or 0)
    labels = ((candidate.get("provenance") or {}).get("data") or {}).get("label_names") or []
    k = len(labels)
    base_ex, cand_ex = _examples(baseline), _examples(candidate)
    paired = _pair(base_ex, cand_ex) if base_ex is not None and cand_ex is not None else None
    candidate_checks = {c["id"]: c for c in candidate.get("checks", [])}
    rows: list[dict[str, Any]] = []
    for base_check in baseline.get("checks", []):
        check_id = base_check["id"]
        cand_check = candidate_checks.get(check_id)
        check_gated = bool((cand_check or base_check).get("gated", True))
        base_metrics = _metrics(base_check)
        cand_metrics = _metrics(cand_check) if cand_check else {}
        for name, base_metric in base_metrics.items():
            row: dict[str, Any] = {
                "check": check_id, "metric": name, "key": f"{check_id}.{name}",
                "baseline": base_metric.get("value"), "candidate": None, "delta": None, "delta_interval": None,
                "p_value": None, "method": "", "paired": False, "direction": _direction(cand_check, base_check, name),
                "significant": None, "tolerance": policy.tolerance_for(check_id, name),
                "gated": policy.gated(check_id, name, check_gated), "change": "", "regression": False, "note": "",
            }
            rows.append(row)
            cand_metric = cand_metrics.get(name)
            if cand_check is None or cand_metric is None:
                status = (cand_check or {}).get("status")
                row["change"] = "missing"
                row["note"] = f"the candidate has no {'check' if cand_check is None else 'metric'} here" + (f" (check status {status})" if status else "")
                row["regression"] = row["gated"]
                continue
            b_value, c_value = base_metric.get("value"), cand_metric.get("value")
            row["candidate"] = c_value
            if b_value is None or c_value is None:
                row["change"] = "undefined"
                row["note"] = "the metric is undefined in the " + ("candidate" if c_value is None else "baseline")
                row["regression"] = row["gated"] and c_value is None and b_value is not None
                continue
            row["delta"] = c_value - b_value
            outcome = _test(name, base_metric, cand_metric, base_ex, cand_ex, paired, k, policy, _rng(seed, row["key"]), paired_stats)
            if outcome is None:
                row["method"] = "none: no interval recorded and not recomputable from predictions"
                row["change"] = "unchanged" if row["delta"] == 0 else "changed (untested)"
                continue
            row.update({
                "delta": outcome.delta,
                "delta_interval": None if outcome.low is None else {"low": outcome.low, "high": outcome.high, "level": policy.level},
                "p_value": outcome.p_value, "method": outcome.method, "paired": outcome.paired,
            })
            significant = outcome.p_value is not None and math.isfinite(outcome.p_value) and outcome.p_value < policy.alpha
            row["significant"] = significant
            if row["direction"] is None:
                row["change"] = "changed (direction unknown)" if significant else "no significant change"
                continue
            worse = outcome.delta < 0 if row["direction"] == "higher" else outcome.delta > 0
            if not significant or outcome.delta == 0:
                row["change"] = "no significant change"
            elif not worse:
                row["change"] = "improved"
            elif abs(outcome.delta) <= row["tolerance"]:
                row["change"] = "worse, within tolerance"
            else:
                row["change"] = "regressed"
                row["regression"] = row["gated"]
    regressions = [r["key"] for r in rows if r["regression"]]
    return {
        "version": COMPARISON_VERSION,
        "baseline": _run_summary(baseline, baseline_path),
        "candidate": _run_summary(candidate, candidate_path),
        "policy": policy.to_dict(),
        "paired": paired is not None,
        "shared_examples": len(paired[0]) if paired is not None else 0,
        "pairing_note": _pairing_note(base_ex, cand_ex, paired),
        "forced": list(forced_problems),
        "rows": rows,
        "regressions": regressions,
        "verdict": "fail" if regressions else "pass",
        "exit_code": 1 if regressions else 0,
    }


def _pairing_note(base: _Examples | None, cand: _Examples | None, paired: Any) -> str:
    if paired is not None:
        return f"paired: both runs scored the same {len(paired[0])} examples (matched by id)"
    if base is None or cand is None:
        missing = " and ".join(role for role, ex in (("baseline", base), ("candidate", cand)) if ex is None)
        return f"unpaired: the {missing} results keep no per-example predictions"
    return "unpaired: the runs scored different examples (ids or labels differ)"


def _test(name: str, base_metric: Mapping[str, Any], cand_metric: Mapping[str, Any], base_ex: _Examples | None,
          cand_ex: _Examples | None, paired: Any, k: int, policy: RegressionPolicy, rng: Any, ps: Any) -> Any:
    """Pick and run the test for one metric; None when nothing can be tested."""
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


def compare_files(baseline_path: Path, candidate_path: Path, policy: RegressionPolicy | None = None, *, force: bool = False) -> dict[str, Any]:
    """Load, refuse (unless forced) and compare two results.json files."""
    baseline = load_results_file(baseline_path, "baseline")
    candidate = load_results_file(candidate_path, "candidate")
    problems = refuse_unless_forced(baseline, candidate, force)
    return compare(baseline, candidate, policy, baseline_path=str(baseline_path), candidate_path=str(candidate_path), forced_problems=problems)


# ---------------------------------------------------------------- renderers


def _fmt(value: Any) -> str:
    if value is None or not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        return "n/a"
    return f"{value:.4f}" if value == 0 or abs(value) >= 1e-3 else f"{value:.2e}"


def _fmt_delta(row: Mapping[str, Any]) -> str:
    delta = row.get("delta")
    if delta is None:
        return "n/a"
    shown = f"{delta:+.4f}"
    interval = row.get("delta_interval")
    if interval:
        shown += f" [{interval['low']:+.4f}, {interval['high']:+.4f}]"
    return shown


def _fmt_p(value: Any) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.3g}" if value >= 1e-4 else "<1e-4"


CHANGE_ICONS = {"regressed": "\u274c", "improved": "\u2b06\ufe0f", "missing": "\u274c", "undefined": "\u26a0\ufe0f"}


def summary_sentence(comparison: Mapping[str, Any]) -> str:
    regressions = comparison.get("regressions") or []
    alpha = (comparison.get("policy") or {}).get("alpha", 0.05)
    if regressions:
        return (f"{len(regressions)} significant regression{'s' if len(regressions) != 1 else ''} beyond tolerance "
                f"(alpha {alpha:g}): {', '.join(regressions)}; the gate fails.")
    return f"No significant regression beyond tolerance (alpha {alpha:g}) on any gated metric."


def render_markdown_section(comparison: Mapping[str, Any]) -> list[str]:
    """The comparison as Markdown lines (a section of the summary, or the whole of ``harness compare``)."""
    from harness.outputs.markdown import md_escape

    base, cand = comparison.get("baseline") or {}, comparison.get("candidate") or {}
    lines = ["### Comparison with the baseline", ""]
    icon = "\u274c" if comparison.get("regressions") else "\u2705"
    lines.append(f"{icon} {md_escape(summary_sentence(comparison))}")
    lines.append("")

    def who(run: Mapping[str, Any]) -> str:
        sha = run.get("weights_sha256") or ""
        return f"{md_escape(run.get('model') or 'unknown', 100)}" + (f" (weights {md_escape(sha[:12])})" if sha else "")

    note = str(comparison.get("pairing_note", ""))
    lines.append(f"Baseline: {who(base)}; candidate: {who(cand)}. {md_escape(note[:1].upper() + note[1:])}.")
    for problem in comparison.get("forced") or []:
        lines.append(f"\n**Compared with --force although** {md_escape(problem)}.")
    lines.append("")
    lines.append("| Check | Metric | Baseline | Candidate | \u0394 (95% CI) | p | Change | Gated | Method |")
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for row in comparison.get("rows") or []:
        change = row.get("change", "")
        shown = f"{CHANGE_ICONS.get(change, '')} {md_escape(change)}".strip()
        if row.get("regression"):
            shown = f"**{shown}**"
        cells = [
            md_escape(row["check"], 80), md_escape(row["metric"], 60), _fmt(row.get("baseline")), _fmt(row.get("candidate")),
            _fmt_delta(row), _fmt_p(row.get("p_value")), shown, "yes" if row.get("gated") else "no",
            md_escape(row.get("method") or row.get("note") or "", 160),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    return lines


def render_markdown(comparison: Mapping[str, Any]) -> str:
    return "\n".join(render_markdown_section(comparison)) + "\n"


def add_junit_suite(root: Any, comparison: Mapping[str, Any]) -> None:
    """Append a ``<testsuite name="comparison">``: one testcase per compared metric, failures for regressions."""
    from harness.outputs.junit import _properties, _sub

    rows = comparison.get("rows") or []
    failures = sum(1 for r in rows if r.get("regression"))
    if root.tag == "testsuites":  # keep the document's totals the sum of its suites
        for name, extra in (("tests", len(rows)), ("failures", failures)):
            root.set(name, str(int(root.get(name, "0")) + extra))
    suite = _sub(root, "testsuite", {"name": "comparison", "tests": str(len(rows)), "failures": str(failures), "errors": "0", "skipped": "0", "time": "0.000"})
    base, cand = comparison.get("baseline") or {}, comparison.get("candidate") or {}
    _properties(suite, [
        ("baseline.model", base.get("model") or ""), ("baseline.weights_sha256", base.get("weights_sha256") or ""),
        ("candidate.model", cand.get("model") or ""), ("paired", "true" if comparison.get("paired") else "false"),
        ("verdict", comparison.get("verdict", "")),
    ])
    for row in rows:
        case = _sub(suite, "testcase", {"classname": "harness.comparison", "name": row["key"], "time": "0.000"})
        _properties(case, [
            ("baseline", _fmt(row.get("baseline"))), ("candidate", _fmt(row.get("candidate"))), ("delta", _fmt_delta(row)),
            ("p_value", _fmt_p(row.get("p_value"))), ("method", row.get("method") or ""), ("change", row.get("change", "")),
            ("gated", "true" if row.get("gated") else "false"), ("tolerance", repr(float(row.get("tolerance") or 0.0))),
        ])
        text = (f"{row['key']}: baseline {_fmt(row.get('baseline'))}, candidate {_fmt(row.get('candidate'))}, "
                f"delta {_fmt_delta(row)}, p {_fmt_p(row.get('p_value'))} ({row.get('method') or row.get('note') or 'untested'}): {row.get('change', '')}")
        if row.get("regression"):
            _sub(case, "failure", {"message": f"regression: {row.get('change')}", "type": "regression"}, text)
        _sub(case, "system-out", None, text)


def render_junit(comparison: Mapping[str, Any]) -> str:
    """The comparison alone as a JUnit document (for ``harness compare -o``)."""
    import xml.etree.ElementTree as ET

    from harness.outputs.junit import XML_DECLARATION

    root = ET.Element("testsuites", {"name": "audit-harness comparison", "tests": "0", "failures": "0", "errors": "0", "skipped": "0", "time": "0.000"})
    add_junit_suite(root, comparison)
    ET.indent(root)
    return XML_DECLARATION + "\n" + ET.tostring(root, encoding="unicode") + "\n"
