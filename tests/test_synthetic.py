"""Tests for harness.ml.builtin_data: the seeded ``builtin:clinical-triage`` generator.

The audit checks are validated against this dataset's ground truth (which
rows were biased, which carry PII), so these tests pin that ground truth down.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from harness.ml.builtin_data import (
    ATTRIBUTE_VALUES,
    FIRST_NAMES,
    LABELS,
    SENSITIVE_ATTRIBUTES,
    SURNAMES,
    SyntheticSpec,
    generate_clinical_triage,
)

COLUMNS = ["id", "text", "label", "sex", "age_band", "ethnicity", "has_pii", "bias_applied"]

# Independent of the generator's own formatting code on purpose.
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
PHONE_RE = re.compile(r"(?:\(\d{3}\)\s?|\b\d{3}-)?\b555-\d{4}\b|\b\d{3}[-. ]\d{3}[-. ]\d{4}\b")
MRN_RE = re.compile(r"\bMRN\b\D{0,5}\d{6,10}\b")
ALL_NAMES = sorted({n for names in FIRST_NAMES.values() for n in names} | {n for names in SURNAMES.values() for n in names})
NAME_RE = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in ALL_NAMES) + r")\b")
FEMALE_RE = re.compile(r"\b(?:woman|female|she|her)\b", re.IGNORECASE)
MALE_RE = re.compile(r"\b(?:man|male|he|him|his)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def default_frame() -> pd.DataFrame:
    return generate_clinical_triage()


def _spec(**overrides: object) -> SyntheticSpec:
    return SyntheticSpec(**overrides)  # type: ignore[arg-type]


def _binomial_ok(count: int, n: int, p: float, z: float = 4.5) -> bool:
    """count within z standard deviations of Binomial(n, p)'s mean."""
    return abs(count - n * p) <= z * math.sqrt(n * p * (1 - p)) + 1


# --------------------------------------------------------------------------
# Determinism and schema
# --------------------------------------------------------------------------


def test_same_spec_gives_identical_frames() -> None:
    spec = _spec(size=500, seed=7, bias=0.3, pii_rate=0.4)
    pd.testing.assert_frame_equal(generate_clinical_triage(spec), generate_clinical_triage(spec))


def test_different_seeds_give_different_data() -> None:
    a = generate_clinical_triage(_spec(size=300, seed=1))
    b = generate_clinical_triage(_spec(size=300, seed=2))
    assert (a["text"] != b["text"]).mean() > 0.9
    assert not a["sex"].equals(b["sex"])


