"""The core's fine-tuning loop: plain PyTorch, seeded, small enough to read.

Dynamic padding with length-grouped batches (shuffle, then sort by length
inside chunks of ``50 * batch_size``, then shuffle the batches) keeps padding
waste low on CPU; AdamW with linear warmup and decay; validation each epoch
with early stopping that restores the best epoch's weights. Plugins replace
this loop through the ``harness_train`` hook (the privacy plugin adds DP-SGD).
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from harness.text.numbers import format_number
from harness.config.settings import FineTuneConfig

if TYPE_CHECKING:
    from harness.ml.data import DatasetBundle, Split
    from harness.ml.models import ModelHandle


@dataclass(frozen=True)
class EpochRecord:
    epoch: int
    train_loss: float
    validation_loss: float | None
    validation_accuracy: float | None
    seconds: float


@dataclass(frozen=True)
class TrainingReport:
    """What the report must say about fine-tuning: settings, history, outcome."""

    method: str
    settings: dict[str, Any]
    epochs_run: int
    best_epoch: int
    stopped_early: bool
    history: tuple[EpochRecord, ...] = ()
    train_examples: int = 0
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "settings": self.settings,
            "epochs_run": self.epochs_run,
            "best_epoch": self.best_epoch,
            "stopped_early": self.stopped_early,
            "history": [record.__dict__ for record in self.history],
            "train_examples": self.train_examples,
            "seconds": round(self.seconds, 3),
            **self.extra,
        }


def length_grouped_batches(lengths: Sequence[int], batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Batches of similar-length examples in random order (the "group by length" sampler)."""
    order = rng.permutation(len(lengths))
    chunk = batch_size * 50
    batches: list[np.ndarray] = []
    for start in range(0, len(order), chunk):
        part = order[start : start + chunk]
        part = part[np.argsort([lengths[i] for i in part], kind="stable")]
        batches.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def encode(handle: "ModelHandle", texts: Sequence[str], max_length: int) -> dict[str, list[list[int]]]:
    """Tokenise ``texts`` once, truncated to ``max_length`` and unpadded (public: ``harness.encode``).

    Custom training loops (``harness_train``) encode a split with it and build
    batches with :func:`collate`, so they tokenise exactly as the built-in loop.
    """
    return handle.tokenizer(list(texts), truncation=True, max_length=max_length, padding=False)


def collate(handle: "ModelHandle", encoded: Any, indices: Sequence[int], labels: np.ndarray | None) -> dict[str, Any]:
    """The padded batch of ``encoded[indices]`` on the model's device, with ``labels`` when given (public: ``harness.collate``).

    Pads to the longest example of the batch (dynamic padding), as the Predictor does.
    """
    import torch

    from harness.ml.predict import pad_batch

    batch: dict[str, Any] = pad_batch(handle.tokenizer, encoded, indices, handle.device)
    if labels is not None:
        batch["labels"] = torch.as_tensor(labels[np.asarray(indices)], dtype=torch.long, device=handle.device)
    return batch


def evaluate(handle: "ModelHandle", split: "Split", batch_size: int, max_length: int) -> tuple[float, float]:
    """Mean loss and accuracy on a split (no gradient)."""
    import torch

    encoded = encode(handle, split.texts, max_length)
    lengths = [len(ids) for ids in encoded["input_ids"]]
    order = np.argsort(lengths, kind="stable")
    total_loss, correct = 0.0, 0
    handle.model.eval()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            batch = collate(handle, encoded, idx, split.labels)
            output = handle.model(**batch)
            total_loss += float(output.loss) * len(idx)
            correct += int((output.logits.argmax(-1) == batch["labels"]).sum())
    return total_loss / len(split), correct / len(split)


