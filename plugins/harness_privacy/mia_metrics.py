"""Membership-inference metrics from the exact ROC, and the epsilon lower bound an attack proves.

Pure NumPy (SciPy imported lazily for beta quantiles and midranks), no model:
everything here works on two arrays of attack scores, higher meaning "more
likely a member". Conventions, the same everywhere:

- the ROC is *exact*: one point per distinct score (nothing interpolated or
  dropped), a threshold ``t`` calls "member" when ``score >= t``; the first
  point is ``(0, 0)`` at ``t = +inf``, as scikit-learn's ``roc_curve`` with
  ``drop_intermediate=False`` (the tests cross-check both);
- AUC is the trapezoid area under it (ties count one half), with a DeLong
  interval (closed form, from the Mann-Whitney placement values);
- TPR at a low FPR is the largest TPR among thresholds whose FPR is at most the
  target, with a Clopper-Pearson interval on the TPR. With ``n`` non-members an
  FPR of ``f`` can only be told apart from 0 when ``f * n >= 1``; below that the
  value is ``None`` and a note says how many non-members it needs;
- the epsilon lower bound follows the hypothesis-testing view of
  (eps, delta)-DP (Kairouz et al. 2015; used for auditing by Jagielski et al.
  2020 and Nasr et al. 2021): any test that tells "member" from "non-member"
  must satisfy ``TPR <= e^eps FPR + delta`` and ``1 - FPR <= e^eps (1 - TPR) +
  delta``, so ``eps >= log((TPR - delta) / FPR)`` and
  ``eps >= log((1 - FPR - delta) / (1 - TPR))``. TPR and FPR are replaced by
  Clopper-Pearson bounds (TPR low, FPR high; each one-sided at (1-level)/2, so
  the pair holds jointly with probability >= level by the union bound).
  Choosing the best threshold on the same examples would bias the bound up,
  so the examples are split in two halves at random: the attack and threshold
  are chosen on one half, and the bound is computed on the other half alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from harness import Interval, N_


#: An unresolvable TPR-at-FPR's note as a msgid (the report translates ``note_message``; ``note`` stays English).
NOT_RESOLVABLE = N_("not resolvable: an FPR of {fpr} needs at least {need} non-members, {used} were used")


def _scores(values: Any, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float).ravel()
    if array.size == 0:
        raise ValueError(f"{name}: need at least one score")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: scores must be finite numbers")
    return array


@dataclass(frozen=True)
class Roc:
    """The exact ROC: counts at every distinct threshold, in decreasing threshold order."""

    thresholds: np.ndarray  # first is +inf
    tp: np.ndarray  # members with score >= threshold
    fp: np.ndarray  # non-members with score >= threshold
    n_members: int
    n_nonmembers: int

    @property
    def tpr(self) -> np.ndarray:
        return self.tp / self.n_members

    @property
    def fpr(self) -> np.ndarray:
        return self.fp / self.n_nonmembers


def exact_roc(member_scores: Any, nonmember_scores: Any) -> Roc:
    """Every (FPR, TPR) point of the attack, one per distinct score."""
    members = _scores(member_scores, "member scores")
    nonmembers = _scores(nonmember_scores, "non-member scores")
    scores = np.concatenate([members, nonmembers])
    is_member = np.concatenate([np.ones(members.size), np.zeros(nonmembers.size)])
    order = np.argsort(-scores, kind="mergesort")
    scores, is_member = scores[order], is_member[order]
    last_of_value = np.r_[np.flatnonzero(np.diff(scores)), scores.size - 1]
    tp = np.cumsum(is_member)[last_of_value]
    fp = (last_of_value + 1) - tp
    return Roc(
        thresholds=np.r_[np.inf, scores[last_of_value]],
        tp=np.r_[0, tp].astype(np.int64),
        fp=np.r_[0, fp].astype(np.int64),
        n_members=int(members.size),
        n_nonmembers=int(nonmembers.size),
    )


def roc_auc(roc: Roc) -> float:
    """Trapezoid area under the exact ROC (equals the Mann-Whitney probability, ties one half)."""
    fpr, tpr = roc.fpr, roc.tpr
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def delong_interval(member_scores: Any, nonmember_scores: Any, level: float = 0.95) -> tuple[float, Interval]:
    """AUC and its DeLong (1988) normal interval, clipped to [0, 1].

    Placement values from midranks (Sun & Xu 2014): no resampling, so the
    interval is the same on every run. When members and non-members are
    perfectly separated the DeLong variance is 0 and so is the width: the
    report says so through the interval's method name.
    """
    from scipy.stats import rankdata

    members = _scores(member_scores, "member scores")
    nonmembers = _scores(nonmember_scores, "non-member scores")
    m, n = members.size, nonmembers.size
    both = rankdata(np.concatenate([members, nonmembers]))
    v10 = (both[:m] - rankdata(members)) / n  # share of non-members each member beats
    v01 = 1.0 - (both[m:] - rankdata(nonmembers)) / m  # share of members beating each non-member
    auc = float(v10.mean())
    variance = (np.var(v10, ddof=1) / m if m > 1 else 0.0) + (np.var(v01, ddof=1) / n if n > 1 else 0.0)
    from statistics import NormalDist

    half = NormalDist().inv_cdf(0.5 + level / 2.0) * math.sqrt(max(variance, 0.0))
    return auc, Interval(max(0.0, auc - half), min(1.0, auc + half), level=level, method="delong")


def best_balanced_accuracy(roc: Roc) -> tuple[float, float]:
    """Highest (TPR + TNR) / 2 over thresholds, and the threshold reaching it."""
    values = (roc.tpr + 1.0 - roc.fpr) / 2.0
    best = int(np.argmax(values))
    return float(values[best]), float(roc.thresholds[best])


def balanced_accuracy_interval(member_scores: Any, nonmember_scores: Any, rng: np.random.Generator, level: float = 0.95, n_boot: int = 400) -> Interval | None:
    """Percentile bootstrap of the best-threshold balanced accuracy (members and non-members resampled apart)."""
    from harness import bootstrap_interval

    members = _scores(member_scores, "member scores")
    nonmembers = _scores(nonmember_scores, "non-member scores")
    scores = np.concatenate([members, nonmembers])
    strata = np.r_[np.ones(members.size, dtype=int), np.zeros(nonmembers.size, dtype=int)]

    def statistic(idx: np.ndarray) -> float:
        chosen, kind = scores[idx], strata[idx]
        return best_balanced_accuracy(exact_roc(chosen[kind == 1], chosen[kind == 0]))[0]

    return bootstrap_interval(statistic, scores.size, rng=rng, n_boot=n_boot, level=level, stratify=strata)


def clopper_pearson_bounds(successes: Any, trials: Any, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised two-sided Clopper-Pearson bounds (each side one-sided at (1-level)/2).

    The same numbers as :func:`harness.stats.intervals.clopper_pearson_interval` (the
    tests check it), for whole arrays of counts at once: the epsilon audit
    evaluates every threshold of the ROC.
    """
    from scipy.stats import beta

    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float) * np.ones_like(k)
    tail = (1.0 - level) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(k <= 0, 0.0, beta.ppf(tail, np.maximum(k, 1e-12), n - k + 1))
        high = np.where(k >= n, 1.0, beta.ppf(1.0 - tail, k + 1, np.maximum(n - k, 1e-12)))
    return np.asarray(low, dtype=float), np.asarray(high, dtype=float)


