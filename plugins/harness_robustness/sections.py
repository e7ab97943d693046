"""The robustness report partials, drawn from the results alone.

Called by the ``harness_report_sections`` hook, also for ``harness report
RESULTS.json`` (no model, no data), so everything here reads ``result``: the
attack's evidence and, when the run did adversarial training, its record in
the provenance (``fine_tuning.adversarial_augment``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness_robustness.checks import N_, AccuracyUnderAttack, AttackSuccessRate

if TYPE_CHECKING:
    from harness import AuditResult, ReportSection

TEMPLATES = Path(__file__).parent / "templates"


def segments(example: dict, changed_unit: str | None) -> list[tuple[str, bool]]:
    """The perturbed text split into ``(text, is_changed)`` segments for marking.

    By characters for Chinese text (``changed_unit == "character"``): the
    word-level marking splits on whitespace and would mark a whole unsegmented
    sentence. By whitespace-separated words otherwise (as before).
    """
    if changed_unit == "character":
        from harness_robustness.chinese import character_segments

        return character_segments(example["original"], example["perturbed"])
    from harness.text.diff import marked_segments

    return marked_segments(example["original"], example["perturbed"])


def adversarial_section(result: "AuditResult", check: Any) -> "ReportSection | None":
    """Adversarial training's before/after comparison and the examples it added, when the run did it."""
    from harness import ReportSection
    from harness_robustness.adversarial import KEY

    record = (result.provenance.get("fine_tuning") or {}).get(KEY)
    if not record:
        return None
    unit = record.get("changed_unit")
    added = [{**s, "segments": segments(s, unit)} for s in record.get("added_examples", [])]
    return ReportSection(
        title=N_("Adversarial training: robustness before and after"), template="harness_robustness/adversarial.html",
        context={"record": record, "added": added}, search_path=str(TEMPLATES), order=50,
        check=check.id if check is not None else None,
    )


def report_sections(result: "AuditResult") -> "list[ReportSection] | None":
    """The attack's budget and components, its successful examples with the changed words marked, and
    the before/after comparison of adversarial training when the run did it."""
    from harness import ReportSection

    check = result.check(AttackSuccessRate.id) or result.check(AccuracyUnderAttack.id)
    sections = []
    adversarial = adversarial_section(result, check)
    if adversarial is not None:
        sections.append(adversarial)
    if check is not None and "successes" in check.evidence:
        evidence = check.evidence
        unit = evidence.get("changed_unit")
        examples = [{**s, "segments": segments(s, unit)} for s in evidence.get("successes", [])[:20]]
        sections.append(ReportSection(
            title=N_("Attack and examples"), template="harness_robustness/attack.html",
            context={"evidence": evidence, "examples": examples, "shown": len(examples)},
            search_path=str(TEMPLATES), check=check.id,
        ))
    return sections or None
