"""The explain checks' report partials, drawn from their evidence alone.

Called by the ``harness_report_sections`` hook, also for ``harness report
RESULTS.json`` (no model, no data), so everything here reads ``result``.

Highlighting: each word's background is coloured on a diverging scale whose
two ends stay apart for the common colour-vision deficiencies (orange
``#e66101`` for words that push toward the predicted class, purple
``#5e3c99`` for words that push away: the ends of ColorBrewer's PuOr),
with an intensity proportional to the word's share of the text's largest
absolute attribution. Colour is never the only carrier: each word's value is
in its ``title`` and every text has a table of its words and values, hidden
on screen but read by screen readers and printed. Styles are built from
numbers only; every text goes through the template's autoescaping.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness_explain.checks import N_, AttributionsCheck, ProtectedTermReliance

if TYPE_CHECKING:
    from harness import AuditResult, ReportSection

TEMPLATES = Path(__file__).parent / "templates"

#: The two ends of the scale (ColorBrewer PuOr), as RGB: toward the predicted class, away from it.
TOWARD = (230, 97, 1)
AWAY = (94, 60, 153)
#: The most opaque a background gets, so dark text stays readable on it.
MAX_ALPHA = 0.6
#: The order kinds are shown in.
KINDS = ("misclassified", "adversarial", "counterfactual", "sample")


def shade(score: float | None, scale: float) -> str:
    """The inline style of one word: its background on the diverging scale (empty for no score)."""
    if score is None or not scale > 0:
        return ""
    red, green, blue = TOWARD if score >= 0 else AWAY
    alpha = round(MAX_ALPHA * min(abs(float(score)) / scale, 1.0), 3)
    return f"background-color: rgba({red}, {green}, {blue}, {alpha})"


def highlighted(example: dict[str, Any]) -> dict[str, Any]:
    """An example of the evidence with each segment's style and its words' rows for the table."""
    scores = [abs(s) for _, s in example["segments"] if s is not None]
    scale = max(scores, default=0.0)
    segments = [{"text": text, "score": score, "style": shade(score, scale)} for text, score in example["segments"]]
    rows = [s for s in segments if s["score"] is not None and s["text"].strip()]
    return {**example, "shaded": segments, "rows": rows}


def report_sections(result: "AuditResult") -> "list[ReportSection] | None":
    from harness import ReportSection

    sections = []
    attributions = result.check(AttributionsCheck.id)
    if attributions is not None and attributions.evidence.get("examples") is not None:
        evidence = attributions.evidence
        groups = []
        for kind in KINDS:
            shown = [highlighted(e) for e in evidence["examples"] if e["kind"] == kind]
            groups.append({"kind": kind, "examples": shown, "unavailable": evidence.get("unavailable", {}).get(kind)})
        sections.append(ReportSection(
            title=N_("Highlighted texts"), template="harness_explain/highlight.html",
            context={"groups": groups, "evidence": evidence, "toward": "rgb(%d, %d, %d)" % TOWARD, "away": "rgb(%d, %d, %d)" % AWAY},
            search_path=str(TEMPLATES), check=AttributionsCheck.id,
        ))
        if evidence.get("top_words"):
            sections.append(ReportSection(title=N_("Top words per class"), template="harness_explain/top_words.html",
                                          context={"top_words": evidence["top_words"]}, search_path=str(TEMPLATES),
                                          check=AttributionsCheck.id, order=110))
    reliance = result.check(ProtectedTermReliance.id)
    if reliance is not None and reliance.evidence.get("categories") is not None:
        sections.append(ReportSection(title=N_("Protected terms"), template="harness_explain/reliance.html",
                                      context={"evidence": reliance.evidence}, search_path=str(TEMPLATES), check=ProtectedTermReliance.id))
    return sections or None
