"""How often does each 95% interval the report prints contain the truth?

Simulates evaluation sets from populations whose true metrics are known, runs
the harness's own code paths on each (``compute_accuracy_report`` as the
accuracy checks call it; ``group_metric_tables`` and ``disparities`` as the
fairness analysis calls them) and counts how often each interval contains the
true value.

Populations (binary task, attributes ``sex`` with 2 values and ``age_band``
with 3, like the built-in data):

* ``default``: a miscalibrated model (temperature 1.6) whose scores depend on
  age band (real disparities for ``age_band``) but not on sex (every true sex
  gap is exactly 0: the case where a percentile bootstrap of max - min fails);
* ``one-class``: a model that predicts the negative class everywhere with
  confidence 0.9 (issue 12: its accuracy interval used to have zero width).

True values come from 2,000,000 draws of the features with exact conditional
expectations (P(y=1 | x) is known), so they carry no label noise: accuracy,
macro F1, balanced accuracy, worst class recall, ROC-AUC, ECE (15 bins) and
per-class recall; per-group selection rate, accuracy, TPR, FPR, FNR; the five
disparities over the groups the sample judges (``count >= 30``).

Usage::

    .venv/bin/python benchmarks/coverage.py [--sims 300] [--n 240] [--n-boot 1000] [--scenario default one-class] [--json PATH]

Exit status: 0 when every interval's coverage is at least 0.92, else 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from typing import Any

import numpy as np

TARGET = 0.92
SEXES = np.array(["female", "male"])
AGES = np.array(["18-39", "40-64", "65+"])
AGE_P = np.array([0.4, 0.4, 0.2])
N_BINS = 15
MIN_COUNT = 30


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def population(scenario: str, size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Features of ``size`` individuals: attributes, P(y=1|x) and the model's P(y=1)."""
    sex = rng.integers(0, 2, size)
    age = rng.choice(3, size=size, p=AGE_P)
    z = rng.normal(np.array([-0.6, 0.0, 0.5])[age], 1.6)
    p_true = _sigmoid(z)
    if scenario == "default":
        q = _sigmoid(1.6 * z + np.array([0.0, 0.25, 0.6])[age])  # overconfident, shifted by age, blind to sex
    elif scenario == "one-class":
        q = np.full(size, 0.1)
    else:
        raise ValueError(scenario)
    return {"sex": sex, "age": age, "p": p_true, "q": q}


