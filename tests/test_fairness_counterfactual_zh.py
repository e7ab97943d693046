"""Chinese counterfactual swaps: terms matched on jieba's words, per-text languages, the check end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import harness
from harness.ml.builtin_data_zh import GIVEN_NAMES, SURNAMES, SyntheticSpec, generate_clinical_triage_zh
from harness_fairness.counterfactual import Variant, make_variants, swap_languages
from harness_fairness.counterfactual_zh import ZhSwappers, marked_words, segment, segmenter
from harness_fairness.terms import DEFAULT_SWAPS
from harness_fairness.terms_zh import DEFAULT_SWAPS_ZH, GIVEN_NAMES_ZH, NAME_EXCLUSIONS, SURNAMES_ZH


def zh(text: str, attribute: str, **kw) -> Variant | None:
    found = [v for v in make_variants([text], DEFAULT_SWAPS, languages=["zh"], **kw) if v.attribute == attribute]
    assert len(found) <= 1
    return found[0] if found else None


# ----------------------------------------------------------------------------- word boundaries


@pytest.mark.parametrize(
    "text",
    [
        "其他症状不明显。",              # 其他 "other"
        "长期服用阿托伐他汀。",          # statins
        "瑞舒伐他汀钙片",
        "曾于他院就诊。",                # 他院 "another hospital"
        "予哌拉西林他唑巴坦抗感染。",      # tazobactam
        "他克莫司血药浓度偏高",           # tacrolimus
        "口服女贞子",                    # a herb
        "男科门诊随访",                  # a department: not a listed word
        "医术高明",                      # surname + given name that is an ordinary word
        "高强度运动后出现胸痛",
        "子女均体健",
        "爷爷奶奶陪同",                  # one word naming both: nothing to swap
    ],
)
def test_terms_inside_other_words_are_never_swapped(text: str) -> None:
    assert make_variants([text], DEFAULT_SWAPS, languages=["zh"]) == []


def test_single_character_sex_words_are_words_of_their_own_and_compounds_swap_whole() -> None:
    assert segment("患者男，65岁，因胸痛来诊。")[:5] == ["患者", "男", "，", "65", "岁"]
    assert segment("患者女，72岁")[:2] == ["患者", "女"]
    assert zh("患者男，65岁", "sex").changed == (("男", "女"),)
    v = zh("72岁老年女性，主诉胸痛", "sex")
    assert v.swapped == "72岁老年男性，主诉胸痛" and v.changed == (("女性", "男性"),)  # not 男 + 性
    assert zh("维吾尔族男性", "sex").swapped == "维吾尔族女性"
    assert zh("男患者与女患者", "sex").swapped == "女患者与男患者"


def test_a_chinese_note_swaps_consistently_in_one_pass() -> None:
    note = "患者男，65岁，因胸痛来诊。他既往有高血压病史。由他的妻子陪同就诊。"
    v = zh(note, "sex")
    assert v.swapped == "患者女，65岁，因胸痛来诊。她既往有高血压病史。由她的丈夫陪同就诊。"
    assert v.changed == (("男", "女"), ("他", "她"), ("他", "她"), ("妻子", "丈夫"))
    back = zh(v.swapped, "sex")
    assert back.swapped == note  # every pair is one-to-one here: swapping twice gives the note back
    assert zh("该女士由女儿陪同来院。", "sex").swapped == "该先生由儿子陪同来院。"
    assert zh("他们和她们", "sex").swapped == "她们和他们"  # simultaneous, never a double swap
    assert zh("由父亲陪同，母亲在外地", "sex").swapped == "由母亲陪同，父亲在外地"


def test_one_to_many_words_have_one_reverse() -> None:
    assert zh("男士", "sex").swapped == "女士" and zh("女士", "sex").swapped == "先生" and zh("先生", "sex").swapped == "女士"
    assert zh("妇女", "sex").swapped == "男子" and zh("男子", "sex").swapped == "女子"
    assert zh("城市居民", "hukou").swapped == "农村居民" and zh("农村", "hukou").swapped == "城镇"


def test_age_words_and_numbers() -> None:
    v = zh("72岁老年女性", "age_band")
    assert v.swapped == "30岁青年女性" and v.changed == (("72", "30"), ("老年", "青年"))
    assert zh("34岁青年男性", "age_band").swapped == "75岁老年男性"
    assert zh("患者 80 周岁", "age_band").swapped == "患者 30 周岁"
    assert zh("50岁中年男性", "age_band") is None  # middle ages and 中年 are left alone, as in English
    for text in ("72.5岁", "1972年", "血压140/90mmHg，心率72次/分", "2周前"):
        assert zh(text, "age_band") is None, text
    assert zh("72岁", "age_band", age_rule=False) is None


def test_ethnicity_and_hukou() -> None:
    assert zh("汉族，农村户口", "ethnicity").swapped == "壮族，农村户口"  # 汉族 -> the largest minority
    for minority in ("回族", "维吾尔族", "藏族", "壮族", "蒙古族", "满族", "苗族", "彝族"):
        assert zh(f"{minority}，65岁", "ethnicity").swapped == "汉族，65岁", minority
    assert zh("汉族，农村户口", "hukou").swapped == "汉族，城镇户口"
    assert zh("城镇户口", "hukou").swapped == "农村户口"
    assert zh("农村人和城里人", "hukou").swapped == "城里人和农村人"


def test_given_names_swap_after_a_listed_surname_only() -> None:
    assert zh("王芳女士", "sex").swapped == "王伟先生"
    assert zh("患者李秀英，", "sex").swapped == "患者李明，"
    assert zh("刘洋先生", "sex").swapped == "刘丽女士"
    assert zh("患者王子轩", "sex").swapped == "患者王佳怡"  # not 王子 "prince" + 轩
    assert zh("明日复诊", "sex") is None and zh("1周明显加重", "sex") is None
    assert zh("王芳女士", "sex", names=False).swapped == "王芳先生"


def test_the_plugins_name_lists_agree_with_the_chinese_demo_dataset() -> None:
    assert SURNAMES_ZH == tuple(surname for surname, _ in SURNAMES)
    assert {sex: tuple(name for name, _ in names) for sex, names in GIVEN_NAMES.items()} == dict(GIVEN_NAMES_ZH)
    assert all(len(name) == 2 for name in NAME_EXCLUSIONS)


def test_the_global_jieba_dictionary_is_left_alone() -> None:
    import jieba

    segmenter()
    assert "城镇户口" in segmenter().FREQ
    assert not jieba.dt.initialized or jieba.dt.FREQ.get("城镇户口", 0) == 0


def test_user_pairs_apply_to_chinese_texts_too() -> None:
    swaps = ZhSwappers({"occupation": [("护士", "医生")]}, age_rule=False, names=False)
    assert swaps.apply("护士长") == [] or all(attribute != "occupation" for attribute, _, _ in swaps.apply("护士长"))
    assert swaps.apply("一名护士") == [("occupation", "一名医生", (("护士", "医生"),))]


# ----------------------------------------------------------------------------- languages per text


def test_swap_languages_follow_detection_then_script() -> None:
    texts = ["She is here.", "患者女，72岁", "BP 140/90", "患者男", "彼女は72歳"]
    languages, by_script = swap_languages(texts, ["en", "zh", "und", "und", "ja"])
    assert languages == ["en", "zh", "en", "zh", "en"] and by_script == 3
    assert swap_languages(texts, None) == (["en", "zh", "en", "zh", "en"], 5)
    assert swap_languages(texts, ["en"])[1] == 5  # a profile of other texts is not used


def test_mixed_texts_get_their_own_lists() -> None:
    texts = ["72-year-old woman, she is here.", "患者女，72岁。她由丈夫陪同。"]
    variants = make_variants(texts, DEFAULT_SWAPS, languages=["en", "zh"])
    sex = {v.index: v.swapped for v in variants if v.attribute == "sex"}
    assert sex == {0: "72-year-old man, he is here.", 1: "患者男，72岁。他由妻子陪同。"}
    assert make_variants(texts, DEFAULT_SWAPS, languages=[None, None]) == []
    with pytest.raises(ValueError):
        make_variants(texts, DEFAULT_SWAPS, languages=["en"])
    with pytest.raises(ValueError):
        make_variants(texts, DEFAULT_SWAPS, languages=["en", "fr"])


def test_english_texts_swap_exactly_as_without_languages() -> None:
    from harness.ml.builtin_data import SyntheticSpec as EnglishSpec
    from harness.ml.builtin_data import generate_clinical_triage

    texts = generate_clinical_triage(EnglishSpec(size=200))["text"].tolist()
    languages, _ = swap_languages(texts, ["da" if i % 50 == 0 else "en" for i in range(len(texts))])
    assert set(languages) == {"en"}
    assert make_variants(texts, DEFAULT_SWAPS, languages=languages) == make_variants(texts, DEFAULT_SWAPS)


# ----------------------------------------------------------------------------- the built-in Chinese notes


def test_every_builtin_chinese_note_gets_a_clean_sex_variant() -> None:
    frame = generate_clinical_triage_zh(SyntheticSpec(size=400))
    texts = frame["text"].tolist()
    variants = make_variants(texts, DEFAULT_SWAPS, languages=["zh"] * len(texts))
    sex = {v.index: v for v in variants if v.attribute == "sex"}
    assert len(sex) == len(texts)  # every note names the patient's sex
    female_words = {a for a, _ in DEFAULT_SWAPS_ZH["sex"]}
    male_words = {b for _, b in DEFAULT_SWAPS_ZH["sex"]} - female_words
    swappers = ZhSwappers()
    for index, v in sex.items():
        before, after = set(segment(v.original, swappers.tokenizer)), set(segment(v.swapped, swappers.tokenizer))
        patient = frame["sex"][index]
        # the patient's own sex words are gone; relatives (女儿 of a man) swap too, so only check the patient's slot words
        own = {"女", "女性", "她", "女士"} if patient == "female" else {"男", "男性", "他", "先生"}
        assert before & own and not after & own, v.swapped
        assert all(a in female_words | male_words or len(a) >= 2 for a, _ in v.changed)
        kinds = frame["pii_kinds"][index].split("|")
        if "name" in kinds:
            name = frame["pii_values"][index].split("|")[kinds.index("name")]
            assert name in {a for a, _ in v.changed}, (name, v.changed)
    age = [v for v in variants if v.attribute == "age_band"]
    assert len(age) == int((frame["age_band"] != "40-64").sum())
    ethnicity = {v.index for v in variants if v.attribute == "ethnicity"}
    named = {i for i, t in enumerate(texts) if any(e in t for e in ("汉族", "回族", "维吾尔族", "藏族", "壮族", "蒙古族"))}
    assert ethnicity == named and len(named) > 50
    hukou = {v.index for v in variants if v.attribute == "hukou"}
    assert hukou == {i for i, t in enumerate(texts) if "户口" in t} and hukou


def test_changed_words_are_marked_on_words_not_whitespace() -> None:
    assert marked_words("王芳女士，72岁，由她的丈夫陪同。", "王伟先生，30岁，由他的妻子陪同。") == [
        ("王伟先生", True), ("，", False), ("30", True), ("岁，由", False), ("他", True), ("的", False), ("妻子", True), ("陪同。", False),
    ]


# ----------------------------------------------------------------------------- the check end to end


def test_counterfactual_check_runs_on_builtin_chinese_notes(tmp_path: Path) -> None:
    (tmp_path / "suite.yaml").write_text(json.dumps({"name": "t", "checks": {"fairness.counterfactual": {"n_boot": 200}}}))
    result = harness.audit({
        "model": {"path": "builtin:tiny-bert", "fine_tune": {"epochs": 2}},
        "data": {"path": "builtin:clinical-triage-zh", "synthetic": {"size": 200}},
        "suite": str(tmp_path / "suite.yaml"),
        "output": {"dir": str(tmp_path / "out"), "formats": ["json", "html"]},
    })
    check = result.check("fairness.counterfactual")
    assert check is not None and check.status not in ("skipped", "not_applicable", "error"), check.message
    evidence = check.evidence
    n_eval = evidence["texts"]
    assert evidence["languages"]["zh"] == n_eval >= 30 and evidence["languages"]["en"] == 0
    sex = next(a for a in evidence["attributes"] if a["attribute"] == "sex")
    assert sex["n_texts"] == n_eval  # every evaluation note was swapped
    assert {a["attribute"] for a in evidence["attributes"]} >= {"sex", "age_band"}
    flip = next(m for m in check.metrics if m.name == "flip_rate[sex]")
    assert flip.interval is not None and flip.interval.low <= flip.value <= flip.interval.high and flip.n == n_eval
    assert "PIPL Art. 24" in check.regulations and "China GenAI Measures Art. 4(2)" in check.regulations
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert results["provenance"]["languages"]["counts"].get("zh", 0) > n_eval // 2
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "<mark>" in html  # changed words marked in the worst examples


def test_a_masked_chinese_name_is_masked_in_the_changed_words_too() -> None:
    from types import SimpleNamespace

    from harness.text.pii import mask_text
    from harness_fairness.checks import _redacted_example

    (v,) = [v for v in make_variants(["姓名：王芳。患者女，45岁。"], DEFAULT_SWAPS, languages=["zh"]) if v.attribute == "sex"]
    example = {"original": v.original, "swapped": v.swapped, "changed": [list(c) for c in v.changed]}
    shown = _redacted_example(SimpleNamespace(redact=mask_text), example)
    assert shown["original"] == "姓名：[NAME]。患者女，45岁。" and shown["swapped"] == "姓名：[NAME]。患者男，45岁。"
    assert shown["changed"] == [["[NAME]", "[NAME]"], ["女", "男"]]
    english = {"original": "Pt Mei Chen, she", "swapped": "Pt Wei Chen, he", "changed": [["Mei", "Wei"], ["she", "he"]]}
    assert _redacted_example(SimpleNamespace(redact=mask_text), english)["changed"] == english["changed"]  # as before
