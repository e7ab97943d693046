"""The offline ``chinese`` attack recipe: indexed homophone / similar-glyph swaps, character diffs, a tiny-model attack.

The indexes must be the same transformation as TextAttack's own classes: the
morphonym class works as shipped and is compared directly; the homophone class
cannot be constructed here (its table is not in the wheel, and it reads it
with ``sep="\\n"``, which pandas rejects), so it is constructed with
``pandas.read_csv`` patched to hand it the table read line by line, and its
row-by-row scan is compared with the index lookup.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from harness_robustness import chinese as zh  # noqa: E402
from harness_robustness.offline import import_textattack  # noqa: E402

PLUGINS = str(Path(__file__).resolve().parents[1] / "plugins")
ASCII_ALNUM = re.compile("[A-Za-z0-9]")

SENTENCES = [
    "患者女，72岁，因突发胸骨后压榨样疼痛并向左臂放射来诊，面色苍白、皮肤湿冷。",
    "生命体征：血压84/46mmHg，心率41次/分，血氧饱和度88%。",
    "大量出血后意识模糊，呼吸困难，由她的女儿陪同就诊。",
    "轻度咽痛三天，无发热，精神尚可，要求开药。",
    "伤口拆线复诊，愈合良好，GCS评分15分。",
]

LABELS = ["紧急", "非紧急"]
URGENT = ["胸痛伴大汗", "突发呼吸困难", "意识不清", "伤口大量出血", "剧烈头痛伴呕吐", "抽搐不止", "血压很低", "心跳很快"]
ROUTINE = ["轻度咽痛", "伤口拆线", "皮肤瘙痒", "咳嗽两天", "开药复诊", "轻微擦伤", "鼻塞流涕", "体检咨询"]
OPENINGS = ["患者男，", "患者女，", "老人自述", "青年主诉"]
ENDINGS = ["。", "，精神尚可。", "，家属陪同。"]


def short_notes() -> tuple[list[str], list[int]]:
    """64 short triage sentences, half urgent, in a seeded order."""
    texts, labels = [], []
    for k, (opening, ending) in enumerate(itertools.product(OPENINGS, ENDINGS)):
        for j in range(8):
            if (k + j) % 3 == 0:
                continue
            texts += [opening + URGENT[j] + ending, opening + ROUTINE[(j + k) % 8] + ending]
            labels += [0, 1]
    order = np.random.default_rng(0).permutation(len(texts))[:64]
    return [texts[i] for i in order], [labels[i] for i in order]


@pytest.fixture(scope="module")
def textattack():
    return import_textattack()


@pytest.fixture(scope="module")
def index(textattack):
    return zh.build_index()


def cjk_characters(texts) -> list[str]:
    return list(dict.fromkeys(c for t in texts for c in t if zh.is_cjk(c)))


# ---------------------------------------------------------------- the indexes


def test_index_builds_fast(textattack):
    zh._initialise_jieba()  # jieba's dictionary is loaded by any Chinese AttackedText anyway
    zh._cached_index.cache_clear()
    zh._pinyin_of_characters.cache_clear()
    start = time.perf_counter()
    built = zh.build_index()
    digest = built.digest
    seconds = time.perf_counter() - start
    print(f"index built in {seconds:.3f} s: {len(built.homophones)} characters with homophones "
          f"({built.homophone_source}), {len(built.morphonyms)} with similar glyphs, sha256 {digest}")
    assert seconds < 5.0  # ~0.15 s on an idle core
    assert zh.build_index() is built  # once per process
    assert len(built.homophones) > 15000 and len(built.morphonyms) > 1000
    assert built.homophone_source == "pinyin+jieba" or built.homophone_source.startswith("textattack:")


def test_every_candidate_is_one_cjk_character(index):
    for table in (index.homophones, index.morphonyms):
        for character, candidates in table.items():
            assert zh.is_cjk(character)
            assert candidates and all(zh.is_cjk(c) and c != character for c in candidates)
            assert len(set(candidates)) == len(candidates)


def test_morphonym_index_equals_textattack_class(textattack, index):
    from textattack.shared.data import MORPHONYM_LS
    from textattack.transformations import ChineseMorphonymCharacterSwap

    stock = ChineseMorphonymCharacterSwap()
    characters = cjk_characters(SENTENCES) + cjk_characters("".join(group) for group in MORPHONYM_LS)
    for character in characters:
        expected = set(stock._get_replacement_words(character)) - {character, ""}  # "" in MORPHONYM_LS: deletions
        assert set(index.morphonyms.get(character, ())) == expected, character
    # Words: every candidate differs in one character, swapped as the class swaps that character alone;
    # the first character's candidates are what the class itself returns for the word (it then mutates the word).
    words = ["扬州", "历史", "贯彻", "更换", "大量出血", "精神尚可"]
    for word in words:
        per_character = {
            word[:i] + c + word[i + 1:]
            for i in range(len(word))
            for c in set(stock._get_replacement_words(word[i])) - {word[i], ""}
        }
        assert set(index.replacement_words(word, homophones=False)) == per_character, word
        first = {w for w in stock._get_replacement_words(word) if len(w) == len(word) and w[1:] == word[1:] and w != word}
        assert {w for w in index.replacement_words(word, homophones=False) if w[1:] == word[1:]} == first


def _stock_homophone_class(monkeypatch, table_lines):
    """TextAttack's ``ChineseHomophoneCharacterSwap`` constructed on ``table_lines`` (its read_csv fixed)."""
    import pandas as pd
    from textattack.transformations.word_swaps.chn_transformations import chinese_homophone_character_swap as module

    calls = []

    def read_csv(path, header=None, sep=None, **kwargs):  # what sep="\n" meant: one column, one row per line
        calls.append((path, sep))
        return pd.DataFrame({0: pd.Series([line for line in table_lines if line.strip()], dtype=object)})

    with monkeypatch.context() as patch:
        patch.setattr(module.pd, "read_csv", read_csv)
        stock = module.ChineseHomophoneCharacterSwap()
    assert calls and calls[0][1] == "\n"
    return stock


