"""The pair audit: the original and the compressed model on the same evaluation examples.

Computed once per run and option set (kept in ``ctx.extra``) and read by the
agreement, group-regression and footprint checks. Both models answer through
their own Predictor (the original through the run's shared one, so its
outputs are those every other check read). One resample matrix, seeded from
the run seed, serves every paired bootstrap.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness_compression.compress import compressed_model
from harness_compression.options import CompressionOptions

if TYPE_CHECKING:
    from harness import RunContext

__all__ = ["PairAudit", "pair_audit", "GroupRow"]


@dataclass(frozen=True)
class GroupRow:
    """One group's rates under both models (accuracy always; TPR and FPR per positive class)."""

    attributes: tuple[str, ...]
    group: str
    count: int
    judged: bool
    flips: dict[str, Any]
    accuracy: Any                         # PairedChange
    tpr: dict[str, Any] = field(default_factory=dict)   # class name -> PairedChange
    fpr: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "attributes": list(self.attributes), "group": self.group, "count": self.count, "judged": self.judged,
            "flips": self.flips, "accuracy": self.accuracy.to_dict(),
            "tpr": {k: v.to_dict() for k, v in self.tpr.items()}, "fpr": {k: v.to_dict() for k, v in self.fpr.items()},
        }


@dataclass
class PairAudit:
    spec: dict[str, Any]
    split: str
    n: int
    labels: tuple[str, ...]
    positive_classes: tuple[int, ...]
    level: float
    details: dict[str, Any]
    agreement: Any                        # Share
    flip_rate: Any                        # Share
    accuracy_original: Any                # Share
    accuracy_compressed: Any              # Share
    accuracy_change: Any                  # PairedChange
    mcnemar: dict[str, Any]
    calibration: dict[str, Any]
    groups: list[GroupRow]
    attributes_judged: tuple[tuple[str, ...], ...]
    skipped_attributes: dict[str, str]
    disagreements: list[dict[str, Any]]
    compressed_predictions: list[int]
    footprint: dict[str, Any] | None = None
    limitations: list[dict[str, Any]] = field(default_factory=list)


def _split(ctx: "RunContext", options: CompressionOptions) -> Any:
    data = ctx.require_data()
    name = options.split or data.eval_split
    split = data.get(name)
    if split is None:
        raise ValueError(f"split {name!r} does not exist (have: {', '.join(data.splits)})")
    return split


def pair_audit(ctx: "RunContext", options: CompressionOptions) -> PairAudit:
    """The run's pair audit for these options (the compressed model built once for its spec)."""
    predictor = ctx.require_predictor()
    shared = options.model_dump(mode="json", include=set(CompressionOptions.model_fields))
    key = ("harness_compression.pair", predictor.handle.weights_sha256, json.dumps(shared, sort_keys=True))
    if key not in ctx.extra:
        ctx.extra[key] = _compute(ctx, options)
    return ctx.extra[key]


def _compute(ctx: "RunContext", options: CompressionOptions) -> PairAudit:
    import numpy as np

    from harness_compression import pairstats as ps

    data = ctx.require_data()
    split = _split(ctx, options)
    spec = options.spec()
    twin = compressed_model(ctx, spec)
    ctx.progress(f"compression: {json.dumps(spec)} built; scoring {len(split)} {split.name} examples with both models")
    y = np.asarray(split.labels, dtype=np.int64)
    probs_o = ctx.require_predictor().probabilities(split.texts)
    probs_c = twin.predictor.probabilities(split.texts)
    pred_o, pred_c = probs_o.argmax(axis=1), probs_c.argmax(axis=1)
    right_o, right_c = pred_o == y, pred_c == y
    n = len(y)
    level = options.level
    rng = ctx.rng(f"compression:{json.dumps(spec, sort_keys=True)}:{split.name}")
    idx = ps.resamples(n, options.n_boot, rng)
    everyone = np.ones(n, dtype=bool)
    agree = int(np.sum(pred_o == pred_c))
    labels = tuple(data.label_names)
    positive = (1,) if len(labels) == 2 else tuple(range(len(labels)))

    columns = list(options.attributes or data.sensitive_columns)
    unknown = [c for c in columns if c not in split.sensitive]
    if unknown:
        raise ValueError(f"sensitive attribute(s) {', '.join(unknown)} are not in data.sensitive ({', '.join(data.sensitive_columns) or 'none'})")
    skipped = {c: f"attribute {c!r} has a single value in the {split.name} split" for c in columns if len(set(split.sensitive[c])) < 2}
    usable = [c for c in columns if c not in skipped]
    sets: list[tuple[str, ...]] = [(c,) for c in usable]
    if options.intersections:
        import itertools

        sets += [combo for r in range(2, len(usable) + 1) for combo in itertools.combinations(usable, r)]
    rows = []
    for attrs, name, mask in ps.group_masks(split.sensitive, sets):
        count = int(mask.sum())
        flips = int(np.sum(mask & (pred_o != pred_c)))
        row = GroupRow(
            attributes=attrs, group=name, count=count, judged=count >= options.min_group_size,
            flips=ps.share(flips, count, level).to_dict(),
            accuracy=ps.paired_change(mask, right_o, right_c, idx, level),
            tpr={labels[k]: ps.paired_change(mask & (y == k), pred_o == k, pred_c == k, idx, level) for k in positive},
            fpr={labels[k]: ps.paired_change(mask & (y != k), pred_o == k, pred_c == k, idx, level) for k in positive},
        )
        rows.append(row)

    order = np.flatnonzero(pred_o != pred_c)
    listed = []
    for i in order[: options.listed]:
        listed.append({
            "id": str(split.ids[i]), "text": ctx.redact(str(split.texts[i])), "label": labels[y[i]],
            "original": labels[pred_o[i]], "compressed": labels[pred_c[i]],
            "original_confidence": float(probs_o[i].max()), "compressed_confidence": float(probs_c[i].max()),
        })
    return PairAudit(
        spec=spec, split=split.name, n=n, labels=labels, positive_classes=positive, level=level, details=dict(twin.details),
        agreement=ps.share(agree, n, level), flip_rate=ps.share(n - agree, n, level),
        accuracy_original=ps.share(int(right_o.sum()), n, level), accuracy_compressed=ps.share(int(right_c.sum()), n, level),
        accuracy_change=ps.paired_change(everyone, right_o, right_c, idx, level),
        mcnemar=ps.mcnemar(right_o, right_c),
        calibration=ps.ece_change(y, probs_o, probs_c, idx, options.n_bins, level),
        groups=rows, attributes_judged=tuple(sets), skipped_attributes=skipped,
        disagreements=listed, compressed_predictions=[int(v) for v in pred_c],
    )


def footprint_of(ctx: "RunContext", options: CompressionOptions) -> dict[str, Any]:
    """Bytes and latency of the pair (measured once per spec and timing options)."""
    from harness_compression.footprint import footprint

    predictor = ctx.require_predictor()
    spec = options.spec()
    key = ("harness_compression.footprint", predictor.handle.weights_sha256, json.dumps(spec, sort_keys=True),
           options.latency_examples, options.latency_repeats, options.split)
    if key not in ctx.extra:
        twin = compressed_model(ctx, spec)
        texts = list(_split(ctx, options).texts[: options.latency_examples])
        scratch = ctx.scratch_dir / "compression"
        ctx.extra[key] = footprint(predictor.handle, twin.handle, texts, scratch, repeats=options.latency_repeats)
    return ctx.extra[key]
