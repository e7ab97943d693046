"""An offline Chinese attack recipe: homophone and similar-glyph character swaps inside jieba words.

The English character recipes (DeepWordBug, char-swap...) edit Chinese words
with Latin letters (``血压`` became ``血A``), which is neither a realistic
Chinese adversarial edit nor meaning-preserving. This recipe swaps one
character of a word for a character a reader of Chinese would confuse with it:

* a **homophone** (same pinyin, tones ignored), as TextAttack's
  ``ChineseHomophoneCharacterSwap`` does: the character's pinyin is
  ``pinyin.get(c, format="strip")`` and its candidates are the first
  :data:`HOMOPHONES_PER_ROW` characters of the table row(s) of that pinyin;
* a **morphonym** (similar glyph), as TextAttack's ``ChineseMorphonymCharacterSwap``
  does: every other member of each of TextAttack's ``MORPHONYM_LS`` groups
  that contain the character.

Both TextAttack classes scan a table for every character of every word (the
homophone class loops over the rows of a DataFrame, the morphonym class over
504 lists); here both tables are turned once into a dict ``character ->
candidates`` (:func:`build_index`, ~0.1 s) and one ``WordSwap`` subclass
(:func:`chinese_swap_class`) looks candidates up. ``tests/test_robustness_chinese.py``
checks that the indexed candidates equal what TextAttack's classes return.

Where the harness differs from TextAttack's classes, on purpose:

* only CJK ideographs (U+4E00..U+9FFF, the range TextAttack uses to decide
  that a text is Chinese) are swapped, and only for CJK ideographs: Latin
  letters and digits are never introduced nor replaced (TextAttack's homophone
  class would swap a Latin ``a`` for ``啊`` whenever ``a`` is a pinyin row);
* TextAttack's ``MORPHONYM_LS`` has 12 empty strings among its members, which
  make its class *delete* the character; a swap recipe does not delete, so
  they are dropped;
* TextAttack's morphonym class mutates the word while it iterates (its
  ``temp_word = word`` aliases a list), so for a word of several characters
  the candidates of the second character carry a substitution of the first;
  here every candidate differs from the word in exactly one character;
* candidates come in a fixed order (homophones first, then morphonyms, each
  in table order), not in set order, so the greedy search breaks score ties
  the same way in every process.

The homophone table: TextAttack's class reads ``chinese_homophone_char.txt``
(one row per pinyin, ``pinyin<TAB>char<TAB>char...``, most common characters
first), but it cannot here: the textattack wheel on PyPI does not ship that
file (0.3.11 lacks it; TextAttack's repository has it in ``textattack/shared/``
while the class looks in ``textattack/transformations/shared/``) and the class
reads it with ``sep="\\n"``, which pandas >= 2 rejects. When the file is
installed (in either folder) it is read here, one row per line split on tabs.
When it is not, the same kind of table is derived from packages TextAttack
itself depends on: every CJK character's pinyin from the ``pinyin`` package
(the very call TextAttack's class makes), the characters of each pinyin
ordered by their frequency as single-character words in jieba's dictionary
(ties by code point). The source and a sha256 of both indexes appear in the
transformation's ``repr`` (and so in the attack's components and checkpoint
keys).

Segmentation: TextAttack's ``AttackedText.words`` segments a text with jieba
as soon as it contains a CJK ideograph (``textattack.shared.utils.strings.words_from_text``),
so the search ranks the jieba words of the original text by deleting them
(``GreedyWordSwapWIR("delete")``) and the transformation swaps characters
inside one word at a time. TextAttack would re-segment every swapped text,
and a swapped word often re-segments differently (``不清`` -> ``丕清`` became
``丕``, ``清``): the word indices of the search, ``RepeatModification`` and the
modification budget then point at shifted words, and word diffs
(``AttackedText.all_words_diff``) report every later word as changed. A swap
inside a word moves no other character, so swapped texts keep the
segmentation of the text they came from (:func:`_swap_keeping_words`): word
indices stay aligned for the whole attack and ``all_words_diff`` names the
swapped words. :func:`character_diff` / :func:`character_changes` record what
changed character by character, which is right for any unsegmented text
(including other recipes' results on Chinese data).

Integration: :func:`build_chinese_attack` has the signature of the recipe
builders in ``recipes.py`` (``wrapper -> textattack.Attack``); register it as
``Recipe(RECIPE_NAME, RECIPE_DESCRIPTION, build_chinese_attack)``. For the
``changed`` records of Chinese texts, :func:`character_changes` gives
``[offset, old, new]`` (character offset where English records have a word
index) and :func:`character_segments` the marked segments for a report.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import logging
import re
import string
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from harness_robustness.offline import import_textattack

__all__ = [
    "RECIPE_NAME", "RECIPE_DESCRIPTION", "CHINESE_STOPWORDS", "HOMOPHONES_PER_ROW", "MAX_MODIFICATION_RATE",
    "ChineseIndex", "build_index", "build_chinese_attack", "chinese_swap_class", "make_transformation",
    "character_diff", "character_changes", "character_segments", "is_cjk", "has_cjk",
    "textattack_homophone_file", "read_homophone_file", "derived_homophone_rows", "homophone_index", "morphonym_index",
]

RECIPE_NAME = "chinese"
RECIPE_DESCRIPTION = (
    "Chinese homophone and similar-glyph character swaps inside jieba-segmented words (TextAttack's Chinese "
    "tables, indexed), greedy word importance by deletion, Chinese stopwords kept, <= 20% of words"
)

#: TextAttack's homophone class takes columns 1..3 of a pinyin row (``for j in range(1, 4)``).
HOMOPHONES_PER_ROW = 3
#: The share of words an attack may modify (the English character recipes allow 20% too).
MAX_MODIFICATION_RATE = 0.2

#: Function words, negations and pronouns that are never swapped (as ``StopwordModification``).
CHINESE_STOPWORDS: frozenset[str] = frozenset(
    """
    的 了 在 是 和 与 及 或 但 而 也 都 就 又 很 有 无 不 没 这 那 个 其 之 于 以 为 被 把
    着 过 地 得 所 等 并 且 从 对 向 到 由 因 如 则 该 此 各 每 吗 呢 吧 啊 呀 们 我 你 他 她 它
    没有 不是 就是 还是 或者 但是 而且 并且 以及 因为 所以 如果 已经 可以 这个 那个 一个 我们 你们 他们 她们
    """.split()
)

_CJK = re.compile("[\u4e00-\u9fff]")
_PUNCTUATION = frozenset(string.punctuation) | frozenset("，。、；：？！“”‘’（）《》【】—…·")


def is_cjk(character: str) -> bool:
    """``character`` is one CJK unified ideograph (U+4E00..U+9FFF, TextAttack's test for Chinese text)."""
    return len(character) == 1 and "\u4e00" <= character <= "\u9fff"


def has_cjk(text: str) -> bool:
    """``text`` contains a CJK ideograph: TextAttack then segments it with jieba."""
    return _CJK.search(text) is not None


# ---------------------------------------------------------------- tables and indexes

#: A homophone table row: the pinyin (no tones) and its characters, most common first.
HomophoneRow = tuple[str, tuple[str, ...]]


def textattack_homophone_file() -> Path | None:
    """TextAttack's homophone table, if installed (the PyPI wheel does not ship it; 0.3.11 lacks it).

    Looked for where ``ChineseHomophoneCharacterSwap`` looks
    (``textattack/transformations/shared/``, two folders up from its module)
    and where TextAttack's repository keeps it (``textattack/shared/``).
    """
    import importlib.util

    spec = importlib.util.find_spec("textattack")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(list(spec.submodule_search_locations)[0])
    for folder in (root / "transformations" / "shared", root / "shared"):
        path = folder / "chinese_homophone_char.txt"
        if path.is_file():
            return path
    return None


def read_homophone_file(path: str | Path) -> list[HomophoneRow]:
    """TextAttack's homophone table as rows: one per non-blank line, ``pinyin<TAB>char<TAB>char...``.

    What ``pd.read_csv(path, header=None, sep="\\n")[0].str.split("\\t", expand=True)``
    meant: pandas skips blank lines, and a short row ends where its cells end
    (``None`` in the class). Empty cells (a doubled or trailing tab) are kept
    as cells, as in the class, which would swap a character for ``""`` (delete
    it); :func:`homophone_index` drops them.
    """
    rows: list[HomophoneRow] = []
    with open(path, encoding="utf-8-sig") as handle:
        for line in handle:
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            key, *cells = line.split("\t")
            rows.append((key, tuple(cells)))
    return rows


@functools.lru_cache(maxsize=1)
def _pinyin_of_characters() -> dict[str, str]:
    """Every CJK ideograph the ``pinyin`` package knows -> ``pinyin.get(c, format="strip", delimiter=" ")``.

    The call TextAttack's homophone class makes for each character (first
    reading, tones stripped); a character the package does not know has no
    reading (``pinyin.get`` would return the character itself, never a row).
    """
    import pinyin
    from pinyin.pinyin import pinyin_dict

    out: dict[str, str] = {}
    for code in pinyin_dict:
        character = chr(int(code, 16))
        if is_cjk(character):
            out[character] = pinyin.get(character, format="strip", delimiter=" ")
    return out


def _jieba_frequencies() -> Mapping[str, int]:
    """jieba's dictionary frequencies (``jieba.dt.FREQ``), initialising jieba quietly if needed."""
    import jieba

    _initialise_jieba()
    return jieba.dt.FREQ


def derived_homophone_rows() -> list[HomophoneRow]:
    """A homophone table like TextAttack's, derived from installed packages when its file is missing.

    Every CJK ideograph the ``pinyin`` package knows, grouped by
    ``pinyin.get(c, format="strip")`` (the function TextAttack's class calls),
    most frequent first by jieba's single-character word frequencies, ties by
    code point; rows in order of their most frequent character.
    """
    frequency = _jieba_frequencies()
    groups: dict[str, list[str]] = {}
    for character, reading in _pinyin_of_characters().items():
        groups.setdefault(reading, []).append(character)
    rows = [(p, tuple(sorted(chars, key=lambda c: (-frequency.get(c, 0), c)))) for p, chars in groups.items()]
    rows.sort(key=lambda row: (-frequency.get(row[1][0], 0), row[1][0], row[0]))
    return rows


def _first_unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def homophone_index(rows: Sequence[HomophoneRow], per_row: int = HOMOPHONES_PER_ROW) -> dict[str, tuple[str, ...]]:
    """``character -> homophones``: what ``ChineseHomophoneCharacterSwap`` swaps ``character`` for, looked up once.

    The class takes the pinyin of the character, scans every row whose first
    cell is that pinyin and takes the row's next ``per_row`` cells. Here the
    rows are grouped by pinyin once, and every CJK character the ``pinyin``
    package knows gets the candidates of its pinyin, without itself, without
    repeats and without anything that is not a CJK ideograph.
    """
    by_pinyin: dict[str, list[str]] = {}
    for key, characters in rows:
        by_pinyin.setdefault(key, []).extend(characters[:per_row])
    index: dict[str, tuple[str, ...]] = {}
    for character, reading in _pinyin_of_characters().items():
        found = by_pinyin.get(reading)
        if found:
            candidates = _first_unique(c for c in found if c != character and is_cjk(c))
            if candidates:
                index[character] = candidates
    return index


def morphonym_index(groups: Sequence[Sequence[str]] | None = None) -> dict[str, tuple[str, ...]]:
    """``character -> similar glyphs``: what ``ChineseMorphonymCharacterSwap`` swaps ``character`` for.

    Every other member of every group (``textattack.shared.data.MORPHONYM_LS``
    by default) that contains the character, in group order, without repeats;
    the empty strings of TextAttack's groups (deletions) are dropped.
    """
    if groups is None:
        import_textattack()
        from textattack.shared.data import MORPHONYM_LS

        groups = MORPHONYM_LS
    lists: dict[str, list[str]] = {}
    for group in groups:
        members = [m for m in group if is_cjk(m)]
        for character in members:
            lists.setdefault(character, []).extend(m for m in members if m != character)
    return {c: _first_unique(found) for c, found in lists.items() if found}


def _digest(index: Mapping[str, Sequence[str]]) -> str:
    data = json.dumps(sorted((k, list(v)) for k, v in index.items()), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChineseIndex:
    """The two candidate indexes, where the homophone table came from, and how long building took."""

    homophones: Mapping[str, tuple[str, ...]] = field(repr=False)
    morphonyms: Mapping[str, tuple[str, ...]] = field(repr=False)
    homophone_source: str  # "textattack:<file>" or "pinyin+jieba"
    seconds: float = field(default=0.0, compare=False)

    @functools.cached_property
    def digest(self) -> str:
        """sha256 of both indexes (first 16 hex digits): names the candidates in the attack's components."""
        return hashlib.sha256((_digest(self.homophones) + _digest(self.morphonyms)).encode()).hexdigest()[:16]

    def candidates(self, character: str, *, homophones: bool = True, morphonyms: bool = True) -> tuple[str, ...]:
        """Replacements for one character: its homophones, then its similar glyphs, without repeats."""
        found: list[str] = []
        if homophones:
            found.extend(self.homophones.get(character, ()))
        if morphonyms:
            found.extend(self.morphonyms.get(character, ()))
        return _first_unique(found)

    def replacement_words(self, word: str, *, homophones: bool = True, morphonyms: bool = True) -> list[str]:
        """Every word that differs from ``word`` in one CJK character, swapped for a candidate; in a fixed order."""
        out: list[str] = []
        for i, character in enumerate(word):
            if is_cjk(character):
                for candidate in self.candidates(character, homophones=homophones, morphonyms=morphonyms):
                    out.append(word[:i] + candidate + word[i + 1:])
        return list(_first_unique(out))


_INDEX_LOCK = threading.Lock()


@functools.lru_cache(maxsize=4)
def _cached_index(source: str) -> ChineseIndex:
    start = time.perf_counter()
    file = textattack_homophone_file() if source in ("auto", "textattack") else None
    if source == "textattack" and file is None:
        raise FileNotFoundError(
            "textattack's homophone table (textattack/shared/chinese_homophone_char.txt) is not installed; "
            "use homophone_source='auto' or 'pinyin+jieba'"
        )
    if file is not None:
        rows, label = read_homophone_file(file), f"textattack:{file.name}"
    elif source in ("auto", "pinyin+jieba"):
        rows, label = derived_homophone_rows(), "pinyin+jieba"
    else:
        raise ValueError(f"unknown homophone source {source!r}: 'auto', 'textattack' or 'pinyin+jieba'")
    homophones = homophone_index(rows)
    morphonyms = morphonym_index()
    return ChineseIndex(homophones, morphonyms, label, time.perf_counter() - start)


def build_index(homophone_source: str = "auto") -> ChineseIndex:
    """The candidate indexes, built once per process and source.

    ``homophone_source``: ``"auto"`` (TextAttack's table when installed, else
    derived), ``"textattack"`` (its table or ``FileNotFoundError``) or
    ``"pinyin+jieba"`` (always derived).
    """
    with _INDEX_LOCK:
        return _cached_index(homophone_source)


# ---------------------------------------------------------------- jieba


_JIEBA_LOCK = threading.Lock()


def _initialise_jieba() -> None:
    """Load jieba's dictionary now, without its "Building prefix dict..." lines on stderr (offline: it ships the file)."""
    import jieba

    if jieba.dt.initialized:
        return
    with _JIEBA_LOCK:
        logger = jieba.default_logger  # the "jieba" logger, which prints at DEBUG to stderr
        level = logger.level
        logger.setLevel(logging.WARNING)
        try:
            jieba.initialize()  # reads the dictionary jieba ships (or its cache in the temp folder)
        finally:
            logger.setLevel(level)


# ---------------------------------------------------------------- the transformation and the recipe

_CLASS: type | None = None


def chinese_swap_class() -> type:
    """``ChineseCharacterSwap``, a ``textattack.transformations.WordSwap`` subclass (built once, textattack imported offline).

    ``ChineseCharacterSwap(index, homophones=True, morphonyms=True)``: each
    replacement of a word differs from it in exactly one CJK character,
    replaced by one of :meth:`ChineseIndex.candidates`.
    """
    global _CLASS
    if _CLASS is not None:
        return _CLASS
    import_textattack()
    from textattack.transformations import WordSwap

    class ChineseCharacterSwap(WordSwap):  # type: ignore[misc, valid-type]
        """Swap one character of a Chinese word for a homophone or a similar glyph (indexed tables)."""

        def __init__(
            self, index: ChineseIndex, homophones: bool = True, morphonyms: bool = True, keep_segmentation: bool = True
        ) -> None:
            super().__init__()
            if not (homophones or morphonyms):
                raise ValueError("ChineseCharacterSwap needs homophones, morphonyms or both")
            self.index = index
            self.homophones = homophones
            self.morphonyms = morphonyms
            self.keep_segmentation = keep_segmentation
            self.homophone_source = index.homophone_source if homophones else None
            self.index_sha256 = index.digest

        def _get_replacement_words(self, word: str) -> list[str]:
            return self.index.replacement_words(word, homophones=self.homophones, morphonyms=self.morphonyms)

        def _get_transformations(self, current_text: Any, indices_to_modify: Iterable[int]) -> list[Any]:
            words = current_text.words
            offsets = _word_offsets(current_text) if self.keep_segmentation else None
            out = []
            for i in sorted(indices_to_modify):
                for replacement in self._get_replacement_words(words[i]):
                    if replacement == words[i]:
                        continue
                    if offsets is None:
                        out.append(current_text.replace_word_at_index(i, replacement))
                    else:
                        out.append(_swap_keeping_words(current_text, offsets, i, replacement))
            return out

        def extra_repr_keys(self) -> list[str]:
            return ["homophones", "morphonyms", "keep_segmentation", "homophone_source", "index_sha256"]

    ChineseCharacterSwap.__module__ = __name__
    _CLASS = ChineseCharacterSwap
    return _CLASS


def _word_offsets(text: Any) -> list[int] | None:
    """Where each of ``text.words`` starts in ``text.text`` (found in order, as TextAttack finds them), or ``None``.

    ``None`` (keep TextAttack's own path) for a multi-input text or a word not
    found verbatim.
    """
    if len(text.column_labels) != 1:
        return None
    content, position, offsets = text.text, 0, []
    for word in text.words:
        found = content.find(word, position)
        if found < 0:
            return None
        offsets.append(found)
        position = found + len(word)
    return offsets


def _swap_keeping_words(current: Any, offsets: Sequence[int], i: int, replacement: str) -> Any:
    """``current`` with word ``i`` replaced, keeping the jieba words of ``current`` (word ``i`` replaced).

    TextAttack re-segments every new text with jieba, and a swapped word often
    re-segments differently (``血压`` -> ``血鸭`` may become ``血``, ``鸭``; on a
    triage note a third of the swaps changed the word count): the search's word
    ranking (indices of the original text), ``RepeatModification`` and the
    modification budget then point at shifted words, and word diffs misalign.
    A swap inside a word moves no other character, so the segmentation of
    ``current`` stays valid. The text is what ``current.replace_word_at_index(i,
    replacement)`` makes; the attack attributes are those it sets for a swap
    that keeps the word count (modified indices of ``current`` plus ``i``,
    index map unchanged).
    """
    from collections import OrderedDict

    words = list(current.words)
    start = offsets[i]
    text = current.text[:start] + replacement + current.text[start + len(words[i]):]
    attrs: dict[str, Any] = {
        "newly_modified_indices": {i},
        "previous_attacked_text": current,
        "modified_indices": set(current.attack_attrs["modified_indices"]) | {i},
        "original_index_map": current.attack_attrs["original_index_map"].copy(),
    }
    if "label_names" in current.attack_attrs:
        attrs["label_names"] = current.attack_attrs["label_names"]
    words[i] = replacement
    # AttackedText.__init__ segments the text even when given an index map (its
    # ``setdefault("original_index_map", np.arange(self.num_words))`` evaluates the
    # default): a jieba pass per candidate, a third of the attack's time, for words
    # that are set here anyway. So the instance is made without __init__: every
    # attribute ``current`` has (the text, the attributes and lazily filled caches:
    # words, POS and NER tags) unset, then the text, attributes and words set.
    new = object.__new__(type(current))
    new.__dict__.update(dict.fromkeys(vars(current)))
    new._text_input = OrderedDict([(current.column_labels[0], text)])
    new.attack_attrs = attrs
    new._words = words  # AttackedText.words returns _words once set: no re-segmentation
    return new


def make_transformation(
    homophones: bool = True, morphonyms: bool = True, homophone_source: str = "auto", keep_segmentation: bool = True
) -> Any:
    """A ``ChineseCharacterSwap`` over :func:`build_index` (``homophone_source`` as there).

    ``keep_segmentation``: swapped texts keep the jieba words of the text they
    were made from (see :func:`_swap_keeping_words`); ``False`` lets TextAttack
    re-segment every candidate.
    """
    return chinese_swap_class()(
        build_index(homophone_source), homophones=homophones, morphonyms=morphonyms, keep_segmentation=keep_segmentation
    )


def build_chinese_attack(wrapper: Any) -> Any:
    """The ``chinese`` recipe against a TextAttack model wrapper; returns a ``textattack.Attack``.

    Same signature as the builders in ``recipes.py``. Transformation:
    :func:`make_transformation` (homophones and similar glyphs); constraints:
    ``RepeatModification``, ``StopwordModification`` with
    :data:`CHINESE_STOPWORDS` and punctuation, ``MaxModificationRate(0.2,
    min_threshold=1)`` (counted on the words TextAttack marks as modified, not
    on a word-by-word diff, which misaligns when a swapped word re-segments);
    goal ``UntargetedClassification``; search ``GreedyWordSwapWIR("delete")``.
    Needs nothing downloaded: jieba's and pinyin's dictionaries ship with them.
    """
    textattack = import_textattack()
    from textattack.constraints.pre_transformation import MaxModificationRate, RepeatModification, StopwordModification
    from textattack.goal_functions import UntargetedClassification
    from textattack.search_methods import GreedyWordSwapWIR

    _initialise_jieba()
    transformation = make_transformation()
    constraints = [
        RepeatModification(),
        StopwordModification(stopwords=CHINESE_STOPWORDS | _PUNCTUATION),
        MaxModificationRate(max_rate=MAX_MODIFICATION_RATE, min_threshold=1),
    ]
    goal = UntargetedClassification(wrapper)
    return textattack.Attack(goal, constraints, transformation, GreedyWordSwapWIR(wir_method="delete"))


# ---------------------------------------------------------------- what changed


def _changed_spans(original: str, perturbed: str) -> list[tuple[int, int, int, int]]:
    """Maximal runs of changed characters as ``(i1, i2, j1, j2)``: ``original[i1:i2]`` became ``perturbed[j1:j2]``."""
    matcher = difflib.SequenceMatcher(a=original, b=perturbed, autojunk=False)
    spans: list[list[int]] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        if spans and spans[-1][1] == i1 and spans[-1][3] == j1:  # adjacent: one group
            spans[-1][1], spans[-1][3] = i2, j2
        else:
            spans.append([i1, i2, j1, j2])
    return [(a, b, c, d) for a, b, c, d in spans]


def character_diff(original: str, perturbed: str) -> list[tuple[str, str]]:
    """What changed, as ``(old, new)`` pairs of adjacent changed characters, in text order.

    A character-level ``difflib.SequenceMatcher`` (no autojunk), so it is right
    for unsegmented text where re-segmenting the perturbed text misaligns
    words: ``character_diff("患者血压低", "患者血鸭低") == [("压", "鸭")]``.
    An insertion has ``old == ""``, a deletion ``new == ""``.
    """
    return [(original[i1:i2], perturbed[j1:j2]) for i1, i2, j1, j2 in _changed_spans(original, perturbed)]


def character_changes(original: str, perturbed: str) -> list[list[Any]]:
    """:func:`character_diff` in the attack records' shape: ``[offset, old, new]``.

    ``offset`` is the character offset of ``old`` in ``original`` (where the
    English records have a word index), so ``original[offset:offset + len(old)] == old``.
    """
    return [[i1, original[i1:i2], perturbed[j1:j2]] for i1, i2, j1, j2 in _changed_spans(original, perturbed)]


def character_segments(original: str, perturbed: str) -> list[tuple[str, bool]]:
    """``perturbed`` split into ``(text, is_changed)`` segments by characters (for marking edits in a report).

    The character-level counterpart of ``harness.text.diff.marked_segments``,
    which splits on whitespace and so marks a whole unsegmented Chinese text.
    """
    segments: list[tuple[str, bool]] = []
    position = 0
    for _, _, j1, j2 in _changed_spans(original, perturbed):
        if j1 > position:
            segments.append((perturbed[position:j1], False))
        if j2 > j1:
            segments.append((perturbed[j1:j2], True))
        position = j2
    if position < len(perturbed):
        segments.append((perturbed[position:], False))
    return segments
