"""The run context: everything a check may touch, and nothing global.

A check reads config, data, model and predictions from here; it draws
randomness only from :meth:`RunContext.rng`, which is seeded from the run seed
and the check id, so adding or reordering checks never changes another
check's numbers.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from harness.config.settings import AuditConfig
from harness.run.executor import Executor, LocalExecutor

if TYPE_CHECKING:
    from harness.text.language import LanguageProfile
    import torch

    from harness.ml.data import DatasetBundle
    from harness.ml.models import ModelHandle
    from harness.ml.predict import Predictor
    from harness.ml.training import TrainingReport


class Progress:
    """Minimal progress reporter: one line per event on stderr (quiet mode prints nothing)."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(f"[harness] {message}", file=sys.stderr, flush=True)


@dataclass
class RunContext:
    """What one run hands its checks and hooks."""

    config: AuditConfig
    seed: int
    output_dir: Path
    scratch_dir: Path
    base_dir: Path
    device: "torch.device | None" = None
    data: "DatasetBundle | None" = None
    model: "ModelHandle | None" = None
    predictor: "Predictor | None" = None
    training: "TrainingReport | None" = None
    #: The evaluation texts' languages, measured once after the data loads (``harness.text.language``).
    languages: "LanguageProfile | None" = None
    progress: Progress = field(default_factory=Progress)
    executor: Executor = field(default_factory=LocalExecutor)
    extra: dict[str, Any] = field(default_factory=dict)

    def checkpoint_dir(self, *parts: str) -> Path:
        """A folder for a check's resumable partial results: ``scratch_dir/checkpoints/<parts>``.

        The runner empties ``scratch_dir`` at the start of every run without
        ``--resume``, so a checkpoint is only ever read by a resumed run, and
        even then only under a key naming everything that decides it
        (:func:`harness.run.provenance.result_key`: weights, data, options, seed,
        library versions).
        """
        return self.scratch_dir.joinpath("checkpoints", *parts)

    def empty_scratch(self) -> None:
        """Remove ``scratch_dir`` and all in it: a run without ``--resume`` reads no checkpoint of an earlier run.

        Called by the runner once inputs are loaded and before any check runs.
        """
        folder = self.scratch_dir
        if folder.is_symlink() or folder.is_file():
            folder.unlink()
        elif folder.is_dir():
            shutil.rmtree(folder)

    def rng(self, name: str) -> np.random.Generator:
        """A generator seeded by (run seed, name): independent streams per check."""
        digest = hashlib.sha256(f"{self.seed}:{name}".encode()).digest()
        return np.random.default_rng(int.from_bytes(digest[:8], "little"))

    def redact(self, text: str) -> str:
        """``text`` as it may appear in results and the report: personal data masked.

        Every check or hook that copies data-derived text (an example, an
        attack's perturbation, a counterfactual swap) into evidence passes it
        through here, so a compliance report never carries the raw value.
        Detection is :func:`harness.text.pii.mask_text` (names from the bundled list
        and lead words); ``output.redact_pii: false`` turns it off.
        """
        if not self.config.output.redact_pii or not text:
            return text
        from harness.text.pii import mask_text

        return mask_text(text)

    def require_data(self) -> "DatasetBundle":
        if self.data is None:
            raise RuntimeError("the dataset is not loaded yet")
        return self.data

    def require_predictor(self) -> "Predictor":
        """The run's one shared :class:`harness.Predictor` (raises when the model is not loaded yet).

        Prefer it over ``ctx.predictor``: it says what went wrong instead of failing later on ``None``.
        """
        if self.predictor is None:
            raise RuntimeError("the model is not loaded yet")
        return self.predictor
