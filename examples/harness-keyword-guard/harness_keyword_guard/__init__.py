"""Keyword guard: do predictions change when protected words are removed?

A model that triages "62-year-old Black woman with chest pain" differently
from "62-year-old with chest pain" lets the protected words, not the
symptoms, decide. For every evaluation text that contains one of the
configured words, this check removes them all (whole words, any case),
predicts again, and reports the share of texts whose label changed, with a
Wilson interval; the run gates on it (default ``max: 0.05``).

Built only on the public plugin API (the names of ``harness.__all__``,
imported from ``harness`` itself): it is the repository's proof that a third
party can ship a check without reading the core.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from pydantic import Field

from harness import Check, CheckOptions, CheckResult, Metric, Threshold, hookimpl, wilson_interval

if TYPE_CHECKING:
    import numpy as np

    from harness import AuditResult, ReportSection, RunContext

__version__ = "0.2.0"
TEMPLATES = Path(__file__).parent / "templates"
DEFAULT_WORDS = ("woman", "man", "she", "he", "her", "his", "him", "Black", "White", "Asian", "Hispanic")


def word_pattern(words: Sequence[str]) -> "re.Pattern[str]":
    """One regex matching any of ``words`` as a whole word, case-insensitively (longest first)."""
    alternatives = "|".join(re.escape(w) for w in sorted({w.strip() for w in words if w.strip()}, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE)


def strip_words(text: str, pattern: "re.Pattern[str]") -> str:
    """``text`` without the matched words, re-spaced (no double spaces, no space before punctuation)."""
    stripped = pattern.sub(" ", text)
    stripped = re.sub(r"\s+", " ", stripped)
    return re.sub(r"\s+([.,;:!?])", r"\1", stripped).strip()


def marked_parts(text: str, pattern: "re.Pattern[str]") -> list[dict[str, Any]]:
    """``text`` cut into kept and removed parts, for the report to strike the removed ones out."""
    parts, last = [], 0
    for match in pattern.finditer(text):
        if match.start() > last:
            parts.append({"text": text[last:match.start()], "removed": False})
        parts.append({"text": match.group(0), "removed": True})
        last = match.end()
    if last < len(text):
        parts.append({"text": text[last:], "removed": False})
    return parts


@dataclass(frozen=True)
class FlipAnalysis:
    """Which of the texts with protected words changed prediction once the words were removed."""

    indices: tuple[int, ...]  # positions (in the texts given) of the texts tested
    stripped: tuple[str, ...]
    before: tuple[int, ...]
    after: tuple[int, ...]

    @property
    def tested(self) -> int:
        return len(self.indices)

    @property
    def flipped(self) -> tuple[int, ...]:
        """Positions into ``indices`` of the tested texts whose prediction changed."""
        return tuple(i for i, (b, a) in enumerate(zip(self.before, self.after)) if b != a)


def analyse(texts: Sequence[str], indices: Sequence[int], pattern: "re.Pattern[str]", predict: "Callable[[list[str]], np.ndarray]") -> FlipAnalysis:
    """Predict ``texts[i]`` and the same text without the protected words, for each ``i`` in ``indices``."""
    originals = [texts[i] for i in indices]
    stripped = [strip_words(text, pattern) for text in originals]
    before = [int(p) for p in predict(originals)] if originals else []
    after = [int(p) for p in predict(stripped)] if stripped else []
    return FlipAnalysis(tuple(indices), tuple(stripped), tuple(before), tuple(after))


class ProtectedTermsOptions(CheckOptions):
    words: list[str] = Field(list(DEFAULT_WORDS), min_length=1, description="protected words (whole words, any case)")
    split: str | None = Field(None, description="split to test (default: data.eval_split)")
    max_examples: int = Field(1000, ge=1, le=1_000_000, description="texts with a protected word to test (a seeded sample beyond that)")
    shown: int = Field(20, ge=0, le=500, description="flipped texts kept as evidence and shown in the report")
    level: float = Field(0.95, gt=0.5, lt=1, description="confidence level of the interval")


class ProtectedTerms(Check):
    """Share of texts whose prediction changes when the protected words are removed."""

    id = "keyword_guard.protected_terms"
    title = "Protected words do not decide predictions"
    description = "Share of texts containing a protected word whose prediction changes when the words are removed (Wilson interval)."
    primary_metric = "flip_rate"
    default_thresholds = {"flip_rate": Threshold(max=0.05)}
    regulations = ("EU AI Act Art. 10(2)(f)", "EU AI Act Art. 15(1)")
    Options = ProtectedTermsOptions

    def run(self, ctx: "RunContext", options: ProtectedTermsOptions) -> CheckResult:  # type: ignore[override]
        data = ctx.require_data()
        split = data.get(options.split or data.eval_split)
        if split is None:
            return self.result(status="skipped", message=f"no split {options.split!r} in the data (have: {', '.join(data.splits)})")
        pattern = word_pattern(options.words)
        candidates = [i for i, text in enumerate(split.texts) if pattern.search(text)]
        if not candidates:
            return self.result(status="skipped", message=f"no text of the {split.name} split contains a protected word")
        if len(candidates) > options.max_examples:
            chosen = ctx.rng(self.id).choice(len(candidates), size=options.max_examples, replace=False)
            candidates = [candidates[i] for i in sorted(chosen)]
        predictor = ctx.require_predictor()
        analysis = analyse(split.texts, candidates, pattern, predictor.predict)
        flipped = analysis.flipped
        names = data.label_names
        per_word: dict[str, int] = {}
        for position in flipped:
            for word in {m.group(0).lower() for m in pattern.finditer(split.texts[analysis.indices[position]])}:
                per_word[word] = per_word.get(word, 0) + 1
        examples = [
            {
                "id": split.ids[analysis.indices[p]],
                "text": ctx.redact(split.texts[analysis.indices[p]]),  # personal data masked
                "stripped": ctx.redact(analysis.stripped[p]),
                "before": names[analysis.before[p]],
                "after": names[analysis.after[p]],
            }
            for p in flipped[: options.shown]
        ]
        rate = len(flipped) / analysis.tested
        return self.result(
            metrics=[
                Metric("flip_rate", rate, wilson_interval(len(flipped), analysis.tested, options.level),
                       description="share of tested texts whose prediction changed without the protected words"),
                Metric("tested", float(analysis.tested), description="texts containing a protected word that were tested"),
            ],
            evidence={
                "split": split.name,
                "words": list(options.words),
                "texts_with_terms": sum(1 for t in split.texts if pattern.search(t)),
                "tested": analysis.tested,
                "flipped": len(flipped),
                "flips_by_word": dict(sorted(per_word.items())),
                "examples": examples,
            },
            message=f"{len(flipped)} of {analysis.tested} texts changed prediction without the protected words ({rate:.1%})",
        )


@hookimpl
def harness_register_checks(register: Any) -> None:
    register(ProtectedTerms)


@hookimpl
def harness_report_sections(result: "AuditResult", env: Any) -> "list[ReportSection] | None":
    """The flipped texts, removed words struck out, inside the check's block (from results alone)."""
    from harness import ReportSection

    check = result.check(ProtectedTerms.id)
    if check is None or "examples" not in check.evidence:
        return None
    evidence = check.evidence
    pattern = word_pattern(evidence["words"])
    flips = [{**example, "parts": marked_parts(example["text"], pattern)} for example in evidence["examples"]]
    return [ReportSection(
        title="Texts whose prediction depends on protected words", template="harness_keyword_guard/flips.html",
        context={"flips": flips, "flipped": evidence["flipped"], "tested": evidence["tested"], "words": evidence["words"]},
        search_path=str(TEMPLATES), check=check.id,
    )]
