"""Counterfactual text fairness: identity-term swaps and flip statistics."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy.stats import binomtest

from harness.ml.builtin_data import FIRST_NAMES, SURNAMES, SyntheticSpec, generate_clinical_triage
from harness_fairness.counterfactual import AttributeFlipStats, Variant, flip_statistics, make_variants
from harness_fairness.terms import AGE_SWAP, DEFAULT_SWAPS, NAME_SWAPS, merge_swaps

SEX_ONLY = {"sex": DEFAULT_SWAPS["sex"]}


def one(text: str, attribute: str, swaps=DEFAULT_SWAPS, **kw) -> Variant | None:
    found = [v for v in make_variants([text], swaps, **kw) if v.attribute == attribute]
    assert len(found) <= 1
    return found[0] if found else None


# ----------------------------------------------------------------------------- swaps


@pytest.mark.parametrize(
    "text, expected",
    [
        ("woman", "man"),
        ("Woman", "Man"),
        ("WOMAN", "MAN"),
        ("Man", "Woman"),
        ("She said", "He said"),
        ("female and Male", "male and Female"),
    ],
)
def test_case_preservation(text, expected):
    assert one(text, "sex").swapped == expected


def test_word_boundaries():
    assert one("the head nurse is there; other theme", "sex") is None
    assert one("there", "sex") is None
    assert one("Shepherd, heron, manual, womanly", "sex") is None
    v = one("Then he left the hero there.", "sex")
    assert v.swapped == "Then she left the hero there."
    assert v.changed == (("he", "she"),)


def test_simultaneous_swap_not_double():
    v = one("he told her", "sex")
    assert v.swapped == "she told his"
    assert v.changed == (("he", "she"), ("her", "his"))
    v = one("The man and the woman; she and he.", "sex")
    assert v.swapped == "The woman and the man; he and she."
    assert one("His daughter is with him.", "sex").swapped == "Her son is with her."


def test_short_uppercase_abbreviations_left_alone_unless_text_shouts():
    assert one("Known MS and HE; woman", "sex").swapped == "Known MS and HE; man"
    assert one("HE IS HERE", "sex").swapped == "SHE IS HERE"


def test_ethnicity_words_are_case_sensitive():
    v = one("Black woman with white blood cells and black stools", "ethnicity")
    assert v.swapped == "White woman with white blood cells and black stools"
    assert one("White man", "ethnicity").swapped == "Black man"
    assert one("Asian and Hispanic men", "ethnicity").swapped == "White and White men"
    assert one("white cell count", "ethnicity") is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("72-year-old woman", "30-year-old woman"),
        ("34 y/o male", "75 y/o male"),
        ("70yo female", "30yo female"),
        ("patient aged 80 reports", "patient aged 30 reports"),
        ("Man, 29, attends", "Man, 75, attends"),
        ("an elderly patient", "an young patient"),
    ],
)
def test_age_rule(text, expected):
    assert one(text, "age_band").swapped == expected


def test_age_rule_leaves_middle_ages_and_other_numbers():
    assert one("50-year-old woman", "age_band") is None
    assert one("BP 133/75, HR 93, Temp 36.7C, 2 days", "age_band") is None
    assert one("72-year-old woman", "age_band", age_rule=False) is None
    assert AGE_SWAP.pattern.search("aged 72") is not None
    v = one("72-year-old and 34 y/o", "age_band")
    assert v.changed == (("72-year-old", "30-year-old"), ("34 y/o", "75 y/o"))


def test_the_plugins_name_lists_agree_with_the_demo_datasets():
    # The fairness plugin owns its identity-term lists (it imports no data module of the core); the
    # synthetic dataset keeps its own copy. Same names, same groups, same order: every name of the
    # demo is swapped, and the swap at index i (which depends on the order) stays the same.
    from harness_fairness import terms

    assert list(terms.FIRST_NAMES.items()) == list(FIRST_NAMES.items())
    assert list(terms.SURNAMES.items()) == list(SURNAMES.items())


def test_name_swaps_follow_synthetic_lists():
    for (sex, eth), names in FIRST_NAMES.items():
        target_eth = "black" if eth == "white" else "white"
        for i, name in enumerate(names):
            v = one(f"Pt {name} here", "ethnicity")
            assert v.swapped == f"Pt {FIRST_NAMES[(sex, target_eth)][i]} here"
    v = one("Pt Mei Chen (email mei.chen@example.com). She is here.", "ethnicity")
    assert v.swapped == "Pt Emily Miller (email emily.miller@example.com). She is here."
    assert one("Pt Mei Chen", "ethnicity", names=False) is None
    assert SURNAMES["white"][0] == "Miller" and ("Chen", "Miller") in NAME_SWAPS
    # Sex variants also swap first names within the same ethnicity.
    assert one("Pt Mei Chen. She is here.", "sex").swapped == "Pt Wei Chen. He is here."


def test_unchanged_texts_are_skipped_and_indices_kept():
    texts = ["Abdominal pain since yesterday.", "she is here", "", "50-year-old with cough"]
    variants = make_variants(texts, SEX_ONLY, age_rule=False, names=False)
    assert [(v.index, v.attribute) for v in variants] == [(1, "sex")]
    assert variants[0].original == "she is here"
    assert make_variants([], DEFAULT_SWAPS) == []
    with pytest.raises(TypeError):
        make_variants([None], DEFAULT_SWAPS)


def test_one_variant_per_text_and_attribute():
    variants = make_variants(["72-year-old Black woman, she is with her daughter"], DEFAULT_SWAPS)
    assert sorted(v.attribute for v in variants) == ["age_band", "ethnicity", "sex"]
    sex = next(v for v in variants if v.attribute == "sex")
    assert sex.swapped == "72-year-old Black man, he is with his son"


def test_merge_swaps_with_user_pairs():
    defaults = {"sex": [("woman", "man")]}
    merged = merge_swaps(defaults, {"sex": [["lass", "lad"]], "religion": [["church", "mosque"]]})
    assert merged["sex"] == [("lass", "lad"), ("woman", "man")]
    assert merged["religion"] == [("church", "mosque")]
    assert defaults == {"sex": [("woman", "man")]}
    assert list(merged) == ["sex", "religion"]
    assert merge_swaps(defaults, None) == {"sex": [("woman", "man")]}
    v = make_variants(["The lass went to church"], merged, age_rule=False, names=False)
    assert {x.attribute: x.swapped for x in v} == {
        "sex": "The lad went to church",
        "religion": "The lass went to mosque",
    }
    # User pairs win over defaults for a word both mention.
    merged = merge_swaps(DEFAULT_SWAPS, {"sex": [["her", "him"]]})
    assert one("with her", "sex", merged).swapped == "with him"
    with pytest.raises(ValueError):
        merge_swaps(defaults, {"sex": [["only-one"]]})
    with pytest.raises(ValueError):
        merge_swaps(defaults, {"sex": ["ab"]})


# ------------------------------------------------------------------- flip statistics


def _variants(attrs: list[str]) -> list[Variant]:
    return [Variant(i, a, f"orig {i}", f"swap {i}", (("a", "b"),)) for i, a in enumerate(attrs)]


def _probs(pos: list[float]) -> np.ndarray:
    p = np.asarray(pos, dtype=float)
    return np.column_stack([1 - p, p])


def test_flip_statistics_counts_rates_and_intervals():
    attrs = ["sex"] * 6 + ["age_band"] * 4
    orig = [0.9, 0.8, 0.3, 0.2, 0.6, 0.55, 0.1, 0.9, 0.7, 0.2]
    swap = [0.4, 0.85, 0.7, 0.25, 0.45, 0.65, 0.1, 0.95, 0.71, 0.1]
    stats = flip_statistics(_variants(attrs), _probs(orig), _probs(swap), ["neg", "pos"], n_boot=500, seed=3)
    assert [s.attribute for s in stats] == ["sex", "age_band"]
    sex, age = stats
    assert isinstance(sex, AttributeFlipStats)
    # sex: 0.9->0.4 flip, 0.3->0.7 flip, 0.6->0.45 flip; others keep their label.
    assert (sex.n_texts, sex.flips) == (6, 3)
    assert sex.flip_rate == pytest.approx(0.5)
    assert (age.n_texts, age.flips) == (4, 0)
    assert age.flip_rate == 0.0
    for s, k, n in ((sex, 3, 6), (age, 0, 4)):
        ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert s.flip_interval[0] == pytest.approx(ci.low, abs=1e-9)
        assert s.flip_interval[1] == pytest.approx(ci.high, abs=1e-9)
    d = np.asarray(swap) - np.asarray(orig)
    assert sex.mean_score_change == pytest.approx(d[:6].mean(), abs=1e-12)
    assert sex.mean_abs_score_change == pytest.approx(np.abs(d[:6]).mean(), abs=1e-12)
    assert age.mean_score_change == pytest.approx(d[6:].mean(), abs=1e-12)
    lo, hi = sex.score_change_interval
    assert d[:6].min() <= lo <= sex.mean_score_change <= hi <= d[:6].max()


def test_flip_statistics_worst_examples_and_labels():
    orig = [0.5 + 0.01, 0.2, 0.7, 0.6]
    swap = [0.3, 0.9, 0.69, 0.6]
    variants = _variants(["sex"] * 4)
    (s,) = flip_statistics(variants, _probs(orig), _probs(swap), ["non-urgent", "urgent"], top_k=3)
    changes = [w["score_change"] for w in s.worst]
    assert len(s.worst) == 3
    assert [abs(c) for c in changes] == sorted((abs(c) for c in changes), reverse=True)
    first = s.worst[0]
    assert first["original"] == "orig 1" and first["swapped"] == "swap 1"
    assert first["score_change"] == pytest.approx(0.7)
    assert (first["original_label"], first["swapped_label"]) == ("non-urgent", "urgent")
    assert first["changed"] == [["a", "b"]]
    assert s.worst[1]["original_label"] == "urgent" and s.worst[1]["swapped_label"] == "non-urgent"
    d = s.to_dict()
    assert d["flip_interval"]["method"] == "wilson" and d["n_texts"] == 4
    assert d["score_change_interval"]["method"] == "bootstrap-percentile"


def test_flip_statistics_deterministic_and_positive_class():
    rng = np.random.default_rng(0)
    variants = _variants(["sex"] * 40 + ["ethnicity"] * 30)
    orig = rng.dirichlet([1, 1, 1], size=70)
    swap = rng.dirichlet([1, 1, 1], size=70)
    names = ["a", "b", "c"]
    a = flip_statistics(variants, orig, swap, names, positive=2, seed=7)
    b = flip_statistics(variants, orig, swap, names, positive=2, seed=7)
    assert [x.to_dict() for x in a] == [x.to_dict() for x in b]
    assert a[0].mean_score_change == pytest.approx((swap[:40, 2] - orig[:40, 2]).mean())
    assert a[0].flips == int((orig[:40].argmax(1) != swap[:40].argmax(1)).sum())
    c = flip_statistics(variants, orig, swap, names, positive=2, seed=8)
    assert c[0].score_change_interval != a[0].score_change_interval
    assert flip_statistics([], np.zeros((0, 3)), np.zeros((0, 3)), names) == []
    with pytest.raises(ValueError):
        flip_statistics(variants, orig[:5], swap, names)
    with pytest.raises(ValueError):
        flip_statistics(variants, orig, swap, names, positive=3)


# ------------------------------------------------------------ real synthetic notes


def test_synthetic_notes_get_clean_sex_variants():
    df = generate_clinical_triage(SyntheticSpec(size=200))
    texts = df["text"].tolist()
    variants = make_variants(texts, DEFAULT_SWAPS)
    sex = [v for v in variants if v.attribute == "sex"]
    assert len(sex) >= 0.9 * len(texts)
    assert len({v.index for v in sex}) == len(sex)
    token = re.compile(r"[^\W\d_]+|[^\w\s]|\d+|_")
    for v in sex:
        assert v.swapped != v.original
        a, b = token.findall(v.original), token.findall(v.swapped)
        assert len(a) == len(b)
        diffs = [(x, y) for x, y in zip(a, b) if x != y]
        assert diffs and all(
            (x, y) in v.changed or (x.lower(), y.lower()) in {(f.lower(), t.lower()) for f, t in v.changed}
            for x, y in diffs
        )
        assert len(diffs) == len(v.changed)
    age = [v for v in variants if v.attribute == "age_band"]
    assert len(age) == int((df["age_band"] != "40-64").sum())