class EpochBook:
    """After each epoch: validate, record the history, keep the best weights, decide early stopping.

    Shared by the core loop and plugins' own loops (the privacy plugin's
    DP-SGD), so "best epoch" and "stopped early" mean the same in every
    TrainingReport.
    """

    def __init__(self, handle: "ModelHandle", validation: Any, settings: FineTuneConfig, max_length: int) -> None:
        self.handle = handle
        self.validation = validation if validation is not None and len(validation) else None
        self.settings = settings
        self.max_length = max_length
        self.history: list[EpochRecord] = []
        self.best_loss = math.inf
        self.best_epoch = 0
        self.best_state: dict[str, Any] | None = None
        self.stale = 0
        self.stopped_early = False

    def end_epoch(self, epoch: int, train_loss: float, epoch_start: float) -> bool:
        """Record epoch ``epoch``; True when early stopping says to stop."""
        val_loss = val_acc = None
        if self.validation is not None:
            val_loss, val_acc = evaluate(self.handle, self.validation, self.settings.batch_size * 2, self.max_length)
        self.history.append(EpochRecord(epoch, float(train_loss), val_loss, val_acc, round(time.perf_counter() - epoch_start, 3)))
        score = val_loss if val_loss is not None else float(train_loss)
        if score < self.best_loss - 1e-6:
            self.best_loss, self.best_epoch, self.stale = score, epoch, 0
            self.best_state = copy.deepcopy(self.handle.model.state_dict()) if self.validation is not None else None
            return False
        self.stale += 1
        patience = self.settings.early_stopping_patience
        if patience is not None and self.stale >= patience:
            self.stopped_early = epoch < self.settings.epochs
            return True
        return False

    def restore_best(self) -> None:
        """Load the best epoch's weights when a later epoch was worse on validation."""
        if self.best_state is not None and self.history and self.best_epoch != self.history[-1].epoch:
            self.handle.model.load_state_dict(self.best_state)


def fine_tune(handle: "ModelHandle", data: "DatasetBundle", settings: FineTuneConfig, *, seed: int, progress: bool = True) -> TrainingReport:
    """Fine-tune ``handle.model`` in place on the train split; returns what happened."""
    import torch
    from tqdm.auto import tqdm

    train = data.splits.get("train")
    if train is None or len(train) == 0:
        from harness.errors import DataError

        raise DataError("model.fine_tune: the data has no train split to fine-tune on")
    validation = data.splits.get("validation")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = handle.model
    max_length = min(settings.max_length, handle.max_length)
    encoded = encode(handle, train.texts, max_length)
    lengths = [len(ids) for ids in encoded["input_ids"]]
    steps_per_epoch = math.ceil(len(train) / settings.batch_size)
    total_steps = steps_per_epoch * settings.epochs
    warmup = int(settings.warmup_ratio * total_steps)
    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if p.requires_grad and not n.endswith(no_decay)], "weight_decay": settings.weight_decay},
        {"params": [p for n, p in model.named_parameters() if p.requires_grad and n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=settings.lr)

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    book = EpochBook(handle, validation, settings, max_length)
    started = time.perf_counter()
    for epoch in range(1, settings.epochs + 1):
        epoch_start = time.perf_counter()
        model.train()
        losses = []
        batches = length_grouped_batches(lengths, settings.batch_size, rng)
        bar = tqdm(batches, desc=f"fine-tune epoch {epoch}/{settings.epochs}", unit="batch", disable=None if progress else True, leave=False)
        for indices in bar:
            batch = collate(handle, encoded, indices, train.labels)
            loss = model(**batch).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), settings.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(float(loss.detach()))
        if book.end_epoch(epoch, float(np.mean(losses)), epoch_start):
            break
    book.restore_best()
    model.eval()
    handle.refresh_digest()
    public = settings.model_dump(mode="json")
    return TrainingReport(
        method="harness.ml.training (AdamW, linear warmup, length-grouped dynamic padding)",
        settings=public,
        epochs_run=len(book.history),
        best_epoch=book.best_epoch or len(book.history),
        stopped_early=book.stopped_early,
        history=tuple(book.history),
        train_examples=len(train),
        seconds=time.perf_counter() - started,
    )


def model_card(handle: "ModelHandle", data: "DatasetBundle", report: TrainingReport) -> str:
    """A short model card written next to the saved model."""
    last = report.history[-1] if report.history else None
    lines = [
        "---",
        "library_name: transformers",
        "pipeline_tag: text-classification",
        "tags: [audit-harness]",
        "---",
        "",
        f"# Fine-tuned from `{handle.source}` by audit-harness",
        "",
        f"- Labels: {', '.join(handle.label_names)}",
        f"- Training data: `{data.source}`" + (" (synthetic)" if data.synthetic else ""),
        f"- Train split fingerprint (sha256): `{data.splits['train'].fingerprint}`",
        f"- Training examples: {report.train_examples}",
        f"- Method: {report.method}",
        f"- Settings: `{report.settings}`",
        f"- Epochs run: {report.epochs_run} (best epoch {report.best_epoch}{', stopped early' if report.stopped_early else ''})",
    ]
    if last is not None and last.validation_accuracy is not None:
        lines.append(f"- Validation accuracy at the last epoch: {format_number(last.validation_accuracy)}")
    lines += [f"- Weights sha256 (state dict): `{handle.weights_sha256}`", "", "Intended for audit and evaluation; read the audit report before any use."]
    return "\n".join(lines) + "\n"
