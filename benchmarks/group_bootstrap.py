"""Per-group interval cost: Fairlearn's MetricFrame bootstrap against the harness's vectorised one.

The fairness suite reports selection rate, accuracy, TPR, FPR and FNR of every
group of every attribute set (alone and intersected), each with an interval.
It used to get them from Fairlearn's ``MetricFrame(..., n_boot=...)``, one
table at a time: every resample builds a pandas frame and regroups it, about
12 s per default run at 240 evaluation texts and 32 s at 6,000. The harness
now draws ONE resample matrix for all groups and tables and counts every
group's confusion cells with a single ``bincount`` per table
(``harness_fairness.metrics.group_metric_tables(method="bootstrap")``).

This script builds synthetic data shaped like the default run (binary labels,
``sex`` with 2 values, ``age_band`` with 3, and their intersection: 3 tables),
times both on the same data and number of resamples, checks that the point
values are identical and the bounds agree within bootstrap noise, and times
the default per-group interval (Wilson, no resampling) for reference.

Usage::

    .venv/bin/python benchmarks/group_bootstrap.py [--n 6000] [--n-boot 50] [--repeats 3] [--json PATH]

Exit status: 0 when the vectorised bootstrap of all tables takes under 1 s at
``--n`` texts (also timed at 1,000 resamples), else 1.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings

import numpy as np

TARGET_S = 1.0
TABLES = [(("sex",), 1), (("age_band",), 1), (("sex", "age_band"), 1)]


def _data(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male"], size=n)
    age = rng.choice(["18-39", "40-64", "65+"], size=n, p=[0.4, 0.4, 0.2])
    yt = (rng.random(n) < 0.4).astype(int)
    err = np.where(sex == "female", 0.2, 0.12)
    yp = np.where(rng.random(n) < err, 1 - yt, yt)
    return yt, yp, {"sex": sex.tolist(), "age_band": age.tolist()}


def _fairlearn(yt, yp, sensitive, n_boot: int, seed: int):
    """What the suite did before: one MetricFrame with its own bootstrap per table."""
    import pandas as pd
    from fairlearn.metrics import (
        MetricFrame,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score

    metrics = {"selection_rate": selection_rate, "accuracy": accuracy_score, "true_positive_rate": true_positive_rate,
               "false_positive_rate": false_positive_rate, "false_negative_rate": false_negative_rate}
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for attrs, positive in TABLES:
            frame = MetricFrame(metrics=metrics, y_true=(yt == positive).astype(int), y_pred=(yp == positive).astype(int),
                                sensitive_features=pd.DataFrame({a: sensitive[a] for a in attrs}),
                                n_boot=n_boot, ci_quantiles=[0.025, 0.975], random_state=seed)
            out[(attrs, positive)] = (frame.by_group, frame.by_group_ci)
    return out


def _harness(yt, yp, sensitive, n_boot: int, seed: int, method: str = "bootstrap"):
    from harness_fairness.metrics import group_metric_tables

    return group_metric_tables(yt, yp, sensitive, TABLES, n_boot=n_boot, seed=seed, method=method)


def _timed(fn, repeats: int):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=6000, help="evaluation texts")
    parser.add_argument("--n-boot", type=int, default=50, help="resamples (the suite's group_n_boot default is 50)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats of the harness path (Fairlearn runs once)")
    parser.add_argument("--json", help="write the measurements here")
    args = parser.parse_args(argv)

    yt, yp, sensitive = _data(args.n)
    _harness(yt, yp, sensitive, 10, 0)  # warm imports
    fl_s, _, fl = _timed(lambda: _fairlearn(yt, yp, sensitive, args.n_boot, 1), 1)
    h_min, h_med, ours = _timed(lambda: _harness(yt, yp, sensitive, args.n_boot, 2), args.repeats)
    k_min, k_med, _ = _timed(lambda: _harness(yt, yp, sensitive, 1000, 2), args.repeats)
    w_min, w_med, _ = _timed(lambda: _harness(yt, yp, sensitive, 1, 0, "wilson"), args.repeats)

    same_points, worst_gap = True, 0.0
    for key, rows in ours.items():
        by_group, (low, high) = fl[key]
        for row, idx in zip(rows, by_group.index):
            for name, est in row.metrics.items():
                same_points &= est.value == by_group.loc[idx, name]
                if row.count >= 100 and est.low is not None:
                    sd = np.sqrt(max(est.value * (1 - est.value), 0.01) / row.count)
                    worst_gap = max(worst_gap, abs(est.low - low.loc[idx, name]) / sd, abs(est.high - high.loc[idx, name]) / sd)

    print(f"{len(TABLES)} tables (sex, age_band, sex & age_band), {args.n} texts, {args.n_boot} resamples")
    print(f"{'path':58s} {'min s':>8s} {'median s':>9s}")
    print(f"{'Fairlearn MetricFrame bootstrap, one table at a time':58s} {fl_s:8.3f} {fl_s:9.3f}")
    print(f"{'harness: one resample matrix, vectorised':58s} {h_min:8.3f} {h_med:9.3f}")
    print(f"{'harness: same, 1000 resamples':58s} {k_min:8.3f} {k_med:9.3f}")
    print(f"{'harness: Wilson intervals (the default, no resampling)':58s} {w_min:8.4f} {w_med:9.4f}")
    ratio = fl_s / h_med
    print(f"speed-up at {args.n_boot} resamples (Fairlearn / harness median): {ratio:.0f}x")
    print(f"point values identical to Fairlearn: {'YES' if same_points else 'NO'}; "
          f"largest bound difference, groups >= 100: {worst_gap:.2f} binomial sd (bootstrap noise at {args.n_boot} resamples)")
    met = max(h_med, k_med) < TARGET_S and same_points
    print(f"target: all tables under {TARGET_S:.0f} s at {args.n} texts (up to 1000 resamples) -> {'MET' if met else 'MISSED'}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"n": args.n, "n_boot": args.n_boot, "fairlearn_s": fl_s, "harness_s": h_med, "harness_1000_s": k_med,
                       "wilson_s": w_med, "ratio": ratio, "same_points": bool(same_points), "worst_bound_gap_sd": worst_gap}, fh, indent=2)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
