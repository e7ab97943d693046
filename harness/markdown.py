"""The Markdown summary for a pull request comment or $GITHUB_STEP_SUMMARY. (Being written.)"""

from __future__ import annotations

from harness.results import AuditResult


def render_markdown(result: AuditResult) -> str:
    raise NotImplementedError("the Markdown writer is not written yet")