def _auc_weighted(score: np.ndarray, w_pos: np.ndarray, w_neg: np.ndarray) -> float:
    """P(score of a positive > score of a negative), ties 1/2, with example weights."""
    order = np.argsort(score, kind="mergesort")
    s, wp, wn = score[order], w_pos[order], w_neg[order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    pos = np.add.reduceat(wp, starts)
    neg = np.add.reduceat(wn, starts)
    neg_below = np.cumsum(neg) - neg
    return float((pos * (neg_below + 0.5 * neg)).sum() / (wp.sum() * wn.sum()))


def truth(pop: dict[str, np.ndarray]) -> dict[str, Any]:
    """Population values of every reported metric, from exact conditional expectations."""
    p, q = pop["p"], pop["q"]
    pred = (q > 0.5).astype(float)  # argmax of [1-q, q], ties to class 0
    conf = np.maximum(q, 1 - q)
    correct = np.where(pred == 1, p, 1 - p)  # P(correct | x)
    tp, fp, fn, tn = (p * pred).mean(), ((1 - p) * pred).mean(), (p * (1 - pred)).mean(), ((1 - p) * (1 - pred)).mean()
    recall1, recall0 = tp / (tp + fn), tn / (tn + fp)
    f1_1 = 2 * tp / (2 * tp + fp + fn)
    f1_0 = 2 * tn / (2 * tn + fn + fp)
    bins = np.minimum(np.floor(conf * N_BINS).astype(int), N_BINS - 1)
    ece = np.abs(np.bincount(bins, weights=correct - conf, minlength=N_BINS)).sum() / p.size
    out: dict[str, Any] = {
        "accuracy": correct.mean(), "micro_f1": correct.mean(), "macro_f1": (f1_0 + f1_1) / 2,
        "balanced_accuracy": (recall0 + recall1) / 2, "min_class_recall": min(recall0, recall1),
        "roc_auc": _auc_weighted(q, p, 1 - p), "ece": ece,
        "recall[0]": recall0, "recall[1]": recall1,
        "precision[1]": tp / (tp + fp) if tp + fp > 0 else None, "precision[0]": tn / (tn + fn),
    }
    groups: dict[str, dict[str, dict[str, float]]] = {}
    labels = {"sex": SEXES[pop["sex"]], "age_band": AGES[pop["age"]]}
    for attrs in (("sex",), ("age_band",), ("sex", "age_band")):
        key = " & ".join(attrs)
        lab = labels[attrs[0]] if len(attrs) == 1 else np.char.add(np.char.add(labels["sex"], " | "), labels["age_band"])
        groups[key] = {}
        for g in np.unique(lab):
            m = lab == g
            pg, dg = p[m], pred[m]
            groups[key][str(g)] = {
                "selection_rate": dg.mean(), "accuracy": correct[m].mean(),
                "true_positive_rate": (pg * dg).sum() / pg.sum(), "false_positive_rate": ((1 - pg) * dg).sum() / (1 - pg).sum(),
                "false_negative_rate": (pg * (1 - dg)).sum() / pg.sum(),
            }
    out["groups"] = groups
    return out


def true_disparities(t: dict[str, Any], attr: str, judged: tuple[str, ...]) -> dict[str, float | None]:
    rates = [t["groups"][attr][g] for g in judged]
    sel = [r["selection_rate"] for r in rates]
    tpr = [r["true_positive_rate"] for r in rates]
    fpr = [r["false_positive_rate"] for r in rates]
    return {
        "demographic_parity_difference": max(sel) - min(sel),
        "demographic_parity_ratio": min(sel) / max(sel) if max(sel) > 0 else None,
        "equalized_odds_difference": max(max(tpr) - min(tpr), max(fpr) - min(fpr)),
        "equal_opportunity_difference": max(tpr) - min(tpr),
        "worst_group_accuracy_gap": t["accuracy"] - min(r["accuracy"] for r in rates),
    }


def simulate(scenario: str, sims: int, n: int, n_boot: int, seed: int = 0, group_boot: bool = True) -> dict[tuple, list]:
    """(scenario, family, metric, method) -> list of (covered, width) over the simulated sets."""
    from harness_accuracy.metrics import compute_accuracy_report
    from harness_fairness.metrics import disparities, group_metric_tables

    rng = np.random.default_rng(seed)
    t = truth(population(scenario, 2_000_000, np.random.default_rng(12345)))
    hits: dict[tuple, list] = defaultdict(list)

    def record(family: str, metric: str, method: str | None, low, high, value) -> None:
        if value is None or low is None or high is None:
            return
        hits[(scenario, family, metric, method)].append((low - 1e-12 <= value <= high + 1e-12, high - low))

    for _ in range(sims):
        pop = population(scenario, n, rng)
        y = (rng.random(n) < pop["p"]).astype(int)
        probs = np.column_stack([1 - pop["q"], pop["q"]])
        pred = probs.argmax(axis=1)
        report = compute_accuracy_report(y, probs, ["neg", "pos"], rng=rng, n_boot=n_boot, n_bins=N_BINS)
        for name, est in report.estimates().items():
            if est.interval is not None:
                record("accuracy", name, est.interval.method, est.interval.low, est.interval.high, t[name])
        for c, row in enumerate(report.per_class):
            record("accuracy", f"recall[{c}]", "wilson", row["recall_low"], row["recall_high"], t[f"recall[{c}]"])
            record("accuracy", f"precision[{c}]", "wilson", row["precision_low"], row["precision_high"], t[f"precision[{c}]"])
        sensitive = {"sex": SEXES[pop["sex"]].tolist(), "age_band": AGES[pop["age"]].tolist()}
        tables = [(("sex",), 1), (("age_band",), 1), (("sex", "age_band"), 1)]
        methods = ("wilson", "bootstrap") if group_boot else ("wilson",)
        for method in methods:
            rows = group_metric_tables(y, pred, sensitive, tables, n_boot=n_boot, seed=int(rng.integers(2**31)),
                                       method=method, min_count=MIN_COUNT)
            for (attrs, _), table in rows.items():
                for row in table:
                    if not row.sufficient:
                        continue  # reported, but flagged as insufficient data
                    for name, est in row.metrics.items():
                        record("group", name, est.method, est.low, est.high, t["groups"][" & ".join(attrs)][row.group][name])
        for attr in ("sex", "age_band"):
            d = disparities(y, pred, sensitive, (attr,), min_count=MIN_COUNT)
            if len(d.judged_groups) < 2:
                continue
            true_d = true_disparities(t, attr, d.judged_groups)
            for name in true_d:
                interval = d.interval(name)
                if interval is not None:
                    record(f"disparity[{attr}]", name, interval.method, interval.low, interval.high, true_d[name])
    return hits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sims", type=int, default=300)
    parser.add_argument("--n", type=int, default=240, help="evaluation set size (the default run has 240)")
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--scenario", nargs="+", default=["default", "one-class"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the table here")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    hits: dict[tuple, list] = {}
    for scenario in args.scenario:
        hits.update(simulate(scenario, args.sims, args.n, args.n_boot, args.seed))
    print(f"{args.sims} simulated evaluation sets of {args.n} examples per scenario, {args.n_boot} resamples, 95% intervals")
    print(f"{'scenario':10s} {'family':22s} {'metric':30s} {'method':36s} {'sets':>5s} {'coverage':>9s} {'mean width':>11s}")
    rows, ok = [], True
    for (scenario, family, metric, method), values in sorted(hits.items(), key=lambda kv: kv[0][:2] + (kv[0][3] or "", kv[0][2])):
        covered = float(np.mean([c for c, _ in values]))
        width = float(np.mean([w for _, w in values]))
        default = method != "bootstrap-percentile" or family != "group"
        flag = "" if covered >= TARGET else ("  < target" if default else "  < target (not the default)")
        ok &= covered >= TARGET or not default
        print(f"{scenario:10s} {family:22s} {metric:30s} {method:36s} {len(values):5d} {covered:9.3f} {width:11.3f}{flag}")
        rows.append({"scenario": scenario, "family": family, "metric": metric, "method": method, "sets": len(values),
                     "coverage": covered, "mean_width": width, "default": default})
    print(f"target: every interval the report prints covers >= {TARGET} -> {'MET' if ok else 'MISSED'} "
          f"({time.perf_counter() - start:.0f} s)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=2)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
