"""Which texts are explained: the ones a reviewer asks about, and a sample that stands for the rest.

* ``sample``: a seeded, class-stratified sample of the evaluation split
  (each class in proportion to its size, at least one per class), so numbers
  over it (faithfulness, reliance on protected terms) estimate the
  evaluation distribution;
* ``misclassified``: evaluation examples the model gets wrong, most
  confident mistakes first;
* ``adversarial``: successful attacks of this run's robustness check (the
  attack kept in ``ctx.extra`` by ``harness_robustness``), original and
  perturbed text side by side; available only when an attack ran earlier in
  the same run on the same weights (list ``robustness.*`` before ``explain.*``
  in the suite);
* ``counterfactual``: identity-term swaps that flip the prediction, made with
  the fairness plugin's swap lists (``harness_fairness.counterfactual``) on
  the evaluation texts, original and swapped side by side, largest score
  change first.

Each source that gives nothing says why (:attr:`Selection.unavailable`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    import numpy as np

    from harness import RunContext

__all__ = ["Example", "Selection", "select_examples", "stratified_sample"]

ATTACK_KEY = "harness_robustness.attack"


@dataclass(frozen=True)
class Example:
    """One text to explain. ``pair`` links an original to its perturbed or swapped twin (same number)."""

    kind: str  # sample | misclassified | adversarial | counterfactual
    role: str  # text | original | perturbed | swapped
    text: str
    label: int | None  # the true label index when known
    index: int | None  # position in the evaluation split, when it is an evaluation text
    pair: int | None = None
    note: str = ""  # e.g. the swapped attribute


@dataclass
class Selection:
    examples: list[Example] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)
    available: dict[str, int] = field(default_factory=dict)  # kind -> how many the source offered before the cap


def stratified_sample(labels: Sequence[int], n: int, rng: "np.random.Generator") -> list[int]:
    """``n`` indices (sorted), per class in proportion to its size (largest remainders), at least one per class."""
    import numpy as np

    labels = np.asarray(labels)
    total = len(labels)
    if n >= total:
        return list(range(total))
    classes = sorted(set(labels.tolist()))
    exact = {c: n * float((labels == c).sum()) / total for c in classes}
    quota = {c: max(1, int(exact[c])) if n >= len(classes) else int(exact[c]) for c in classes}
    while sum(quota.values()) > n:
        c = max(classes, key=lambda k: (quota[k] - exact[k], quota[k]))
        quota[c] -= 1
    for c in sorted(classes, key=lambda k: exact[k] - quota[k], reverse=True):
        if sum(quota.values()) >= n:
            break
        quota[c] += 1
    chosen: list[int] = []
    for c in classes:
        members = np.flatnonzero(labels == c)
        chosen.extend(int(i) for i in rng.permutation(members)[: min(quota[c], members.size)])
    return sorted(chosen)


def select_examples(ctx: "RunContext", *, sample: int, misclassified: int, adversarial: int, counterfactual: int,
                    rng: "np.random.Generator") -> Selection:
    """The examples of every source, capped by the counts given (0 turns a source off)."""
    import numpy as np

    data = ctx.require_data()
    split = data.eval
    texts, labels = list(split.texts), np.asarray(split.labels)
    probabilities = ctx.require_predictor().probabilities(texts)
    predicted = probabilities.argmax(axis=1)
    selection = Selection()
    for i in stratified_sample(labels, sample, rng) if sample else []:
        selection.examples.append(Example("sample", "text", texts[i], int(labels[i]), i))
    selection.available["sample"] = len(texts)
    wrong = np.flatnonzero(predicted != labels)
    wrong = wrong[np.argsort(-probabilities[wrong, predicted[wrong]], kind="stable")]
    selection.available["misclassified"] = int(wrong.size)
    for i in wrong[:misclassified]:
        selection.examples.append(Example("misclassified", "text", texts[i], int(labels[i]), int(i)))
    if not wrong.size and misclassified:
        selection.unavailable["misclassified"] = "the model classifies every evaluation example correctly"
    if adversarial:
        _adversarial(ctx, selection, adversarial, texts, labels)
    if counterfactual:
        _counterfactual(ctx, selection, counterfactual, texts, labels)
    return selection


def _adversarial(ctx: "RunContext", selection: Selection, cap: int, texts: list[str], labels: "np.ndarray") -> None:
    weights = ctx.require_predictor().handle.weights_sha256
    outcomes = [value for key, value in ctx.extra.items()
                if isinstance(key, tuple) and len(key) >= 2 and key[0] == ATTACK_KEY and key[1] == weights]
    if not outcomes:
        selection.unavailable["adversarial"] = ("no adversarial attack ran earlier in this run on these weights "
                                                "(select robustness.attack_success_rate before the explain checks)")
        return
    successes = [s for outcome in outcomes for s in getattr(outcome, "successes", [])]
    selection.available["adversarial"] = len(successes)
    if not successes:
        selection.unavailable["adversarial"] = "the attack succeeded on no example"
        return
    pair = 0
    for success in successes[:cap]:
        index = success.get("index")
        label = int(labels[index]) if isinstance(index, int) and 0 <= index < len(labels) else None
        in_split = index if isinstance(index, int) and 0 <= index < len(texts) and texts[index] == success["original"] else None
        selection.examples.append(Example("adversarial", "original", success["original"], label, in_split, pair))
        selection.examples.append(Example("adversarial", "perturbed", success["perturbed"], label, None, pair))
        pair += 1


def _counterfactual(ctx: "RunContext", selection: Selection, cap: int, texts: list[str], labels: "np.ndarray") -> None:
    try:
        from harness_fairness.counterfactual import make_variants, swap_languages
        from harness_fairness.terms import DEFAULT_SWAPS
        from harness_fairness.terms_zh import DEFAULT_SWAPS_ZH
    except ImportError:  # pragma: no cover - a built-in plugin, installed with the harness
        selection.unavailable["counterfactual"] = "the fairness plugin (harness_fairness) is not installed"
        return
    detected = ctx.languages.per_text if ctx.languages is not None else None
    languages, _ = swap_languages(texts, detected)
    variants = make_variants(texts, DEFAULT_SWAPS, languages=languages, swaps_zh=DEFAULT_SWAPS_ZH)
    if not variants:
        selection.unavailable["counterfactual"] = "no identity term of the swap lists occurs in the evaluation texts"
        return
    predictor = ctx.require_predictor()
    original = predictor.probabilities([v.original for v in variants])
    swapped = predictor.probabilities([v.swapped for v in variants])
    flips = [(float(abs(swapped[i] - original[i]).max()), i) for i in range(len(variants))
             if original[i].argmax() != swapped[i].argmax()]
    selection.available["counterfactual"] = len(flips)
    if not flips:
        selection.unavailable["counterfactual"] = f"no identity-term swap flips a prediction ({len(variants)} swaps tried)"
        return
    flips.sort(key=lambda item: (-item[0], item[1]))
    for pair, (_, i) in enumerate(flips[:cap], start=1000):
        variant: Any = variants[i]
        label = int(labels[variant.index])
        selection.examples.append(Example("counterfactual", "original", variant.original, label, variant.index, pair, variant.attribute))
        selection.examples.append(Example("counterfactual", "swapped", variant.swapped, label, None, pair, variant.attribute))
