"""A model and its Predictor's cache in another process (a Ray worker), with every number as the driver's.

Why this exists: an attack chunk run on a worker must give the records and the
forward-pass counters the local engine gives. Two things decide that beyond
the weights: the predictor's cache (a cached text is not re-computed) and the
batches a text is computed in (a text's logits move in the last bits with its
batch peers and padding: measured on the tiny BERT on CPU, up to 1.3e-8). So:

- :func:`pack_model` / :func:`unpack_model`: the driver's model, tokenizer and
  predictor settings as one picklable payload (the state dict, not a file
  path: an engine ships it through its object store); the worker checks the
  weights digest it rebuilt against the driver's.
- :class:`RecordingPredictor`: the worker's predictor, started from a copy of
  the driver's cache, records every request (texts asked, texts forwarded,
  batches run) in a :class:`QueryLog`.
- :func:`replay_queries`: on the driver, in the order the local engine would
  have run the chunks, checks that the driver's predictor would have
  forwarded exactly the texts the worker forwarded, request by request (so
  the same batches, so the same logits); then it adopts the worker's logits
  and counters. When it would not have (a text an earlier chunk computed),
  it changes nothing and says so: the caller re-runs that chunk on the driver.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from harness.ml.models import ModelHandle, state_dict_sha256
from harness.ml.predict import Predictor

__all__ = ["ModelPayload", "QueryLog", "RecordingPredictor", "cache_snapshot", "pack_model", "replay_queries", "unpack_model"]


@dataclass(frozen=True)
class ModelPayload:
    """Everything a worker needs to answer queries exactly as the driver's predictor: picklable, no file path."""

    model_class: type
    model_config: Any
    state: dict[str, Any]  # name -> CPU tensor
    dtype: Any  # the parameters' torch dtype on the driver
    tokenizer: Any
    device: str  # "cpu" or "cuda": CUDA runs under bf16 autocast, so its logits differ from CPU's
    source: str
    label_names: tuple[str, ...]
    max_length: int
    weights_sha256: str
    batch_size: int
    max_tokens_per_batch: int


def pack_model(predictor: Predictor) -> ModelPayload:
    """The predictor's model as a payload (weights copied to CPU, digested now: the handle's digest may be stale)."""
    handle = predictor.handle
    model = handle.model
    state = {name: tensor.detach().to("cpu").clone() for name, tensor in model.state_dict().items()}
    dtype = next((p.dtype for p in model.parameters()), None)
    return ModelPayload(
        model_class=type(model), model_config=model.config, state=state, dtype=dtype, tokenizer=handle.tokenizer,
        device=handle.device.type, source=handle.source, label_names=tuple(handle.label_names),
        max_length=handle.max_length, weights_sha256=state_dict_sha256(model), batch_size=predictor.batch_size,
        max_tokens_per_batch=predictor.max_tokens_per_batch,
    )


def unpack_model(payload: ModelPayload) -> "RecordingPredictor":
    """The payload's model, built here once, behind a :class:`RecordingPredictor`; its digest must be the driver's."""
    import torch

    if payload.device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("the model runs on cuda on the driver but this worker has no CUDA device: its logits would "
                           "differ (set execution.num_gpus_per_task)")
    device = torch.device(payload.device if payload.device in ("cpu", "cuda") else "cpu")
    builder = getattr(payload.model_class, "_from_config", None)
    model = builder(payload.model_config) if builder is not None else payload.model_class(payload.model_config)
    if payload.dtype is not None:
        model.to(payload.dtype)
    model.load_state_dict(payload.state, strict=True)
    model.to(device)
    model.eval()
    digest = state_dict_sha256(model)
    if digest != payload.weights_sha256:
        raise RuntimeError(f"the worker rebuilt weights {digest[:12]}, not the driver's {payload.weights_sha256[:12]}")
    handle = ModelHandle(model=model, tokenizer=payload.tokenizer, device=device, source=payload.source,
                         label_names=payload.label_names, max_length=payload.max_length, weights_sha256=digest)
    return RecordingPredictor(handle, batch_size=payload.batch_size, max_tokens_per_batch=payload.max_tokens_per_batch)