def _dedup(words, without):
    """The class's candidates in order, once each, without the word itself or deletions (empty table cells)."""
    return list(dict.fromkeys(w for w in words if w != without and len(w) == len(without)))


def test_homophone_index_equals_textattack_class(textattack, index, monkeypatch):
    file = zh.textattack_homophone_file()
    if file is not None:  # TextAttack's own table is installed: the class reads it, read here another way
        lines = Path(file).read_text(encoding="utf-8").splitlines()
        rows = zh.read_homophone_file(file)
    else:  # the derived table, written in TextAttack's format
        rows = zh.derived_homophone_rows()
        lines = ["\t".join((key, *characters)) for key, characters in rows]
    assert zh.homophone_index(rows) == dict(index.homophones)
    stock = _stock_homophone_class(monkeypatch, lines)
    characters = cjk_characters(SENTENCES)
    assert len(characters) > 80
    for character in characters:  # same candidates, same order
        assert list(index.homophones.get(character, ())) == _dedup(stock._get_replacement_words(character), character), character
    words = ["血压", "心率", "呼吸困难", "意识模糊", "精神尚可", "疼痛", "就诊"]
    for word in words:
        assert index.replacement_words(word, morphonyms=False) == _dedup(stock._get_replacement_words(word), word), word


def test_stock_homophone_class_cannot_be_built_here(textattack):
    """Why the harness indexes the table itself: the class fails as shipped (missing file, or pandas' sep check)."""
    from textattack.transformations import ChineseHomophoneCharacterSwap

    with pytest.raises((FileNotFoundError, ValueError)):
        ChineseHomophoneCharacterSwap()


def test_homophone_file_reader(textattack, tmp_path, monkeypatch):
    path = tmp_path / "table.txt"
    path.write_text("de\t的\t地\t得\t德\n\nle\t了\t乐\nyi\t以\t一\t\t已\nde\t锝\n", encoding="utf-8")
    stock = _stock_homophone_class(monkeypatch, path.read_text(encoding="utf-8").splitlines())
    mine = zh.homophone_index(zh.read_homophone_file(path))
    for character in "的地得德锝了乐以一已":
        assert list(mine.get(character, ())) == _dedup(stock._get_replacement_words(character), character), character
    rows = zh.read_homophone_file(path)
    assert rows == [("de", ("的", "地", "得", "德")), ("le", ("了", "乐")), ("yi", ("以", "一", "", "已")), ("de", ("锝",))]
    index = zh.homophone_index(rows)
    assert index["的"] == ("地", "得", "锝")  # the first three of each row of its pinyin, itself left out
    assert index["德"] == ("的", "地", "得", "锝")  # 德 is fourth in its row: not a candidate of others
    assert index["已"] == ("以", "一")  # the empty cell is the third: 已 is fourth, no candidate; "" is never one
    if zh.textattack_homophone_file() is None:
        with pytest.raises(FileNotFoundError, match="not installed"):
            zh.build_index("textattack")
    with pytest.raises(ValueError, match="unknown homophone source"):
        zh.build_index("nope")


