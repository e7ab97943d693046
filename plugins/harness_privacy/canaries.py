"""Planted canaries and the one-run privacy audit (Steinke, Nasr and Jagielski, NeurIPS 2023).

"Privacy Auditing with One (1) Training Run": ``m`` canary texts with random
labels are drawn before fine-tuning; each is added to the training data
independently with probability 1/2. After training every canary is scored
(``phi = log(p_y / (1 - p_y))`` of its random label, read through the run's
shared Predictor) and the auditor guesses "included" for the ``k`` highest
scores and "excluded" for the ``k`` lowest. Under (eps, delta)-DP the number of
correct guesses ``W`` among ``r = 2k`` is dominated by a Binomial(r, e^eps /
(1 + e^eps)) plus a delta term (their Theorem 3; ``p_value`` below is their
Algorithm's p-value, transcribed), so an observed ``W`` proves the epsilon at
which that p-value drops below ``1 - level``.

Choices made here, each stated in the evidence:

- a small grid of guessers fixed in advance: two-sided (``GUESS_FRACTIONS`` of
  m, half "included" from the top and half "excluded" from the bottom) and
  one-sided (``LOW_GUESS_FRACTIONS`` of m, "excluded" for the lowest scores
  only: memorisation fits every planted canary, so a low score singles out an
  unseen one, while a high score is ambiguous). The theorem holds for any
  guesses computed from the model alone (the abstentions included), with the
  guess count fixed in advance; each grid point is tested at
  ``(1 - level) / len(grid)`` (Bonferroni), so the best of them is still a
  valid bound at ``level``;
- the audit's **power** is the bound it would prove if every guess were
  correct with all m canaries guessed (the most this many canaries can show at
  this confidence and delta); a claim above it cannot be refuted by the audit;
- canaries are sequences of whole words from the model's own tokenizer
  vocabulary (random ones; a model that memorises its training data memorises
  them, a DP one cannot): each maps to known tokens, none is [UNK];
- which canaries were included is derived from ``seed`` alone, so the check
  regenerates them from the record in ``TrainingReport.extra["canaries"]``
  (count, seed, length, digest) and the texts never enter results.json.

Canaries go only into the train split handed to the training loop, never into
``ctx.data``: no accuracy, fairness or other metric ever sees them. Shadow
models and the non-DP twin of the membership check are trained without them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness import ConfigError, N_

if TYPE_CHECKING:
    import numpy as np

    from harness import DatasetBundle
    # The config models are not in the public API: annotations only.
    from harness.config.settings import ModelConfig

KEY = "canaries"
WHERE = "model.fine_tune.canaries"
#: canaries planted by default (count: auto): half the training examples, within these bounds; about half
#: of them are included, so a small data set is not swamped by random-label texts
AUTO_COUNT_RANGE = (100, 1000)
#: guess counts r = fraction * m (half "included" from the top, half "excluded" from the bottom), fixed in advance
GUESS_FRACTIONS: tuple[float, ...] = (0.1, 0.3, 1.0)
#: one-sided guess counts r = fraction * m: "excluded" for the r lowest scores, no guess on the rest. A model
#: that memorises fits every planted canary's random label, so a very low score marks a canary it never saw,
#: while a high score is ambiguous (an unseen canary's label is matched by chance half the time)
LOW_GUESS_FRACTIONS: tuple[float, ...] = (0.1, 0.2)


#: The method note as a msgid with the score's formula as data (a formula is not translated).
METHOD_TEMPLATE = N_(
    "one-run audit (Steinke, Nasr and Jagielski 2023): m canaries each included with probability 1/2 (from the seed); "
    "score {score} of the canary's random label; guesses (a grid fixed in advance): the k highest "
    "'included' and the k lowest 'excluded', or only the r lowest 'excluded'; epsilon lower bound from the binomial tail with the delta term (their Theorem 3), Bonferroni over the guess grid"
)
SCORE_FORMULA = "phi = log(p_y / (1 - p_y))"
METHOD = METHOD_TEMPLATE.format(score=SCORE_FORMULA)
#: the report shows the method translated: ``{text, message_id, message_args}``
METHOD_MESSAGE = {"text": METHOD, "message_id": METHOD_TEMPLATE, "message_args": {"score": SCORE_FORMULA}}


class CanaryOptions(BaseModel):
    """``fine_tune.canaries``: an int (count), ``false``, or this mapping."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    count: int | None = Field(None, ge=10, le=100_000, description="canaries drawn, each included with probability 1/2 (default: n_train / 2 within 100..1000)")
    seed: int | None = Field(None, ge=0, description="seed of the canaries and of which are included (default: the run seed)")
    length: int = Field(8, ge=2, le=64, description="words per canary text")