def test_default_argument_matches_default_spec(default_frame: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(default_frame, generate_clinical_triage(SyntheticSpec()))


def test_columns_dtypes_and_values(default_frame: pd.DataFrame) -> None:
    df = default_frame
    assert list(df.columns) == COLUMNS
    assert len(df) == 1200
    assert df["id"].tolist() == [f"ct-{i:05d}" for i in range(1200)]
    assert df["id"].is_unique
    for column in ("id", "text", "label", "sex", "age_band", "ethnicity"):
        assert pd.api.types.is_string_dtype(df[column]), column
        assert all(isinstance(v, str) for v in df[column]), column
    assert df["has_pii"].dtype == bool
    assert df["bias_applied"].dtype == bool
    assert set(df["label"]) == set(LABELS)
    assert SENSITIVE_ATTRIBUTES == ("sex", "age_band", "ethnicity")
    assert LABELS == ("non-urgent", "urgent")
    assert set(df["sex"]) == {"female", "male"}
    assert set(df["age_band"]) == {"18-39", "40-64", "65+"}
    assert set(df["ethnicity"]) == set(ATTRIBUTE_VALUES["ethnicity"])
    assert len(ATTRIBUTE_VALUES["ethnicity"]) == 4
    assert not df["bias_applied"].any()  # default bias is 0


def test_texts_are_short_notes_with_varied_wording(default_frame: pd.DataFrame) -> None:
    texts = default_frame["text"]
    assert texts.str.len().between(20, 400).all()
    assert texts.is_unique or texts.nunique() > 0.97 * len(texts)
    body = texts[~default_frame["has_pii"]]
    sentences = body.str.count(r"[.!?](?:\s|$)")
    assert sentences.between(1, 3).all()
    assert sentences.nunique() == 3  # one-, two- and three-sentence notes all occur
    # Vitals appear in a good share of notes.
    assert texts.str.contains(r"\b(?:BP \d+/\d+|HR \d+|SpO2 \d+%|RR \d+|Temp \d+\.\dC|GCS \d+)").mean() > 0.3


def test_mentioned_age_is_inside_the_age_band(default_frame: pd.DataFrame) -> None:
    for text, band in zip(default_frame["text"], default_frame["age_band"]):
        match = re.search(r"\b(?:aged (\d{2})\b|(\d{2})(?:-year-old| y/o|yo\b|, attends))", text)
        assert match, text
        age = int(match.group(1) or match.group(2))
        low, high = (18, 39) if band == "18-39" else (40, 64) if band == "40-64" else (65, 120)
        assert low <= age <= high, (band, text)


def test_sex_words_agree_with_sex_column(default_frame: pd.DataFrame) -> None:
    for text, sex in zip(default_frame["text"], default_frame["sex"]):
        if sex == "female":
            assert FEMALE_RE.search(text) and not MALE_RE.search(text), text
        else:
            assert MALE_RE.search(text) and not FEMALE_RE.search(text), text


def test_label_balance_near_urgent_rate() -> None:
    for rate in (0.2, 0.4, 0.7):
        df = generate_clinical_triage(_spec(size=4000, seed=3, urgent_rate=rate))
        urgent = int((df["label"] == "urgent").sum())
        assert _binomial_ok(urgent, len(df), rate), (rate, urgent)
    assert (generate_clinical_triage(_spec(urgent_rate=0.0))["label"] == "non-urgent").all()
    assert (generate_clinical_triage(_spec(urgent_rate=1.0))["label"] == "urgent").all()


def test_groups_share_the_base_rate_without_bias() -> None:
    df = generate_clinical_triage(_spec(size=6000, seed=5))
    rates = df.groupby("sex")["label"].apply(lambda s: (s == "urgent").mean())
    assert abs(rates["female"] - rates["male"]) < 0.05


# --------------------------------------------------------------------------
# Bias knob
# --------------------------------------------------------------------------


def test_bias_zero_flips_nothing() -> None:
    df = generate_clinical_triage(_spec(size=2000, seed=11, bias=0.0))
    assert not df["bias_applied"].any()


@pytest.mark.parametrize("group", ["sex=female", "age_band=65+", "ethnicity=black"])
def test_full_bias_relabels_every_urgent_note_of_the_group(group: str) -> None:
    attribute, value = group.split("=")
    base = generate_clinical_triage(_spec(size=2000, seed=4, bias=0.0, bias_group=group))
    biased = generate_clinical_triage(_spec(size=2000, seed=4, bias=1.0, bias_group=group))
    in_group = base[attribute] == value
    truly_urgent = base["label"] == "urgent"

    assert biased["text"].equals(base["text"])
    for column in ("id", "sex", "age_band", "ethnicity", "has_pii"):
        assert biased[column].equals(base[column]), column
    assert (biased.loc[in_group, "label"] == "non-urgent").all()
    assert biased.loc[~in_group, "label"].equals(base.loc[~in_group, "label"])
    assert biased["bias_applied"].equals(in_group & truly_urgent)
    assert biased["bias_applied"].sum() > 50


def test_half_bias_flips_about_half_and_keeps_texts() -> None:
    base = generate_clinical_triage(_spec(size=4000, seed=9, bias=0.0))
    half = generate_clinical_triage(_spec(size=4000, seed=9, bias=0.5))
    eligible = (base["sex"] == "female") & (base["label"] == "urgent")
    flipped = half["bias_applied"]

    assert half["text"].equals(base["text"])
    assert not flipped[~eligible].any()
    assert (half.loc[flipped, "label"] == "non-urgent").all()
    assert half.loc[~flipped, "label"].equals(base.loc[~flipped, "label"])
    assert _binomial_ok(int(flipped.sum()), int(eligible.sum()), 0.5)


def test_bias_is_monotone_in_the_knob() -> None:
    """A row flipped at a lower bias stays flipped at a higher one."""
    low = generate_clinical_triage(_spec(size=1500, seed=2, bias=0.3))["bias_applied"]
    high = generate_clinical_triage(_spec(size=1500, seed=2, bias=0.7))["bias_applied"]
    assert (high | ~low).all()
    assert high.sum() > low.sum()


# --------------------------------------------------------------------------
# Synthetic personal data
# --------------------------------------------------------------------------


def test_pii_rows_carry_personal_data_and_others_none() -> None:
    df = generate_clinical_triage(_spec(size=3000, seed=8, pii_rate=0.3))
    pii, clean = df[df["has_pii"]], df[~df["has_pii"]]
    assert _binomial_ok(len(pii), len(df), 0.3)
    for text in pii["text"]:
        found = [bool(rx.search(text)) for rx in (EMAIL_RE, PHONE_RE, MRN_RE, NAME_RE)]
        assert 1 <= sum(found) <= 4, text
    for text in clean["text"]:
        assert not EMAIL_RE.search(text), text
        assert not PHONE_RE.search(text), text
        assert not MRN_RE.search(text), text
        assert not NAME_RE.search(text), text
    # Every kind shows up somewhere.
    joined = "\n".join(pii["text"])
    for rx in (EMAIL_RE, PHONE_RE, MRN_RE, NAME_RE):
        assert rx.search(joined), rx.pattern


def test_pii_uses_reserved_fictional_ranges() -> None:
    df = generate_clinical_triage(_spec(size=2000, seed=1, pii_rate=1.0))
    assert df["has_pii"].all()
    text = "\n".join(df["text"])
    emails = EMAIL_RE.findall(text)
    assert emails and all(e.rsplit("@", 1)[1] in {"example.com", "example.org", "example.net"} for e in emails)
    phones = re.findall(r"\b555-(\d{4})\b", text)
    assert phones and all(p.startswith("01") for p in phones)
    mrns = re.findall(r"\bMRN\D{0,5}(\d+)\b", text)
    assert mrns and all(len(m) == 8 for m in mrns)


def test_names_match_the_rows_group() -> None:
    df = generate_clinical_triage(_spec(size=2000, seed=6, pii_rate=1.0))
    checked = 0
    for text, sex, ethnicity in zip(df["text"], df["sex"], df["ethnicity"]):
        first = [n for n in re.findall(r"\b[A-Z][A-Za-z']+\b", text) if any(n in v for v in FIRST_NAMES.values())]
        if first:
            assert first[0] in FIRST_NAMES[(sex, ethnicity)], text
            checked += 1
    assert checked > 500
    assert all(len(names) >= 8 for names in FIRST_NAMES.values())
    assert set(FIRST_NAMES) == {(s, e) for s in ATTRIBUTE_VALUES["sex"] for e in ATTRIBUTE_VALUES["ethnicity"]}


def test_pii_rate_zero_means_no_personal_data() -> None:
    df = generate_clinical_triage(_spec(size=1000, seed=3, pii_rate=0.0))
    assert not df["has_pii"].any()
    assert not df["text"].str.contains(EMAIL_RE).any()
    assert not df["text"].str.contains(NAME_RE).any()


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"size": 19},
        {"size": 0},
        {"size": -5},
        {"size": 100.0},
        {"bias": -0.1},
        {"bias": 1.5},
        {"bias": float("nan")},
        {"pii_rate": -0.01},
        {"pii_rate": 2},
        {"urgent_rate": 1.01},
        {"urgent_rate": -1},
        {"bias_group": "female"},
        {"bias_group": "sex"},
        {"bias_group": "sex=nonbinary"},
        {"bias_group": "religion=any"},
        {"bias_group": "sex=female=x"},
        {"bias_group": "age_band=65"},
        {"bias_group": ""},
        {"seed": -1},
    ],
)
def test_bad_spec_raises_value_error(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError) as info:
        generate_clinical_triage(_spec(**overrides))
    message = str(info.value)
    assert message and "\n" not in message
    assert next(iter(overrides)) in message


def test_boundary_values_are_accepted() -> None:
    df = generate_clinical_triage(_spec(size=20, bias=1.0, pii_rate=1.0, urgent_rate=0.0, bias_group="age_band=65+"))
    assert len(df) == 20


# --------------------------------------------------------------------------
# Speed and learnability
# --------------------------------------------------------------------------


def test_ten_thousand_notes_are_generated() -> None:
    df = generate_clinical_triage(_spec(size=10_000, seed=1))
    assert len(df) == 10_000
    assert df["id"].is_unique


def test_learnable_but_not_trivially() -> None:
    """TF-IDF + logistic regression does well but the vague notes cap it below 1.0."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    df = generate_clinical_triage(_spec(size=1200, seed=0))
    train, test = train_test_split(df, train_size=0.7, random_state=0, stratify=df["label"])
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    model = LogisticRegression(max_iter=2000, C=10.0)
    model.fit(vectorizer.fit_transform(train["text"]), train["label"])
    accuracy = float(np.mean(model.predict(vectorizer.transform(test["text"])) == test["label"].to_numpy()))
    assert 0.80 <= accuracy <= 0.99, accuracy
