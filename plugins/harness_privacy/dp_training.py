"""DP-SGD fine-tuning with Opacus: Poisson sampling, per-sample clipping, Gaussian noise.

The loop mirrors the core's (``harness.ml.training``: AdamW, linear warmup and
decay, validation each epoch, early stopping restoring the best epoch) and
reuses its encoding, padding and evaluation helpers. What DP changes:

- batches are drawn by Poisson sampling (each example independently with
  rate ``q = 1 / ceil(n / batch_size)``), as the accountant assumes, so
  they cannot be grouped by length; ``BatchMemoryManager`` splits a large
  logical batch into physical batches of at most ``max_physical_batch_size``;
- Opacus attaches hooks to the Hugging Face model itself (``wrap_model=False``),
  and they are removed afterwards, so the model is a plain HF model again for
  prediction, saving and hashing;
- BERT's position embeddings are looked up with a ``[1, length]`` buffer,
  which breaks per-sample gradients (opacus issue 841): for the BERT family
  ``position_ids`` of shape ``[batch, length]`` are passed explicitly; models
  whose forward takes no ``position_ids`` get their position embeddings frozen
  (and listed in the accounting), never silently mis-clipped;
- ghost clipping (``grad_sample_mode: ghost``/``auto``) is first probed on a
  copy of the model with two examples; if Opacus fails for this model the run
  falls back to per-sample hooks and records why. The probe's output is
  thrown away, so it spends no privacy budget.

The noise multiplier is calibrated (Opacus' ``get_noise_multiplier``) for the
exact number of steps the loop runs (``poisson_schedule``), so the spent
epsilon never exceeds the target.

An empty Poisson batch still counts as a step (noise only), as the accounting
assumes. The spent epsilon covers every optimizer step actually run,
including epochs after which early stopping ended training.
"""

from __future__ import annotations

import copy
import inspect
import math
import warnings
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from harness import DatasetBundle, ModelHandle, TrainingReport
    # The config models are not in the public API: annotations only.
    from harness.config.settings import FineTuneConfig

#: Model types whose embeddings default to ``arange(length)`` positions from a
#: ``[1, max]`` buffer and accept ``position_ids`` in ``forward``.
ARANGE_POSITION_TYPES = frozenset({"bert", "electra", "albert", "megatron-bert", "roformer", "mobilebert", "ernie", "xlm"})
#: Model types that build ``[batch, length]`` position ids from ``input_ids`` themselves.
POSITIONS_FROM_IDS_TYPES = frozenset({"roberta", "xlm-roberta", "camembert", "mpnet", "longformer", "data2vec-text", "xmod", "ibert"})


@dataclass(frozen=True)
class DPSettings:
    """The validated DP options, with ``delta`` resolved to a number."""

    target_epsilon: float
    delta: float
    delta_source: str  # "auto (1/(10 n_train))" or "config"
    max_grad_norm: float
    accountant: str
    grad_sample_mode: str  # hooks | ghost | auto
    max_physical_batch_size: int
    freeze_embeddings: bool = False
    gradient_canaries: int = 0  # white-box audit canaries (gradient_canaries.py); 0 = none


@dataclass
class _Positions:
    """How position ids are handled for this model (see module docstring)."""

    explicit: bool
    token_type_ids: bool
    frozen: list[str] = field(default_factory=list)


def _freeze_embeddings(model: Any) -> list[str]:
    """Freeze every embedding table (the ``freeze_embeddings`` option); returns their names."""
    import torch

    frozen = []
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Embedding) and any(p.requires_grad for p in module.parameters()):
            for param in module.parameters():
                param.requires_grad_(False)
            frozen.append(name)
    return frozen


def _plan_positions(model: Any) -> _Positions:
    import torch

    accepted = set(inspect.signature(model.forward).parameters)
    model_type = getattr(model.config, "model_type", "")
    token_types = "token_type_ids" in accepted and getattr(model.config, "type_vocab_size", 0) > 0
    if model_type in ARANGE_POSITION_TYPES and "position_ids" in accepted:
        return _Positions(explicit=True, token_type_ids=token_types)
    if model_type in POSITIONS_FROM_IDS_TYPES:
        return _Positions(explicit=False, token_type_ids=token_types)
    frozen = []
    for name, module in model.named_modules():
        if name.endswith("position_embeddings") and isinstance(module, torch.nn.Embedding):
            for param in module.parameters():
                param.requires_grad_(False)
            frozen.append(name)
    return _Positions(explicit=False, token_type_ids=token_types, frozen=frozen)