# ---------------------------------------------------------------- the transformation


def test_swaps_never_introduce_latin_letters_or_digits(textattack, index):
    from harness.ml.builtin_data_zh import SyntheticSpec, generate_clinical_triage_zh
    from textattack.shared import AttackedText

    texts = SENTENCES + generate_clinical_triage_zh(SyntheticSpec(size=20, seed=3))["text"].tolist()[:12]
    transformation = zh.make_transformation()
    checked = 0
    for text in texts:
        current = AttackedText(text)
        for new in transformation(current):
            assert len(new.text) == len(text) and new.words is not None
            changes = zh.character_diff(text, new.text)
            assert len(changes) == 1, changes
            old, replacement = changes[0]
            assert len(old) == len(replacement) == 1 and zh.is_cjk(old) and zh.is_cjk(replacement)
            assert ASCII_ALNUM.findall(new.text) == ASCII_ALNUM.findall(text)
            checked += 1
    assert checked > 1000
    for word in ["46mmHg", "GCS", "84", "15"]:
        assert index.replacement_words(word) == []


def test_swapped_text_keeps_its_segmentation(textattack):
    from textattack.shared import AttackedText

    keep = zh.make_transformation()
    stock = zh.make_transformation(keep_segmentation=False)
    assert "keep_segmentation" in repr(keep) and keep.index_sha256 in repr(keep)
    current = AttackedText(SENTENCES[2])
    resegmented = 0
    for i in range(len(current.words)):
        for new in keep(current, indices_to_modify=[i]):
            reference = current.replace_word_at_index(i, new.words[i])
            assert new.text == reference.text  # the same text TextAttack makes
            assert new.words == current.words[:i] + [new.words[i]] + current.words[i + 1:]
            assert new.attack_attrs["modified_indices"] == {i} and new.attack_attrs["newly_modified_indices"] == {i}
            assert list(new.attack_attrs["original_index_map"]) == list(range(len(current.words)))
            assert sorted(current.all_words_diff(new)) == [i]
            assert type(new) is AttackedText and new.column_labels == ["text"] and new.num_words == len(current.words)
            assert new.words_per_input == AttackedText(new.text).words_per_input  # caches start empty
            assert set(new.attack_attrs) == set(reference.attack_attrs) | {"last_transformation"}
            assert hash(new) == hash(reference)
            resegmented += len(AttackedText(new.text).words) != len(current.words)
    assert resegmented > 0  # re-segmenting would have shifted words
    assert {t.text for t in stock(current)} == {t.text for t in keep(current)}


def test_attack_components(textattack, tiny_chinese_model):
    from harness.ml.predict import Predictor
    from harness_robustness.recipes import describe
    from harness_robustness.wrapper import make_wrapper

    attack = zh.build_chinese_attack(make_wrapper(Predictor(tiny_chinese_model[0])))
    parts = describe(attack)
    assert "ChineseCharacterSwap" in parts["transformation"]
    assert any("MaxModificationRate" in c and "0.2" in c for c in parts["constraints"])
    assert any("StopwordModification" in c for c in parts["constraints"])
    assert "UntargetedClassification" in parts["goal_function"]
    assert "GreedyWordSwapWIR" in parts["search_method"] and "delete" in parts["search_method"]
    assert zh.RECIPE_NAME == "chinese" and zh.RECIPE_DESCRIPTION


# ---------------------------------------------------------------- character diffs


