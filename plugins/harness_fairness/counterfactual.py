"""Counterfactual text fairness: swap identity terms, count prediction flips.

:func:`make_variants` rewrites each text once per attribute (sex, age band,
ethnicity, or any attribute added from config) by swapping identity terms
(see :mod:`harness_fairness.terms`). Replacement is

* whole-word: a term never matches inside another word ("he" in "the",
  "her" in "there"); boundaries are letters, so "mei42" still counts as "mei";
* simultaneous: all terms of an attribute are found on the *original* text
  and replaced in one pass, so "he told her" becomes "she told his", never a
  double swap;
* case-preserving: Woman -> Man, WOMAN -> MAN, woman -> man. All-caps words
  of at most three letters (HE, HIS, MS, MR) are read as abbreviations (e.g.
  hepatic encephalopathy, multiple sclerosis) and left alone, unless the
  whole text is upper case.

Texts in which nothing changes give no variant for that attribute and do not
count in its statistics.

Chinese texts (``languages`` of :func:`make_variants`, chosen per text by
:func:`swap_languages` from the run's detected languages) are swapped with
the Chinese lists (:mod:`harness_fairness.terms_zh`) on the words of a
Chinese segmenter instead (:mod:`harness_fairness.counterfactual_zh`): a
term is swapped only where a whole word equals it, so 其他 never becomes 其她.

:func:`flip_statistics` takes the model's probabilities for every variant's
original and swapped text and reports, per attribute, the label flip rate
(Wilson 95% interval), the mean change in the positive-class score (seeded
percentile bootstrap), the mean absolute change and the worst examples.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness import bootstrap_interval, wilson_interval
from harness_fairness.counterfactual_zh import chinese_script
from harness_fairness.terms import AGE_SWAP, CASE_SENSITIVE_ATTRIBUTES, NAME_SWAPS, SEX_NAME_SWAPS, RegexSwap, swap_table

__all__ = ["SWAP_LANGUAGES", "AttributeFlipStats", "Variant", "flip_statistics", "make_variants", "swap_languages"]

# A letter (not digit/underscore); terms may not touch one on either side.
_BEFORE = r"(?<![^\W\d_])"
_AFTER = r"(?![^\W\d_])"


@dataclass(frozen=True)
class Variant:
    """One counterfactual rewrite of ``texts[index]`` for ``attribute``."""

    index: int
    attribute: str
    original: str
    swapped: str
    changed: tuple[tuple[str, str], ...]  # (from, to) surface forms, in text order


def _match_case(source: str, target: str) -> str:
    """Give ``target`` the case pattern of ``source`` (upper / lower / capitalised)."""
    if len(source) > 1 and source.isupper():
        return target.upper()
    if source.islower():
        return target.lower()
    if source[:1].isupper():
        return target[:1].upper() + target[1:]
    return target


def _word_pattern(words: Sequence[str], flags: int) -> re.Pattern[str] | None:
    if not words:
        return None
    alternation = "|".join(re.escape(w) for w in sorted(set(words), key=lambda w: (-len(w), w)))
    return re.compile(f"{_BEFORE}(?:{alternation}){_AFTER}", flags)


@dataclass
class _Swapper:
    """All swap rules of one attribute, applied simultaneously."""

    folded: dict[str, str] = field(default_factory=dict)  # lower-case source -> target
    exact: dict[str, str] = field(default_factory=dict)  # case-sensitive source -> target
    rules: list[RegexSwap] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._folded = _word_pattern(list(self.folded), re.IGNORECASE)
        self._exact = _word_pattern(list(self.exact), 0)

    def apply(self, text: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        shouting = not any(c.islower() for c in text)
        found: list[tuple[int, int, str]] = []
        if self._exact is not None:
            for m in self._exact.finditer(text):
                found.append((m.start(), m.end(), self.exact[m.group(0)]))
        if self._folded is not None:
            for m in self._folded.finditer(text):
                word = m.group(0)
                if word.isupper() and len(word) <= 3 and not shouting:
                    continue  # likely an abbreviation (HE, MS, HIS)
                found.append((m.start(), m.end(), _match_case(word, self.folded[word.lower()])))
        for rule in self.rules:
            for m in rule.pattern.finditer(text):
                new = rule.replace(m)
                if new is not None:
                    found.append((m.start(), m.end(), new))
        # Leftmost first, longest on ties; overlapping later matches are dropped.
        found.sort(key=lambda t: (t[0], -(t[1] - t[0])))
        pieces: list[str] = []
        changed: list[tuple[str, str]] = []
        pos = 0
        for start, end, new in found:
            if start < pos:
                continue
            old = text[start:end]
            if new == old:
                continue
            pieces.append(text[pos:start])
            pieces.append(new)
            changed.append((old, new))
            pos = end
        if not changed:
            return text, ()
        pieces.append(text[pos:])
        return "".join(pieces), tuple(changed)


def _swappers(
    swaps: Mapping[str, Sequence[Sequence[str]]], *, age_rule: bool, names: bool
) -> dict[str, _Swapper]:
    out: dict[str, _Swapper] = {}
    for attribute, pairs in swaps.items():
        for pair in pairs:
            if isinstance(pair, str) or len(pair) != 2 or not all(isinstance(w, str) and w for w in pair):
                raise ValueError(f"swap pairs for {attribute!r} must be (word, word), got {pair!r}")
        if attribute in CASE_SENSITIVE_ATTRIBUTES:
            out[attribute] = _Swapper(exact=swap_table(pairs, case_sensitive=True))
        else:
            out[attribute] = _Swapper(folded=swap_table(pairs))
    if age_rule:
        swapper = out.get(AGE_SWAP.attribute)
        folded, exact = (swapper.folded, swapper.exact) if swapper else ({}, {})
        out[AGE_SWAP.attribute] = _Swapper(folded=folded, exact=exact, rules=[*(swapper.rules if swapper else []), AGE_SWAP])
    if names:
        for attribute, name_pairs in (("sex", SEX_NAME_SWAPS), ("ethnicity", NAME_SWAPS)):
            if attribute == "sex" and attribute not in out:
                continue  # names alone do not make a sex attribute the caller did not ask for
            swapper = out.get(attribute)
            folded = dict(swapper.folded) if swapper else {}
            for source, target in name_pairs:
                folded.setdefault(source.lower(), target)
            out[attribute] = _Swapper(
                folded=folded,
                exact=dict(swapper.exact) if swapper else {},
                rules=list(swapper.rules) if swapper else [],
            )
    return out


def make_variants(
    texts: Sequence[str],
    swaps: Mapping[str, Sequence[Sequence[str]]],
    *,
    age_rule: bool = True,
    names: bool = True,
    languages: Sequence[str | None] | None = None,
    swaps_zh: Mapping[str, Sequence[Sequence[str]]] | None = None,
) -> list[Variant]:
    """One :class:`Variant` per (text, attribute) whose text actually changes.

    ``swaps`` is e.g. :data:`~harness_fairness.terms.DEFAULT_SWAPS` or the
    result of :func:`~harness_fairness.terms.merge_swaps`. ``age_rule`` adds
    the numeric-age rule to ``"age_band"``; ``names`` adds the synthetic
    dataset's name swaps to ``"ethnicity"`` (and first-name sex swaps to
    ``"sex"`` when ``swaps`` has that attribute). Variants are ordered by text,
    then attribute.

    ``languages`` gives each text's swap language (:func:`swap_languages`):
    ``"en"`` swaps ``swaps`` as above, ``"zh"`` swaps ``swaps_zh`` (default
    :data:`~harness_fairness.terms_zh.DEFAULT_SWAPS_ZH`) on the words of a
    Chinese segmenter (:mod:`harness_fairness.counterfactual_zh`, jieba is
    loaded only then), ``None`` leaves the text alone. Without ``languages``
    every text is English.
    """
    if languages is not None and len(languages) != len(texts):
        raise ValueError(f"languages has {len(languages)} entries for {len(texts)} texts")
    unknown = sorted({str(code) for code in languages or () if code not in SWAP_LANGUAGES and code is not None})
    if unknown:
        raise ValueError(f"swap languages must be {' or '.join(SWAP_LANGUAGES)} (or None), got {', '.join(unknown)}")
    swappers = _swappers(swaps, age_rule=age_rule, names=names)
    chinese = None
    variants: list[Variant] = []
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{index}] is {type(text).__name__}, expected str")
        language = "en" if languages is None else languages[index]
        if language == "zh":
            if chinese is None:
                from harness_fairness.counterfactual_zh import ZhSwappers

                chinese = ZhSwappers(swaps_zh, age_rule=age_rule, names=names)
            variants.extend(Variant(index, attribute, text, swapped, changed) for attribute, swapped, changed in chinese.apply(text))
        elif language == "en":
            for attribute, swapper in swappers.items():
                swapped, changed = swapper.apply(text)
                if changed:
                    variants.append(Variant(index, attribute, text, swapped, changed))
    return variants


#: The languages with swap lists: English (:mod:`~harness_fairness.terms`) and Chinese (:mod:`~harness_fairness.terms_zh`).
SWAP_LANGUAGES: tuple[str, ...] = ("en", "zh")

def swap_languages(texts: Sequence[str], detected: Sequence[str] | None = None) -> tuple[list[str], int]:
    """Each text's swap language, and how many were chosen by script rather than by the detected language.

    ``detected`` holds the texts' detected ISO 639-1 codes (the run's
    ``ctx.languages.per_text``). A text detected as ``en`` or ``zh`` takes
    that language's lists. Any other text (undetermined, ``und``, or detected
    as another language, which happens to a few short English clinical notes:
    "da", "la") is decided by its script: Chinese characters without kana or
    hangul make it ``zh``, anything else ``en``, so the English lists keep
    seeing every text they saw before languages were measured (they only
    change English words). Without ``detected`` (or with a list of another
    length) every text is decided by its script.
    """
    if detected is not None and len(detected) != len(texts):
        detected = None
    languages: list[str] = []
    by_script = 0
    for index, text in enumerate(texts):
        code = detected[index] if detected is not None else None
        if code not in SWAP_LANGUAGES:
            by_script += 1
            code = "zh" if isinstance(text, str) and chinese_script(text) else "en"
        languages.append(code)
    return languages, by_script


def _json_float(value: float | None) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True)
class AttributeFlipStats:
    """Counterfactual flip statistics of one attribute."""

    attribute: str
    n_texts: int
    flips: int
    flip_rate: float | None
    flip_interval: tuple[float, float] | None  # Wilson, 95%
    mean_score_change: float | None  # mean of swapped - original positive-class score
    score_change_interval: tuple[float, float] | None  # percentile bootstrap, 95%
    mean_abs_score_change: float | None
    worst: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def interval(bounds: tuple[float, float] | None, method: str) -> dict[str, Any] | None:
            if bounds is None:
                return None
            return {"low": float(bounds[0]), "high": float(bounds[1]), "level": 0.95, "method": method}

        return {
            "attribute": self.attribute,
            "n_texts": int(self.n_texts),
            "flips": int(self.flips),
            "flip_rate": _json_float(self.flip_rate),
            "flip_interval": interval(self.flip_interval, "wilson"),
            "mean_score_change": _json_float(self.mean_score_change),
            "score_change_interval": interval(self.score_change_interval, "bootstrap-percentile"),
            "mean_abs_score_change": _json_float(self.mean_abs_score_change),
            "worst": [dict(w) for w in self.worst],
        }


class _MeanOf:
    """Mean of ``values`` over a resample; vectorised ``batch`` for the bootstrap."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = values

    def __call__(self, idx: np.ndarray) -> float:
        return float(self.values[idx].mean())

    def batch(self, idx: np.ndarray) -> np.ndarray:
        return self.values[idx].mean(axis=1)


