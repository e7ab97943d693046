"""The shared Predictor: every check reads model outputs through this one object.

Accuracy, fairness and membership inference all need the same eval logits, and
adversarial attacks repeat many identical queries, so outputs are cached by the
exact text and no text goes through the model twice in one run. Inference is
batched with inputs sorted by length and padded per batch (not to the model's
maximum), under ``torch.inference_mode`` and, on CUDA, bf16 autocast. The
counters land in results.json so wasted work is visible.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

if TYPE_CHECKING:
    import torch

    from harness.ml.models import ModelHandle


@dataclass(frozen=True)
class PredictorStats:
    """``forward_texts``: texts run through the model; ``cache_hits``: texts served from cache."""

    requests: int
    texts_requested: int
    forward_texts: int
    forward_batches: int
    cache_hits: int
    cache_size: int

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class Predictor:
    """Batched, length-sorted, dynamically padded, cached inference for one model."""

    def __init__(self, handle: "ModelHandle", *, batch_size: int = 64, max_tokens_per_batch: int = 16384) -> None:
        self.handle = handle
        self.batch_size = batch_size
        self.max_tokens_per_batch = max_tokens_per_batch
        self._cache: dict[str, np.ndarray] = {}
        self._cached_for = handle.weights_sha256  # the weights the cached outputs came from
        self._lock = threading.Lock()
        #: where a large request's batches run instead of this process (the Ray engine's batch inference:
        #: ``harness.run.ray_engine``): the padded batches, as numpy arrays, in; their logits, in order, out.
        #: The batches and the counters are this predictor's either way, so every number stays the same.
        self.remote: Callable[[list[dict[str, np.ndarray]]], list[np.ndarray]] | None = None
        self.remote_min_texts = 1
        self._requests = self._texts_requested = self._forward_texts = self._forward_batches = self._cache_hits = 0

    @property
    def label_names(self) -> tuple[str, ...]:
        return self.handle.label_names

    def stats(self) -> PredictorStats:
        return PredictorStats(self._requests, self._texts_requested, self._forward_texts, self._forward_batches, self._cache_hits, len(self._cache))

    def clear(self) -> None:
        """Forget cached outputs (call after the model's weights change)."""
        with self._lock:
            self._cache.clear()
            self._cached_for = self.handle.weights_sha256

    def identity(self) -> dict[str, Any]:
        """What decides this predictor's outputs, for keys of results computed from them.

        The weights sha256 (computed now if the handle has none yet), the
        tokenizer's vocabulary digest and truncation length, and the device
        type (CUDA runs under bf16 autocast, so its logits differ from CPU's).
        A checkpoint keyed by this is never read for another model.
        """
        handle = self.handle
        with self._lock:
            if not handle.weights_sha256:  # never digested: the cache is of these very weights, keep it
                self._cached_for = handle.refresh_digest()
        weights = handle.weights_sha256
        return {
            "weights_sha256": weights,
            "source": handle.source,
            "label_names": list(handle.label_names),
            "max_length": handle.max_length,
            "tokenizer": tokenizer_digest(handle.tokenizer),
            "device": handle.device.type,
        }

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """Float32 logits of shape (len(texts), num_labels), in the order given."""
        texts = list(texts)
        with self._lock:
            if self._cached_for != self.handle.weights_sha256:  # the weights changed (and were re-digested): outputs are stale
                self._cache.clear()
                self._cached_for = self.handle.weights_sha256
            self._requests += 1
            self._texts_requested += len(texts)
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
            self._cache_hits += len(texts) - len(missing)  # repeats inside one request count as hits
            if missing:
                for text, row in zip(missing, self._forward(missing)):
                    self._cache[text] = row
            width = len(self.label_names)
            if not texts:
                return np.zeros((0, width), dtype=np.float32)
            return np.stack([self._cache[t] for t in texts])

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Softmax of :meth:`logits`, computed in float64 for stable downstream statistics."""
        logits = self.logits(texts).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """Predicted label indices (argmax of the logits)."""
        return self.logits(texts).argmax(axis=1)

    # ------------------------------------------------------------ internals

    def _batches(self, lengths: list[int]) -> list[list[int]]:
        """Index batches over texts sorted by token length, capped by count and by padded tokens."""
        order = sorted(range(len(lengths)), key=lambda i: lengths[i])
        batches: list[list[int]] = []
        current: list[int] = []
        for index in order:
            longest = max(lengths[index], max((lengths[i] for i in current), default=0))
            if current and (len(current) >= self.batch_size or longest * (len(current) + 1) > self.max_tokens_per_batch):
                batches.append(current)
                current = []
            current.append(index)
        if current:
            batches.append(current)
        return batches

    def _forward(self, texts: list[str]) -> list[np.ndarray]:
        import torch

        handle = self.handle
        model, tokenizer, device = handle.model, handle.tokenizer, handle.device
        encoded = tokenizer(texts, truncation=True, max_length=handle.max_length, padding=False)
        input_ids = encoded["input_ids"]
        lengths = [len(ids) for ids in input_ids]
        out: list[np.ndarray | None] = [None] * len(texts)
        if self.remote is not None and len(texts) >= self.remote_min_texts:
            batches = self._batches(lengths)
            cpu = torch.device("cpu")
            arrays = [{key: value.numpy() for key, value in pad_batch(tokenizer, encoded, batch, cpu).items()} for batch in batches]
            for batch, logits in zip(batches, self.remote(arrays), strict=True):
                for row, index in zip(logits, batch, strict=True):
                    out[index] = row
            self._forward_batches += len(batches)
            self._forward_texts += len(texts)
            return out  # type: ignore[return-value]
        was_training = model.training
        if was_training:  # eval()/train() walk every module: skip them when already in eval mode (attacks call this per query)
            model.eval()
        autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else _nullcontext()
        try:
            with torch.inference_mode(), autocast:
                for batch in self._batches(lengths):
                    padded = pad_batch(tokenizer, encoded, batch, device)
                    logits = model(**padded).logits.float().cpu().numpy()
                    self._forward_batches += 1
                    for row, index in zip(logits, batch):
                        out[index] = row
        finally:
            if was_training:
                model.train(True)
        self._forward_texts += len(texts)
        return out  # type: ignore[return-value]


def forward_arrays(handle: "ModelHandle", arrays: dict[str, np.ndarray]) -> np.ndarray:
    """Float32 logits of one padded batch (numpy arrays, as :attr:`Predictor.remote` receives them), computed as
    :meth:`Predictor._forward` computes a batch: inference mode, bf16 autocast on CUDA."""
    import torch

    batch = {key: torch.as_tensor(value).to(handle.device) for key, value in arrays.items()}
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if handle.device.type == "cuda" else _nullcontext()
    with torch.inference_mode(), autocast:
        return handle.model(**batch).logits.float().cpu().numpy()


def tokenizer_digest(tokenizer: Any) -> str:
    """sha256 of the tokenizer's class and vocabulary: two tokenizers with one digest split text alike."""
    import hashlib
    import json

    try:
        vocabulary = sorted(tokenizer.get_vocab().items())
    except (AttributeError, NotImplementedError, TypeError):
        vocabulary = []
    payload = json.dumps([type(tokenizer).__name__, vocabulary], ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def pad_batch(tokenizer: Any, encoded: Any, indices: Sequence[int], device: "torch.device") -> dict[str, "torch.Tensor"]:
    """Pad the chosen encoded examples to the longest among them (not to the model maximum).

    Done by hand rather than with ``tokenizer.pad`` (slower for fast
    tokenizers, and it warns on every call).
    """
    import torch

    rows = [encoded["input_ids"][int(i)] for i in indices]
    width = max(len(r) for r in rows)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    left = getattr(tokenizer, "padding_side", "right") == "left"
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    types = torch.zeros((len(rows), width), dtype=torch.long) if "token_type_ids" in encoded else None
    for row_number, (index, row) in enumerate(zip(indices, rows)):
        span = slice(width - len(row), width) if left else slice(0, len(row))
        ids[row_number, span] = torch.as_tensor(row, dtype=torch.long)
        mask[row_number, span] = 1
        if types is not None:
            types[row_number, span] = torch.as_tensor(encoded["token_type_ids"][int(index)], dtype=torch.long)
    batch = {"input_ids": ids, "attention_mask": mask}
    if types is not None:
        batch["token_type_ids"] = types
    return {k: v.to(device) for k, v in batch.items()}


class _nullcontext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
