"""Strings the built-in plugins compute in Python that the outputs look up by exact msgid (extraction source only).

Check titles and report-section titles are set in the plugins' Python code,
which does not mark them for translation yet; listing them here puts them in
the ``harness`` catalog, so a Chinese report shows them translated
(:func:`harness.text.i18n.lookup`). A title that changes, or one a third-party
plugin sets, is shown as written and marked English. Once the built-in
plugins mark their own strings (``N_`` beside the title, ``message_id`` on
messages), the entries move there and this list goes.

Never imported at run time; ``pybabel extract`` and tests/test_i18n.py read it.
"""

from __future__ import annotations

from harness.text.i18n import N_

#: Check titles (``Check.title``).
CHECK_TITLES = (
    N_("Accuracy"),
    N_("Macro F1"),
    N_("Per-class precision, recall and F1"),
    N_("ROC-AUC"),
    N_("Calibration (expected calibration error)"),
    N_("Group metrics (alone and intersected)"),
    N_("Demographic parity difference"),
    N_("Demographic parity ratio"),
    N_("Equalized odds difference"),
    N_("Equal opportunity difference"),
    N_("Worst-group accuracy gap"),
    N_("Counterfactual identity-term swaps"),
    N_("Mitigation: group thresholds (Fairlearn ThresholdOptimizer)"),
    N_("Adversarial attack success rate"),
    N_("Accuracy under attack"),
    N_("Personal data in the texts"),
    N_("Personal data in the model's released files"),
    N_("Differential privacy budget (epsilon)"),
    N_("Membership inference and the empirical epsilon audit"),
)

#: Report-section titles (``ReportSection.title``).
SECTION_TITLES = (
    N_("Confusion matrix"),
    N_("Per class"),
    N_("ROC curve"),
    N_("Reliability diagram"),
    N_("Groups"),
    N_("Worst counterfactual examples"),
    N_("Attack and examples"),
    N_("Adversarial training: robustness before and after"),
    N_("Personal data found"),
    N_("Personal data in the released model files"),
    N_("Privacy accounting"),
    N_("Membership inference"),
)

#: Fixed messages and evidence notes (shown translated when they match exactly; the accuracy, fairness and PII checks mark their messages themselves: message_id).
MESSAGES = (
    N_("the model folder this run saved (weights sha256 named in its card)"),
    N_("training texts, personal data redacted"),
    N_("values are masked (typed placeholder and shape: letters x, digits 9); raw values are never stored"),
)