def _check_probs(name: str, probs: np.ndarray, n: int, n_classes: int | None) -> np.ndarray:
    arr = np.asarray(probs, dtype=float)
    if arr.ndim != 2 or arr.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n}, n_classes), got {arr.shape}")
    if n_classes is not None and arr.shape[1] != n_classes:
        raise ValueError(f"{name} has {arr.shape[1]} classes, expected {n_classes}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains non-finite values")
    return arr


def flip_statistics(
    variants: Sequence[Variant],
    original_probs: np.ndarray,
    swapped_probs: np.ndarray,
    label_names: Sequence[str],
    *,
    positive: int = 1,
    top_k: int = 5,
    n_boot: int = 1000,
    seed: int = 0,
) -> list[AttributeFlipStats]:
    """Per-attribute flip rate and positive-score change, in order of first appearance.

    ``original_probs[i]`` / ``swapped_probs[i]`` are the class probabilities
    of ``variants[i].original`` / ``.swapped``. A flip is a change of argmax
    label. Each attribute's bootstrap uses ``numpy.random.default_rng(seed)``,
    so results do not depend on which other attributes are present.
    """
    n = len(variants)
    n_classes = len(label_names)
    orig = _check_probs("original_probs", original_probs, n, n_classes)
    swap = _check_probs("swapped_probs", swapped_probs, n, n_classes)
    if not 0 <= positive < n_classes:
        raise ValueError(f"positive={positive} is not a class index for {n_classes} classes")
    if top_k < 0:
        raise ValueError(f"top_k must be >= 0, got {top_k}")
    if n == 0:
        return []
    orig_label = orig.argmax(axis=1)
    swap_label = swap.argmax(axis=1)
    delta = swap[:, positive] - orig[:, positive]

    groups: dict[str, list[int]] = {}
    for i, variant in enumerate(variants):
        groups.setdefault(variant.attribute, []).append(i)

    results: list[AttributeFlipStats] = []
    for attribute, members in groups.items():
        idx = np.asarray(members, dtype=int)
        k = len(idx)
        flips = int(np.count_nonzero(orig_label[idx] != swap_label[idx]))
        wilson = wilson_interval(flips, k)
        d = delta[idx]
        boot = bootstrap_interval(_MeanOf(d), k, rng=np.random.default_rng(seed), n_boot=n_boot)
        order = sorted(range(k), key=lambda j: -abs(float(d[j])))[:top_k]  # stable: ties keep input order
        worst = []
        for j in order:
            i = int(idx[j])
            v = variants[i]
            worst.append(
                {
                    "index": int(v.index),
                    "original": v.original,
                    "swapped": v.swapped,
                    "changed": [[a, b] for a, b in v.changed],
                    "original_label": str(label_names[int(orig_label[i])]),
                    "swapped_label": str(label_names[int(swap_label[i])]),
                    "score_change": float(d[j]),
                }
            )
        results.append(
            AttributeFlipStats(
                attribute=attribute,
                n_texts=k,
                flips=flips,
                flip_rate=flips / k,
                flip_interval=None if wilson is None else (wilson.low, wilson.high),
                mean_score_change=float(d.mean()),
                score_change_interval=None if boot is None else (boot.low, boot.high),
                mean_abs_score_change=float(np.abs(d).mean()),
                worst=worst,
            )
        )
    return results
