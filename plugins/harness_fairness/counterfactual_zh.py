"""Chinese counterfactual swaps on the words of a segmenter (jieba).

Chinese has no spaces, so a term cannot be matched on letter boundaries as in
English: 他 is a word in 他长期服用二甲双胍 but part of 其他 ("other"), 他汀
(statins) and 他院 ("another hospital"). A text is therefore cut into words by
jieba, and a term is swapped only where a whole word equals it:

* a private ``jieba.Tokenizer`` (jieba's global one is left as it is) whose
  dictionary also holds every swap term, every full name of the name swaps and
  the protected words of :data:`~harness_fairness.terms_zh.PROTECTED_WORDS_ZH`
  (each added only when jieba would not already cut it out whole), so
  男性 / 城镇户口 / 维吾尔族 / 王秀英 each come out as one word and 他汀 never
  leaves a 他 alone;
* cut without jieba's HMM, which would otherwise glue unknown runs of single
  characters together (由他 as one new word) and hide a term;
* all words of a text are looked up at once and the text is rebuilt by joining
  the words (whitespace and punctuation are words of their own, kept as
  they are), so a swap is simultaneous (他 -> 她 and 她 -> 他 in one pass) and
  the rest of the text is untouched byte for byte.

Numeric ages: a number of years (1-3 ASCII digits, not after a decimal point)
followed, possibly after spaces, by the word 岁 or 周岁 is rewritten by the
English rule's bounds (:data:`~harness_fairness.terms.OLD_FROM` ...).

:func:`marked_words` marks the changed words of a swapped text for the
report on the same words (:func:`harness.text.diff.marked_segments` splits on
whitespace, which would mark a whole Chinese sentence).
"""

from __future__ import annotations

import difflib
import functools
import logging
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness_fairness.terms import OLD_FROM, OLD_TO, YOUNG_BELOW, YOUNG_TO, swap_table
from harness_fairness.terms_zh import AGE_UNITS_ZH, DEFAULT_SWAPS_ZH, SEX_NAME_SWAPS_ZH, dictionary_words

__all__ = ["ZhSwappers", "chinese_script", "has_han", "marked_words", "segment", "segmenter"]

#: CJK unified ideographs (with extension A and the compatibility block).
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA_HANGUL = re.compile(r"[\u3040-\u30ff\u1100-\u11ff\uac00-\ud7af]")
_AGE_NUMBER = re.compile(r"[0-9]{1,3}")
_LOCK = threading.Lock()


def has_han(text: str) -> bool:
    """``text`` contains a Chinese character (a CJK unified ideograph)."""
    return _HAN.search(text) is not None


def chinese_script(text: str) -> bool:
    """``text`` is written in Chinese characters: it has some, and no Japanese kana or Korean hangul."""
    return has_han(text) and _KANA_HANGUL.search(text) is None


def segmenter(words: Sequence[str] | None = None) -> Any:
    """A private jieba tokenizer that cuts each of ``words`` (default: every default term) out whole.

    Built once per set of words (jieba's dictionary loads in about a second),
    adding them in sorted order so the segmentation never depends on the
    order they were listed in; jieba's "Building prefix dict..." lines are
    kept off stderr.
    """
    return _segmenter(tuple(sorted(set(dictionary_words() if words is None else words))))


@functools.lru_cache(maxsize=4)
def _segmenter(words: tuple[str, ...]) -> Any:
    import jieba

    tokenizer = jieba.Tokenizer()
    with _LOCK:
        logger = jieba.default_logger
        level = logger.level
        logger.setLevel(logging.WARNING)
        try:
            tokenizer.initialize()
        finally:
            logger.setLevel(level)
    for word in words:
        if list(tokenizer.cut(word, HMM=False)) != [word]:
            tokenizer.add_word(word)
    return tokenizer


