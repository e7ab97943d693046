"""Attack examples as results and the report may show them: personal data masked.

Shared by the checks (their successful examples) and by adversarial training
(the examples it added to the training data), so both show them the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness import RunContext

__all__ = ["redact_example"]


def redact_example(ctx: "RunContext", example: dict, changed_unit: str = "word") -> dict:
    """An attack example as results and the report may show it: personal data masked in texts and changed words.

    ``changed_unit="character"`` (Chinese text, ``changed`` = ``[offset, old, new]``):
    the changes are diffed again on the masked texts, so each offset points
    into the original as shown (masking before an edit moves it).
    """
    out = {**example, "original": ctx.redact(example["original"]), "perturbed": ctx.redact(example["perturbed"])}
    if "changed" in example and changed_unit == "character":
        from harness_robustness.chinese import character_changes

        out["changed"] = character_changes(out["original"], out["perturbed"])
    elif "changed" in example:
        out["changed"] = [[index, ctx.redact(old), ctx.redact(new)] for index, old, new in example["changed"]]
    return out
