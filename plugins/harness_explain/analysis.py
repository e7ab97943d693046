"""The explanation analysis every explain check reads, computed once per run and option set.

:func:`explain_analysis` selects the texts (``selection.py``), attributes
each toward the class the model predicts (``attribution.py``), measures
faithfulness (``faithfulness.py``) and the attribution mass on protected terms
and personal data (``protected.py``) over the representative sample, and
prepares what the report shows: each text cut into segments with their
scores, personal data masked (``display_segments``). It is kept in
``ctx.extra`` so the three checks of a run share one computation.

Texts whose attribution misses completeness by more than the tolerance
(:func:`harness_explain.attribution.flag_limit`) are flagged: shown with the
flag, and left out of the faithfulness and reliance numbers (the count left
out is in the evidence).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from harness import CheckOptions
from harness_explain.attribution import Attribution
from harness_explain.selection import Selection

if TYPE_CHECKING:
    import numpy as np

    from harness import RunContext
    from harness_explain.faithfulness import Faithfulness

__all__ = ["EXPLAIN_CLAUSES", "ExplainOptions", "ExplainAnalysis", "explain_analysis", "display_segments", "reliance_arrays", "describe_method"]

EXPLAIN_CLAUSES = ("EU AI Act Art. 13(1)", "NIST AI RMF MEASURE 2.9")


class ExplainOptions(CheckOptions):
    sample: int = Field(100, ge=0, le=10_000, description="class-stratified sample of the evaluation split (faithfulness and reliance are measured on it)")
    misclassified: int = Field(20, ge=0, le=10_000, description="misclassified evaluation examples explained (most confident mistakes first)")
    adversarial: int = Field(10, ge=0, le=1_000, description="successful attacks of this run's robustness check explained (original and perturbed)")
    counterfactual: int = Field(10, ge=0, le=1_000, description="identity-term swaps that flip the prediction explained (original and swapped)")
    n_steps: int = Field(32, ge=2, le=2_000, description="integration steps of integrated gradients")
    internal_batch_size: int = Field(32, ge=1, le=100_000, description="interpolated inputs Captum evaluates at once")
    batch_size: int = Field(16, ge=1, le=1_024, description="texts attributed together")
    chunk_size: int = Field(64, ge=1, le=100_000, description="texts per unit of the run's executor (execution.engine: ray spreads the units over workers)")
    delta_tolerance: float = Field(0.05, gt=0, le=10, description="flag a text when |convergence delta| > tolerance * max(|f(x) - f(baseline)|, 1)")
    zh_unit: Literal["word", "character"] = Field("word", description="unit of Chinese texts: jieba words or characters")
    terms: dict[str, list[str]] = Field(default_factory=dict, description="extra protected words per attribute, e.g. {religion: [muslim, christian]}")
    pii: bool = Field(True, description="count personal-data spans (harness.text.pii) as protected")
    ignore: list[str] = Field(default_factory=list, description="categories not counted as protected, e.g. [age_band] where age is a legitimate clinical feature (recorded in the evidence)")
    shown: int = Field(12, ge=0, le=1_000, description="sample texts shown highlighted in the report (all other kinds are shown)")
    top_words: int = Field(10, ge=1, le=100, description="top words per class in the report")
    n_boot: int = Field(1000, ge=0, le=100_000, description="bootstrap resamples for the intervals (0: none)")
    level: float = Field(0.95, gt=0.5, lt=1)

    def analysis_key(self) -> tuple:
        """The options that decide the analysis (not those that only decide what a check shows)."""
        fields = ("sample", "misclassified", "adversarial", "counterfactual", "n_steps", "internal_batch_size", "batch_size", "chunk_size",
                  "delta_tolerance", "zh_unit", "pii", "n_boot", "level")
        return tuple(getattr(self, f) for f in fields) + (tuple(sorted((k, tuple(v)) for k, v in self.terms.items())),)


@dataclass
class ExplainAnalysis:
    selection: Selection
    attributions: list[Attribution]
    probabilities: "np.ndarray"  # model probabilities per explained text
    flagged: list[bool]
    faithfulness: "Faithfulness | None"
    faithful_excluded: int
    categories: list[list[tuple[str, ...]]]  # per explained text, per unit: protected categories
    seconds: float
    library: str
    extra: dict[str, Any] = field(default_factory=dict)

    def scored(self, kind: str = "sample") -> list[int]:
        """Indices of the explained texts of ``kind`` whose attribution is complete enough to use."""
        return [i for i, e in enumerate(self.selection.examples) if e.kind == kind and not self.flagged[i]]


def _captum_version() -> str:
    import importlib.metadata

    try:
        return "captum " + importlib.metadata.version("captum")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - the import above would have failed first
        return "captum"


def explain_analysis(ctx: "RunContext", options: ExplainOptions) -> ExplainAnalysis:
    """The run's analysis for these options and this model, computed once and shared by the checks."""
    import time

    predictor = ctx.require_predictor()
    key = ("harness_explain.analysis", predictor.handle.weights_sha256, options.analysis_key())
    if key in ctx.extra:
        return ctx.extra[key]
    try:
        import captum  # noqa: F401 - fail with the install hint before any work
    except ImportError as exc:
        raise RuntimeError("the explain checks need Captum: pip install 'audit-harness[explain]' (captum>=0.9)") from exc
    from harness_explain.attribution import attribute_through_executor
    from harness_explain.faithfulness import measure_faithfulness
    from harness_explain.protected import protected_spans, unit_categories
    from harness_explain.selection import select_examples

    started = time.perf_counter()
    selection = select_examples(ctx, sample=options.sample, misclassified=options.misclassified, adversarial=options.adversarial,
                                counterfactual=options.counterfactual, rng=ctx.rng("explain.sample"))
    texts = [e.text for e in selection.examples]
    probabilities = predictor.probabilities(texts)
    targets = probabilities.argmax(axis=1).tolist() if len(texts) else []
    ctx.progress(f"explain: integrated gradients on {len(texts)} texts ({options.n_steps} steps)")
    attributions = attribute_through_executor(ctx.executor, predictor, texts, targets, chunk_size=options.chunk_size, n_steps=options.n_steps,
                                              internal_batch_size=options.internal_batch_size, batch_size=options.batch_size, zh_unit=options.zh_unit)
    flagged = [a.flagged(options.delta_tolerance) for a in attributions]
    categories = [unit_categories(a.units, protected_spans(a.text, options.terms, pii=options.pii)) for a in attributions]
    analysis = ExplainAnalysis(selection, attributions, probabilities, flagged, None, 0, categories, 0.0, _captum_version())
    usable = analysis.scored("sample")
    analysis.faithful_excluded = sum(1 for i, e in enumerate(selection.examples) if e.kind == "sample" and flagged[i])
    if usable:
        analysis.faithfulness = measure_faithfulness([attributions[i] for i in usable], predictor, ctx.rng("explain.faithfulness"))
    analysis.seconds = time.perf_counter() - started
    ctx.extra[key] = analysis
    return analysis


