"""Faithfulness measured, not assumed: ERASER's comprehensiveness and sufficiency, against random words.

DeYoung et al., "ERASER: A Benchmark to Evaluate Rationalized NLP Models"
(ACL 2020), section 4: for the class ``y`` the model predicts on text ``x``
and a rationale ``r`` (here the top-k words by attribution toward ``y``),

* comprehensiveness = ``p(y | x) - p(y | x without r)``: how much the
  prediction loses when the rationale is erased (higher: the words mattered);
* sufficiency = ``p(y | x) - p(y | r alone)``: how much it loses when only
  the rationale is kept (lower: the words suffice).

Both are averaged over bins of k (ERASER's AOPC: the top 1, 5, 10, 20 and
50 % of the text's words, at least one word each). The same is measured for
the same number of words drawn at random (seeded, one draw per bin), so the
report can say whether the explanation beats chance on *this* model: the
gains ``comprehensiveness - comprehensiveness_random`` and
``sufficiency_random - sufficiency`` are positive when it does. Intervals are
percentile bootstraps over examples, one resample matrix for every statistic
(a paired comparison: each resample keeps an example's own random draw).

Erasing a word deletes its characters from the text (whitespace collapsed);
keeping only the rationale deletes every other word. Punctuation is neither
ranked nor drawn (:mod:`harness_explain.units`). Texts go through the shared
Predictor (batched, cached).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

from harness_explain.attribution import Attribution

if TYPE_CHECKING:
    import numpy as np

    from harness import Predictor

__all__ = ["ERASER_BINS", "Faithfulness", "erase", "keep_only", "k_for", "measure_faithfulness", "top_units"]

#: ERASER's AOPC bins: shares of the text's words in the rationale.
ERASER_BINS: tuple[float, ...] = (0.01, 0.05, 0.1, 0.2, 0.5)
_SPACES = re.compile(r"\s+")


def k_for(share: float, words: int) -> int:
    """Words in a bin: ``ceil(share * words)``, at least 1 and at most ``words``."""
    return min(words, max(1, math.ceil(share * words - 1e-9)))


def erase(attribution: Attribution, chosen: Sequence[int]) -> str:
    """The text with the characters of units ``chosen`` deleted, whitespace runs collapsed to one space."""
    text, cut = attribution.text, sorted(chosen, key=lambda i: attribution.units[i].start)
    pieces, position = [], 0
    for i in cut:
        unit = attribution.units[i]
        pieces.append(text[position:unit.start])
        pieces.append(" ")
        position = unit.end
    pieces.append(text[position:])
    return _SPACES.sub(" ", "".join(pieces)).strip()


def keep_only(attribution: Attribution, chosen: Sequence[int]) -> str:
    """The text with every unit but ``chosen`` erased."""
    keep = set(chosen)
    return erase(attribution, [i for i in range(len(attribution.units)) if i not in keep])


def top_units(attribution: Attribution) -> list[int]:
    """Indices of the word units by attribution toward the target, highest first (ties: earlier first)."""
    words = [i for i, u in enumerate(attribution.units) if u.word]
    return sorted(words, key=lambda i: (-attribution.scores[i], i))


@dataclass(frozen=True)
class Faithfulness:
    """Per example (AOPC over the bins): the four ERASER numbers; ``probability`` is ``p(y | x)``."""

    comprehensiveness: "np.ndarray"
    sufficiency: "np.ndarray"
    comprehensiveness_random: "np.ndarray"
    sufficiency_random: "np.ndarray"
    probability: "np.ndarray"
    bins: tuple[float, ...]

    @property
    def n(self) -> int:
        return int(self.comprehensiveness.shape[0])


def measure_faithfulness(attributions: Sequence[Attribution], predictor: "Predictor", rng: "np.random.Generator",
                         bins: Sequence[float] = ERASER_BINS) -> Faithfulness:
    """ERASER's AOPC comprehensiveness and sufficiency, for the top-k words and for k random words."""
    import numpy as np

    usable = [a for a in attributions if any(u.word for u in a.units)]
    requests: list[str] = []
    plan: list[tuple[int, int, int, int, int]] = []  # (example, top-erased, top-kept, random-erased, random-kept) text indices

    def ask(text: str) -> int:
        requests.append(text)
        return len(requests) - 1

    full_at = [ask(a.text) for a in usable]
    for number, attribution in enumerate(usable):
        ranked = top_units(attribution)
        for share in bins:
            k = k_for(share, len(ranked))
            top = ranked[:k]
            drawn = [ranked[int(j)] for j in rng.choice(len(ranked), size=k, replace=False)]
            plan.append((number, ask(erase(attribution, top)), ask(keep_only(attribution, top)),
                         ask(erase(attribution, drawn)), ask(keep_only(attribution, drawn))))
    probabilities = predictor.probabilities(requests) if requests else np.zeros((0, 1))
    targets = np.array([a.target for a in usable], dtype=int)
    full = probabilities[full_at, targets] if usable else np.zeros(0)
    sums = np.zeros((len(usable), 4))
    for number, *texts in plan:
        p = probabilities[texts, targets[number]]
        sums[number] += full[number] - p
    means = sums / max(len(bins), 1)
    return Faithfulness(means[:, 0], means[:, 1], means[:, 2], means[:, 3], full, tuple(bins))


def faithfulness_statistics(result: Faithfulness) -> dict[str, Any]:
    """The six means and the two gains, each a per-example array (means over resamples give the intervals)."""
    return {
        "comprehensiveness": result.comprehensiveness,
        "comprehensiveness_random": result.comprehensiveness_random,
        "comprehensiveness_gain": result.comprehensiveness - result.comprehensiveness_random,
        "sufficiency": result.sufficiency,
        "sufficiency_random": result.sufficiency_random,
        "sufficiency_gain": result.sufficiency_random - result.sufficiency,
    }
