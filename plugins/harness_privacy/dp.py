"""Differentially private fine-tuning (``fine_tune: {dp: {...}}``) and the check ``privacy.dp_epsilon``.

``train_hook`` validates the ``dp`` options (one-line ConfigError, exit 2),
then trains with Opacus (``dp_training.py``) and puts the accounting in
``TrainingReport.extra["dp"]``; the runner saves it with the model and
restores it on ``--resume``. The check reads it back from ``ctx.training``:
the spent epsilon (at the recorded delta) is the gated metric. A model trained
without DP has no formal guarantee, so its epsilon is undefined (``None``)
and a ``max`` bound on it fails: the gate never lets "unknown" pass as private.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness import Check, CheckOptions, CheckResult, ConfigError, Interval, Metric, N_, Threshold

if TYPE_CHECKING:
    from harness import AuditResult, DatasetBundle, ModelHandle, ReportSection, RunContext, TrainingReport
    # The config models are not in the public API: annotations only.
    from harness.config.settings import AuditConfig, ModelConfig

TEMPLATES = Path(__file__).parent / "templates"
KEY = "dp"
WHERE = "model.fine_tune.dp"


NO_GUARANTEE = N_("no formal guarantee: the model was not trained with differential privacy")
#: The check's message when the model was trained with DP (numbers passed formatted), by (delta auto, frozen layers).
SPENT = {
    (False, False): N_("({epsilon}, {delta})-DP by the {accountant} accountant: noise multiplier {noise}, sample rate {rate}, "
                       "{steps} steps, clipping norm {norm}"),
    (True, False): N_("({epsilon}, {delta})-DP by the {accountant} accountant: noise multiplier {noise}, sample rate {rate}, "
                      "{steps} steps, clipping norm {norm}; delta auto = 1/(10 n) for n = {n} training examples (well below 1/n)"),
    (False, True): N_("({epsilon}, {delta})-DP by the {accountant} accountant: noise multiplier {noise}, sample rate {rate}, "
                      "{steps} steps, clipping norm {norm}; frozen: {frozen}"),
    (True, True): N_("({epsilon}, {delta})-DP by the {accountant} accountant: noise multiplier {noise}, sample rate {rate}, "
                     "{steps} steps, clipping norm {norm}; delta auto = 1/(10 n) for n = {n} training examples (well below 1/n); "
                     "frozen: {frozen}"),
}


class DPOptions(BaseModel):
    """The ``fine_tune.dp`` options. Epochs, batch size and learning rate are the fine_tune ones."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target_epsilon: float = Field(gt=0, le=1000, description="privacy budget the noise is calibrated to")
    delta: float | Literal["auto"] = Field("auto", description="'auto' = 1 / (10 x training examples), canaries included")
    max_grad_norm: float | None = Field(None, gt=0, description="per-example clipping bound (default: fine_tune.max_grad_norm)")
    accountant: Literal["prv", "rdp", "gdp"] = "prv"
    grad_sample_mode: Literal["hooks", "ghost", "auto"] = Field("auto", description="auto = ghost clipping where Opacus supports the model")
    max_physical_batch_size: int = Field(32, ge=1, le=4096, description="memory bound: logical batches are split into physical ones")
    freeze_embeddings: bool = Field(False, description="train without the embedding tables (fewer noisy coordinates; listed in the accounting)")
    gradient_canaries: int | Literal["auto"] = Field(
        "auto", description="white-box audit: Dirac gradient canaries inserted before the noise (auto = the count with the most "
                            "audit power at this delta; 0 or false = none)")

    @field_validator("gradient_canaries", mode="before")
    @classmethod
    def _gradient_canaries(cls, value: Any) -> Any:
        if value is False:
            return 0
        if value is True:
            return "auto"
        if isinstance(value, int) and not isinstance(value, bool) and value != 0 and not 10 <= value <= 100_000:
            raise ValueError(f"expected auto, 0 (none) or a count from 10 to 100000, got {value!r}")
        return value

    @field_validator("delta", mode="before")
    @classmethod
    def _delta(cls, value: Any) -> Any:
        if isinstance(value, str) and value != "auto":
            try:  # YAML reads 1e-5 (no dot) as a string
                value = float(value)
            except ValueError:
                raise ValueError(f"expected 'auto' or a number between 0 and 1, got {value!r}") from None
        if isinstance(value, bool) or (not isinstance(value, (int, float, str))):
            raise ValueError(f"expected 'auto' or a number between 0 and 1, got {value!r}")
        if isinstance(value, (int, float)) and not 0 < value < 1:
            raise ValueError(f"must be between 0 and 1 (exclusive), got {value!r}")
        return value


