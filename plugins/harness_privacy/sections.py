"""The privacy report partials: each check module builds its own; this module gathers them in check order.

Called by the ``harness_report_sections`` hook, also for ``harness report
RESULTS.json`` (no model, no data), so every partial reads ``result`` alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness_privacy import artifact_pii, dp, membership, pii

if TYPE_CHECKING:
    from harness import AuditResult, ReportSection


def report_sections(result: "AuditResult") -> "list[ReportSection] | None":
    """The DP accounting, the membership attacks, the personal data found in texts and in the model files."""
    sections: list = []
    for module in (dp, membership, pii, artifact_pii):
        sections.extend(module.report_sections(result) or [])
    return sections or None
