"""Typed results: what a check returns and what a run writes to results.json.

Frozen dataclasses cross every boundary (check -> runner -> writers), so a
plugin cannot mutate another plugin's result, and ``to_dict``/``from_dict``
give the exact JSON layout that ``schema/results.schema.json`` describes.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping

from harness.text.i18n import PLAIN, Plain, format_message, lookup, status_word, translator
from harness.text.numbers import NOT_AVAILABLE, format_interval, format_limit, format_number
from harness.stats.intervals import Interval

SCHEMA_VERSION = "1.0"

Status = Literal["pass", "fail", "inconclusive", "warn", "error", "skipped", "not_applicable"]
STATUSES: tuple[str, ...] = ("pass", "fail", "inconclusive", "warn", "error", "skipped", "not_applicable")
#: Statuses of a gated check that decided nothing: the verdict cannot read a plain PASS over them.
UNDECIDED: tuple[str, ...] = ("inconclusive", "skipped", "not_applicable")


def _clean_number(value: Any) -> Any:
    """JSON has no NaN/inf: they become null so results.json stays valid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class Metric:
    """One number a reviewer reads, with its uncertainty when it has one.

    ``n`` is the number of examples the interval rests on (for a disparity
    over groups: the smallest judged group). The gate uses it to estimate how
    many examples would decide a threshold the interval straddles.
    """

    name: str
    value: float | None
    interval: Interval | None = None
    description: str = ""
    n: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {
            "name": self.name,
            "value": _clean_number(self.value),
            "interval": None
            if self.interval is None
            else {
                "low": _clean_number(self.interval.low),
                "high": _clean_number(self.interval.high),
                "level": self.interval.level,
                "method": self.interval.method,
            },
            "description": self.description,
        }
        if self.n is not None:
            data["n"] = int(self.n)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Metric":
        interval = data.get("interval")
        return cls(
            name=data["name"],
            value=data.get("value"),
            interval=None if interval is None else Interval(**interval),
            description=data.get("description", ""),
            n=data.get("n"),
        )


Outcome = Literal["pass", "fail", "inconclusive"]
GateOn = Literal["interval", "estimate"]