def resolve_count(options: CanaryOptions, n_train: int) -> int:
    if options.count is not None:
        return options.count
    low, high = AUTO_COUNT_RANGE
    return int(min(high, max(low, n_train // 2)))


def canary_options(spec: "ModelConfig", *, dp: bool) -> CanaryOptions | None:
    """The canaries asked for: ``fine_tune.canaries`` if given, else the default for DP runs, else none."""
    settings = spec.fine_tune
    if settings is None:
        return None
    extra = dict(getattr(settings, "model_extra", None) or {})
    if KEY not in extra:
        return CanaryOptions() if dp else None
    raw = extra[KEY]
    if raw is False or raw is None or raw == 0:
        return None
    if raw is True:
        raw = {}
    elif isinstance(raw, int) and not isinstance(raw, bool):
        raw = {"count": raw}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{WHERE}: expected a count, false, or a mapping such as {{count: 500, seed: 0}}, got {raw!r}")
    if "adversarial_augment" in extra:
        raise ConfigError(f"{WHERE}: cannot be combined with model.fine_tune.adversarial_augment (the canaries would skip that training pass)")
    try:
        return CanaryOptions(**raw)
    except ValidationError as error:
        first = error.errors()[0]
        name = ".".join(str(part) for part in first["loc"])
        if first["type"] == "extra_forbidden":
            raise ConfigError(f"{WHERE}.{name}: unknown option; expected one of: {', '.join(CanaryOptions.model_fields)}") from None
        raise ConfigError(f"{WHERE}.{name}: {first['msg']} (got {first.get('input')!r})") from None


# ---------------------------------------------------------------- the canaries


@dataclass(frozen=True)
class Canaries:
    texts: tuple[str, ...]
    labels: np.ndarray  # random labels (int64)
    included: np.ndarray  # bool: planted in the training data
    seed: int
    words: int  # size of the word pool

    @property
    def digest(self) -> str:
        payload = json.dumps([list(self.texts), self.labels.tolist(), self.included.astype(int).tolist()])
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


_WORD = re.compile(r"[a-z]{3,14}")


def word_pool(tokenizer: Any) -> list[str]:
    """Whole lower-case words of the tokenizer's vocabulary (WordPiece, BPE 'Ġ' or SentencePiece '▁' forms), sorted."""
    vocab = tokenizer.get_vocab() if tokenizer is not None and hasattr(tokenizer, "get_vocab") else {}
    words = set()
    for token in vocab:
        word = token[1:] if token[:1] in ("Ġ", "▁") else token
        if _WORD.fullmatch(word):
            words.add(word)
    return sorted(words)


def make_canaries(count: int, seed: int, n_labels: int, tokenizer: Any, length: int = 8) -> Canaries:
    """``count`` random-word texts with random labels, and which are included: a function of its arguments only."""
    import numpy as np

    rng = np.random.default_rng([int(seed), 0xCA9A])
    pool = word_pool(tokenizer)
    if len(pool) < 50:  # no usable vocabulary: random six-letter pseudo-words
        letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
        pool = sorted({"".join(rng.choice(letters, 6)) for _ in range(400)})
    pool_array = np.array(pool)
    included = rng.random(count) < 0.5
    labels = rng.integers(0, max(1, n_labels), count).astype(np.int64)
    texts = tuple(" ".join(pool_array[rng.integers(0, pool_array.size, length)]) for _ in range(count))
    return Canaries(texts, labels, included, int(seed), len(pool))


def record_for(canaries: Canaries, options: CanaryOptions) -> dict[str, Any]:
    """What provenance keeps (``TrainingReport.extra["canaries"]``): enough to regenerate and verify them."""
    return {
        "count": len(canaries.texts),
        "seed": canaries.seed,
        "length": options.length,
        "count_source": "config" if options.count is not None else f"auto (n_train / 2 within {AUTO_COUNT_RANGE[0]}..{AUTO_COUNT_RANGE[1]})",
        "included": int(canaries.included.sum()),
        "inclusion": "each canary independently with probability 1/2, drawn from the seed",
        "texts": f"{options.length} random whole words from the tokenizer vocabulary ({canaries.words} words), a random label each",
        "digest": canaries.digest,
        "method": METHOD,
    }


def regenerate(record: Mapping[str, Any], n_labels: int, tokenizer: Any) -> Canaries:
    """The canaries a training run planted, from its record; raises if they do not match the recorded digest."""
    canaries = make_canaries(int(record["count"]), int(record["seed"]), n_labels, tokenizer, int(record.get("length", 8)))
    if record.get("digest") and canaries.digest != record["digest"]:
        raise ValueError("the canaries regenerated from the recorded seed do not match the recorded digest (was the tokenizer changed?)")
    return canaries


def plant(data: "DatasetBundle", canaries: Canaries) -> "DatasetBundle":
    """A copy of ``data`` whose train split also holds the included canaries (``data`` itself is unchanged)."""
    import numpy as np

    train = data.splits["train"]
    chosen = np.flatnonzero(canaries.included)
    ids = tuple(f"canary-{i:05d}" for i in chosen)
    texts = tuple(canaries.texts[i] for i in chosen)
    planted = dataclasses.replace(
        train,
        ids=train.ids + ids,
        texts=train.texts + texts,
        labels=np.r_[np.asarray(train.labels, dtype=np.int64), canaries.labels[chosen]],
        sensitive={key: tuple(values) + ("",) * chosen.size for key, values in train.sensitive.items()},
    )
    return dataclasses.replace(data, splits={**dict(data.splits), "train": planted})


# ---------------------------------------------------------------- the bound


def p_value(m: int, r: int, v: int, epsilon: float, delta: float) -> float:
    """P-value of ``v`` correct guesses out of ``r`` (m canaries) under (epsilon, delta)-DP.

    Steinke, Nasr and Jagielski (2023), Theorem 3 and their Algorithm for
    delta > 0: ``P[Binomial(r, q) >= v] + 2 m delta max_i P[v - i <= Binomial(r, q) < v] / i``
    with ``q = e^eps / (1 + e^eps)``.
    """
    import numpy as np
    from scipy.stats import binom

    if v <= 0:
        return 1.0
    q = 1.0 / (1.0 + math.exp(-epsilon))
    beta = float(binom.sf(v - 1, r, q))
    i = np.arange(1, v + 1)
    alpha = float(np.max(np.cumsum(binom.pmf(v - i, r, q)) / i))
    return min(1.0, beta + alpha * delta * 2 * m)


def epsilon_lower_bound(m: int, r: int, v: int, delta: float, p: float, *, iterations: int = 40) -> float:
    """Largest epsilon whose p-value for ``v`` of ``r`` correct is below ``p`` (0 when even epsilon 0 is not rejected)."""
    if not 0 <= v <= r <= m:
        raise ValueError(f"need 0 <= v <= r <= m, got v={v}, r={r}, m={m}")
    if r == 0 or p_value(m, r, v, 0.0, delta) >= p:
        return 0.0
    low, high = 0.0, 1.0
    while p_value(m, r, v, high, delta) < p:
        low, high = high, high * 2
        if high > 200:
            return low
    for _ in range(iterations):
        middle = (low + high) / 2
        if p_value(m, r, v, middle, delta) < p:
            low = middle
        else:
            high = middle
    return low


def guess_counts(m: int, fractions: Sequence[float] = GUESS_FRACTIONS) -> list[int]:
    """Even guess counts r (k = r / 2 from each end) for ``m`` canaries, at least 2, distinct."""
    counts = []
    for fraction in fractions:
        r = max(2, int(round(fraction * m / 2)) * 2)
        r = min(r, m - m % 2)
        if r >= 2 and r not in counts:
            counts.append(r)
    return counts


def low_guess_counts(m: int, fractions: Sequence[float] = LOW_GUESS_FRACTIONS) -> list[int]:
    """One-sided guess counts r ("excluded" for the r lowest scores) for ``m`` canaries, at least 1, distinct."""
    counts = []
    for fraction in fractions:
        r = min(m, max(1, int(round(fraction * m))))
        if r not in counts:
            counts.append(r)
    return counts


def guessers(m: int, fractions: Sequence[float] = GUESS_FRACTIONS, low_fractions: Sequence[float] = LOW_GUESS_FRACTIONS) -> list[tuple[str, int]]:
    """The grid fixed in advance: ``("both", r)`` and ``("low", r)`` pairs."""
    return [("both", r) for r in guess_counts(m, fractions)] + [("low", r) for r in low_guess_counts(m, low_fractions)]


def power(m: int, delta: float, level: float = 0.95, fractions: Sequence[float] = GUESS_FRACTIONS,
          low_fractions: Sequence[float] = LOW_GUESS_FRACTIONS) -> float:
    """The largest epsilon the audit can prove: every guess correct, at the corrected level."""
    grid = guessers(m, fractions, low_fractions)
    if not grid:
        return 0.0
    p = (1.0 - level) / len(grid)
    return max(epsilon_lower_bound(m, r, r, delta, p) for _, r in grid)


@dataclass(frozen=True)
class CanaryAudit:
    epsilon_lower_bound: float
    power: float
    delta: float
    level: float
    canaries: int
    included: int
    guesses: int  # r of the best grid point
    correct: int
    side: str = "both"  # the best grid point's guesser: "both" (top included, bottom excluded) or "low" (bottom excluded only)
    grid: list[dict[str, Any]] = field(default_factory=list)
    method: str = METHOD

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def audit(scores: Any, included: Any, *, delta: float, level: float = 0.95, fractions: Sequence[float] = GUESS_FRACTIONS,
          low_fractions: Sequence[float] = LOW_GUESS_FRACTIONS) -> CanaryAudit:
    """Epsilon lower bound from canary scores (higher = more likely included) and the true inclusions."""
    import numpy as np

    scores = np.asarray(scores, dtype=float).ravel()
    included = np.asarray(included, dtype=bool).ravel()
    if scores.size != included.size or scores.size < 2:
        raise ValueError("need one score per canary and at least two canaries")
    if not np.all(np.isfinite(scores)):
        raise ValueError("canary scores must be finite")
    m = int(scores.size)
    order = np.argsort(-scores, kind="mergesort")  # ties: canary order, fixed by the seed, not by the outcome
    grid_points = guessers(m, fractions, low_fractions)
    p = (1.0 - level) / len(grid_points)
    grid = []
    for side, r in grid_points:
        if side == "both":
            k = r // 2
            correct = int(included[order[:k]].sum() + (~included[order[m - k:]]).sum())
        else:
            correct = int((~included[order[m - r:]]).sum())
        grid.append({"side": side, "guesses": r, "correct": correct, "epsilon_lower_bound": epsilon_lower_bound(m, r, correct, delta, p),
                     "power": epsilon_lower_bound(m, r, r, delta, p)})
    best = max(grid, key=lambda row: row["epsilon_lower_bound"])
    return CanaryAudit(
        epsilon_lower_bound=float(best["epsilon_lower_bound"]), power=float(max(row["power"] for row in grid)),
        delta=float(delta), level=float(level), canaries=m, included=int(included.sum()),
        guesses=int(best["guesses"]), correct=int(best["correct"]), side=str(best["side"]), grid=grid,
    )