@dataclass(frozen=True)
class TprAtFpr:
    """TPR at a target FPR read off the exact ROC, with its Clopper-Pearson interval."""

    target_fpr: float
    tpr: float | None
    interval: Interval | None
    fpr: float | None
    threshold: float | None
    resolvable: bool
    note: str = ""
    note_message: Mapping[str, Any] | None = None  # the note as {"text", "message_id", "message_args"}


def tpr_at_fpr(roc: Roc, target: float, level: float = 0.95) -> TprAtFpr:
    """Largest TPR among thresholds with FPR <= target (``None`` when ``target * n_nonmembers < 1``)."""
    from harness import clopper_pearson_interval

    allowed = math.floor(target * roc.n_nonmembers + 1e-9)
    if allowed < 1:
        need = math.ceil(1.0 / target - 1e-9)
        args = {"fpr": f"{target:.2%}", "need": need, "used": roc.n_nonmembers}
        note = NOT_RESOLVABLE.format(**args)
        return TprAtFpr(target, None, None, None, None, False, note, {"text": note, "message_id": NOT_RESOLVABLE, "message_args": args})
    ok = np.flatnonzero(roc.fp <= allowed)
    best = ok[np.argmax(roc.tp[ok])]
    tp = int(roc.tp[best])
    return TprAtFpr(
        target, tp / roc.n_members, clopper_pearson_interval(tp, roc.n_members, level),
        float(roc.fpr[best]), float(roc.thresholds[best]), True,
    )


