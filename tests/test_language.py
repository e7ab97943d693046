"""Language measurement: per-text detection, shares, and when a check's declared languages do not cover the data."""

from __future__ import annotations

from harness.text.language import UNDETERMINED, LanguageProfile, describe, detect_languages, not_applicable_reason

ENGLISH = [
    "Patient reports chest pain radiating to the left arm since this morning.",
    "Mild headache for two days, no fever, eating and drinking normally.",
    "Shortness of breath on exertion, oxygen saturation ninety percent on room air.",
]
CHINESE = ["患者男，65岁，胸痛2小时，伴出汗。", "患者女，32岁，头晕三天，无发热。", "急诊：呼吸困难，血氧饱和度偏低。", "她今天早上开始腹痛，伴恶心呕吐。"]


def test_english_and_chinese_texts_are_told_apart_per_text() -> None:
    profile = detect_languages(ENGLISH + CHINESE)
    assert profile.per_text == ("en",) * 3 + ("zh",) * 4
    assert profile.counts == {"en": 3, "zh": 4} and profile.n == 7 and profile.dominant == "zh"
    assert "lingua-language-detector" in profile.detector
    record = profile.to_dict()
    assert record["shares"] == {"zh": round(4 / 7, 4), "en": round(3 / 7, 4)} and record["n"] == 7


def test_texts_too_short_to_tell_are_undetermined_not_guessed() -> None:
    profile = detect_languages(["BP 140/90", "ok"] + CHINESE)
    assert profile.per_text[:2] == (UNDETERMINED, UNDETERMINED)
    assert profile.determined == 4


def test_a_check_is_not_applicable_when_most_detected_texts_are_outside_its_languages() -> None:
    chinese = LanguageProfile({"zh": 97, "en": 2, UNDETERMINED: 1}, 100)
    reason = not_applicable_reason(chinese, ("en",), "robustness.attack_success_rate")
    assert reason is not None and "valid for en" in reason and "zh 97%" in reason
    assert not_applicable_reason(chinese, ("en", "zh"), "privacy.pii") is None
    assert not_applicable_reason(chinese, None, "accuracy.performance") is None  # any language
    # undetermined texts do not count against a check: only positive evidence of another language does
    short = LanguageProfile({UNDETERMINED: 80, "en": 20}, 100)
    assert not_applicable_reason(short, ("en",), "x.y") is None
    mixed = LanguageProfile({"en": 50, "zh": 50}, 100)
    assert not_applicable_reason(mixed, ("en",), "x.y") is None  # half is not "mostly outside"
    assert describe(chinese) == "zh 97%, en 2%, und 1%"


def test_no_texts_profile() -> None:
    empty = detect_languages([])
    assert empty.n == 0 and empty.dominant == UNDETERMINED and not_applicable_reason(empty, ("en",), "x.y") is None