def test_character_diff():
    assert zh.character_diff("患者血压低", "患者血鸭低") == [("压", "鸭")]
    assert zh.character_diff("大量出血后意识模糊", "大量出血后意识模糊") == []
    # adjacent changed characters form one group, separate ones separate groups
    assert zh.character_diff("咯鲜血三次", "个县血三次") == [("咯鲜", "个县")]
    assert zh.character_diff("精神尚可，大量出血", "清神尚可，大两出血") == [("精", "清"), ("量", "两")]
    assert zh.character_diff("无发热", "发热") == [("无", "")]
    assert zh.character_diff("发热", "无发热") == [("", "无")]
    assert zh.character_changes("精神尚可，大量出血", "清神尚可，大两出血") == [[0, "精", "清"], [6, "量", "两"]]
    text = "生命体征：血压84/46mmHg，心率41次/分。" * 12  # long: no autojunk surprises
    swapped = text.replace("心率", "心律")
    changes = zh.character_changes(text, swapped)
    assert len(changes) == 12 and all(old == "率" and new == "律" and text[at] == "率" for at, old, new in changes)
    segments = zh.character_segments("患者血压低", "患者血鸭低")
    assert segments == [("患者血", False), ("鸭", True), ("低", False)]
    assert "".join(s for s, _ in segments) == "患者血鸭低"
    assert zh.character_segments("发热", "无发热") == [("无", True), ("发热", False)]
    assert zh.character_segments("无发热", "发热") == [("发热", False)]


def test_character_diff_is_right_where_word_diffs_misalign(textattack):
    """Re-segmenting a swapped text shifts words (a record said 大量 became 后 while 大量 was still there)."""
    from textattack.shared import AttackedText

    original = AttackedText(SENTENCES[2])
    for i, word in enumerate(original.words):
        for new_word in zh.build_index().replacement_words(word):
            perturbed = AttackedText(original.replace_word_at_index(i, new_word).text)  # re-segmented, as stock
            if len(perturbed.words) == len(original.words):
                continue
            changed = sorted(original.all_words_diff(perturbed))
            assert len(changed) > 1  # the word diff reports shifted words as changed
            at = SENTENCES[2].index(word)
            diff = zh.character_changes(original.text, perturbed.text)
            assert len(diff) == 1 and at <= diff[0][0] < at + len(word)
            return
    pytest.fail("no swap re-segmented the sentence")


# ---------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def tiny_chinese_model():
    """The built-in tiny BERT trained briefly on 64 short Chinese triage sentences (one thread: ~1 s)."""
    from harness.ml.models import ModelHandle
    from harness.ml.tiny_bert import build_tiny_bert

    texts, labels = short_notes()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two shared cores: more threads only spin
    try:
        model, tokenizer = build_tiny_bert(texts, LABELS, seed=0)
        optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
        model.train()
        rng = np.random.default_rng(0)
        y = np.array(labels)
        for _ in range(3):
            for batch in np.array_split(rng.permutation(len(texts)), 4):
                encoded = tokenizer([texts[i] for i in batch], padding=True, return_tensors="pt")
                loss = model(**encoded, labels=torch.as_tensor(y[batch])).loss
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        model.eval()
        handle = ModelHandle(model=model, tokenizer=tokenizer, device=torch.device("cpu"), source="builtin:tiny-bert",
                             label_names=LABELS, max_length=128)
        yield handle, texts, labels
    finally:
        torch.set_num_threads(threads)


def _refuse_network(patch):
    import socket

    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(repr(args[:2]))
        raise OSError("network disabled in test")

    patch.setattr(socket, "create_connection", refuse)
    patch.setattr(socket.socket, "connect", lambda self, *a, **k: refuse(*a))
    patch.setattr(socket.socket, "connect_ex", lambda self, *a, **k: refuse(*a))
    patch.setattr(socket, "getaddrinfo", refuse)
    patch.setenv("HF_HUB_OFFLINE", "1")
    patch.setenv("TRANSFORMERS_OFFLINE", "1")
    return attempts


