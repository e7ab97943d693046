"""Where a text names a protected attribute or a person: the spans ``explain.protected_term_reliance`` weighs.

The terms are the fairness plugin's, so "what the counterfactual check swaps"
and "what the model must not lean on" are one list:

* English (:mod:`harness_fairness.terms`): every word of the swap pairs of
  each attribute (sex, age band, ethnicity; both sides of a pair, so "male"
  counts as much as "female"), matched on letter boundaries in any case
  (ethnicity words only in the case written, so "white blood cells" is not
  ethnicity); numeric ages (``72-year-old``, ``34 y/o``, ``aged 72``) as
  ``age_band``; the first names and surnames of the name swaps as ``name``;
* Chinese (:mod:`harness_fairness.terms_zh`): jieba words equal to a term of
  the Chinese swap lists (sex, age band, ethnicity, hukou), the full names of
  the name swaps as ``name``, and ``72岁`` / ``72 周岁`` as ``age_band``;
* personal data, in any language: the spans of the core's detectors
  (:func:`harness.text.pii.find_pii`, the ones ``ctx.redact`` masks), as
  ``pii:<kind>``.

Extra words per attribute come from the check's ``terms`` option.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from harness_explain.units import Unit, has_han

__all__ = ["Span", "protected_spans", "unit_categories"]

_BEFORE = r"(?<![^\W\d_])"
_AFTER = r"(?![^\W\d_])"
_AGE_ZH = re.compile(r"(?<![0-9.])[0-9]{1,3}\s*(?:周岁|岁)")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    category: str


def _alternation(words: Sequence[str], flags: int) -> re.Pattern[str] | None:
    words = sorted({w for w in words if w}, key=lambda w: (-len(w), w))
    if not words:
        return None
    return re.compile(_BEFORE + "(?:" + "|".join(re.escape(w) for w in words) + ")" + _AFTER, flags)


@functools.lru_cache(maxsize=8)
def _english_patterns(extra: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    from harness_fairness.terms import AGE_SWAP, CASE_SENSITIVE_ATTRIBUTES, DEFAULT_SWAPS, FIRST_NAMES, SURNAMES

    patterns: list[tuple[str, re.Pattern[str]]] = []
    terms: dict[str, list[str]] = {a: [w for pair in pairs for w in pair] for a, pairs in DEFAULT_SWAPS.items()}
    for attribute, words in extra:
        terms.setdefault(attribute, []).extend(words)
    for attribute, words in terms.items():
        pattern = _alternation(words, 0 if attribute in CASE_SENSITIVE_ATTRIBUTES else re.IGNORECASE)
        if pattern is not None:
            patterns.append((attribute, pattern))
    patterns.append((AGE_SWAP.attribute, AGE_SWAP.pattern))
    names = [n for group in FIRST_NAMES.values() for n in group] + [n for group in SURNAMES.values() for n in group]
    patterns.append(("name", _alternation(names, 0)))  # type: ignore[arg-type]
    return tuple(patterns)


@functools.lru_cache(maxsize=8)
def _chinese_terms(extra: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, str]:
    from harness_fairness.terms_zh import DEFAULT_SWAPS_ZH, SEX_NAME_SWAPS_ZH

    table: dict[str, str] = {}
    for attribute, words in extra:
        for word in words:
            table.setdefault(word, attribute)
    for attribute, pairs in DEFAULT_SWAPS_ZH.items():
        for pair in pairs:
            for word in pair:
                table.setdefault(word, attribute)
    for pair in SEX_NAME_SWAPS_ZH:
        for name in pair:
            table.setdefault(name, "name")
    return table


def _frozen(extra: Mapping[str, Sequence[str]] | None) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(sorted((a, tuple(words)) for a, words in (extra or {}).items()))


def protected_spans(text: str, extra_terms: Mapping[str, Sequence[str]] | None = None, *, pii: bool = True) -> list[Span]:
    """Every protected-term and personal-data span of ``text`` (they may overlap), by position."""
    spans: list[Span] = []
    frozen = _frozen(extra_terms)
    if has_han(text):
        from harness_fairness.counterfactual_zh import segment

        table = _chinese_terms(frozen)
        position = 0
        for word in segment(text):
            start, position = position, position + len(word)
            if word in table:
                spans.append(Span(start, position, table[word]))
        spans.extend(Span(m.start(), m.end(), "age_band") for m in _AGE_ZH.finditer(text))
    # English terms also run on mixed text (an English note may quote a Chinese name, and the reverse)
    for attribute, pattern in _english_patterns(frozen):
        spans.extend(Span(m.start(), m.end(), attribute) for m in pattern.finditer(text))
    if pii:
        from harness.text.pii import find_pii

        spans.extend(Span(m.start, m.end, f"pii:{m.kind}") for m in find_pii(text))
    return sorted(spans, key=lambda s: (s.start, s.end, s.category))


def unit_categories(units: Sequence[Unit], spans: Sequence[Span]) -> list[tuple[str, ...]]:
    """For each unit, the categories of the spans it overlaps (empty: not protected)."""
    out = []
    for unit in units:
        found = sorted({s.category for s in spans if s.start < unit.end and unit.start < s.end})
        out.append(tuple(found))
    return out
