"""What compression buys: bytes of the weights, bytes on disk, and measured latency.

- parameter bytes: the bytes the state dict holds in memory, a quantized tensor
  subclass counted by the plain tensors it stores (int8 values, scales, zero points);
- size on disk: both state dicts written with ``torch.save`` into the scratch
  folder (one format for both, so the ratio compares weights, not file formats);
  pruned weights are still dense zeros there, which the sparsity share says;
- latency: the same evaluation texts, sorted by length and padded per batch, through each model's forward under ``torch.inference_mode``; one
  warm-up pass, then ``repeats`` timed passes each, interleaved (original,
  compressed, original...) so a machine slowing down mid-way affects both. The
  ratio is of the medians, on this machine, at its thread count: a measurement,
  not a promise for other hardware.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from harness import ModelHandle

__all__ = ["parameter_bytes", "disk_bytes", "latencies", "footprint"]


def _tensor_bytes(tensor: Any) -> int:
    import torch

    flatten = getattr(tensor, "__tensor_flatten__", None)
    if type(tensor) not in (torch.Tensor, torch.nn.Parameter) and callable(flatten):
        inner, _ = flatten()
        return sum(_tensor_bytes(getattr(tensor, part)) for part in inner)
    return int(tensor.numel() * tensor.element_size())


def parameter_bytes(model: Any) -> int:
    """Bytes of every tensor in the state dict (shared tensors, e.g. tied embeddings, once)."""
    seen: set[int] = set()
    total = 0
    for tensor in model.state_dict(keep_vars=False).values():
        key = id(tensor)
        if key in seen:
            continue
        seen.add(key)
        total += _tensor_bytes(tensor)
    return total


def disk_bytes(model: Any, path: Path) -> int:
    """Size of ``torch.save(state_dict)`` at ``path`` (written, measured, removed)."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        torch.save(model.state_dict(), path)
        return path.stat().st_size
    finally:
        path.unlink(missing_ok=True)


def _batches(handle: "ModelHandle", texts: Sequence[str], batch_size: int) -> list[dict[str, Any]]:
    """``texts`` sorted by length and tokenised in batches, each padded to its own longest text."""
    ordered = sorted(texts, key=len)
    batches = []
    for start in range(0, len(ordered), batch_size):
        encoded = handle.tokenizer(ordered[start : start + batch_size], padding=True, truncation=True,
                                   max_length=handle.max_length, return_tensors="pt")
        batches.append({k: v.to(handle.device) for k, v in encoded.items()})
    return batches


def _timed_pass(model: Any, batches: list[dict[str, Any]]) -> float:
    import torch

    with torch.inference_mode():
        started = time.perf_counter()
        for batch in batches:
            model(**batch)
        if any(v.device.type == "cuda" for v in batches[0].values()):
            torch.cuda.synchronize()
        return time.perf_counter() - started


def latencies(original: "ModelHandle", compressed: "ModelHandle", texts: Sequence[str], *, repeats: int, batch_size: int = 64) -> dict[str, Any]:
    """Seconds per pass over ``texts`` for both models (one warm-up each, then ``repeats`` interleaved passes)."""
    import torch

    first = _batches(original, texts, batch_size)
    second = first if compressed.tokenizer is original.tokenizer else _batches(compressed, texts, batch_size)
    original.model.eval()
    compressed.model.eval()
    _timed_pass(original.model, first)
    _timed_pass(compressed.model, second)
    times: dict[str, list[float]] = {"original": [], "compressed": []}
    for _ in range(repeats):
        times["original"].append(_timed_pass(original.model, first))
        times["compressed"].append(_timed_pass(compressed.model, second))
    medians = {name: statistics.median(values) for name, values in times.items()}
    return {
        "texts": len(texts), "repeats": repeats, "batch_size": batch_size, "threads": torch.get_num_threads(),
        "device": str(original.device), "cpu_count": os.cpu_count(),
        "seconds": {name: [round(v, 6) for v in values] for name, values in times.items()},
        "median_seconds": medians,
        "ratio": medians["compressed"] / medians["original"] if medians["original"] > 0 else None,
    }


def footprint(original: "ModelHandle", compressed: "ModelHandle", texts: Sequence[str], scratch: Path, *, repeats: int) -> dict[str, Any]:
    """Parameter bytes, bytes on disk and latency of both models, with the compressed / original ratios."""
    params = {"original": parameter_bytes(original.model), "compressed": parameter_bytes(compressed.model)}
    disk = {"original": disk_bytes(original.model, scratch / "original.pt"), "compressed": disk_bytes(compressed.model, scratch / "compressed.pt")}
    timing = latencies(original, compressed, texts, repeats=repeats)
    return {
        "parameter_bytes": params,
        "parameter_bytes_ratio": params["compressed"] / params["original"] if params["original"] else None,
        "disk_bytes": disk,
        "disk_bytes_ratio": disk["compressed"] / disk["original"] if disk["original"] else None,
        "latency": timing,
        "latency_ratio": timing["ratio"],
    }
