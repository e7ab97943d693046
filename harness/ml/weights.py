"""The audited weights' digest, recomputed from a saved model folder.

results.json names the model by ``weights_sha256``: a sha256 over the state
dict (:func:`harness.ml.models.state_dict_sha256`), independent of the file
format. ``harness attest --model-dir`` uses this to refuse a folder whose
weights are not the audited ones before it attests that folder's files.
"""

from __future__ import annotations

from pathlib import Path

from harness.errors import ModelError
from harness.ml.models import _first_line, state_dict_sha256


def folder_weights_sha256(folder: Path) -> str:
    """Load ``folder`` as a sequence classifier (safetensors only, nothing downloaded) and digest its state dict."""
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    try:
        model = AutoModelForSequenceClassification.from_pretrained(folder, use_safetensors=True, local_files_only=True)
    except Exception as exc:
        raise ModelError(f"{folder}: cannot load the model folder as a sequence classifier: {_first_line(exc)}") from None
    return state_dict_sha256(model)