def reliance_arrays(analysis: ExplainAnalysis, indices: list[int], ignore: tuple[str, ...] = ()) -> tuple["np.ndarray", dict[str, "np.ndarray"], "np.ndarray"]:
    """Per text of ``indices``: attribution mass on protected units (any category), per category, and in all.

    Mass is the absolute attribution (a word the model leans on counts whichever way it pushes);
    a unit in several categories counts once in the total protected mass and once in each category.
    Categories in ``ignore`` (or ``pii`` for every personal-data kind) are not counted.
    """
    import numpy as np

    protected = np.zeros(len(indices))
    total = np.zeros(len(indices))
    by_category: dict[str, np.ndarray] = {}
    for row, i in enumerate(indices):
        attribution = analysis.attributions[i]
        for score, categories in zip(attribution.scores, analysis.categories[i]):
            found = [c for c in categories if c not in ignore and c.split(":", 1)[0] not in ignore]
            mass = abs(score)
            total[row] += mass
            if found:
                protected[row] += mass
            for category in found:
                by_category.setdefault(category, np.zeros(len(indices)))[row] += mass
    return protected, dict(sorted(by_category.items())), total


def display_segments(ctx: "RunContext", attribution: Attribution) -> list[list[Any]]:
    """The text as ``[text, score or None]`` segments for the report, personal data masked.

    Units inside one personal-data span (found on the whole text, as ``ctx.redact`` finds them) become one
    segment showing the placeholder, with the sum of their scores; whitespace between units is a segment
    without a score. Every segment also passes through ``ctx.redact``; when the segments do not join to
    exactly ``ctx.redact(text)`` the whole redacted text is shown as one segment without scores.
    """
    from harness.text.pii import PLACEHOLDERS, find_pii

    text = attribution.text
    redacted = ctx.redact(text)
    matches = find_pii(text) if redacted != text else []
    segments: list[list[Any]] = []
    position = 0
    units = list(zip(attribution.units, attribution.scores))
    i = 0
    while i < len(units):
        unit, score = units[i]
        match = next((m for m in matches if m.start < unit.end and unit.start < m.end), None)
        start = min(unit.start, match.start) if match else unit.start
        if start > position:
            segments.append([text[position:start], None])
        if match is None:
            segments.append([ctx.redact(text[unit.start:unit.end]), float(score)])
            position = unit.end
            i += 1
            continue
        total = 0.0
        end = match.end
        while i < len(units) and units[i][0].start < match.end:
            total += float(units[i][1])
            end = max(end, units[i][0].end)
            i += 1
        segments.append([PLACEHOLDERS.get(match.kind, "[PII]") + text[match.end:end], total])
        position = end
    if position < len(text):
        segments.append([text[position:], None])
    if "".join(s[0] for s in segments) != redacted:
        return [[redacted, None]]
    return segments


def describe_method(options: ExplainOptions, analysis: ExplainAnalysis, label_names: tuple[str, ...]) -> dict[str, Any]:
    return {
        "method": "integrated gradients (Captum LayerIntegratedGradients) over the input word embeddings",
        "library": analysis.library,
        "target": "logit of the predicted class",
        "baseline": "pad tokens; structural special tokens ([CLS], [SEP]...) kept, [UNK] attributed like a word",
        "n_steps": options.n_steps,
        "internal_batch_size": options.internal_batch_size,
        "delta_tolerance": options.delta_tolerance,
        "flag_rule": "|delta| > tolerance * max(|f(x) - f(baseline)|, 1)",
        "zh_unit": options.zh_unit,
        "seconds": round(analysis.seconds, 3),
        "labels": list(label_names),
    }

