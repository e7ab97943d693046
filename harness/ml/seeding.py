"""Seeds and determinism switches: one place, so two runs of one config agree byte for byte.

Most randomness in the harness is already explicit: splits, training, bootstrap
intervals (Fairlearn's ``random_state`` included) and TextAttack chunks draw
from generators seeded by the run seed (``ctx.rng(name)`` or a seed argument).
What is left is global state that libraries read behind our back: Python's
``random``, NumPy's legacy global generator, PyTorch's CPU and CUDA generators
(TextAttack's transformations and dropout use all three), and PyTorch kernels
that pick non-deterministic algorithms. This module sets all of them:

- :func:`seed_globals` seeds ``random``, ``numpy.random`` and ``torch``;
- :func:`seed_everything` does that once at the start of a run and switches
  PyTorch to deterministic algorithms (``warn_only=True``: an op without a
  deterministic kernel warns instead of failing the audit), turns off the cuDNN
  autotuner, and on CUDA sets ``CUBLAS_WORKSPACE_CONFIG`` (cuBLAS needs it for
  reproducible matmuls);
- the runner reseeds the globals before each check with :func:`check_seed`, a
  seed derived from ``(run seed, check id)``: a check's use of global state then
  does not depend on which checks ran before it (or were resumed).

What was set goes to ``provenance["reproducibility"]``: it is the same for two
runs of one config, so it lives outside the ``run`` block.
"""

from __future__ import annotations

import hashlib
import os
import random
from typing import Any

import numpy as np

#: cuBLAS reads this when it creates a handle; ":4096:8" is the value NVIDIA documents for determinism.
CUBLAS_WORKSPACE_CONFIG = ":4096:8"


def check_seed(seed: int, check_id: str) -> int:
    """The seed the global generators get before ``check_id`` runs (stable across runs and orders)."""
    digest = hashlib.sha256(f"{int(seed)}:{check_id}".encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "little") % (2**31 - 1)


def seed_globals(seed: int, *, torch_too: bool = True) -> None:
    """Seed Python's ``random``, NumPy's global generator and (if imported or asked) PyTorch's."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    if torch_too:
        import torch

        torch.manual_seed(seed)  # seeds every CUDA device too


def seed_everything(seed: int, device: Any = None) -> dict[str, Any]:
    """Seed every global generator and ask PyTorch for deterministic kernels; returns what was set.

    Call it once the device is known (so CUDA settings are recorded only when
    they apply) and before the model is built or trained.
    """
    import torch

    on_cuda = getattr(device, "type", str(device or "")) == "cuda"
    if on_cuda:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE_CONFIG)
    seed_globals(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    settings: dict[str, Any] = {
        "seed": int(seed),
        "seeded": ["python random", "numpy.random (global)", "torch (CPU and CUDA)"],
        "per_check_reseed": "before each check the global generators are reseeded with sha256(f'{seed}:{check_id}') (first 4 bytes, little-endian, mod 2**31-1)",
        "explicit_seeds": "splits, fine-tuning, bootstrap intervals (Fairlearn random_state included) and TextAttack chunks use generators seeded from the run seed",
        "torch_deterministic_algorithms": bool(torch.are_deterministic_algorithms_enabled()),
        "torch_deterministic_warn_only": bool(torch.is_deterministic_algorithms_warn_only_enabled()),
        "cudnn_deterministic": True,
        "cudnn_benchmark": False,
    }
    if on_cuda:
        settings["cublas_workspace_config"] = os.environ.get("CUBLAS_WORKSPACE_CONFIG")
    return settings


def split_timings(value: Any, path: str = "") -> tuple[Any, dict[str, float]]:
    """Remove wall-clock fields (``seconds``, ``*_seconds``) from a nested record; return (rest, timings).

    The fine-tuning report times each epoch; those numbers move to the run
    block (keyed by their path, e.g. ``history.0.seconds``) so the record that
    stays in provenance is the same for two identical runs.
    """
    timings: dict[str, float] = {}
    if isinstance(value, dict):
        kept: dict[str, Any] = {}
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if (key == "seconds" or str(key).endswith("_seconds")) and isinstance(item, (int, float)) and not isinstance(item, bool):
                timings[where] = item
                continue
            kept[key], inner = split_timings(item, where)
            timings.update(inner)
        return kept, timings
    if isinstance(value, list):
        items = []
        for index, item in enumerate(value):
            cleaned, inner = split_timings(item, f"{path}.{index}" if path else str(index))
            items.append(cleaned)
            timings.update(inner)
        return items, timings
    return value, timings


def deterministic_torch(threads: int | None = None) -> None:
    """Deterministic kernels, no cuDNN autotuner and (when given) ``threads`` intra-op threads, in this process.

    A Ray worker calls it with the driver's thread count: a CPU matmul splits its
    sums by thread, so the count is an input of the numbers.
    """
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return
    if threads:
        torch.set_num_threads(int(threads))
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False

