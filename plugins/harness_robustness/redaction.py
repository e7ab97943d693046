"""Attack examples as results and the report may show them: personal data masked.

Shared by the checks (their successful examples) and by adversarial training
(the examples it added to the training data), so both show them the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness import RunContext

__all__ = ["redact_example"]


def redact_example(ctx: "RunContext", example: dict) -> dict:
    """An attack example as results and the report may show it: personal data masked in texts and changed words."""
    out = {**example, "original": ctx.redact(example["original"]), "perturbed": ctx.redact(example["perturbed"])}
    if "changed" in example:
        out["changed"] = [[index, ctx.redact(old), ctx.redact(new)] for index, old, new in example["changed"]]
    return out
