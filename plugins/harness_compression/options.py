"""What to compress and how to audit it: the options every compression check accepts.

A plugin's settings live where the core keeps them for plugins: a check's own
options under ``checks:`` (validated by its ``Options`` model when the plan is
built, before anything loads; a bad value is one line and exit 2). The
compression checks all take the same :class:`CompressionOptions`; checks with
the same ``method`` / ``amount`` / ``model`` share one compressed model (built
once per run, kept in ``ctx.extra``), so a suite gives the spec once through
a YAML anchor (``suites/compression.yaml``)::

    checks:
      compression.agreement: {method: magnitude-prune, amount: 0.5}

``method`` (produced in the run from the audited model) and ``model`` (the
user's own compressed model, loaded by the harness's model loaders) exclude
each other; with neither the method is ``int8-dynamic``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from harness import CheckOptions

__all__ = ["METHODS", "DEFAULT_METHOD", "CompressionOptions", "AttackRegressionOptions", "spec_of"]

#: The compressions a run can produce: torchao int8 dynamic quantization of every nn.Linear,
#: a cast of the floating-point weights, or global L1 magnitude pruning of the nn.Linear weights.
METHODS: tuple[str, ...] = ("int8-dynamic", "fp16", "bf16", "magnitude-prune")
DEFAULT_METHOD = "int8-dynamic"
Method = Literal["int8-dynamic", "fp16", "bf16", "magnitude-prune"]


def _refuse(message: str) -> PydanticCustomError:
    # a custom error type: plan.py prints the message as it is (no "Value error, " prefix)
    return PydanticCustomError("compression_option", message)


class CompressionOptions(CheckOptions):
    method: Method | None = Field(
        None, description="compress the audited model in the run: int8-dynamic (torchao), fp16, bf16 or magnitude-prune "
        "(default int8-dynamic unless model is given)",
    )
    amount: float | None = Field(
        None, description="magnitude-prune only: the share of nn.Linear weights set to zero (global L1, 0 < amount < 1)",
        validate_default=True,
    )
    model: str | None = Field(
        None, description="your own compressed model instead (a folder, package:MODULE/sub or hub id; relative to the config file)",
        validate_default=True,
    )
    split: str | None = Field(None, description="split both models are compared on (default: data.eval_split)")
    attributes: list[str] | None = Field(None, description="sensitive attributes whose groups are compared (default: all of data.sensitive)")
    intersections: bool = Field(False, description="also compare the groups of intersections of attributes")
    min_group_size: int = Field(30, ge=1, description="groups smaller than this are reported, not judged")
    n_boot: int = Field(1000, ge=200, le=100_000, description="paired bootstrap resamples")
    level: float = Field(0.95, gt=0.5, lt=1, description="confidence level of every interval")
    n_bins: int = Field(15, ge=2, le=100, description="calibration bins (as accuracy.calibration)")
    listed: int = Field(25, ge=0, le=1000, description="disagreeing examples listed in the evidence (masked)")
    latency_examples: int = Field(64, ge=1, le=4096, description="evaluation texts timed through both models")
    latency_repeats: int = Field(3, ge=1, le=100, description="timed passes over them per model (after one warm-up)")

    @field_validator("amount")
    @classmethod
    def _amount_for_pruning(cls, amount: float | None, info: ValidationInfo) -> float | None:
        method = info.data.get("method")
        if method == "magnitude-prune":
            if amount is None:
                raise _refuse("magnitude-prune needs amount: the share of nn.Linear weights to set to zero, 0 < amount < 1")
            if isinstance(amount, bool) or not 0 < amount < 1:
                raise _refuse(f"amount must be a share strictly between 0 and 1 (got {amount!r})")
        elif amount is not None:
            raise _refuse(f"amount applies to magnitude-prune only, not to {method or DEFAULT_METHOD}")
        return amount

    @field_validator("model")
    @classmethod
    def _model_or_method(cls, model: str | None, info: ValidationInfo) -> str | None:
        if model is None:
            return None
        if not model.strip():
            raise _refuse("model must name a compressed model (a folder, package:MODULE/sub or hub id)")
        if info.data.get("method") is not None:
            raise _refuse("give either method (compress in the run) or model (your compressed model), not both")
        if model.startswith("builtin:"):
            raise _refuse(f"{model} is built from scratch in the run, not a compressed model; save one and give its folder")
        return model

    def spec(self) -> dict[str, Any]:
        """What decides the compressed model: the resolved method with its amount, or the user's model."""
        return spec_of(self)


class AttackRegressionOptions(CompressionOptions):
    """The compression options plus the attack run on both models (the robustness plugin's, same sample and seed)."""

    recipe: str = Field("auto", description="TextAttack recipe, as robustness.attack_success_rate (auto: by the texts' language)")
    examples: int = Field(30, ge=1, le=100_000, description="class-stratified sample attacked on both models")
    query_budget: int | None = Field(None, ge=1, description="model queries allowed per example")


def spec_of(options: CompressionOptions) -> dict[str, Any]:
    if options.model is not None:
        return {"model": options.model}
    method = options.method or DEFAULT_METHOD
    return {"method": method, **({"amount": float(options.amount)} if options.amount is not None else {})}
