"""JUnit XML for CI pages: one testsuite per suite, one testcase per check. (Being written.)"""

from __future__ import annotations

from harness.results import AuditResult


def render_junit(result: AuditResult) -> str:
    raise NotImplementedError("the JUnit writer is not written yet")