@dataclass(frozen=True)
class ThresholdOutcome:
    """The comparison made for one threshold and its outcome: pass, fail or inconclusive.

    With ``gate_on="interval"`` (the default for a metric that carries an
    interval) the whole interval must lie on the allowed side to pass and on
    the wrong side to fail; an interval that contains the bound decides
    nothing (``inconclusive``), an equivalence-test reading that puts the
    burden of proof on the model. ``gate_on="estimate"`` compares the point
    estimate alone. ``needed_n`` estimates how many examples (per group, for
    group metrics) would make the interval narrow enough to decide.
    """

    metric: str
    op: Literal["min", "max"]
    bound: float
    value: float | None
    outcome: Outcome
    gate_on: GateOn = "estimate"
    interval: tuple[float, float] | None = None
    needed_n: int | None = None
    #: The examples the interval rests on now (``Metric.n``: the smallest group for group metrics).
    n: int | None = None

    @property
    def passed(self) -> bool:
        return self.outcome == "pass"

    @property
    def comparison(self) -> str:
        return self.comparison_in()

    def comparison_in(self, language: str = "en") -> str:
        """The comparison as a formula (``accuracy = 0.925 [0.885, 0.952] >= 0.8``); only ``n/a`` is a word."""
        sign = ">=" if self.op == "min" else "<="
        if self.value is None:
            return f"{self.metric} = {translator(language).gettext(NOT_AVAILABLE)} {sign} {format_limit(self.bound)}"
        shown = format_number(self.value)
        if self.gate_on == "interval" and self.interval is not None:
            shown += f" {format_interval(*self.interval)}"
        return f"{self.metric} = {shown} {sign} {format_limit(self.bound)}"

    @property
    def sentence(self) -> str:
        """The outcome in plain words, as the report, Markdown and JUnit print it."""
        return self.sentence_in()

    def sentence_in(self, language: str = "en", style: Plain = PLAIN) -> str:
        """:attr:`sentence` in ``language``; ``style`` marks the metric name as data (the HTML report)."""
        _ = translator(language).gettext
        metric, limit = style.data(self.metric), format_limit(self.bound)
        at_least = self.op == "min"
        if self.value is None:
            template = (_("{metric} could not be computed, so its threshold (at least {limit}) cannot be met") if at_least
                        else _("{metric} could not be computed, so its threshold (at most {limit}) cannot be met"))
            return style.format(template, metric=metric, limit=limit)
        if self.gate_on == "interval" and self.interval is not None:
            low, high = (format_number(v) for v in self.interval)
            if self.outcome == "inconclusive":
                if self.needed_n and self.n:
                    template = _("the interval [{low}, {high}] of {metric} contains the limit {limit}: more examples are needed "
                                 "(about {needed} examples would decide it, where the interval rests on {n} now)")
                else:
                    template = _("the interval [{low}, {high}] of {metric} contains the limit {limit}: more examples are needed")
                return style.format(template, low=low, high=high, metric=metric, limit=limit, needed=self.needed_n, n=self.n)
            if self.outcome == "pass":
                template = (_("the whole interval [{low}, {high}] of {metric} meets the limit (at least {limit})") if at_least
                            else _("the whole interval [{low}, {high}] of {metric} meets the limit (at most {limit})"))
            else:
                template = (_("the whole interval [{low}, {high}] of {metric} misses the limit (at least {limit})") if at_least
                            else _("the whole interval [{low}, {high}] of {metric} misses the limit (at most {limit})"))
            return style.format(template, low=low, high=high, metric=metric, limit=limit)
        if self.outcome == "pass":
            template = (_("{metric} = {value} meets the limit (at least {limit}; point estimate)") if at_least
                        else _("{metric} = {value} meets the limit (at most {limit}; point estimate)"))
        else:
            template = (_("{metric} = {value} misses the limit (at least {limit}; point estimate)") if at_least
                        else _("{metric} = {value} misses the limit (at most {limit}; point estimate)"))
        return style.format(template, metric=metric, value=format_number(self.value), limit=limit)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "op": self.op,
            "bound": self.bound,
            "value": _clean_number(self.value),
            "outcome": self.outcome,
            "passed": self.passed,
            "gate_on": self.gate_on,
            "interval": None if self.interval is None else [_clean_number(v) for v in self.interval],
            "needed_n": self.needed_n,
            "n": self.n,
            "comparison": self.comparison,
            "sentence": self.sentence,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ThresholdOutcome":
        interval = data.get("interval")
        return cls(
            metric=data["metric"],
            op=data["op"],
            bound=data["bound"],
            value=data.get("value"),
            outcome=data.get("outcome") or ("pass" if data.get("passed") else "fail"),
            gate_on=data.get("gate_on", "estimate"),
            interval=None if interval is None else (interval[0], interval[1]),
            needed_n=data.get("needed_n"),
            n=data.get("n"),
        )


def suite_of(check_id: str) -> str:
    """The suite of a check: its id up to the first dot (``accuracy.macro_f1`` -> ``accuracy``; ``unnamed`` if empty)."""
    return check_id.split(".", 1)[0] or "unnamed"


