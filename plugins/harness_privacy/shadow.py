"""Attack scores (loss, offline LiRA) and the shadow models LiRA compares against.

A shadow model is trained exactly as the run trained its target: the same
``model`` config (so the same initial weights: ``builtin:tiny-bert`` is rebuilt
deterministically from the run seed and the target's vocabulary, other sources
are reloaded from the configured path), the same ``fine_tune`` settings, through
the plugin host's ``harness_train`` hook (a DP target gets DP shadows), falling
back to the core's loop. Only the training examples differ: a random half of a
*population* split that neither the target nor the attacked candidates came
from, so every candidate is OUT for every shadow (offline LiRA, Carlini et al.
2022, section "offline attack").

Each shadow is one picklable :class:`harness.run.executor.Task`
(``train_shadow(job)``), so the run's executor may train them elsewhere; each
gets its own Predictor, never the run's.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from harness import N_  # marks a message id for extraction (babel.cfg); the report translates it


#: ``DatasetBundle.source`` of every bundle a shadow model (or the non-DP twin) trains on: the
#: privacy plugin's ``harness_train`` hook reads it to plant no canaries into reference models.
SOURCE_PREFIX = "membership-inference shadow"

if TYPE_CHECKING:
    from harness import Split
    # The config models are not in the public API: annotations only.
    from harness.config.settings import AuditConfig


def _logsumexp(values: np.ndarray) -> np.ndarray:
    top = np.max(values, axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    return (top + np.log(np.sum(np.exp(values - top), axis=1, keepdims=True)))[:, 0]


def loss_scores(logits: Any, labels: Any) -> np.ndarray:
    """Loss attack (Yeom et al. 2018): score = minus the cross-entropy of the true label."""
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    return logits[np.arange(labels.size), labels] - _logsumexp(logits)


def logit_confidence(logits: Any, labels: Any) -> np.ndarray:
    """phi = log(p_y / (1 - p_y)), computed from logits so it never overflows at p_y = 1."""
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    rows = np.arange(labels.size)
    others = logits.copy()
    others[rows, labels] = -np.inf
    return logits[rows, labels] - _logsumexp(others)


#: Below this many shadow models the per-example variance is too noisy (Carlini et al. 2022, fig. 7).
PER_EXAMPLE_VARIANCE_FROM = 16


def lira_offline_scores(target_phi: Any, shadow_phi: Any, per_example_variance: bool | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Offline LiRA score of each candidate: z = (phi_target - mu_out) / sigma_out.

    ``shadow_phi`` is (K, n): every candidate's phi under each OUT shadow. The
    one-sided test "phi_target is high for an OUT model" has p-value
    ``1 - Phi(z)``, so ranking by ``z`` is ranking by the likelihood ratio of
    the offline attack; ``z`` is kept as the score (no saturation at p = 1).
    The variance is pooled over all candidates (global) unless there are at
    least :data:`PER_EXAMPLE_VARIANCE_FROM` shadows.
    """
    target = np.asarray(target_phi, dtype=np.float64)
    shadows = np.asarray(shadow_phi, dtype=np.float64)
    if shadows.ndim != 2 or shadows.shape[1] != target.size:
        raise ValueError(f"shadow scores must be (K, {target.size}), got {shadows.shape}")
    k = shadows.shape[0]
    if k < 2:
        raise ValueError("offline LiRA needs at least two shadow models")
    mu = shadows.mean(axis=0)
    per_example = (k >= PER_EXAMPLE_VARIANCE_FROM) if per_example_variance is None else per_example_variance
    if per_example:
        sigma = np.maximum(shadows.std(axis=0, ddof=1), 1e-6)
    else:
        sigma = np.full(target.size, max(math.sqrt(float(np.sum((shadows - mu) ** 2)) / (target.size * (k - 1))), 1e-6))
    return (target - mu) / sigma, {"variance": N_("per-example") if per_example else N_("global"), "sigma_mean": float(sigma.mean()), "shadow_models": k}


@dataclass(frozen=True)
class ShadowJob:
    """Everything one shadow model needs, as plain picklable data (no context, no predictor)."""

    index: int
    seed: int  # the shadow's training seed (its data order and dropout)
    config: "AuditConfig"  # the run's config: model path, fine_tune settings, run seed
    base_dir: str
    scratch_dir: str
    device: str
    label_names: tuple[str, ...]
    vocabulary_texts: tuple[str, ...]  # the target's train texts: builtin:tiny-bert's vocabulary comes from them
    train: "Split"
    validation: "Split"
    candidates: tuple[str, ...]
    without_dp: bool = False  # the reference twin: the same training minus DP


@dataclass(frozen=True)
class ShadowOutcome:
    index: int
    logits: np.ndarray
    method: str
    epochs_run: int
    train_examples: int
    dp: dict[str, Any] | None