def dp_options(spec: "ModelConfig") -> DPOptions | None:
    """The validated ``fine_tune.dp`` options, or ``None`` when DP training is not asked for."""
    settings = spec.fine_tune
    extra = dict(getattr(settings, "model_extra", None) or {}) if settings is not None else {}
    if KEY not in extra:
        return None
    if "adversarial_augment" in extra:
        raise ConfigError(f"{WHERE}: cannot be combined with model.fine_tune.adversarial_augment yet (the DP accounting does not cover a second training pass)")
    raw = extra[KEY]
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{WHERE}: expected a mapping such as {{target_epsilon: 8}}, got {raw!r}")
    try:
        return DPOptions(**raw)
    except ValidationError as error:
        first = error.errors()[0]
        loc = [str(part) for part in first["loc"] if not str(part).startswith(("function-", "literal[", "float"))]
        name = loc[0] if loc else ""
        if first["type"] == "extra_forbidden":
            from harness import did_you_mean

            raise ConfigError(f"{WHERE}.{name}: unknown option{did_you_mean(name, list(DPOptions.model_fields))}; expected one of: {', '.join(DPOptions.model_fields)}") from None
        if first["type"] == "missing":
            raise ConfigError(f"{WHERE}.{name}: required (the privacy budget, e.g. target_epsilon: 8)") from None
        message = first["msg"].removeprefix("Value error, ")
        got = first.get("input")
        shown = "" if repr(got) in message or isinstance(got, (dict, list)) else f" (got {got!r})"
        raise ConfigError(f"{WHERE}.{name}: {message}{shown}") from None


def validate_config(config: "AuditConfig") -> None:
    """``model.fine_tune.dp`` and ``model.fine_tune.canaries``: bad options end the run (exit 2) before data or model load."""
    from harness_privacy.canaries import canary_options

    options = dp_options(config.model)
    canary_options(config.model, dp=options is not None)


#: ``delta: auto`` is 1 / (AUTO_DELTA_FACTOR x training examples): well below 1/n, where a mechanism
#: that publishes one random training example outright would still be (0, 1/n)-DP.
AUTO_DELTA_FACTOR = 10
AUTO_DELTA_SOURCE = "auto (1/(10 n_train))"


def auto_delta(n_train: int) -> float:
    return 1.0 / (AUTO_DELTA_FACTOR * max(1, int(n_train)))


def _plant_canaries(model: "ModelHandle", data: "DatasetBundle", spec: "ModelConfig", ctx: "RunContext", dp_on: bool) -> "tuple[DatasetBundle, dict[str, Any] | None]":
    """The training data with the audit's canaries planted (target runs only), and their provenance record."""
    from harness_privacy import canaries, shadow

    if data.source.startswith(shadow.SOURCE_PREFIX):  # shadow models and the non-DP twin: no canaries
        return data, None
    options = canaries.canary_options(spec, dp=dp_on)
    if options is None:
        return data, None
    seed = ctx.seed if options.seed is None else options.seed
    planted = canaries.make_canaries(canaries.resolve_count(options, len(data.splits["train"])), seed, len(data.label_names), model.tokenizer, options.length)
    record = canaries.record_for(planted, options)
    record["train_examples_without_canaries"] = len(data.splits["train"])
    ctx.progress(f"canaries: {record['included']} of {record['count']} planted in the training data (seed {seed}) for the one-run privacy audit")
    return canaries.plant(data, planted), record


def _gradient_canary_count(options: DPOptions, delta: float, data: "DatasetBundle") -> int:
    """How many gradient canaries this DP run inserts: none for shadow models (they only mimic the target)."""
    from harness_privacy import shadow
    from harness_privacy.gradient_canaries import auto_count

    if data.source.startswith(shadow.SOURCE_PREFIX) or options.gradient_canaries == 0:
        return 0
    return auto_count(delta) if options.gradient_canaries == "auto" else int(options.gradient_canaries)