@dataclass(frozen=True)
class CheckResult:
    """What one check found. ``status`` is final once the runner has gated it."""

    id: str
    title: str
    status: Status
    message: str = ""
    metrics: tuple[Metric, ...] = ()
    thresholds: tuple[ThresholdOutcome, ...] = ()
    evidence: Mapping[str, Any] = field(default_factory=dict)
    regulations: tuple[str, ...] = ()
    plugin: str = ""
    gated: bool = True
    duration_s: float = 0.0
    inputs_key: str = ""
    #: Set by the runner when ``run`` raised (or timed out, or returned no CheckResult):
    #: ``{"type": exception class name, "traceback": the formatted traceback, redacted}``.
    #: ``None`` otherwise, and then absent from results.json.
    error: Mapping[str, Any] | None = None
    #: Optional: the English message as a catalog msgid with ``{name}`` placeholders, and their values.
    #: A report in another language shows ``message_id`` translated and formatted with ``message_args``;
    #: without them it shows ``message`` as the plugin wrote it, marked as English. Absent from results.json when empty.
    message_id: str = ""
    message_args: Mapping[str, Any] = field(default_factory=dict)

    def metric(self, name: str) -> Metric | None:
        for metric in self.metrics:
            if metric.name == name:
                return metric
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "message": self.message,
            "metrics": [m.to_dict() for m in self.metrics],
            "thresholds": [t.to_dict() for t in self.thresholds],
            "evidence": _json_safe(self.evidence),
            "regulations": list(self.regulations),
            "plugin": self.plugin,
            "gated": self.gated,
            "duration_s": round(self.duration_s, 4),
            "inputs_key": self.inputs_key,
            **({"error": _json_safe(self.error)} if self.error is not None else {}),
            **({"message_id": self.message_id} if self.message_id else {}),
            **({"message_args": _json_safe(self.message_args)} if self.message_args else {}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "CheckResult":
        return cls(
            id=data["id"],
            title=data["title"],
            status=data["status"],
            message=data.get("message", ""),
            metrics=tuple(Metric.from_dict(m) for m in data.get("metrics", [])),
            thresholds=tuple(ThresholdOutcome.from_dict(t) for t in data.get("thresholds", [])),
            evidence=data.get("evidence", {}),
            regulations=tuple(data.get("regulations", [])),
            plugin=data.get("plugin", ""),
            gated=data.get("gated", True),
            duration_s=data.get("duration_s", 0.0),
            inputs_key=data.get("inputs_key", ""),
            error=data.get("error"),
            message_id=data.get("message_id", ""),
            message_args=data.get("message_args") or {},
        )


def _json_safe(value: Any) -> Any:
    """Evidence comes from plugins: turn numpy scalars/arrays and NaN into plain JSON."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return _json_safe(value.tolist())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _json_safe(dataclasses.asdict(value))
    return _clean_number(value)


def _first_sentence(text: str) -> str:
    """The reason a coverage line quotes: the message's first sentence (messages lead with it)."""
    first = (text or "").strip().split("\n", 1)[0]
    end = first.find(". ")
    first = (first[:end] if end >= 0 else first).rstrip(".")
    return first if len(first) <= REASON_CHARS else first[: REASON_CHARS - 1].rstrip() + "\u2026"


#: A coverage line quotes at most this much of each reason (the check's own message has the rest).
REASON_CHARS = 120


def _reason(check: "CheckResult") -> str:
    """Why a gated check decided nothing, in a few words: the straddled limit, else the message's first sentence."""
    for outcome in check.thresholds:
        if outcome.outcome == "inconclusive" and outcome.interval is not None:
            low, high = outcome.interval
            return f"interval [{format_number(low)}, {format_number(high)}] contains {format_limit(outcome.bound)}"
    return _first_sentence(check.message)


def _reason_in(check: "CheckResult", language: str, style: Plain) -> str:
    """:func:`_reason` in ``language``: the limit sentence translated; the message's sentence translated when its id is known."""
    if language == "en" and style is PLAIN:
        return _reason(check)
    for outcome in check.thresholds:
        if outcome.outcome == "inconclusive" and outcome.interval is not None:
            low, high = outcome.interval
            return style.format(translator(language).gettext("interval [{low}, {high}] contains {limit}"),
                                low=format_number(low), high=format_number(high), limit=format_limit(outcome.bound))
    if check.message_id and language != "en":
        try:
            return _first_sentence(format_message(translator(language), check.message_id, dict(check.message_args)))
        except (KeyError, IndexError, ValueError):
            pass  # a catalog entry whose placeholders do not fit: the plugin's own words below
    found = lookup(translator(language), check.message) if language != "en" else None
    if found:
        return style.format("{text}", text=_first_sentence(found))
    reason = _first_sentence(check.message)
    return style.english(reason) if reason else reason


@dataclass(frozen=True)
class Coverage:
    """What the verdict rests on: how many gated checks decided, which could not, and why.

    A gated check decides when it passed or failed (or errored: that is
    reported as an error). One that is inconclusive, skipped or not
    applicable decided nothing, so the verdict cannot read a plain PASS over
    it. Informational (``gate: false``) findings are counted apart, never as
    gate failures.
    """

    gated: int
    decided: int
    undecided: tuple[tuple[str, str, str], ...] = ()   # (check id, status, reason)
    informational: int = 0
    informational_findings: int = 0                     # non-gated checks that failed or warned

    @classmethod
    def of(cls, checks: "tuple[CheckResult, ...] | list[CheckResult]") -> "Coverage":
        gated = [c for c in checks if c.gated]
        undecided = tuple((c.id, c.status, _reason(c)) for c in gated if c.status in UNDECIDED)
        informational = [c for c in checks if not c.gated]
        return cls(
            gated=len(gated),
            decided=sum(1 for c in gated if c.status in ("pass", "fail", "warn")),
            undecided=undecided,
            informational=len(informational),
            informational_findings=sum(1 for c in informational if c.status in ("fail", "warn", "inconclusive")),
        )

    @property
    def line(self) -> str:
        """One sentence: "14 of 15 gated checks decided; fairness.counterfactual: not applicable, ..."."""
        return self.line_in()

    def line_in(self, language: str = "en", style: Plain = PLAIN, checks: "tuple[CheckResult, ...] | list[CheckResult]" = ()) -> str:
        """:attr:`line` in ``language``. ``checks`` (the run's) lets the reasons be worded again in that language;
        without them the reasons recorded in English are used, marked as English."""
        tr = translator(language)
        by_id = {c.id: c for c in checks}
        parts = [style.format(tr.ngettext("{decided} of {gated} gated check decided", "{decided} of {gated} gated checks decided", self.gated),
                              decided=self.decided, gated=self.gated)]
        for check_id, status, reason in self.undecided:
            check = by_id.get(check_id)
            shown = _reason_in(check, language, style) if check is not None else (style.english(reason) if reason else reason)
            template = tr.gettext("{check}: {status}, {reason}") if shown else tr.gettext("{check}: {status}")
            parts.append(style.format(template, check=style.data(check_id), status=status_word(status, language), reason=shown))
        if self.informational:
            parts.append(style.format(
                tr.ngettext("{count} informational check ({findings} with findings) not gated",
                            "{count} informational checks ({findings} with findings) not gated", self.informational),
                count=self.informational, findings=self.informational_findings))
        return style.join(tr.gettext("; "), parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "gated": self.gated,
            "decided": self.decided,
            "undecided": [{"id": i, "status": s, "reason": r} for i, s, r in self.undecided],
            "informational": self.informational,
            "informational_findings": self.informational_findings,
            "line": self.line,
        }


@dataclass(frozen=True)
class AuditResult:
    """Everything one run produced; the body of results.json.

    ``provenance`` says what was audited (config, data and weight hashes,
    versions); ``run`` holds what differs between two identical runs (times,
    host, durations), kept apart so the rest can be compared byte for byte.
    """

    verdict: Literal["pass", "fail", "error", "incomplete"]
    exit_code: int
    checks: tuple[CheckResult, ...]
    provenance: Mapping[str, Any]
    predictor: Mapping[str, Any] = field(default_factory=dict)
    run: Mapping[str, Any] = field(default_factory=dict)
    complete: bool = True
    schema_version: str = SCHEMA_VERSION
    #: Per-example outputs on the evaluation split (columnar: ids, labels,
    #: predictions, scores), kept so a later run can be compared with paired tests.
    predictions: Mapping[str, Any] | None = None
    #: The comparison with a baseline run (``harness.compare.Comparison.to_dict()``), when one was given.
    comparison: Mapping[str, Any] | None = None
    #: The digests of inputs, body and outputs (harness.integrity.manifest), as last written.
    manifest: Mapping[str, Any] | None = None
    #: The Ed25519 signature block (harness.integrity.signing) once ``harness sign`` ran.
    signature: Mapping[str, Any] | None = None

    @property
    def counts(self) -> dict[str, int]:
        counts = {status: 0 for status in STATUSES}
        for check in self.checks:
            counts[check.status] += 1
        return counts

    @property
    def coverage(self) -> "Coverage":
        return Coverage.of(self.checks)

    def check(self, check_id: str) -> CheckResult | None:
        """The result of ``check_id`` (for example ``\"accuracy.performance\"``), or ``None`` when it did not run."""
        for check in self.checks:
            if check.id == check_id:
                return check
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "complete": self.complete,
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "counts": self.counts,
            "coverage": self.coverage.to_dict(),
            # Check durations differ between identical runs: they live in the run block (run.check_durations).
            "checks": [{k: v for k, v in c.to_dict().items() if k != "duration_s"} for c in self.checks],
            "provenance": _json_safe(self.provenance),
            "predictor": _json_safe(self.predictor),
            "run": _json_safe({**self.run, "check_durations": {c.id: round(c.duration_s, 4) for c in self.checks}}),
            **({"predictions": _json_safe(self.predictions)} if self.predictions is not None else {}),
            **({"comparison": _json_safe(self.comparison)} if self.comparison is not None else {}),
            **({"manifest": _json_safe(self.manifest)} if self.manifest is not None else {}),
            **({"signature": _json_safe(self.signature)} if self.signature is not None else {}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "AuditResult":
        durations = (data.get("run") or {}).get("check_durations") or {}
        return cls(
            verdict=data["verdict"],
            exit_code=data["exit_code"],
            checks=tuple(CheckResult.from_dict({"duration_s": durations.get(c.get("id"), 0.0), **c}) for c in data["checks"]),
            provenance=data.get("provenance", {}),
            predictor=data.get("predictor", {}),
            run=data.get("run", {}),
            complete=data.get("complete", True),
            schema_version=data.get("schema_version", SCHEMA_VERSION),
            predictions=data.get("predictions"),
            comparison=data.get("comparison"),
            manifest=data.get("manifest"),
            signature=data.get("signature"),
        )
