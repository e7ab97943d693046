"""Which languages the texts are in: measured per text, so checks can say when their method does not apply.

A check whose method only knows English (English character edits, English
identity terms, English personal-data formats) says nothing trustworthy about
Chinese notes; before, it ran anyway and could PASS. Now the run measures the
evaluation texts' languages once, records the share per language in
provenance, and the runner marks a check ``not_applicable`` when the texts are
mostly in languages its method does not declare (``Check.languages``).

The detector is Lingua (``lingua-language-detector``, offline, models bundled
in the wheel), in its low-accuracy mode (about 100 MB and 0.2 s for 600 texts
on 2 cores, against 1 GB and 5 s for the high-accuracy mode; the scripts that
matter here, Latin against Han, are told apart by either). A text the detector
is not sure about (the two best languages within ``MIN_RELATIVE_DISTANCE`` of
each other, or too short, like ``"BP 140/90"``) is counted as ``und``
(undetermined, ISO 639-2's code) rather than guessed.

Codes are ISO 639-1, lowercase (``en``, ``zh``, ``fr``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from harness.text.i18n import N_

#: The code of a text whose language could not be determined.
UNDETERMINED = "und"
#: Lingua's minimum relative distance between the two most likely languages for an answer.
MIN_RELATIVE_DISTANCE = 0.1
#: A check declaring languages is not applicable when more than this share of the
#: texts whose language was determined is in languages it does not support.
OUTSIDE_SHARE_LIMIT = 0.5

LANGUAGE_NAMES: Mapping[str, str] = {"en": "English", "zh": "Chinese", UNDETERMINED: "undetermined"}


@dataclass(frozen=True)
class LanguageProfile:
    """The languages of a set of texts: counts per ISO 639-1 code (``und`` for undetermined)."""

    counts: Mapping[str, int]
    n: int
    detector: str = ""
    per_text: tuple[str, ...] = field(default=(), repr=False, compare=False)

    def share(self, code: str) -> float:
        return self.counts.get(code, 0) / self.n if self.n else 0.0

    @property
    def determined(self) -> int:
        return self.n - self.counts.get(UNDETERMINED, 0)

    @property
    def dominant(self) -> str:
        """The most frequent determined language (``und`` when none was determined)."""
        known = [(count, code) for code, count in self.counts.items() if code != UNDETERMINED]
        return max(known, key=lambda item: (item[0], item[1]))[1] if known else UNDETERMINED

    def outside_share(self, supported: Iterable[str]) -> float:
        """Among texts whose language was determined, the share in languages not in ``supported``."""
        wanted = set(supported)
        if not self.determined:
            return 0.0
        outside = sum(count for code, count in self.counts.items() if code != UNDETERMINED and code not in wanted)
        return outside / self.determined

    def to_dict(self) -> dict[str, Any]:
        """What provenance records: share per language (sorted by share), counts, n and the detector."""
        ordered = sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))
        return {
            "shares": {code: round(count / self.n, 4) for code, count in ordered} if self.n else {},
            "counts": dict(ordered),
            "n": self.n,
            "detector": self.detector,
        }


def describe(profile: LanguageProfile, limit: int = 3) -> str:
    """``"zh 97%, en 2%, und 1%"``: the profile in a few words, for messages."""
    ordered = sorted(profile.counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return ", ".join(f"{code} {round(100 * count / profile.n)}%" for code, count in ordered) if profile.n else "no texts"


#: The message of a check whose declared languages do not cover the texts (a catalog msgid; :func:`not_applicable_args` fills it).
NOT_APPLICABLE_MESSAGE = N_("{check}'s method is valid for {languages}; the evaluation texts are {profile} "
                            "({outside}% of the texts with a detected language are outside it), so it cannot test them")


def not_applicable_args(profile: LanguageProfile | None, supported: Sequence[str] | None, check_id: str) -> dict[str, Any] | None:
    """The values of :data:`NOT_APPLICABLE_MESSAGE` when ``check_id`` cannot speak for these texts; ``None`` when it can."""
    if profile is None or supported is None or not profile.n:
        return None
    outside = profile.outside_share(supported)
    if outside <= OUTSIDE_SHARE_LIMIT:
        return None
    names = ", ".join(sorted(supported)) or "no language"
    return {"check": check_id, "languages": names, "profile": describe(profile), "outside": round(100 * outside)}


def not_applicable_reason(profile: LanguageProfile | None, supported: Sequence[str] | None, check_id: str) -> str | None:
    """Why ``check_id`` cannot speak for these texts, or ``None`` when it can (or declares no languages)."""
    args = not_applicable_args(profile, supported, check_id)
    return None if args is None else NOT_APPLICABLE_MESSAGE.format(**args)


@functools.lru_cache(maxsize=1)
def _detector() -> Any:
    from lingua import LanguageDetectorBuilder

    return (
        LanguageDetectorBuilder.from_all_languages()
        .with_low_accuracy_mode()
        .with_minimum_relative_distance(MIN_RELATIVE_DISTANCE)
        .build()
    )


def detector_version() -> str:
    import importlib.metadata

    try:
        version = importlib.metadata.version("lingua-language-detector")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - a declared dependency
        version = "unknown"
    return f"lingua-language-detector {version} (low-accuracy mode, minimum relative distance {MIN_RELATIVE_DISTANCE})"


def detect_languages(texts: Sequence[str]) -> LanguageProfile:
    """Detect each text's language; the profile keeps the per-text codes for checks that need them."""
    if not texts:
        return LanguageProfile({}, 0, detector_version())
    found = _detector().detect_languages_in_parallel_of(list(texts))
    codes = tuple(language.iso_code_639_1.name.lower() if language is not None else UNDETERMINED for language in found)
    counts: dict[str, int] = {}
    for code in codes:
        counts[code] = counts.get(code, 0) + 1
    return LanguageProfile(counts, len(codes), detector_version(), codes)