def shadow_key(job: ShadowJob) -> str:
    """The name of one shadow's result: its training inputs and seed, the candidates, the library versions.

    The shadow's working folder is named by it, so whatever a training hook
    leaves there (under ``ctx.output_dir`` / ``ctx.scratch_dir``) can only be
    found again by a shadow trained on exactly the same inputs.
    """
    # Not in the public API (yet): the core's digest of inputs plus library versions, as for --resume.
    from harness.run.provenance import result_key

    config = settings_without_dp(job.config) if job.without_dp else job.config
    return result_key({
        "model": config.model.model_dump(mode="json", exclude={"device", "batch_size"}),
        "run_seed": config.seed,
        "seed": job.seed,
        "device": job.device,
        "label_names": list(job.label_names),
        "vocabulary": _texts_digest(job.vocabulary_texts),
        "train": job.train.fingerprint,
        "validation": job.validation.fingerprint,
        "candidates": _texts_digest(job.candidates),
        "without_dp": job.without_dp,
    })


def _texts_digest(texts: "tuple[str, ...]") -> str:
    import hashlib
    import json

    return hashlib.sha256(json.dumps(list(texts), ensure_ascii=False).encode("utf-8")).hexdigest()


def settings_without_dp(config: "AuditConfig") -> "AuditConfig":
    """The config with ``model.fine_tune.dp`` removed (the non-DP twin of a DP target)."""
    # Not in the public API (yet): the core's fine_tune settings model.
    from harness.config.settings import FineTuneConfig

    fine_tune = config.model.fine_tune
    assert fine_tune is not None
    plain = FineTuneConfig(**{k: v for k, v in fine_tune.model_dump().items() if k != "dp"})
    return config.model_copy(update={"model": config.model.model_copy(update={"fine_tune": plain})})


def train_shadow(job: ShadowJob) -> ShadowOutcome:
    """Build the target's initial model, fine-tune it on the job's split the target's way, score the candidates."""
    import torch

    from harness import DatasetBundle, Predictor, RunContext
    # Not in the public API (yet): what a shadow needs to be built and trained exactly as the run built
    # and trained its target (the core's model loader and training loop, the plugin host for the
    # loading and training hooks, and a quiet progress reporter for its context).
    from harness.ml import models, training
    from harness.plugin.manager import get_host
    from harness.run.context import Progress

    config = settings_without_dp(job.config) if job.without_dp else job.config
    spec = config.model
    assert spec.fine_tune is not None, "shadow models need the target's fine_tune settings"
    device = torch.device(job.device)
    bundle = DatasetBundle(
        splits={"train": job.train, "validation": job.validation}, label_names=job.label_names,
        sensitive_columns=(), source=f"{SOURCE_PREFIX} {job.index}", eval_split="validation",
    )
    folder = Path(job.scratch_dir) / f"shadow-{job.index:03d}-{shadow_key(job)[:16]}"
    folder.mkdir(parents=True, exist_ok=True)
    ctx = RunContext(
        config=config, seed=job.seed, output_dir=folder, scratch_dir=folder, base_dir=Path(job.base_dir),
        device=device, data=bundle, progress=Progress(quiet=True),
    )
    host = get_host()
    handle = host.hook.harness_load_model(spec=spec, ctx=ctx)
    if handle is None:
        # The run seed, not the shadow's: the same initial weights as the target.
        handle = models.load_model(spec, job.vocabulary_texts, job.label_names, seed=config.seed, device=device, base_dir=Path(job.base_dir))
    ctx.model = handle
    report = host.hook.harness_train(model=handle, data=bundle, spec=spec, ctx=ctx)
    if report is None:
        report = training.fine_tune(handle, bundle, spec.fine_tune, seed=job.seed, progress=False)
    logits = Predictor(handle, batch_size=spec.batch_size).logits(job.candidates)
    extra = getattr(report, "extra", {}) or {}
    dp = extra.get("dp")
    return ShadowOutcome(
        index=job.index, logits=np.asarray(logits, dtype=np.float32), method=str(getattr(report, "method", "")),
        epochs_run=int(getattr(report, "epochs_run", 0)), train_examples=len(job.train),
        dp=dict(dp) if isinstance(dp, dict) else None,
    )


def half_split(split: "Split", rng: np.random.Generator) -> tuple["Split", "Split"]:
    """A random half of ``split`` to train on and the other half to validate (early-stop) on."""
    order = rng.permutation(len(split))
    half = len(split) // 2
    return _take(split, order[:half], "train"), _take(split, order[half:], "validation")


def _take(split: "Split", indices: np.ndarray, name: str) -> "Split":
    indices = np.sort(indices)
    return dataclasses.replace(
        split,
        name=name,
        ids=tuple(split.ids[i] for i in indices),
        texts=tuple(split.texts[i] for i in indices),
        labels=np.asarray(split.labels)[indices],
        sensitive={key: tuple(values[i] for i in indices) for key, values in split.sensitive.items()},
    )