def epsilon_bounds(tp: Any, fp: Any, n_members: int, n_nonmembers: int, delta: float, level: float = 0.95) -> np.ndarray:
    """Epsilon lower bound proved by each threshold (both forms of the DP inequality; may be negative)."""
    tpr_low, _ = clopper_pearson_bounds(tp, n_members, level)
    _, fpr_high = clopper_pearson_bounds(fp, n_nonmembers, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        direct = np.where((tpr_low - delta > 0) & (fpr_high > 0), np.log((tpr_low - delta) / fpr_high), -np.inf)
        mirror = np.where((1.0 - fpr_high - delta > 0) & (1.0 - tpr_low > 0), np.log((1.0 - fpr_high - delta) / (1.0 - tpr_low)), -np.inf)
    return np.maximum(direct, mirror)


@dataclass(frozen=True)
class EpsilonAudit:
    """The empirical epsilon lower bound and how it was obtained."""

    epsilon_lower_bound: float  # >= 0; 0 means the attack proves nothing
    delta: float
    level: float
    attack: str | None
    threshold: float | None
    selection_bound: float
    evaluation: Mapping[str, int] = field(default_factory=dict)
    method: str = ""
    power: float = 0.0  # the largest bound this many held-out examples can prove (every call right)

    def to_dict(self) -> dict[str, Any]:
        return {
            "epsilon_lower_bound": self.epsilon_lower_bound,
            "delta": self.delta,
            "level": self.level,
            "attack": self.attack,
            "threshold": self.threshold,
            "selection_bound": self.selection_bound if math.isfinite(self.selection_bound) else None,
            "evaluation": dict(self.evaluation),
            "method": self.method,
            **({"method_message": {"text": AUDIT_METHOD, "message_id": AUDIT_METHOD_TEMPLATE, "message_args": {"formula": AUDIT_FORMULA}}}
               if self.method == AUDIT_METHOD else {}),
            "power": self.power,
        }


def audit_power(n_members: int, n_nonmembers: int, delta: float, level: float = 0.95) -> float:
    """The largest epsilon the bound can prove on ``n_members`` + ``n_nonmembers`` held-out examples.

    That is the bound of a perfect attack (every member called a member, no
    non-member): Clopper-Pearson alone caps it, at about ``log(n / 3.7)`` at 95%.
    A claimed epsilon above it cannot be refuted by this audit, whatever the model.
    """
    if n_members < 1 or n_nonmembers < 1:
        return 0.0
    return max(0.0, float(epsilon_bounds([n_members], [0], n_members, n_nonmembers, delta, level)[0]))


#: How the split audit's bound is computed: the formula is data (never translated), the words around it a msgid.
AUDIT_FORMULA = "eps >= max(log((TPR_low - delta) / FPR_high), log((1 - FPR_high - delta) / (1 - TPR_low)))"
AUDIT_METHOD_TEMPLATE = N_("{formula} with Clopper-Pearson bounds; attack and threshold chosen on a random half of the members "
                           "and non-members, the bound computed on the other half only")
AUDIT_METHOD = AUDIT_METHOD_TEMPLATE.format(formula=AUDIT_FORMULA)


def audit_epsilon(
    scores: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    delta: float,
    rng: np.random.Generator,
    level: float = 0.95,
) -> EpsilonAudit:
    """Empirical epsilon lower bound from attack scores ``{attack: (members, non-members)}``.

    All attacks must score the same candidates in the same order (they are
    split into the same halves). The (attack, threshold) pair with the best
    bound on the selection half is evaluated once on the held-out half.
    """
    if not scores:
        raise ValueError("audit_epsilon needs at least one attack's scores")
    if not 0.0 <= delta < 1.0:
        raise ValueError(f"delta must be in [0, 1), got {delta!r}")
    sizes = {(len(m), len(n)) for m, n in scores.values()}
    if len(sizes) != 1:
        raise ValueError("every attack must score the same members and non-members")
    n_members, n_nonmembers = sizes.pop()
    if n_members < 2 or n_nonmembers < 2:
        raise ValueError("the epsilon audit needs at least two members and two non-members")
    member_order, nonmember_order = rng.permutation(n_members), rng.permutation(n_nonmembers)
    select_m, eval_m = member_order[: n_members // 2], member_order[n_members // 2 :]
    select_n, eval_n = nonmember_order[: n_nonmembers // 2], nonmember_order[n_nonmembers // 2 :]
    best: tuple[float, str, float] = (-math.inf, "", math.inf)
    for name in sorted(scores):
        members, nonmembers = (np.asarray(s, dtype=float) for s in scores[name])
        roc = exact_roc(members[select_m], nonmembers[select_n])
        bounds = epsilon_bounds(roc.tp, roc.fp, roc.n_members, roc.n_nonmembers, delta, level)
        i = int(np.argmax(bounds))
        if bounds[i] > best[0]:
            best = (float(bounds[i]), name, float(roc.thresholds[i]))
    selection_bound, attack, threshold = best
    power = audit_power(int(eval_m.size), int(eval_n.size), delta, level)
    if not attack or not math.isfinite(threshold):
        return EpsilonAudit(0.0, delta, level, None, None, selection_bound, {}, AUDIT_METHOD, power)
    members, nonmembers = (np.asarray(s, dtype=float) for s in scores[attack])
    tp = int(np.sum(members[eval_m] >= threshold))
    fp = int(np.sum(nonmembers[eval_n] >= threshold))
    value = float(epsilon_bounds([tp], [fp], eval_m.size, eval_n.size, delta, level)[0])
    return EpsilonAudit(
        max(0.0, value), delta, level, attack, threshold, selection_bound,
        {"members": int(eval_m.size), "nonmembers": int(eval_n.size), "true_positives": tp, "false_positives": fp},
        AUDIT_METHOD, power,
    )


def downsample_curve(roc: Roc, max_points: int = 400) -> dict[str, list[float]]:
    """ROC points for the chart and results.json: all of them up to ``max_points``, else a log-spaced FPR subset.

    The low-FPR end (what the log-scale chart shows) keeps every point it has.
    """
    fpr, tpr = roc.fpr, roc.tpr
    keep = np.arange(fpr.size)
    if fpr.size > max_points:
        grid = np.unique(np.r_[0.0, np.geomspace(1.0 / max(1, roc.n_nonmembers), 1.0, max_points - 2)])
        keep = np.unique(np.r_[np.searchsorted(fpr, grid, side="right") - 1, fpr.size - 1])
    return {"fpr": [float(fpr[i]) for i in keep], "tpr": [float(tpr[i]) for i in keep]}
