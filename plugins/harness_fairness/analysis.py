"""The fairness analysis every disparity check reads: group metrics and disparities, computed once per run.

:func:`fairness_analysis` takes the shared Predictor's predictions on the
evaluation split and builds, for each sensitive attribute alone and for every
intersection (and, for multiclass models, each class one-vs-rest), the group
metric tables (Wilson or bootstrap intervals) and the disparities over groups
large enough to judge (closed-form intervals, ``metrics.disparities``). It is
kept in ``ctx.extra`` so the checks of one run share it. NumPy is imported
only when it runs (``metrics.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Literal

from pydantic import Field

from harness import CheckOptions, Interval, Metric, N_

if TYPE_CHECKING:
    from harness import RunContext

__all__ = ["FAIRNESS_CLAUSES", "FairnessOptions", "FairnessAnalysis", "fairness_analysis", "class_name", "limitations", "worst_interval"]

FAIRNESS_CLAUSES = (
    "EU AI Act Art. 10(2)(f)-(g)",
    "EU AI Act Art. 10(5)",
    "NIST AI RMF MEASURE 2.11",
    "ISO/IEC 42001 A.7",
    "PIPL Art. 24",
    "China GenAI Measures Art. 4(2)",
)


class FairnessOptions(CheckOptions):
    attributes: list[str] | None = Field(None, description="sensitive attributes to judge (default: all of data.sensitive)")
    min_group_size: int = Field(30, ge=1, description="groups smaller than this are reported as insufficient data")
    group_interval: Literal["wilson", "bootstrap"] = Field(
        "wilson", description="per-group rate intervals: Wilson (closed form) or a percentile bootstrap over examples (one resample matrix for every table)")
    group_n_boot: int = Field(1000, ge=0, le=100_000, description="resamples for group_interval: bootstrap; 0 reports group rates without intervals")
    level: float = Field(0.95, gt=0.5, lt=1)
    intersections: bool = Field(False, description="also gate on intersections of attributes (always reported)")


@dataclass
class FairnessAnalysis:
    """Everything the disparity checks read, computed once per option set."""

    labels: tuple[str, ...]
    classes: tuple[int, ...]                       # the positive classes analysed (1 for binary; all for multiclass)
    attributes: tuple[tuple[str, ...], ...]        # attribute sets gated on
    reported: tuple[tuple[str, ...], ...]          # attribute sets reported (singles + intersections)
    disparities: dict[tuple[tuple[str, ...], int], Any] = field(default_factory=dict)
    groups: dict[tuple[tuple[str, ...], int], list[Any]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)   # attribute -> why it cannot be judged
    skipped_args: list[dict[str, str]] = field(default_factory=list)  # the same reasons as message arguments (column, value, split)
    unknown: dict[str, int] = field(default_factory=dict)   # attribute -> count of missing values


def class_name(labels: tuple[str, ...], positive: int) -> str:
    """The label of the positive class a table or disparity is about."""
    return labels[positive]


def fairness_analysis(ctx: "RunContext", options: FairnessOptions) -> FairnessAnalysis:
    """The run's analysis for these options (and this model), computed once and shared by the checks."""
    from harness_fairness import metrics as fm

    data = ctx.require_data()
    key = ("harness_fairness.analysis", ctx.require_predictor().handle.weights_sha256, tuple(options.attributes or ()), options.min_group_size, options.group_interval,
           options.group_n_boot, options.level, options.intersections)
    if key in ctx.extra:
        return ctx.extra[key]
    split = data.eval
    columns = list(options.attributes or data.sensitive_columns)
    missing = [c for c in columns if c not in split.sensitive]
    if missing:
        raise ValueError(f"sensitive attribute(s) {', '.join(missing)} are not in data.sensitive ({', '.join(data.sensitive_columns) or 'none'})")
    predictions = ctx.require_predictor().predict(split.texts)
    labels = data.label_names
    classes = (1,) if len(labels) == 2 else tuple(range(len(labels)))
    analysis = FairnessAnalysis(labels, classes, (), ())
    judged = []
    for column in columns:
        values = split.sensitive[column]
        unknown = sum(1 for v in values if v == "unknown")
        if unknown:
            analysis.unknown[column] = unknown
        if len(set(values)) < 2:
            analysis.skipped[column] = f"attribute {column!r} has a single value ({values[0]!r}) in the {split.name} split"
            analysis.skipped_args.append({"column": repr(column), "value": repr(values[0]), "split": split.name})
        else:
            judged.append(column)
    analysis.reported = tuple(fm.attribute_sets(judged, intersections=True))
    analysis.attributes = tuple(a for a in analysis.reported if options.intersections or len(a) == 1)
    seed = int(ctx.rng("fairness").integers(0, 2**31 - 1))
    tables = [(attrs, positive) for attrs in analysis.reported for positive in classes]
    # every table in one call: with group_interval: bootstrap they share one resample matrix
    analysis.groups = fm.group_metric_tables(
        split.labels, predictions, split.sensitive, tables, min_count=options.min_group_size,
        n_boot=options.group_n_boot, level=options.level, seed=seed, method=options.group_interval,
    )
    for attrs, positive in tables:
        if attrs in analysis.attributes:
            # closed-form intervals (Newcombe / MOVER pairs, Bonferroni): no resampling, no seed
            analysis.disparities[(attrs, positive)] = fm.disparities(
                split.labels, predictions, split.sensitive, attrs, positive=positive,
                min_count=options.min_group_size, level=options.level, rows=analysis.groups[(attrs, positive)],
            )
    ctx.extra[key] = analysis
    return analysis


