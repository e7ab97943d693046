"""A TextAttack ``ModelWrapper`` that answers through the run's shared Predictor.

TextAttack's stock ``HuggingFaceModelWrapper`` pads every query to the
tokenizer's maximum length and has no cache. This wrapper sends queries through
:class:`harness.ml.predict.Predictor` (length-sorted batches padded per batch,
``torch.inference_mode``, cached by exact text) and returns what the stock
wrapper returns: a float32 ``torch.Tensor`` of logits, shape (len(texts),
num_labels), which TextAttack's classification goal functions softmax.

textattack is imported lazily through :func:`import_textattack`, so importing
this module is cheap and offline-safe.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness_robustness.offline import import_textattack

if TYPE_CHECKING:
    from harness import Predictor

__all__ = ["make_wrapper", "predictor_wrapper_class"]

_CLASS: type | None = None

GRADIENT_MESSAGE = (
    "PredictorModelWrapper does not support gradients: gradient-based recipes (e.g. hotflip, "
    "a2t with gradient ranking, GreedyWordSwapWIR(wir_method='gradient')) are not supported "
    "through the shared Predictor; use a black-box recipe such as deepwordbug or pruthi"
)


def predictor_wrapper_class() -> type:
    """The ``PredictorModelWrapper`` class (a ``textattack.models.wrappers.ModelWrapper``), built once."""
    global _CLASS
    if _CLASS is not None:
        return _CLASS
    textattack = import_textattack()
    import torch

    base = textattack.models.wrappers.ModelWrapper

    class PredictorModelWrapper(base):  # type: ignore[misc, valid-type]
        """Queries go through ``predictor.logits``; outputs match ``HuggingFaceModelWrapper``."""

        def __init__(self, predictor: "Predictor") -> None:
            self.predictor = predictor
            self.model = predictor.handle.model
            self.tokenizer = predictor.handle.tokenizer

        def __call__(self, text_input_list: list[str], **kwargs: Any) -> "torch.Tensor":
            logits = self.predictor.logits(list(text_input_list))
            return torch.from_numpy(logits)

        def get_grad(self, text_input: str) -> Any:
            raise NotImplementedError(GRADIENT_MESSAGE)

        def _tokenize(self, inputs: list[str]) -> list[list[str]]:
            return [self.tokenizer.convert_ids_to_tokens(self.tokenizer(x, truncation=True)["input_ids"]) for x in inputs]

    PredictorModelWrapper.__module__ = __name__
    _CLASS = PredictorModelWrapper
    return _CLASS


def make_wrapper(predictor: "Predictor") -> Any:
    """A ``PredictorModelWrapper`` over ``predictor`` (imports textattack offline on first use)."""
    return predictor_wrapper_class()(predictor)