def _batch(handle: "ModelHandle", encoded: Any, indices: Any, positions: _Positions) -> dict[str, Any]:
    """Padded inputs; ids as contiguous ``[batch, length]`` tensors (ghost clipping needs contiguous ids)."""
    import torch

    from harness import collate

    batch = collate(handle, encoded, indices, None)
    rows, width = batch["input_ids"].shape
    if positions.explicit:
        batch["position_ids"] = torch.arange(width, device=handle.device).repeat(rows, 1)
    if positions.token_type_ids and "token_type_ids" not in batch:
        batch["token_type_ids"] = torch.zeros((rows, width), dtype=torch.long, device=handle.device)
    return batch


def _optimizer(model: Any, settings: "FineTuneConfig") -> Any:
    import torch

    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight")
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    groups = [
        {"params": [p for n, p in named if not n.endswith(no_decay)], "weight_decay": settings.weight_decay},
        {"params": [p for n, p in named if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=settings.lr)


def _make_private(model: Any, optimizer: Any, loader: Any, dp: DPSettings, mode: str, *, epochs: int | None = None, noise_multiplier: float | None = None, accountant: str | None = None) -> tuple[Any, Any, Any, Any, Any]:
    """``(engine, hooks, optimizer, criterion, loader)`` from Opacus for ``mode`` (hooks or ghost)."""
    import torch
    from opacus import PrivacyEngine

    engine = PrivacyEngine(accountant=accountant or dp.accountant)
    common = dict(module=model, optimizer=optimizer, data_loader=loader, max_grad_norm=dp.max_grad_norm,
                  criterion=torch.nn.CrossEntropyLoss(), grad_sample_mode=mode, wrap_model=False, poisson_sampling=True)
    if noise_multiplier is None:
        out = engine.make_private_with_epsilon(target_epsilon=dp.target_epsilon, target_delta=dp.delta, epochs=epochs, **common)
    else:
        out = engine.make_private(noise_multiplier=noise_multiplier, **common)
    if mode == "ghost":
        hooks, dp_optimizer, criterion, dp_loader = out
    else:
        hooks, dp_optimizer, dp_loader = out
        criterion = torch.nn.CrossEntropyLoss()
    return engine, hooks, dp_optimizer, criterion, dp_loader


def poisson_schedule(n: int, batch_size: int, epochs: int) -> tuple[float, int, int]:
    """``(sample_rate, steps_per_epoch, total_steps)`` the DP loop runs for ``n`` examples.

    Opacus' Poisson loader samples at ``1 / len(data_loader)`` = ``1 / ceil(n / batch_size)``
    and draws ``int(1 / sample_rate)`` batches per epoch; the loop runs every
    one of them in every epoch. (Opacus' ``make_private_with_epsilon``
    calibrates for ``int(epochs / sample_rate)`` steps instead, which floating
    point can make one fewer: 600 examples, batch 8, 3 epochs gives 224 for
    225 steps run, and a spent epsilon above the target.)
    """
    if n < 1 or batch_size < 1 or epochs < 1:
        raise ValueError(f"need at least one example, batch size and epoch (got {n}, {batch_size}, {epochs})")
    sample_rate = 1.0 / math.ceil(n / batch_size)
    per_epoch = int(1 / sample_rate)
    return sample_rate, per_epoch, per_epoch * epochs


def calibrate_noise(dp: DPSettings, sample_rate: float, steps: int) -> float:
    """The noise multiplier for ``dp.target_epsilon`` at ``dp.delta`` over exactly ``steps`` steps (Opacus' search).

    Opacus returns the upper end of its bisection, whose epsilon is at most the
    target, computed with the same accountant settings as ``spent_epsilon``.
    """
    from opacus.accountants.utils import get_noise_multiplier

    return float(get_noise_multiplier(target_epsilon=dp.target_epsilon, target_delta=dp.delta, sample_rate=sample_rate,
                                      steps=int(steps), accountant=dp.accountant))


def _empty_step(optimizer: Any) -> None:
    """An empty Poisson batch: a noise-only step, as the accountant assumes (BERT cannot run a 0-row batch)."""
    import torch
    from opacus.optimizers import DPOptimizerFastGradientClipping

    ghost = isinstance(optimizer, DPOptimizerFastGradientClipping)  # sums p.grad; the hooks optimizer clips p.grad_sample
    for param in optimizer.params:
        if not ghost:
            param.grad_sample = torch.zeros((0, *param.shape), dtype=param.dtype, device=param.device)
        param.grad = torch.zeros_like(param)
    optimizer.step()


def _index_loader(n: int, batch_size: int) -> Any:
    import torch

    dataset = torch.utils.data.TensorDataset(torch.arange(n))
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size)


def probe_ghost(handle: "ModelHandle", encoded: Any, labels: np.ndarray, dp: DPSettings, settings: "FineTuneConfig") -> str | None:
    """Run one ghost-clipping step on a copy of the model; ``None`` if it works, else why not.

    Nothing from the copy is kept, so the probe releases nothing about the data.
    """
    import torch

    model = copy.deepcopy(handle.model)
    hooks = None
    try:
        if dp.freeze_embeddings:
            _freeze_embeddings(model)
        positions = _plan_positions(model)
        model.train()
        n = min(4, len(labels))
        _, hooks, optimizer, criterion, _ = _make_private(model, _optimizer(model, settings), _index_loader(n, 2), dp, "ghost", noise_multiplier=1.0, accountant="rdp")
        probe = copy.copy(handle)
        probe.model = model
        indices = list(range(min(2, n)))
        batch = _batch(probe, encoded, indices, positions)
        loss = criterion(model(**batch).logits, torch.as_tensor(labels[indices], dtype=torch.long, device=handle.device))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return None
    except Exception as exc:  # any Opacus failure means: use hooks instead
        text = (str(exc).strip().splitlines() or [""])[0][:300]
        return f"{type(exc).__name__}: {text}"
    finally:
        if hooks is not None:
            hooks.cleanup()
        del model


def dp_fine_tune(handle: "ModelHandle", data: "DatasetBundle", settings: "FineTuneConfig", dp: DPSettings, *, seed: int, progress: bool = True) -> "TrainingReport":
    """Fine-tune ``handle.model`` in place with DP-SGD; the accounting goes to ``extra["dp"]``."""
    from opacus.validators import ModuleValidator

    from harness import ModelError

    model = handle.model
    model.train()  # Opacus validates (and later wraps) the model in training mode
    problems = [p for p in ModuleValidator.validate(model, strict=False) if "training mode" not in str(p)]
    if problems:
        model.eval()
        raise ModelError(f"model.fine_tune.dp: Opacus cannot train {type(model).__name__} with DP: {problems[0]}")
    with warnings.catch_warnings():
        # Opacus warns about its non-cryptographic RNG (recorded as secure_mode: false), RDP's
        # alpha range and backward hooks on inputs without gradients; none is actionable here.
        warnings.filterwarnings("ignore", category=UserWarning, module=r"(opacus|torch)(\.|$)")
        warnings.filterwarnings("ignore", message=r".*(Secure RNG|Full backward hook|Optimal order).*")
        return _dp_fine_tune(handle, data, settings, dp, seed=seed, progress=progress)


def _dp_fine_tune(handle: "ModelHandle", data: "DatasetBundle", settings: "FineTuneConfig", dp: DPSettings, *, seed: int, progress: bool) -> "TrainingReport":
    import opacus
    import torch
    from opacus.utils.batch_memory_manager import BatchMemoryManager
    from tqdm.auto import tqdm

    from harness import TrainingReport, encode
    # Not in the public API (yet): the core loop's per-epoch validation, early stopping and best-epoch restore.
    from harness.ml.training import EpochBook
    from harness_privacy.dp_accounting import spent_epsilon, total_steps

    train = data.splits["train"]
    validation = data.splits.get("validation")
    model = handle.model
    torch.manual_seed(seed)
    max_length = min(settings.max_length, handle.max_length)
    encoded = encode(handle, train.texts, max_length)
    labels = np.asarray(train.labels)

    mode, fallback = dp.grad_sample_mode, None
    if mode in ("ghost", "auto"):
        fallback = probe_ghost(handle, encoded, labels, dp, settings)
        mode = "hooks" if fallback else "ghost"
    torch.manual_seed(seed)

    was_trainable = {name: p.requires_grad for name, p in model.named_parameters()}
    asked_frozen = _freeze_embeddings(model) if dp.freeze_embeddings else []
    positions = _plan_positions(model)
    positions.frozen = asked_frozen + [name for name in positions.frozen if name not in asked_frozen]
    model.train()  # Opacus must see the model in training mode before make_private
    optimizer = _optimizer(model, settings)
    sample_rate, steps_per_epoch, total = poisson_schedule(len(train), settings.batch_size, settings.epochs)
    try:
        sigma = calibrate_noise(dp, sample_rate, total)
        engine, hooks, dp_optimizer, criterion, loader = _make_private(model, optimizer, _index_loader(len(train), settings.batch_size), dp, mode, noise_multiplier=sigma)
    except (ValueError, RuntimeError, OverflowError) as exc:  # the accountant cannot calibrate noise for these settings
        from harness import ConfigError

        model.eval()
        for name, param in model.named_parameters():
            param.requires_grad_(was_trainable.get(name, True))
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ConfigError(
            f"model.fine_tune.dp: Opacus' {dp.accountant} accountant cannot calibrate noise for target_epsilon {dp.target_epsilon:g} "
            f"at delta {dp.delta:.3g} over {settings.epochs} epoch(s): {reason}"
        ) from None
    if abs(float(loader.sample_rate) - sample_rate) > 1e-15 or len(loader) != steps_per_epoch:  # the noise was calibrated for this schedule
        hooks.cleanup()
        raise RuntimeError(f"Opacus' Poisson loader draws {len(loader)} batches at rate {loader.sample_rate}, not the {steps_per_epoch} at {sample_rate} the noise was calibrated for")
    planted = None
    if dp.gradient_canaries > 0:
        from harness_privacy.gradient_canaries import GradientCanaries

        used = sorted({token for row in encoded["input_ids"] for token in row})
        planted = GradientCanaries.plan(model, dp.gradient_canaries, seed=seed, sample_rate=sample_rate, clip=dp.max_grad_norm, used_token_ids=used)
        planted.install(model, dp_optimizer)
    warmup = int(settings.warmup_ratio * total)

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(dp_optimizer.original_optimizer, schedule)
    book = EpochBook(handle, validation, settings, max_length)
    empty_batches = 0
    started = time.perf_counter()
    try:
        for epoch in range(1, settings.epochs + 1):
            epoch_start = time.perf_counter()
            model.train()
            losses: list[tuple[float, int]] = []
            with BatchMemoryManager(data_loader=loader, max_physical_batch_size=dp.max_physical_batch_size, optimizer=dp_optimizer) as physical:
                bar = tqdm(physical, desc=f"DP fine-tune epoch {epoch}/{settings.epochs}", unit="batch", disable=None if progress else True, leave=False)
                for (indices,) in bar:
                    if len(indices) == 0:
                        empty_batches += 1
                        _empty_step(dp_optimizer)
                    else:
                        idx = indices.tolist()
                        batch = _batch(handle, encoded, idx, positions)
                        target = torch.as_tensor(labels[idx], dtype=torch.long, device=handle.device)
                        loss = criterion(model(**batch).logits, target)
                        loss.backward()
                        dp_optimizer.step()
                        losses.append((float(loss.item() if hasattr(loss, "item") else loss), len(idx)))
                    if not dp_optimizer._is_last_step_skipped:
                        scheduler.step()
                    dp_optimizer.zero_grad(set_to_none=True)
            train_loss = sum(value * k for value, k in losses) / max(1, sum(k for _, k in losses)) if losses else float("nan")
            if book.end_epoch(epoch, float(train_loss), epoch_start):
                break
    finally:
        hooks.cleanup()  # the model is a plain Hugging Face model again
        for name, param in model.named_parameters():
            param.requires_grad_(was_trainable.get(name, True))
            param.grad = None
    book.restore_best()
    model.eval()
    handle.refresh_digest()

    accounting_history = [(float(s), float(q), int(n)) for s, q, n in engine.accountant.history]
    spent = spent_epsilon(dp.accountant, accounting_history, dp.delta)
    extra_dp: dict[str, Any] = {
        "epsilon": spent.epsilon,
        "delta": dp.delta,
        "delta_source": dp.delta_source,
        "target_epsilon": dp.target_epsilon,
        "accountant": dp.accountant,
        "sample_rate": sample_rate,
        "expected_batch_size": sample_rate * len(train),
        "noise_multiplier": float(dp_optimizer.noise_multiplier),
        "steps": total_steps(accounting_history),
        "planned_steps": total,
        "noise_calibrated_for_steps": total,
        "epochs": len(book.history),
        "max_grad_norm": dp.max_grad_norm,
        "grad_sample_mode": mode,
        "grad_sample_mode_requested": dp.grad_sample_mode,
        "ghost_fallback_reason": fallback,
        "poisson_sampling": True,
        "secure_mode": False,
        "empty_batches": empty_batches,
        "max_physical_batch_size": dp.max_physical_batch_size,
        "frozen": positions.frozen,
        "position_ids": "explicit [batch, length]" if positions.explicit else ("frozen" if positions.frozen else "computed by the model per example"),
        "accountant_history": [list(h) for h in accounting_history],
        "train_examples": len(train),
        "opacus": opacus.__version__,
    }
    if planted is not None:
        extra_dp["gradient_canaries"] = {"count": int(planted.coordinates.size), "parameter": planted.parameter,
                                         "placement": planted.placement, "inserted": int(planted.sampled.sum())}
    if spent.lower is not None:
        extra_dp["epsilon_bracket"] = {"lower": spent.lower, "estimate": spent.estimate, "upper": spent.epsilon}
    return TrainingReport(
        method=f"Opacus {opacus.__version__} DP-SGD (AdamW, Poisson sampling, per-sample clipping, {mode} per-sample gradients)",
        settings=settings.model_dump(mode="json"),
        epochs_run=len(book.history),
        best_epoch=book.best_epoch or len(book.history),
        stopped_early=book.stopped_early,
        history=tuple(book.history),
        train_examples=len(train),
        seconds=time.perf_counter() - started,
        extra={"dp": extra_dp, **({} if planted is None else {"gradient_canaries": planted.record()})},
    )
