"""The units an attribution is read in: words (English), jieba words or characters (Chinese).

A tokenizer cuts ``emergency`` into ``emerge ##ncy``; a reviewer reads words.
Token attributions are therefore summed over the word each token starts in
(summing keeps completeness: the units' scores still add up to the
attribution total). A unit is a span of the original text:

* text without Chinese characters: runs of letters and digits joined by an
  inner hyphen, apostrophe or slash (``72-year-old``, ``y/o``, ``patient's``)
  are one word; any other non-space character is a punctuation unit of its own;
* text with Chinese characters: the words of jieba (the fairness plugin's
  segmenter, whose dictionary cuts identity terms such as 女性 or 维吾尔族 out
  whole), or single characters with ``zh_unit: character``.

Whitespace is never a unit. Punctuation units keep their attribution (the
model may really lean on a full stop) but are left out of rankings (top
words, the words erased to measure faithfulness), as ERASER ranks tokens that
carry meaning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Unit", "has_han", "text_units"]

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[^\W_]+(?:['\u2019/-][^\W_]+)*|[^\w\s]|_")


@dataclass(frozen=True)
class Unit:
    """``text[start:end]``; ``word`` is False for punctuation."""

    start: int
    end: int
    word: bool


def has_han(text: str) -> bool:
    return _HAN.search(text) is not None


def text_units(text: str, zh_unit: str = "word") -> list[Unit]:
    """The units of ``text`` in order (see the module docstring)."""
    if has_han(text):
        if zh_unit == "character":
            return [_unit(text, i, i + 1) for i, ch in enumerate(text) if not ch.isspace()]
        from harness_fairness.counterfactual_zh import segment

        units, position = [], 0
        for piece in segment(text):
            start, position = position, position + len(piece)
            if piece.strip():
                units.append(_unit(text, start, position))
        return units
    return [_unit(text, m.start(), m.end()) for m in _WORD.finditer(text)]


def _unit(text: str, start: int, end: int) -> Unit:
    return Unit(start, end, any(ch.isalnum() for ch in text[start:end]))
