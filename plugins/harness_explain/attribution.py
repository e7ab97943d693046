"""Integrated gradients on the input embeddings (Captum's ``LayerIntegratedGradients``), read per word.

Why this method: integrated gradients (Sundararajan, Taly and Yan, 2017) is
the attribution method with a checkable promise, *completeness*: the
attributions of one text add up to the change in the explained output between
a baseline and the text, ``sum(a) = f(x) - f(baseline)``. How far a computed
attribution misses that (Captum's convergence delta, an artefact of the
finite ``n_steps`` of the path integral) is recorded for every text, and a
text whose delta exceeds the tolerance is *flagged*: shown as such, never
silently used as an explanation.

What is explained: the logit of the class the model predicts for the text
(the decision a reviewer asks about), through the shared Predictor's model on
its device. The path runs over the word-embedding layer only (position and
segment embeddings stay), from a baseline that keeps the structural special
tokens (``[CLS]``, ``[SEP]``, ...) and replaces every other token (``[UNK]``
included) by the pad token.

Texts are attributed in batches of similar length (``internal_batch_size``
bounds the interpolated inputs held at once); the model is used under
``torch.enable_grad`` in eval mode and its weights are never changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

from harness_explain.units import Unit, text_units

if TYPE_CHECKING:
    from harness import ModelHandle

__all__ = ["Attribution", "attribute_chunk", "attribute_texts", "attribute_through_executor", "baseline_ids", "flag_limit", "kept_special_ids", "worker_handle"]


@dataclass(frozen=True)
class Attribution:
    """One text's attribution, read per unit.

    ``scores[i]`` belongs to ``units[i]`` (the sum of its tokens' attributions
    toward ``target``). ``gap`` is ``f(x) - f(baseline)`` for the target logit
    and ``delta`` Captum's convergence delta (``sum of all token attributions
    - gap``). ``truncated`` when the tokenizer cut the text at the model's
    maximum length (units past the cut get no attribution: score 0).
    """

    text: str
    target: int
    units: tuple[Unit, ...]
    scores: tuple[float, ...]
    delta: float
    gap: float
    truncated: bool

    @property
    def total(self) -> float:
        return float(sum(self.scores))

    def flagged(self, tolerance: float) -> bool:
        return abs(self.delta) > flag_limit(self.gap, tolerance)


def flag_limit(gap: float, tolerance: float) -> float:
    """The largest convergence delta accepted: ``tolerance`` times ``max(|f(x) - f(baseline)|, 1)`` (logit units)."""
    return tolerance * max(abs(gap), 1.0)


def baseline_ids(input_ids: Any, special_ids: Sequence[int], pad_id: int) -> Any:
    """Every token replaced by ``pad_id`` except the special tokens, which stay where they are."""
    import torch

    keep = torch.zeros_like(input_ids, dtype=torch.bool)
    for special in special_ids:
        keep |= input_ids == special
    return torch.where(keep, input_ids, torch.full_like(input_ids, pad_id))


def kept_special_ids(tokenizer: Any) -> list[int]:
    """The token ids the baseline keeps: the structural special tokens ([CLS], [SEP], <s>...).

    Not the pad token (the baseline's filler), and not the unknown or mask tokens: an ``[UNK]`` in a
    text stands for a word of the text and is attributed like any other.
    """
    dropped = {tokenizer.pad_token_id, tokenizer.unk_token_id, tokenizer.mask_token_id}
    return sorted(set(tokenizer.all_special_ids) - dropped)


def attribute_texts(
    handle: "ModelHandle", texts: Sequence[str], targets: Sequence[int], *, n_steps: int = 32,
    internal_batch_size: int = 32, batch_size: int = 16, zh_unit: str = "word",
) -> list[Attribution]:
    """Attributions of ``texts`` toward the logit of ``targets`` (one class index per text), in order."""
    import torch
    from captum.attr import LayerIntegratedGradients

    model, tokenizer, device = handle.model, handle.tokenizer, handle.device
    encoded = tokenizer(list(texts), truncation=True, max_length=handle.max_length, return_offsets_mapping=True,
                        return_special_tokens_mask=True, padding=False)
    full_lengths = [len(ids) for ids in tokenizer(list(texts), truncation=False, padding=False)["input_ids"]]
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    special_ids = kept_special_ids(tokenizer)
    uses_types = "token_type_ids" in encoded

    def forward(input_ids: Any, attention_mask: Any, token_type_ids: Any = None) -> Any:
        extra = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
        return model(input_ids=input_ids, attention_mask=attention_mask, **extra).logits.float()

    explainer = LayerIntegratedGradients(forward, model.get_input_embeddings())
    order = sorted(range(len(texts)), key=lambda i: len(encoded["input_ids"][i]))
    out: list[Attribution | None] = [None] * len(texts)
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            for start in range(0, len(order), batch_size):
                batch = order[start:start + batch_size]
                width = max(len(encoded["input_ids"][i]) for i in batch)
                ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                types = torch.zeros((len(batch), width), dtype=torch.long) if uses_types else None
                for row, i in enumerate(batch):
                    row_ids = encoded["input_ids"][i]
                    ids[row, :len(row_ids)] = torch.as_tensor(row_ids)
                    mask[row, :len(row_ids)] = 1
                    if types is not None:
                        types[row, :len(row_ids)] = torch.as_tensor(encoded["token_type_ids"][i])
                ids, mask = ids.to(device), mask.to(device)
                types = types.to(device) if types is not None else None
                base = baseline_ids(ids, special_ids, pad_id)
                target = torch.as_tensor([int(targets[i]) for i in batch], device=device)
                extra = (mask, types) if types is not None else (mask,)
                attributions, delta = explainer.attribute(
                    inputs=ids, baselines=base, additional_forward_args=extra, target=target, n_steps=n_steps,
                    internal_batch_size=max(internal_batch_size, len(batch)), return_convergence_delta=True,
                )
                with torch.no_grad():
                    gap = (forward(ids, *extra).gather(1, target[:, None]) - forward(base, *extra).gather(1, target[:, None]))[:, 0]
                token_scores = (attributions.sum(dim=-1) * mask).detach().float().cpu().numpy()
                for row, i in enumerate(batch):
                    n = len(encoded["input_ids"][i])
                    out[i] = _read_units(
                        texts[i], int(targets[i]), token_scores[row, :n], encoded["offset_mapping"][i],
                        encoded["special_tokens_mask"][i], float(delta[row]), float(gap[row]), full_lengths[i] > n, zh_unit,
                    )
    finally:
        if was_training:
            model.train(True)
    return out  # type: ignore[return-value]


def _read_units(text: str, target: int, token_scores: Any, offsets: Sequence[Sequence[int]], special: Sequence[int],
                delta: float, gap: float, truncated: bool, zh_unit: str) -> Attribution:
    """Token scores summed into the units of ``text``: a token belongs to the unit its first character is in.

    A token that starts in no unit (it covers only whitespace, rare) goes to the nearest unit before it.
    """
    units = text_units(text, zh_unit)
    scores = [0.0] * len(units)
    starts = [u.start for u in units]
    import bisect

    for score, (begin, end), is_special in zip(token_scores, offsets, special):
        if is_special or end <= begin or not units:
            continue
        position = bisect.bisect_right(starts, begin) - 1
        scores[max(position, 0)] += float(score)
    return Attribution(text, target, tuple(units), tuple(scores), delta, gap, truncated)


def attribute_through_executor(
    executor: Any, predictor: Any, texts: Sequence[str], targets: Sequence[int], *, chunk_size: int = 64, **options: Any,
) -> list[Attribution]:
    """:func:`attribute_texts` in chunks of ``chunk_size`` texts, as units of the run's executor, results in text order.

    Local engine: the chunks run here, one after another, on the run's own model. Another engine (Ray):
    each worker rebuilds the model once from the driver's weights (``harness.ml.remote``; the same
    payload the attack workers get) and attributes its chunks there. The chunks are the same on every
    engine, so the numbers are too (checked: Ray and local identical to the last bit); a different
    ``chunk_size`` or ``batch_size`` pads texts in other company and moves scores by float rounding only.
    """
    # Not in the public API (yet): the executor's unit of work and worker pool, the model payload.
    from harness.run.executor import Task, WorkerPool

    texts, targets = list(texts), [int(t) for t in targets]
    tasks = [Task(f"explain-{start // chunk_size:06d}", attribute_chunk, (texts[start:start + chunk_size], targets[start:start + chunk_size], options))
             for start in range(0, len(texts), chunk_size)]
    if not tasks:
        return []
    if getattr(executor, "engine", "local") == "local":
        pool = WorkerPool("explain", worker_handle, in_process=lambda: predictor.handle)
    else:
        from harness.ml.remote import pack_model

        pool = WorkerPool("explain", worker_handle, (pack_model(predictor),))
    return [attribution for _, chunk in executor.map_pool(pool, tasks) for attribution in chunk]


def worker_handle(payload: Any) -> Any:
    """A pool worker's state: the driver's model rebuilt from ``payload`` (object store), once per worker."""
    from harness.ml.remote import unpack_model

    return unpack_model(payload).handle


def attribute_chunk(handle: Any, texts: list[str], targets: list[int], options: dict[str, Any]) -> list[Attribution]:
    """One unit of work: the attributions of one chunk of texts."""
    return attribute_texts(handle, texts, targets, **options)
