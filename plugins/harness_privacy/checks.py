"""The privacy checks. Each lives in its own module, beside its report partial; this module lists them.

- ``dp.py``: ``privacy.dp_epsilon`` (and DP fine-tuning, ``fine_tune: {dp: {...}}``);
- ``membership.py``: ``privacy.membership_inference`` (loss and offline LiRA attacks, the epsilon audit);
- ``pii.py``: ``privacy.pii`` (personal data in the training and evaluation texts);
- ``artifact_pii.py``: ``privacy.artifact_pii`` (personal data in the released model files).

The check modules import NumPy, torch and Opacus only when a check runs, so
registering them keeps ``harness --help`` light.
"""

from __future__ import annotations

from harness_privacy import artifact_pii, dp, membership, pii

__all__ = ["CHECKS"]

CHECKS = (*dp.CHECKS, *membership.CHECKS, *pii.CHECKS, *artifact_pii.CHECKS)
