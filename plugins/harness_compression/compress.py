"""Produce the compressed model of a run, or load the user's, as a second ``ModelHandle``.

Methods, each with the maintained library for it:

- ``int8-dynamic``: torchao's ``quantize_`` with ``Int8DynamicActivationInt8WeightConfig``
  on every ``nn.Linear`` (weights stored as int8 with a per-row scale, activations
  quantized per token at run time). ``torch.ao.quantization.quantize_dynamic`` is
  deprecated in torch 2.13 and is not used;
- ``fp16`` / ``bf16``: a cast of the floating-point weights (on a CPU, fp16 matmuls
  have no fast kernel: the latency ratio is measured, not assumed);
- ``magnitude-prune``: ``torch.nn.utils.prune.global_unstructured`` with
  ``L1Unstructured`` over the weights of every ``nn.Linear`` (``amount`` is the
  share set to zero across all of them together), made permanent with
  ``prune.remove``;
- ``model: PATH``: the user's compressed model, loaded through the
  ``harness_load_model`` hook and then the core's loader, exactly as ``model.path``.

The original is deep-copied, never changed: the run's other checks keep auditing it.
"""

from __future__ import annotations

import copy
import hashlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness import ModelHandle, Predictor, RunContext

__all__ = ["CompressedModel", "compressed_model", "build_compressed", "weights_digest", "linear_sparsity", "torchao_version"]


@dataclass
class CompressedModel:
    """The compressed twin of the audited model, with a Predictor of its own."""

    handle: "ModelHandle"
    predictor: "Predictor"
    spec: dict[str, Any]
    #: How it was made, for the evidence: library and version, modules touched, sparsity.
    details: dict[str, Any] = field(default_factory=dict)


def torchao_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("torchao")
    except PackageNotFoundError:
        return ""


def _import_torchao_quantization() -> Any:
    """``torchao.quantization``, with torchao's import-time noise about optional GPU kernels silenced.

    torchao 0.18 logs one line per optional CUDA extension it cannot load
    (``_C_mxfp8``, ``_C_cutlass_90a``) on a CPU-only torch; none is used here.
    """
    if not torchao_version():
        raise RuntimeError(
            "int8-dynamic quantization needs torchao (pip install 'audit-harness[compression]'); "
            "torch.ao.quantization.quantize_dynamic is deprecated in torch 2.13 and is not used"
        )
    quiet = [logging.getLogger(name) for name in ("torchao", "torch.utils._pytree", "torch._dynamo")]
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.CRITICAL)
    try:
        import torchao.quantization as quantization
    finally:
        for logger, level in zip(quiet, levels):
            logger.setLevel(level)
    return quantization


def _linear_modules(model: Any) -> list[tuple[str, Any]]:
    import torch

    return [(name, module) for name, module in model.named_modules() if isinstance(module, torch.nn.Linear)]


def linear_sparsity(model: Any) -> float:
    """Share of exact zeros among the weights of every ``nn.Linear`` (plain tensors only)."""
    zeros = total = 0
    for _, module in _linear_modules(model):
        weight = module.weight
        if type(weight.data) is not __import__("torch").Tensor:  # a quantized tensor subclass: not a pruning question
            continue
        zeros += int((weight.detach() == 0).sum())
        total += weight.numel()
    return zeros / total if total else 0.0


def _int8_dynamic(model: Any) -> dict[str, Any]:
    quantization = _import_torchao_quantization()
    linears = len(_linear_modules(model))
    quantization.quantize_(model, quantization.Int8DynamicActivationInt8WeightConfig())
    return {"library": f"torchao {torchao_version()}", "config": "Int8DynamicActivationInt8WeightConfig()",
            "modules": linears, "module_kind": "nn.Linear"}


def _cast(model: Any, dtype_name: str) -> dict[str, Any]:
    import torch

    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}[dtype_name]
    model.to(dtype)
    return {"library": f"torch {torch.__version__}", "dtype": str(dtype).removeprefix("torch.")}


def _prune(model: Any, amount: float) -> dict[str, Any]:
    import torch
    from torch.nn.utils import prune

    linears = _linear_modules(model)
    before = linear_sparsity(model)
    prune.global_unstructured([(module, "weight") for _, module in linears], pruning_method=prune.L1Unstructured, amount=amount)
    for _, module in linears:
        prune.remove(module, "weight")  # permanent: the mask is folded into the weight, no hooks remain
    return {"library": f"torch {torch.__version__} (torch.nn.utils.prune)", "pruning": "global L1 unstructured",
            "modules": len(linears), "module_kind": "nn.Linear", "amount": amount,
            "linear_sparsity_before": before, "linear_sparsity": linear_sparsity(model)}