def test_attack_tiny_model_end_to_end(textattack, tiny_chinese_model, monkeypatch):
    from harness.ml.predict import Predictor
    from harness_robustness.attack import attack_pairs
    from harness_robustness.wrapper import make_wrapper

    handle, texts, labels = tiny_chinese_model
    predictor = Predictor(handle)
    accuracy = float(np.mean(predictor.logits(texts).argmax(1) == np.array(labels)))
    assert accuracy > 0.9
    pairs = list(zip(texts[:5], labels[:5]))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with monkeypatch.context() as patch:
            attempts = _refuse_network(patch)
            zh._cached_index.cache_clear()  # built again, offline
            zh._pinyin_of_characters.cache_clear()
            attack = zh.build_chinese_attack(make_wrapper(predictor))
            start = time.perf_counter()
            results = attack_pairs(attack, pairs, seed=0)
            seconds = time.perf_counter() - start
    finally:
        torch.set_num_threads(threads)
    assert attempts == []
    print(f"chinese recipe: {seconds / len(pairs):.3f} s per example on the tiny model")
    statuses = [type(r).__name__ for r in results]
    assert len(results) == 5 and "SuccessfulAttackResult" in statuses
    records = []
    for (text, label), result in zip(pairs, results):
        original = result.original_result.attacked_text
        perturbed = result.perturbed_result.attacked_text
        assert original.text == text
        if type(result).__name__ != "SuccessfulAttackResult":
            continue
        assert result.original_result.output == label != result.perturbed_result.output
        changed = zh.character_changes(original.text, perturbed.text)
        assert changed and perturbed.text != original.text and len(perturbed.text) == len(original.text)
        for at, old, new in changed:
            assert original.text[at:at + len(old)] == old and perturbed.text[at:at + len(new)] == new
            assert all(zh.is_cjk(c) for c in old + new) and len(old) == len(new)
        assert ASCII_ALNUM.findall(perturbed.text) == ASCII_ALNUM.findall(original.text)
        # the segmentation is kept, so word records line up: each changed word differs in one character
        words = sorted(original.all_words_diff(perturbed))
        assert len(original.words) == len(perturbed.words)
        assert 1 <= len(words) <= max(math.ceil(zh.MAX_MODIFICATION_RATE * len(original.words)), 1)
        for i in words:
            old_word, new_word = original.words[i], perturbed.words[i]
            assert old_word not in zh.CHINESE_STOPWORDS
            assert sum(a != b for a, b in zip(old_word, new_word)) == 1 and len(old_word) == len(new_word)
        records.append({"original": original.text, "perturbed": perturbed.text, "changed": changed,
                        "original_label": LABELS[label], "perturbed_label": LABELS[result.perturbed_result.output]})
    json.dumps(records, ensure_ascii=False)


OFFLINE_SCRIPT = r"""
import json, socket, sys, time
attempts = []
def _refuse(*args, **kwargs):
    attempts.append(repr(args[:2]))
    raise OSError("network disabled in test")
socket.create_connection = _refuse
socket.socket.connect = lambda self, *a, **k: _refuse(*a)
socket.socket.connect_ex = lambda self, *a, **k: _refuse(*a)
socket.getaddrinfo = _refuse
import torch
torch.set_num_threads(1)
from harness.ml.tiny_bert import build_tiny_bert
from harness_robustness import chinese as zh
start = time.perf_counter()
index = zh.build_index()
index_seconds = time.perf_counter() - start
texts = ["患者女，突发胸痛伴大汗。", "轻度咽痛三天，精神尚可。"]
model, tokenizer = build_tiny_bert(texts, ["a", "b"], seed=0)
model.eval()
from harness.ml.models import ModelHandle
from harness.ml.predict import Predictor
from harness_robustness.attack import attack_pairs
from harness_robustness.wrapper import make_wrapper
handle = ModelHandle(model=model, tokenizer=tokenizer, device=torch.device("cpu"), source="builtin:tiny-bert",
                     label_names=["a", "b"], max_length=64)
wrapper = make_wrapper(Predictor(handle))
results = attack_pairs(zh.build_chinese_attack(wrapper), [(t, 0) for t in texts], seed=0)
print("RESULT " + json.dumps({
    "attempts": attempts, "results": [type(r).__name__ for r in results], "index_seconds": index_seconds,
    "source": index.homophone_source, "perturbed": [r.perturbed_result.attacked_text.text for r in results],
}, ensure_ascii=False))
"""


def test_runs_offline_from_a_cold_start(tmp_path):
    """A fresh process with every socket refused and HF_HUB_OFFLINE=1: textattack, jieba, the index, an attack."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS"))}
    env.update(HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"), PYTHONPATH=PLUGINS, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", OFFLINE_SCRIPT], env=env, capture_output=True, text=True, timeout=240,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-4000:]
    result = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))[len("RESULT "):])
    assert result["attempts"] == []
    assert len(result["results"]) == 2
    assert "Building prefix dict" not in done.stderr  # jieba initialised quietly
    for text in result["perturbed"]:
        assert not ASCII_ALNUM.search(text)
