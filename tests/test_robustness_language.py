"""The attack recipe follows the data's language: ``recipe: auto`` picks ``chinese`` for Chinese texts and
today's ``deepwordbug`` for English ones; a named English recipe on Chinese texts is not_applicable unless
``allow_language_mismatch``; Chinese ``changed`` records are character offsets.

End-to-end runs go through ``harness_run`` (the session's prepared contexts: one fine-tuning of the tiny
model per dataset), on a small built-in Chinese dataset and the small built-in English one, with a few
attacked examples each.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from harness.text.language import LanguageProfile
from harness_robustness import recipes
from harness_robustness.checks import AttackOptions, AttackSuccessRate, language_limitation

ASCII_ALNUM = re.compile("[A-Za-z0-9]")
CHECK = "robustness.attack_success_rate"
ZH_DATA = {"data": {"path": "builtin:clinical-triage-zh", "synthetic": {"size": 240}}}
#: A few examples, a query budget: seconds on two cores.
SMALL = {"examples": 6, "query_budget": 150, "gate": False}
#: The tiny model resists most Chinese swaps (about 1 in 8 flips): 10 examples give a success to look at.
ZH_ATTACK = {"examples": 10, "query_budget": 200, "gate": False}


# ---------------------------------------------------------------- choosing (no model)


def test_recipes_declare_their_languages_and_chinese_is_offline() -> None:
    assert recipes.RECIPES["chinese"]["offline"] and "chinese" in recipes.OFFLINE_RECIPES
    assert recipes.RECIPES["chinese"]["languages"] == ["zh"]
    for name in ("deepwordbug", "pruthi", "char-swap", "qwerty", "char-insert-delete", "textfooler"):
        assert recipes.RECIPES[name]["languages"] == ["en"], name
    assert recipes.recipe_languages("auto") == ("en", "zh")
    assert recipes.recipe_languages("DeepWordBug") == ("en",)
    assert recipes.recipe_languages("no-such-recipe") is None


def test_auto_picks_by_the_dominant_language() -> None:
    zh = recipes.choose_recipe("auto", LanguageProfile({"zh": 120}, 120))
    assert (zh.recipe, zh.changed_unit, zh.reason) == ("chinese", "character", "auto: the evaluation texts are zh 100%")
    assert zh.to_dict() == {"requested": "auto", "recipe": "chinese", "reason": "auto: the evaluation texts are zh 100%"}
    en = recipes.choose_recipe("auto", LanguageProfile({"en": 99, "da": 1}, 100))
    assert (en.recipe, en.changed_unit) == (recipes.DEFAULT_RECIPE, "word") == ("deepwordbug", "word")
    assert en.reason == "auto: the evaluation texts are en 99%, da 1%"
    assert recipes.choose_recipe("auto", None).recipe == "deepwordbug"  # not measured: today's default
    assert recipes.choose_recipe("auto", LanguageProfile({"und": 5}, 5)).recipe == "deepwordbug"
    training = recipes.choose_recipe("auto", LanguageProfile({"zh": 3}, 3), texts="training texts")
    assert training.reason == "auto: the training texts are zh 100%"
    named = recipes.choose_recipe("char-swap", LanguageProfile({"zh": 3}, 3))
    assert (named.recipe, named.reason, named.changed_unit) == ("char-swap", "named in the config", "character")


def test_supported_languages_follow_the_recipe_and_the_override() -> None:
    check = AttackSuccessRate()
    assert AttackOptions().recipe == "auto"
    assert check.supported_languages(AttackOptions()) == ("en", "zh")
    assert check.supported_languages(AttackOptions(recipe="deepwordbug")) == ("en",)
    assert check.supported_languages(AttackOptions(recipe="chinese")) == ("zh",)
    assert check.supported_languages(AttackOptions(recipe="deepwordbug", allow_language_mismatch=True)) is None


def test_adversarial_training_picks_its_recipe_by_the_training_texts() -> None:
    from harness import ConfigError
    from harness_robustness.adversarial import AdversarialAugment, training_recipe

    chinese = ["患者女，72岁，因突发胸骨后压榨样疼痛来诊，面色苍白。", "轻度咽痛三天，无发热，精神尚可，要求开药。"] * 3
    english = ["Patient reports crushing chest pain radiating to the left arm.", "Mild sore throat for three days, no fever."] * 3
    choice = training_recipe(AdversarialAugment(), chinese)
    assert (choice.recipe, choice.changed_unit, choice.reason) == ("chinese", "character", "auto: the training texts are zh 100%")
    assert training_recipe(AdversarialAugment(), english).recipe == "deepwordbug"
    assert training_recipe(AdversarialAugment(recipe="deepwordbug"), english).recipe == "deepwordbug"
    with pytest.raises(ConfigError, match="deepwordbug is built for en text but the training texts are zh 100%"):
        training_recipe(AdversarialAugment(recipe="deepwordbug"), chinese)
    allowed = training_recipe(AdversarialAugment(recipe="deepwordbug", allow_language_mismatch=True), chinese)
    assert (allowed.recipe, allowed.changed_unit) == ("deepwordbug", "character")


# ---------------------------------------------------------------- Chinese data, end to end


def _check(result: Any, check_id: str = CHECK) -> Any:
    check = result.check(check_id)
    assert check is not None, [c.id for c in result.checks]
    return check


def test_chinese_data_runs_the_chinese_recipe_with_character_records(harness_run: Any, tmp_path: Path) -> None:
    result = harness_run({CHECK: ZH_ATTACK}, **ZH_DATA, output={"redact_pii": False})
    check = _check(result)
    assert check.status in ("pass", "fail", "inconclusive"), check.message
    evidence = check.evidence
    assert evidence["recipe"] == "chinese" and evidence["changed_unit"] == "character"
    assert evidence["recipe_choice"] == {"requested": "auto", "recipe": "chinese", "reason": "auto: the evaluation texts are zh 100%"}
    assert "ChineseCharacterSwap" in evidence["components"]["transformation"]
    assert "chinese: " in check.message
    assert evidence["succeeded"] > 0, evidence
    for success in evidence["successes"]:
        original, perturbed = success["original"], success["perturbed"]
        assert original != perturbed and success["changed"]
        assert ASCII_ALNUM.findall(perturbed) == ASCII_ALNUM.findall(original)  # no Latin letter or digit introduced
        for offset, old, new in success["changed"]:
            assert original[offset:offset + len(old)] == old
            assert perturbed[offset:offset + len(new)] == new  # swaps keep the length: the same offset
            assert old and new and not ASCII_ALNUM.search(old + new)
    assert 0 < evidence["avg_words_perturbed"] <= 0.2 + 1e-9  # the recipe's budget: <= 20% of the jieba words
    # the checkpoint is the chosen recipe's: an English attack is never read back for these texts
    chunks = list((tmp_path / "out" / ".scratch" / "checkpoints" / "robustness" / "chinese").glob("chunk-*.json"))
    assert chunks
    # the report marks the swapped characters, not whole sentences
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "chinese (auto: the evaluation texts are zh 100%)" in html
    first = evidence["successes"][0]
    for _, _, new in first["changed"]:
        assert f"<mark>{new}</mark>" in html


def test_changed_offsets_hold_in_the_redacted_evidence() -> None:
    """With personal data masked (the default), Chinese offsets are diffed again: they point into the texts as shown."""
    from harness_robustness.redaction import redact_example

    class Ctx:
        @staticmethod
        def redact(text: str) -> str:
            return text.replace("张三", "[NAME]")

    example = {"original": "患者张三血压低", "perturbed": "患者张三血鸭低", "changed": [[5, "压", "鸭"]]}
    shown = redact_example(Ctx(), example, "character")  # type: ignore[arg-type]
    assert shown["original"] == "患者[NAME]血压低" and shown["changed"] == [[9, "压", "鸭"]]
    assert shown["original"][9] == "压" and shown["perturbed"][9] == "鸭"
    english = {"original": "Call Bob now", "perturbed": "Call Bob nw", "changed": [[2, "now", "nw"]]}
    assert redact_example(Ctx(), english)["changed"] == [[2, "now", "nw"]]  # word records: as before


def test_a_named_english_recipe_on_chinese_data_is_not_applicable_unless_allowed(harness_run: Any) -> None:
    refused = _check(harness_run({CHECK: {**SMALL, "recipe": "deepwordbug"}}, **ZH_DATA))
    assert refused.status == "not_applicable"
    assert "valid for en" in refused.message and "zh 100%" in refused.message
    assert not refused.metrics

    allowed = _check(harness_run({CHECK: {**SMALL, "recipe": "deepwordbug", "allow_language_mismatch": True}}, **ZH_DATA))
    assert allowed.status in ("pass", "fail", "inconclusive"), allowed.message
    evidence = allowed.evidence
    assert evidence["recipe"] == "deepwordbug" and evidence["recipe_choice"]["reason"] == "named in the config"
    (note,) = evidence["limitations"]
    limitation = note["text"]  # the English line; message_id/message_args let the report translate it
    assert note["message_id"] and note["message_args"]["recipe"] == "deepwordbug"
    assert "deepwordbug recipe is built for en" in limitation and "zh 100%" in limitation
    assert "allow_language_mismatch" in limitation
    # even another recipe's edits of Chinese text are recorded by character
    assert evidence["changed_unit"] == "character"
    for success in evidence["successes"]:
        for offset, old, _new in success["changed"]:
            assert success["original"][offset:offset + len(old)] == old


# ---------------------------------------------------------------- English data: as before


def test_english_data_resolves_auto_to_the_old_default_with_the_same_results(harness_run: Any) -> None:
    auto = _check(harness_run({CHECK: SMALL}))
    named = _check(harness_run({CHECK: {**SMALL, "recipe": "deepwordbug"}}))
    assert auto.status == named.status != "not_applicable"
    assert auto.evidence["recipe_choice"]["recipe"] == "deepwordbug"
    assert auto.evidence["recipe_choice"]["reason"].startswith("auto: the evaluation texts are en ")
    assert named.evidence["recipe_choice"] == {"requested": "deepwordbug", "recipe": "deepwordbug", "reason": "named in the config"}
    assert auto.metrics == named.metrics
    same = ("recipe", "components", "examples", "succeeded", "failed", "skipped", "successes", "avg_queries", "changed_unit")
    for key in same:
        assert auto.evidence[key] == named.evidence[key], key
    assert auto.evidence["changed_unit"] == "word"
    assert auto.message == named.message and "deepwordbug: " in auto.message
    for success in auto.evidence["successes"]:  # word records: [word index, old word, new word]
        assert all(isinstance(index, int) and " " not in old for index, old, _ in success["changed"])
    assert "limitations" not in auto.evidence


def test_no_limitation_when_the_recipe_fits() -> None:
    class Ctx:
        languages = LanguageProfile({"en": 10}, 10)

    assert language_limitation(Ctx(), "deepwordbug") is None  # type: ignore[arg-type]
    Ctx.languages = LanguageProfile({"zh": 9, "en": 1}, 10)
    assert "zh 90%, en 10%" in str(language_limitation(Ctx(), "deepwordbug"))  # type: ignore[arg-type]
    assert language_limitation(Ctx(), "chinese") is None  # type: ignore[arg-type]