#: The limitation lines as catalog msgids (names are data: passed as args, shown untranslated).
SINGLE_VALUE_NOTE = N_("attribute {column} has a single value ({value}) in the {split} split: disparities on it cannot be judged.")
UNKNOWN_NOTE = N_("{count} example(s) have no value for {column}; they form the group 'unknown'.")
INSUFFICIENT_NOTE = N_("group {group} of {attribute} has {count} examples, below the minimum: insufficient data, not judged.")


def _note(template: str, **args: object) -> dict[str, object]:
    """A limitation line as ``{"text", "message_id", "message_args"}`` (docs/plugins.md, result fields)."""
    return {"text": template.format(**args), "message_id": template, "message_args": args}


def limitations(analysis: FairnessAnalysis) -> list[dict[str, object]]:
    """What the analysis could not judge, as lines for the report's limitations (mappings with a message id)."""
    notes = []
    for column, why in analysis.skipped.items():
        args = next((a for a in analysis.skipped_args if a.get("column") == repr(column)), None)
        if args is not None and why == f"attribute {args['column']} has a single value ({args['value']}) in the {args['split']} split":
            notes.append(_note(SINGLE_VALUE_NOTE, **args))
        else:
            notes.append({"text": f"{why}: disparities on it cannot be judged."})
    notes += [_note(UNKNOWN_NOTE, count=count, column=repr(column)) for column, count in analysis.unknown.items()]
    seen = set()
    for (attrs, _), disparity in analysis.disparities.items():
        for group, count in disparity.insufficient_groups:
            if (attrs, group) not in seen:
                seen.add((attrs, group))
                notes.append(_note(INSUFFICIENT_NOTE, group=repr(group), attribute=" & ".join(attrs), count=count))
    return notes


def worst_interval(metrics: list[Metric], pick: Callable[..., float], level: float) -> Interval | None:
    """``[worst low, worst high]`` over attributes: covers the worst true value when each interval covers its own."""
    if any(m.interval is None for m in metrics):
        return None
    lows = [m.interval.low for m in metrics if m.interval is not None]
    highs = [m.interval.high for m in metrics if m.interval is not None]
    methods = sorted({m.interval.method for m in metrics if m.interval is not None})
    return Interval(pick(lows), pick(highs), level, f"worst over attributes of {', '.join(methods)}")
