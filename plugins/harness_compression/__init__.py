"""Built-in compression audit: what compressing the model cost, measured on the same examples.

The run compresses the audited model (torchao int8 dynamic quantization, an
fp16 / bf16 cast, or global L1 magnitude pruning of the ``nn.Linear`` weights),
or loads the user's own compressed model (``model: PATH``), and compares the
pair on the evaluation split: prediction agreement with McNemar's test, the
change per sensitive group, the change of the attack success rate under the
robustness plugin's attack (same sample and seed), calibration, bytes and latency.

Layout, the same in every built-in plugin: this module holds only the hook
implementations, each delegating; the options are in ``options.py``, the
compression in ``compress.py``, the paired statistics in ``pairstats.py``, the
pair audit in ``audit.py`` (the attack pair in ``attack.py``, bytes and latency
in ``footprint.py``), the checks in ``checks.py`` and the report partials in
``sections.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from harness import hookimpl

if TYPE_CHECKING:
    from harness import AuditResult, Check, ReportSection
    # The config models are not in the public API: annotations only.
    from harness.config.settings import AuditConfig


@hookimpl
def harness_register_checks(register: "Callable[[type[Check]], None]") -> None:
    from harness_compression.checks import CHECKS

    for check in CHECKS:
        register(check)


@hookimpl
def harness_validate_config(config: "AuditConfig", base_dir: "Path") -> None:
    """``model: PATH`` of a compression check must exist (relative to the config file's folder): exit 2 before anything loads."""
    from harness_compression.validation import validate_config

    validate_config(config, base_dir)


@hookimpl
def harness_report_sections(result: "AuditResult", env: Any) -> "list[ReportSection] | None":
    """The disagreeing examples, the per-group changes, the attack comparison and the footprint, inside their checks' blocks."""
    from harness_compression.sections import report_sections

    return report_sections(result)
