"""The check API a plugin implements, and the registry checks are kept in.

A check is a class with a few declared attributes (id, title, what it is
evidence for, default thresholds, an ``Options`` model) and one method,
``run(ctx, options) -> CheckResult``. Declaring thresholds and options as data
lets ``harness checks`` list them, lets the config be validated before any
model loads, and lets the core (not each plugin) apply the gate the same way
for every check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Mapping

from pydantic import BaseModel, ConfigDict

from harness.results.types import CheckResult, Metric, Status

if TYPE_CHECKING:
    from harness.run.context import RunContext


#: Check ids are "<suite>.<name>" in lowercase (the JSON schema and config keys rely on it).
CHECK_ID_PATTERN = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)+")


class CheckOptions(BaseModel):
    """Base of a check's options; unknown keys are refused so typos surface."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Threshold:
    """A bound on one metric: ``min`` (value must be >=) and/or ``max`` (<=)."""

    min: float | None = None
    max: float | None = None

    def describe(self) -> str:
        parts = []
        if self.min is not None:
            parts.append(f">= {self.min:g}")
        if self.max is not None:
            parts.append(f"<= {self.max:g}")
        return " and ".join(parts) or "none"


class Check:
    """Base class of every check, built-in or third-party.

    Subclasses set the class attributes and implement :meth:`run`. ``run``
    computes metrics and evidence and returns ``self.result(...)``; the runner
    then compares metrics with the thresholds in force and sets pass/fail.
    Return ``status="not_applicable"`` (with a reason) when the check's method
    does not apply to this data or model (no identity terms to swap, a binary-only
    method on a multiclass task), ``status="skipped"`` when it was not asked
    for or lacks an input the config should give, ``status="inconclusive"``
    when it ran but cannot decide (e.g. an audit without the power to refute a
    claim), or ``status="warn"`` for findings that must be read but never
    gate. A gated check that did not decide keeps the verdict from a plain PASS.
    Metrics with an interval are gated by the core on the whole interval.
    """

    id: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str] = ""
    #: The metric that ``min``/``max`` at the top level of a check's config refer to.
    primary_metric: ClassVar[str | None] = None
    default_thresholds: ClassVar[Mapping[str, Threshold]] = {}
    #: Regulation clauses this check is evidence for (identifiers of ``harness/plugin/regulation.py``).
    regulations: ClassVar[tuple[str, ...]] = ()
    #: The languages (ISO 639-1 codes, e.g. ``("en", "zh")``) this check's method is valid for;
    #: ``None`` (the default) means any language. On evaluation texts mostly in other
    #: languages the runner does not call :meth:`run` and reports ``not_applicable``
    #: with the measured language shares.
    languages: ClassVar[tuple[str, ...] | None] = None
    Options: ClassVar[type[CheckOptions]] = CheckOptions

    def supported_languages(self, options: CheckOptions) -> tuple[str, ...] | None:
        """The languages this check can test with these ``options`` (default: :attr:`languages`).

        Override when an option changes them: an attack recipe built for English
        supports ``("en",)``, a Chinese recipe ``("zh",)``.
        """
        return self.languages

    def run(self, ctx: "RunContext", options: CheckOptions) -> CheckResult:  # pragma: no cover - abstract
        """Compute the check on ``ctx`` (data, shared predictor, seeded RNGs) with its validated ``options``; return ``self.result(...)``.

        Do not gate here: return metrics (with intervals where a reviewer reads them)
        and the runner applies the thresholds. Raising makes the check ``error``.
        """
        raise NotImplementedError

    def result(
        self,
        *,
        metrics: list[Metric] | tuple[Metric, ...] = (),
        evidence: Mapping[str, Any] | None = None,
        message: str = "",
        status: Status = "pass",
        message_id: str = "",
        message_args: Mapping[str, Any] | None = None,
    ) -> CheckResult:
        """Build this check's result; the runner fills thresholds, timing and plugin.

        ``message_id`` and ``message_args`` (optional) let a report in another
        language translate the message: ``message`` is then normally
        ``message_id.format(**message_args)``, the English text.
        """
        return CheckResult(
            id=self.id,
            title=self.title,
            status=status,
            message=message,
            message_id=message_id,
            message_args=dict(message_args or {}),
            metrics=tuple(metrics),
            evidence=dict(evidence or {}),
            regulations=tuple(self.regulations),
        )


@dataclass(frozen=True)
class RegisteredCheck:
    """A check class as registered, with the plugin that registered it."""

    check_class: type[Check]
    plugin: str

    @property
    def id(self) -> str:
        return self.check_class.id


@dataclass
class CheckRegistry:
    """Check id -> registered check. Refuses a second registration of an id."""

    checks: dict[str, RegisteredCheck] = field(default_factory=dict)

    def register(self, check_class: type[Check], plugin: str) -> None:
        if not (isinstance(check_class, type) and issubclass(check_class, Check)):
            raise TypeError(f"register() expects a subclass of harness.Check, got {check_class!r}")
        for attr in ("id", "title"):
            if not isinstance(getattr(check_class, attr, None), str):
                raise TypeError(f"{check_class.__name__} must set the class attribute {attr!r}")
        if not CHECK_ID_PATTERN.fullmatch(check_class.id):
            raise ValueError(
                f"check id {check_class.id!r} from plugin {plugin!r} must be dotted lowercase, "
                "e.g. 'myplugin.my_check'"
            )
        existing = self.checks.get(check_class.id)
        if existing is not None:
            raise ValueError(
                f"check id {check_class.id!r} from plugin {plugin!r} is already registered "
                f"by plugin {existing.plugin!r}"
            )
        self.checks[check_class.id] = RegisteredCheck(check_class, plugin)

    def get(self, check_id: str) -> RegisteredCheck | None:
        return self.checks.get(check_id)

    def ids(self) -> list[str]:
        return sorted(self.checks)