def build_compressed(original: "ModelHandle", spec: dict[str, Any]) -> "tuple[ModelHandle, dict[str, Any]]":
    """A compressed deep copy of ``original`` by ``spec["method"]`` (``amount`` for pruning)."""
    from harness import ModelHandle

    method = spec["method"]
    model = copy.deepcopy(original.model).eval()
    if method == "int8-dynamic":
        details = _int8_dynamic(model)
    elif method in ("fp16", "bf16"):
        details = _cast(model, method)
    elif method == "magnitude-prune":
        details = _prune(model, float(spec["amount"]))
    else:  # the options refuse it first; kept for direct callers
        raise ValueError(f"unknown compression method {method!r}")
    handle = ModelHandle(model, original.tokenizer, original.device, f"{original.source} ({method})",
                         original.label_names, max_length=original.max_length)
    handle.weights_sha256 = weights_digest(model)
    return handle, details


def _load_user_model(ctx: "RunContext", path: str) -> "tuple[ModelHandle, dict[str, Any]]":
    """The user's compressed model, through the loading hook and then the core's loader, as ``model.path`` is."""
    from harness.ml import models
    from harness.plugin.manager import get_host

    data = ctx.require_data()
    original = ctx.require_predictor().handle
    spec = ctx.config.model.model_copy(update={"path": path, "fine_tune": None})
    handle = get_host().hook.harness_load_model(spec=spec, ctx=ctx)
    if handle is None:
        handle = models.load_model(spec, (), data.label_names, seed=ctx.seed, device=original.device, base_dir=ctx.base_dir)
    if tuple(handle.label_names) != tuple(original.label_names):
        raise ValueError(f"compression.model {path}: predicts labels ({', '.join(handle.label_names)}), "
                         f"the audited model ({', '.join(original.label_names)})")
    details = {"loaded_from": path, "location": handle.extra.get("location", path)}
    details.update(_as_saved_dtype(handle.model, _saved_dtype(details["location"])))
    handle.weights_sha256 = weights_digest(handle.model)
    return handle, details


def _saved_dtype(location: str) -> str:
    """``torch_dtype`` (``dtype`` in newer transformers) that ``save_pretrained`` wrote into config.json, if any."""
    import json
    from pathlib import Path

    try:
        config = json.loads((Path(location) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    saved = config.get("dtype") or config.get("torch_dtype") if isinstance(config, dict) else None
    return str(saved).removeprefix("torch.") if saved else ""


def _as_saved_dtype(model: Any, name: str) -> dict[str, Any]:
    """Run a model saved in fp16 / bf16 in that dtype: transformers loads weights as float32 unless told.

    The dtype ``save_pretrained`` recorded in config.json (``torch_dtype``, or
    ``dtype`` in newer transformers) is what the user shipped; auditing the
    float32 upcast instead would hide the cast's effect on the predictions.
    """
    import torch

    dtype = {"float16": torch.float16, "bfloat16": torch.bfloat16}.get(name)
    current = next((p.dtype for p in model.parameters() if p.is_floating_point()), None)
    if dtype is None or current is None or current == dtype:
        return {"dtype": str(current).removeprefix("torch.") if current is not None else ""}
    model.to(dtype)
    return {"dtype": name, "dtype_note": f"saved as {name}: run in {name} (transformers loaded it as {str(current).removeprefix('torch.')})"}


def compressed_model(ctx: "RunContext", spec: dict[str, Any]) -> CompressedModel:
    """The run's compressed model for ``spec``, built once and shared by the compression checks."""
    import json

    from harness import Predictor

    predictor = ctx.require_predictor()
    key = ("harness_compression.model", predictor.handle.weights_sha256, json.dumps(spec, sort_keys=True))
    if key not in ctx.extra:
        if "model" in spec:
            handle, details = _load_user_model(ctx, spec["model"])
        else:
            handle, details = build_compressed(predictor.handle, spec)
        details["weights_sha256"] = handle.weights_sha256
        ctx.extra[key] = CompressedModel(handle, Predictor(handle, batch_size=predictor.batch_size), dict(spec), details)
    return ctx.extra[key]


def weights_digest(model: Any) -> str:
    """sha256 over the state dict as stored: tensor subclasses (torchao's int8) by their inner tensors.

    The core's digest (``ModelHandle.refresh_digest``) reads each tensor's raw
    bytes, which a quantized tensor subclass does not expose; here each one is
    flattened (``__tensor_flatten__``) into the plain tensors it stores.
    """
    import torch

    digest = hashlib.sha256()

    def feed(name: str, tensor: Any) -> None:
        flatten = getattr(tensor, "__tensor_flatten__", None)
        if type(tensor) is not torch.Tensor and type(tensor) is not torch.nn.Parameter and callable(flatten):
            inner, meta = flatten()
            digest.update(f"{name}|{type(tensor).__name__}|{meta!r}\n".encode())
            for part in inner:
                feed(f"{name}.{part}", getattr(tensor, part))
            return
        flat = tensor.detach().to("cpu").contiguous().reshape(-1)
        digest.update(f"{name}|{flat.dtype}|{tuple(tensor.shape)}\n".encode())
        digest.update(flat.view(torch.uint8).numpy().tobytes())

    for name, tensor in sorted(model.state_dict().items()):
        feed(name, tensor)
    return digest.hexdigest()