@dataclass(frozen=True)
class QueryLog:
    """What a :class:`RecordingPredictor` answered since :meth:`RecordingPredictor.restart`, request by request.

    ``texts``: each distinct text once; ``requests`` and ``forwarded``: per
    request, indices into ``texts`` of the texts asked and of those sent
    through the model; ``batches``: forward batches per request; ``rows``:
    the logits of every text (row i for ``texts[i]``).
    """

    texts: tuple[str, ...]
    requests: tuple[tuple[int, ...], ...]
    forwarded: tuple[tuple[int, ...], ...]
    batches: tuple[int, ...]
    rows: np.ndarray


def cache_snapshot(predictor: Predictor) -> dict[str, np.ndarray]:
    """A copy of the predictor's cache (text -> logits row), for a worker to start from."""
    with predictor._lock:  # noqa: SLF001 - a friend of Predictor in the same layer
        return dict(predictor._cache)  # noqa: SLF001


class RecordingPredictor(Predictor):
    """A Predictor that records each request (see :class:`QueryLog`); one thread only (a worker's)."""

    def __init__(self, handle: ModelHandle, **kwargs: Any) -> None:
        super().__init__(handle, **kwargs)
        self._seed: Mapping[str, np.ndarray] = {}
        self._log: list[tuple[list[str], list[str], int]] = []

    def restart(self, cache: Mapping[str, np.ndarray]) -> None:
        """Forget everything since the last restart and start from ``cache`` (the driver's); log nothing yet."""
        self._seed = cache
        self._cache = dict(cache)
        self._cached_for = self.handle.weights_sha256
        self._log = []

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        before = self._forward_batches
        out = super().logits(texts)
        self._log.append((texts, missing, self._forward_batches - before))
        return out

    def take_log(self) -> QueryLog:
        """The requests since :meth:`restart`, with the logits of every text they named."""
        index: dict[str, int] = {}
        requests, forwarded, batches = [], [], []
        for texts, missing, count in self._log:
            requests.append(tuple(index.setdefault(t, len(index)) for t in texts))
            forwarded.append(tuple(index[t] for t in missing))
            batches.append(count)
        names = tuple(index)
        width = len(self.label_names)
        rows = np.stack([self._cache[t] for t in names]) if names else np.zeros((0, width), dtype=np.float32)
        return QueryLog(names, tuple(requests), tuple(forwarded), tuple(batches), rows)


def replay_queries(predictor: Predictor, log: QueryLog) -> bool:
    """Account ``log`` on ``predictor`` as if it had answered those requests; ``False`` (nothing changed) if it would not have.

    It would have when, request by request, the texts missing from its cache
    (with the texts of the earlier requests added) are exactly the texts the
    worker forwarded, in the same order: then it would have run the same
    batches and computed the same logits. Its counters then move exactly as
    they would have, and the worker's logits enter its cache.
    """
    with predictor._lock:  # noqa: SLF001 - a friend of Predictor in the same layer
        cache = predictor._cache  # noqa: SLF001
        if predictor._cached_for != predictor.handle.weights_sha256:  # noqa: SLF001
            return False
        added: set[str] = set()
        for request, forwarded in zip(log.requests, log.forwarded):
            names = [log.texts[i] for i in request]
            missing = [t for t in dict.fromkeys(names) if t not in cache and t not in added]
            if missing != [log.texts[i] for i in forwarded]:
                return False
            added.update(missing)
        for request, forwarded, batches in zip(log.requests, log.forwarded, log.batches):
            predictor._requests += 1  # noqa: SLF001
            predictor._texts_requested += len(request)  # noqa: SLF001
            predictor._cache_hits += len(request) - len(forwarded)  # noqa: SLF001
            predictor._forward_texts += len(forwarded)  # noqa: SLF001
            predictor._forward_batches += batches  # noqa: SLF001
            for i in forwarded:
                cache[log.texts[i]] = log.rows[i]
        return True