def train_hook(model: "ModelHandle", data: "DatasetBundle", spec: "ModelConfig", ctx: "RunContext") -> "TrainingReport | None":
    """DP-SGD when ``fine_tune.dp`` is set; the core loop with planted canaries when only ``fine_tune.canaries``
    is; ``None`` otherwise (the next plugin or the core trains)."""
    options = dp_options(spec)
    train_data, record = _plant_canaries(model, data, spec, ctx, options is not None)
    if options is None and record is None:
        return None
    settings = spec.fine_tune
    assert settings is not None
    if options is None:  # canaries asked for a non-DP run: the core loop, on the planted data
        import dataclasses

        # Not in the public API (yet): the core's fine-tuning loop, here on the data with canaries planted.
        from harness.ml.training import fine_tune

        report = fine_tune(model, train_data, settings, seed=ctx.seed, progress=not ctx.progress.quiet)
        return dataclasses.replace(report, extra={**report.extra, "canaries": record})
    from harness_privacy.dp_training import DPSettings, dp_fine_tune

    n_train = len(train_data.splits["train"])
    delta = auto_delta(n_train) if options.delta == "auto" else float(options.delta)
    dp = DPSettings(
        target_epsilon=float(options.target_epsilon),
        delta=delta,
        delta_source=AUTO_DELTA_SOURCE if options.delta == "auto" else "config",
        max_grad_norm=float(options.max_grad_norm if options.max_grad_norm is not None else settings.max_grad_norm),
        accountant=options.accountant,
        grad_sample_mode=options.grad_sample_mode,
        max_physical_batch_size=options.max_physical_batch_size,
        freeze_embeddings=options.freeze_embeddings,
        gradient_canaries=_gradient_canary_count(options, delta, data),
    )
    report = dp_fine_tune(model, train_data, settings, dp, seed=ctx.seed, progress=not ctx.progress.quiet)
    if record is not None:
        report.extra["canaries"] = record
    info = report.extra["dp"]
    if info.get("ghost_fallback_reason"):
        ctx.progress(f"DP: ghost clipping failed for this model, used per-sample hooks ({info['ghost_fallback_reason']})")
    ctx.progress(f"DP: epsilon {info['epsilon']:.3f} at delta {delta:.3g} ({info['accountant']}, {info['steps']} steps, noise multiplier {info['noise_multiplier']:.3f})")
    return report


# ---------------------------------------------------------------- the check


def _dp_info(ctx: "RunContext") -> dict[str, Any] | None:
    training = ctx.training
    extra = getattr(training, "extra", None) or {}
    info = extra.get(KEY)
    return info if isinstance(info, dict) and info.get("epsilon") is not None else None


class DPEpsilon(Check):
    id = "privacy.dp_epsilon"
    title = N_("Differential privacy budget (epsilon)")
    description = (
        "The (epsilon, delta) guarantee of DP-SGD fine-tuning as computed by Opacus' accountant from the noise "
        "multiplier, sample rate and steps actually run; a model trained without DP has no formal guarantee."
    )
    primary_metric = "epsilon"
    default_thresholds = {"epsilon": Threshold(max=8.0)}
    regulations = ("GDPR Art. 25", "GDPR Art. 32", "EU AI Act Art. 15(5)", "NIST AI RMF MEASURE 2.10", "PIPL Art. 51")
    Options = CheckOptions

    def run(self, ctx: "RunContext", options: CheckOptions) -> CheckResult:
        info = _dp_info(ctx)
        if info is None:
            metrics = [Metric(name, None) for name in ("epsilon", "delta", "noise_multiplier", "sample_rate", "steps")]
            trained = ctx.training is not None
            evidence = {"dp": None, "fine_tuned": trained, "reason": NO_GUARANTEE}
            return self.result(metrics=metrics, evidence=evidence, message=NO_GUARANTEE, message_id=NO_GUARANTEE, status="warn")
        bracket = info.get("epsilon_bracket")
        interval = None
        if bracket:
            interval = Interval(float(bracket["lower"]), float(bracket["upper"]), level=1.0, method="prv-accountant numerical bounds")
        metrics = [
            Metric("epsilon", float(info["epsilon"]), interval, description=f"spent at delta {info['delta']:.3g} ({info['accountant']} accountant); an upper bound"),
            Metric("delta", float(info["delta"])),
            Metric("noise_multiplier", float(info["noise_multiplier"])),
            Metric("sample_rate", float(info["sample_rate"]), description="Poisson sampling rate per step"),
            Metric("steps", float(info["steps"]), description="optimizer steps accounted for"),
        ]
        auto, frozen = str(info.get("delta_source", "")).startswith("auto"), bool(info.get("frozen"))
        args = {"epsilon": f"{info['epsilon']:.4g}", "delta": f"{info['delta']:.3g}", "accountant": str(info["accountant"]),
                "noise": f"{info['noise_multiplier']:.3g}", "rate": f"{info['sample_rate']:.3g}", "steps": str(info["steps"]),
                "norm": f"{info['max_grad_norm']:g}"}
        if auto:
            args["n"] = str(info.get("train_examples"))
        if frozen:
            args["frozen"] = ", ".join(info["frozen"])
        template = SPENT[auto, frozen]
        return self.result(metrics=metrics, evidence={"dp": dict(info), "fine_tuned": True},
                           message=template.format(**args), message_id=template, message_args=args)


CHECKS: tuple = (DPEpsilon,)


def report_sections(result: "AuditResult") -> "list[ReportSection] | None":
    """The accounting behind the epsilon (or why there is none), inside the check's block."""
    from harness import ReportSection

    check = result.check(DPEpsilon.id)
    if check is None or "dp" not in check.evidence:
        return None
    return [ReportSection(
        title=N_("Privacy accounting"), template="harness_privacy/dp.html",
        context={"dp": check.evidence.get("dp"), "reason": check.evidence.get("reason", NO_GUARANTEE)},
        search_path=str(TEMPLATES), check=check.id,
    )]