def segment(text: str, tokenizer: Any = None) -> list[str]:
    """``text`` as jieba words (no HMM); joining them gives ``text`` back."""
    words = list((tokenizer or segmenter()).cut(text, HMM=False))
    if "".join(words) != text:  # pragma: no cover - jieba yields every character
        raise ValueError("the segmenter lost characters of the text")
    return words


def _age_swap(words: Sequence[str], i: int) -> str | None:
    word = words[i]
    if not _AGE_NUMBER.fullmatch(word) or (i > 0 and words[i - 1] == "."):
        return None
    j = i + 1
    while j < len(words) and words[j].isspace():
        j += 1
    if j == len(words) or words[j] not in AGE_UNITS_ZH:
        return None
    age = int(word)
    if age >= OLD_FROM:
        return str(OLD_TO)
    if age < YOUNG_BELOW:
        return str(YOUNG_TO)
    return None


@dataclass(frozen=True)
class _Attribute:
    table: Mapping[str, str]
    ages: bool


class ZhSwappers:
    """The Chinese swaps of every attribute, on one segmentation per text.

    ``swaps`` maps attributes to word pairs like
    :data:`~harness_fairness.terms_zh.DEFAULT_SWAPS_ZH` (a term is matched as
    written: Chinese has no case). ``age_rule`` adds the numeric ages to
    ``"age_band"``; ``names`` adds the full-name swaps to ``"sex"`` when
    ``swaps`` has that attribute.
    """

    def __init__(self, swaps: Mapping[str, Sequence[Sequence[str]]] | None = None, *, age_rule: bool = True, names: bool = True) -> None:
        swaps = DEFAULT_SWAPS_ZH if swaps is None else swaps
        self.attributes: dict[str, _Attribute] = {}
        for attribute, pairs in swaps.items():
            for pair in pairs:
                if isinstance(pair, str) or len(pair) != 2 or not all(isinstance(w, str) and w for w in pair):
                    raise ValueError(f"swap pairs for {attribute!r} must be (word, word), got {pair!r}")
            table = swap_table([(a.strip(), b.strip()) for a, b in pairs], case_sensitive=True)
            if names and attribute == "sex":
                for source, target in SEX_NAME_SWAPS_ZH:
                    table.setdefault(source, target)
            self.attributes[attribute] = _Attribute(table, age_rule and attribute == "age_band")
        if age_rule and "age_band" not in self.attributes:
            self.attributes["age_band"] = _Attribute({}, True)
        pairs = {a: [(s, t) for s, t in attribute.table.items()] for a, attribute in self.attributes.items()}
        self.words = dictionary_words(pairs)
        self._tokenizer: Any = None

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            self._tokenizer = segmenter(self.words)
        return self._tokenizer

    def apply(self, text: str) -> list[tuple[str, str, tuple[tuple[str, str], ...]]]:
        """``(attribute, swapped text, ((from, to) words in text order))`` for each attribute whose swap changes ``text``."""
        words = segment(text, self.tokenizer)
        out = []
        for name, attribute in self.attributes.items():
            new_words = list(words)
            changed: list[tuple[str, str]] = []
            for i, word in enumerate(words):
                new = attribute.table.get(word)
                if new is None and attribute.ages:
                    new = _age_swap(words, i)
                if new is not None and new != word:
                    new_words[i] = new
                    changed.append((word, new))
            if changed:
                out.append((name, "".join(new_words), tuple(changed)))
        return out


def marked_words(original: str, changed: str) -> list[tuple[str, bool]]:
    """``changed`` split into (text, is_changed) segments on the segmenter's words (the counterpart of
    :func:`harness.text.diff.marked_segments` for Chinese text: whitespace and punctuation are words too)."""
    tokenizer = segmenter()
    a, b = segment(original, tokenizer), segment(changed, tokenizer)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    return [("".join(b[j1:j2]), op != "equal") for op, _, _, j1, j2 in matcher.get_opcodes() if j2 > j1]
