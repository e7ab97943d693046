"""Identity-term swap lists for counterfactual text fairness, shipped as data.

:data:`DEFAULT_SWAPS` maps an attribute (``"sex"``, ``"age_band"``,
``"ethnicity"``) to ``(a, b)`` word pairs. Pairs are read by
:func:`swap_table`: every ``a -> b`` is used, and the reverse ``b -> a`` is
added only when ``b`` is not already a source word. So the first pair that
names a word decides where it goes, which settles ambiguous words:

* ``("her", "his")`` and ``("him", "her")``: her -> his, him -> her, his -> her;
* ``("black", ...)``: Black -> White, Asian -> White, Hispanic -> White, and
  White -> Black (the first reverse), i.e. one variant per text.

Besides word pairs there are two rules that are not plain pairs:

* :data:`AGE_SWAP` (attribute ``"age_band"``): numeric ages such as
  ``"72-year-old"``, ``"34 y/o"``, ``"72yo"`` or ``"aged 72"``; ages >= 65
  become 30, ages < 40 become 75, ages 40-64 are left alone.
* :data:`NAME_SWAPS` (attribute ``"ethnicity"``): the first names (and
  surnames) of :data:`FIRST_NAMES` (:data:`SURNAMES`) typical of one
  ethnicity are swapped with the name at the same index in another
  ethnicity's list (same sex for first names), following
  :data:`NAME_TARGET_ETHNICITY`; and, for ``"sex"``, :data:`SEX_NAME_SWAPS`
  swaps a first name with the other sex's name at the same index of the same
  ethnicity.

The name lists belong to this plugin: it imports nothing from the data
modules of the core. They are the names the built-in synthetic dataset
(``builtin:clinical-triage``) writes into its notes, so the counterfactual
check swaps every name of the demo; ``tests/test_fairness_counterfactual.py``
checks that the two copies agree.

Words in :data:`CASE_SENSITIVE_ATTRIBUTES` (ethnicity) are matched only in
the case they are written in, so colour words such as "white blood cells" or
"black stools" are never swapped; other attributes match in any case and the
replacement copies the case of the matched word.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "AGE_SWAP",
    "CASE_SENSITIVE_ATTRIBUTES",
    "DEFAULT_SWAPS",
    "FIRST_NAMES",
    "NAME_SWAPS",
    "NAME_TARGET_ETHNICITY",
    "SEX_NAME_SWAPS",
    "SURNAMES",
    "RegexSwap",
    "merge_swaps",
    "swap_age",
    "swap_table",
]

DEFAULT_SWAPS: dict[str, list[tuple[str, str]]] = {
    "sex": [
        ("woman", "man"),
        ("women", "men"),
        ("female", "male"),
        ("females", "males"),
        ("she", "he"),
        ("her", "his"),  # possessive reading; "her" is ambiguous (his/him)
        ("him", "her"),
        ("hers", "his"),
        ("herself", "himself"),
        ("girl", "boy"),
        ("girls", "boys"),
        ("lady", "gentleman"),
        ("ladies", "gentlemen"),
        ("mother", "father"),
        ("mothers", "fathers"),
        ("mum", "dad"),
        ("mom", "dad"),
        ("wife", "husband"),
        ("daughter", "son"),
        ("daughters", "sons"),
        ("sister", "brother"),
        ("sisters", "brothers"),
        ("aunt", "uncle"),
        ("niece", "nephew"),
        ("grandmother", "grandfather"),
        ("granddaughter", "grandson"),
        ("girlfriend", "boyfriend"),
        ("mrs", "mr"),
        ("ms", "mr"),
        ("madam", "sir"),
    ],
    "age_band": [
        ("elderly", "young"),
        ("older", "younger"),
    ],
    "ethnicity": [
        ("Black", "White"),
        ("Asian", "White"),
        ("Hispanic", "White"),
        ("Latino", "White"),
        ("Latina", "White"),
        ("African American", "White"),
        ("African-American", "White"),
    ],
}

#: First names typical of each (sex, ethnicity) group, in swap order: the name at
#: index i is swapped with the name at index i of the target group.
FIRST_NAMES: Mapping[tuple[str, str], tuple[str, ...]] = MappingProxyType(
    {
        ("female", "asian"): ("Mei", "Priya", "Yuki", "Ananya", "Jia", "Hana", "Linh", "Sunita"),
        ("male", "asian"): ("Wei", "Arjun", "Hiroshi", "Minh", "Jun", "Rahul", "Kenji", "Sanjay"),
        ("female", "black"): ("Aaliyah", "Imani", "Aisha", "Nia", "Amara", "Zola", "Adaeze", "Latoya"),
        ("male", "black"): ("Jamal", "Darnell", "Malik", "Tyrone", "DeShawn", "Kwame", "Emeka", "Andre"),
        ("female", "hispanic"): ("Maria", "Lucia", "Sofia", "Camila", "Valentina", "Guadalupe", "Ximena", "Carmen"),
        ("male", "hispanic"): ("Jose", "Carlos", "Luis", "Miguel", "Alejandro", "Javier", "Diego", "Santiago"),
        ("female", "white"): ("Emily", "Sarah", "Katherine", "Megan", "Abigail", "Hannah", "Claire", "Molly"),
        ("male", "white"): ("Connor", "Jacob", "Matthew", "Brett", "Garrett", "Cody", "Wyatt", "Luke"),
    }
)
#: Surnames typical of each ethnicity, in swap order.
SURNAMES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "asian": ("Chen", "Patel", "Nguyen", "Kim", "Tanaka", "Singh", "Wang", "Yamamoto"),
        "black": ("Washington", "Jefferson", "Okafor", "Mensah", "Banks", "Booker", "Adeyemi", "Jackson"),
        "hispanic": ("Garcia", "Rodriguez", "Hernandez", "Lopez", "Martinez", "Gonzalez", "Ramirez", "Torres"),
        "white": ("Miller", "Anderson", "Schmidt", "O'Brien", "Sullivan", "Olsen", "Walsh", "Becker"),
    }
)

#: Attributes whose words are matched exactly as written (no case folding).
CASE_SENSITIVE_ATTRIBUTES: frozenset[str] = frozenset({"ethnicity"})

#: Which ethnicity's names a name of each ethnicity is swapped for (mirrors the words).
NAME_TARGET_ETHNICITY: dict[str, str] = {"asian": "white", "black": "white", "hispanic": "white", "white": "black"}


def _name_swaps() -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for (sex, ethnicity), names in FIRST_NAMES.items():
        target = FIRST_NAMES.get((sex, NAME_TARGET_ETHNICITY.get(ethnicity, "")))
        if target:
            pairs.extend((name, target[i % len(target)]) for i, name in enumerate(names))
    for ethnicity, names in SURNAMES.items():
        target = SURNAMES.get(NAME_TARGET_ETHNICITY.get(ethnicity, ""))
        if target:
            pairs.extend((name, target[i % len(target)]) for i, name in enumerate(names))
    return pairs


#: One-way (name -> name) substitutions for the ethnicity attribute; case-insensitive
#: so lower-case e-mail parts ("mei.chen@...") follow the written name.
NAME_SWAPS: list[tuple[str, str]] = _name_swaps()


def _sex_name_swaps() -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for (sex, ethnicity), names in FIRST_NAMES.items():
        other = FIRST_NAMES.get(("male" if sex == "female" else "female", ethnicity))
        if other:
            pairs.extend((name, other[i % len(other)]) for i, name in enumerate(names))
    return pairs


#: One-way first-name substitutions for the sex attribute: a female name <-> the
#: male name at the same index of the same ethnicity (so names do not leak sex).
SEX_NAME_SWAPS: list[tuple[str, str]] = _sex_name_swaps()


@dataclass(frozen=True)
class RegexSwap:
    """A function-based swap: ``replace(match)`` gives the new text, or None to keep it."""

    attribute: str
    pattern: re.Pattern[str]
    replace: Callable[[re.Match[str]], str | None]


#: Ages at or above this are "old" and become ``OLD_TO``; below ``YOUNG_BELOW`` become ``YOUNG_TO``.
OLD_FROM, OLD_TO = 65, 30
YOUNG_BELOW, YOUNG_TO = 40, 75

_AGE_PATTERN = re.compile(
    r"(?<![\w.])(?P<age>\d{1,3})(?P<unit>\s?-?\s?(?:years?|yrs?)[-\s]old|\s?y/o|\s?yo)(?![^\W\d_])"
    r"|(?<![^\W\d_])(?P<lead>aged?\s+)(?P<age2>\d{1,3})(?![\w.])"
    # "Woman, 72, attends ...": an age between commas right after a person noun.
    r"|(?<![^\W\d_])(?P<noun>(?:wo)?m[ae]n|(?:fe)?male|patient|pt|lady|gentleman|girl|boy),\s?"
    r"(?P<age3>\d{1,3})(?=\s?[,;])",
    re.IGNORECASE,
)
_AGE_GROUPS = ("age", "age2", "age3")


def swap_age(match: re.Match[str]) -> str | None:
    """Replacement for :data:`AGE_SWAP`: old -> 30, young -> 75, middle unchanged."""
    group = next(g for g in _AGE_GROUPS if match.group(g) is not None)
    age = int(match.group(group))
    if age >= OLD_FROM:
        new = OLD_TO
    elif age < YOUNG_BELOW:
        new = YOUNG_TO
    else:
        return None
    start, end = match.span(group)
    base = match.start()
    text = match.group(0)
    return text[: start - base] + str(new) + text[end - base :]


AGE_SWAP = RegexSwap(attribute="age_band", pattern=_AGE_PATTERN, replace=swap_age)


def swap_table(pairs: Sequence[Sequence[str]], *, case_sensitive: bool = False) -> dict[str, str]:
    """Directed ``source -> target`` map from bidirectional pairs (first mention wins).

    Keys are lower-cased unless ``case_sensitive``. Forward directions of all
    pairs are taken first, then reverses for words not yet mapped.
    """
    key = (lambda w: w) if case_sensitive else str.lower
    table: dict[str, str] = {}
    for a, b in pairs:
        if key(a) != key(b):
            table.setdefault(key(a), b)
    for a, b in pairs:
        if key(a) != key(b):
            table.setdefault(key(b), a)
    return table


def merge_swaps(
    defaults: Mapping[str, Sequence[Sequence[str]]],
    extra: Mapping[str, Sequence[Sequence[str]]] | None,
) -> dict[str, list[tuple[str, str]]]:
    """Defaults plus user pairs from config (``{"sex": [["lass", "lad"]], "religion": [...]}``).

    User pairs come *first* within an attribute so they win over defaults for
    a word both mention; new attributes are added. Inputs are not modified.
    """
    merged: dict[str, list[tuple[str, str]]] = {a: [(x, y) for x, y in pairs] for a, pairs in defaults.items()}
    extra = extra or {}
    for attribute, pairs in extra.items():
        if not isinstance(attribute, str) or not attribute:
            raise ValueError(f"swap attribute must be a non-empty string, got {attribute!r}")
        checked: list[tuple[str, str]] = []
        for pair in pairs:
            if (
                isinstance(pair, str)
                or len(pair) != 2
                or not all(isinstance(w, str) and w.strip() for w in pair)
            ):
                raise ValueError(f"swap pairs for {attribute!r} must be [word, word], got {pair!r}")
            checked.append((pair[0].strip(), pair[1].strip()))
        merged[attribute] = checked + merged.get(attribute, [])
    return merged
