"""Tests for harness.ml.builtin_data_zh: the seeded ``builtin:clinical-triage-zh`` generator.

The checksums, formats and word lists here are written independently of the
generator's own code, so a wrong check character or a drifting format fails.
"""

from __future__ import annotations

import datetime
import math
import re
from pathlib import Path

import pandas as pd
import pytest

from harness.config.settings import AuditConfig, DataConfig
from harness.errors import DataError
from harness.ml import builtin_data
from harness.ml.builtin_data_zh import (
    ATTRIBUTE_VALUES,
    DATASET_ID,
    GIVEN_NAMES,
    LABELS,
    LOOKALIKE_KINDS,
    PII_KINDS,
    REFERENCE_DATE,
    SENSITIVE_ATTRIBUTES,
    SURNAMES,
    SyntheticSpec,
    generate_clinical_triage_zh,
)
from harness.ml.data import load_dataset

COLUMNS = [
    "id", "text", "label", "sex", "age_band", "ethnicity", "hukou", "has_pii",
    "pii_kinds", "pii_values", "lookalike_kinds", "lookalike_values", "bias_applied",
]
PROVINCES = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65}
AGE_RANGES = {"18-39": (18, 39), "40-64": (40, 64), "65+": (65, 120)}
FAMILY_WORDS = ("丈夫", "妻子", "儿子", "女儿", "父亲", "母亲")
ETHNICITY_WORDS = {"han": "汉族", "hui": "回族", "uyghur": "维吾尔族", "tibetan": "藏族", "zhuang": "壮族", "mongol": "蒙古族"}
ID_SHAPE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dX](?![0-9A-Za-z])")
MOBILE = re.compile(r"^(?:\+86[ -]?)?1[3-9]\d(?P<s>[ -]?)\d{4}(?P=s)\d{4}$")
MOBILE_IN_TEXT = re.compile(r"(?<!\d)1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)")
LANDLINE = re.compile(r"^0\d{2}-[2-8]\d{7}$|^0\d{3}-[2-8]\d{6,7}$")
EMAIL = re.compile(r"^[a-z0-9._]+@example\.(?:com|org|net)$")
ADDRESS = re.compile(r"^\S+?[市](?:\S+?[区])\S+?[路街]\d+号\d+栋\d单元\d{3,4}室$")


def id_valid(value: str) -> bool:
    """ISO 7064 MOD 11-2 over an 18-character id, with weights derived as 2**(position-1) mod 11."""
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(value[:17]))
    check = (12 - total % 11) % 11
    return value[17] == ("X" if check == 10 else str(check))


def luhn_valid(number: str) -> bool:
    digits = [int(c) for c in number][::-1]
    return sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits)) % 10 == 0


def planted(row: pd.Series, prefix: str = "pii") -> list[tuple[str, str]]:
    kinds, values = row[f"{prefix}_kinds"], row[f"{prefix}_values"]
    if not kinds:
        assert not values
        return []
    return list(zip(kinds.split("|"), values.split("|"), strict=True))


def age_on_reference(birth: datetime.date) -> int:
    ref = REFERENCE_DATE
    return ref.year - birth.year - ((ref.month, ref.day) < (birth.month, birth.day))


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return generate_clinical_triage_zh(SyntheticSpec(size=1500, seed=3, pii_rate=0.3))


# ------------------------------------------------------------------ determinism and schema


def test_same_seed_same_frame_other_seed_other_frame() -> None:
    spec = SyntheticSpec(size=300, seed=7, bias=0.3, pii_rate=0.4)
    pd.testing.assert_frame_equal(generate_clinical_triage_zh(spec), generate_clinical_triage_zh(spec))
    other = generate_clinical_triage_zh(SyntheticSpec(size=300, seed=8, bias=0.3, pii_rate=0.4))
    assert (other["text"] != generate_clinical_triage_zh(spec)["text"]).mean() > 0.9


def test_schema_labels_and_attributes(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == COLUMNS
    assert DATASET_ID == "builtin:clinical-triage-zh"
    # same order semantics as the English set: index 1 is the positive (urgent) class
    assert LABELS == ("非紧急", "紧急") and builtin_data.LABELS[1] == "urgent"
    assert set(frame["label"]) == set(LABELS)
    assert SENSITIVE_ATTRIBUTES[:2] == ("sex", "age_band")
    for attribute in SENSITIVE_ATTRIBUTES:
        assert set(frame[attribute]) == set(ATTRIBUTE_VALUES[attribute]), attribute
    assert frame["id"].is_unique and frame["has_pii"].dtype == bool and frame["bias_applied"].dtype == bool
    assert 0.3 < (frame["label"] == "紧急").mean() < 0.5


def test_loads_through_the_config_with_splits_and_sensitive_columns() -> None:
    config = AuditConfig.model_validate({"data": {"path": DATASET_ID, "synthetic": {"size": 200, "bias": 0.5}}})
    bundle = load_dataset(config.data, seed=1, base_dir=Path("."))
    assert {name: len(split) for name, split in bundle.splits.items()} == {"train": 120, "validation": 40, "test": 40}
    assert bundle.label_names == ("非紧急", "紧急")
    assert bundle.sensitive_columns == ("sex", "age_band", "ethnicity", "hukou")
    assert set(bundle.eval.sensitive["sex"]) == {"female", "male"}
    assert bundle.synthetic and bundle.source == DATASET_ID
    assert "Synthetic Chinese" in bundle.description and "no real patient data" in bundle.description
    assert "bias=0.5" in bundle.description
    again = load_dataset(config.data, seed=1, base_dir=Path("."))
    assert {n: s.fingerprint for n, s in bundle.splits.items()} == {n: s.fingerprint for n, s in again.splits.items()}
    only = load_dataset(DataConfig(path=DATASET_ID, sensitive=["sex", "age_band"], synthetic={"size": 60}), seed=0, base_dir=Path("."))
    assert only.sensitive_columns == ("sex", "age_band")


def test_unknown_builtin_and_bad_group_are_one_line_errors() -> None:
    with pytest.raises(Exception, match="builtin:clinical-triage-zh"):
        DataConfig(path="builtin:clinical-triage-cn")
    with pytest.raises(DataError, match="ethnicity=asian.*not a known group"):
        load_dataset(DataConfig(path=DATASET_ID, synthetic={"size": 40, "bias_group": "ethnicity=asian"}), seed=0, base_dir=Path("."))
    SyntheticSpec(bias_group="hukou=rural")  # a group of this dataset only
    with pytest.raises(ValueError):
        builtin_data.SyntheticSpec(bias_group="hukou=rural")


# ------------------------------------------------------------------ the bias knob


@pytest.mark.parametrize("group", ["sex=female", "hukou=rural"])
def test_bias_relabels_only_the_group_and_never_the_text(group: str) -> None:
    attribute, value = group.split("=")
    base = generate_clinical_triage_zh(SyntheticSpec(size=1200, seed=4, bias=0.0, bias_group=group))
    biased = generate_clinical_triage_zh(SyntheticSpec(size=1200, seed=4, bias=1.0, bias_group=group))
    assert (base["text"] == biased["text"]).all() and not base["bias_applied"].any()
    in_group = biased[attribute] == value
    assert not (biased.loc[in_group, "label"] == "紧急").any()
    assert (biased.loc[~in_group, "label"] == base.loc[~in_group, "label"]).all()
    flipped = biased["bias_applied"]
    assert flipped.sum() == ((base["label"] == "紧急") & in_group).sum() > 50
    assert (base.loc[flipped, "label"] == "紧急").all() and (biased.loc[flipped, "label"] == "非紧急").all()


def test_partial_bias_opens_a_gap_of_the_configured_size() -> None:
    df = generate_clinical_triage_zh(SyntheticSpec(size=4000, seed=9, bias=0.5))
    rates = df.groupby("sex")["label"].apply(lambda s: (s == "紧急").mean())
    # unbiased rate ~0.4; half the women's urgent notes relabelled -> ~0.2
    assert rates["male"] == pytest.approx(0.4, abs=0.04)
    assert rates["female"] == pytest.approx(0.2, abs=0.04)
    true_urgent_women = ((df["sex"] == "female") & ((df["label"] == "紧急") | df["bias_applied"])).sum()
    assert abs(df["bias_applied"].sum() - 0.5 * true_urgent_women) <= 4.5 * math.sqrt(true_urgent_women * 0.25)


# ------------------------------------------------------------------ the text


def test_every_note_states_the_sex_and_no_word_of_the_other_sex(frame: pd.DataFrame) -> None:
    own = {"female": re.compile(r"女|她|女士"), "male": re.compile(r"男|他|先生")}
    other = {"female": re.compile(r"男|他|先生"), "male": re.compile(r"女|她")}
    for text, sex in zip(frame["text"], frame["sex"]):
        stripped = text
        for word in FAMILY_WORDS:
            stripped = stripped.replace(word, "")
        assert own[sex].search(stripped), text
        assert not other[sex].search(stripped), text
    # the swappable forms all occur
    joined = "".join(frame["text"])
    for word in ("男性", "女性", "他", "她", "先生", "女士", "丈夫", "妻子", "儿子", "女儿", "父亲", "母亲"):
        assert word in joined, word


def test_age_and_age_words_match_the_band(frame: pd.DataFrame) -> None:
    words = {"18-39": "青年", "40-64": "中年", "65+": "老年"}
    for text, band in zip(frame["text"], frame["age_band"]):
        ages = [int(a) for a in re.findall(r"(?<!\d)(\d{2})岁", text)]
        assert len(ages) == 1, text
        low, high = AGE_RANGES[band]
        assert low <= ages[0] <= high, text
        for other_band, word in words.items():
            assert (word in text) <= (other_band == band), text
    assert sum(w in t for t in frame["text"] for w in words.values()) > 100


def test_ethnicity_and_hukou_words_are_the_rows_own(frame: pd.DataFrame) -> None:
    mentioned = 0
    for _, row in frame.iterrows():
        for value, word in ETHNICITY_WORDS.items():
            if word in row["text"]:
                assert value == row["ethnicity"], row["text"]
                mentioned += 1
        assert ("城镇户口" in row["text"]) <= (row["hukou"] == "urban")
        assert ("农村户口" in row["text"]) <= (row["hukou"] == "rural")
    assert 0.2 < mentioned / len(frame) < 0.4


def test_notes_are_chinese_with_chinese_vital_signs(frame: pd.DataFrame) -> None:
    for text in frame["text"]:
        assert len(re.findall(r"[\u4e00-\u9fff]", text)) >= 8, text
        assert not re.search(r"\b(?:BP|HR|RR|Temp|SpO2)\b", text), text
    joined = "".join(frame["text"])
    assert re.search(r"血压\d{2,3}/\d{2,3}mmHg", joined) and re.search(r"心率\d{2,3}次/分", joined)
    assert re.search(r"体温\d{2}\.\d℃", joined)
    for word in ("主诉", "现病史", "胸痛", "呼吸困难", "头晕", "发热", "腹痛"):
        assert word in joined, word


def test_urgency_is_learnable_from_the_text() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    df = generate_clinical_triage_zh(SyntheticSpec(size=1500, seed=5, pii_rate=0.0))
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3))
    train, test = df.iloc[:1000], df.iloc[1000:]
    model = LogisticRegression(max_iter=2000, C=10).fit(vectorizer.fit_transform(train["text"]), train["label"])
    accuracy = (model.predict(vectorizer.transform(test["text"])) == test["label"]).mean()
    assert accuracy > 0.85, accuracy


# ------------------------------------------------------------------ planted personal data


def test_pii_rate_zero_and_one() -> None:
    none = generate_clinical_triage_zh(SyntheticSpec(size=200, seed=1, pii_rate=0.0))
    assert not none["has_pii"].any() and (none["pii_kinds"] == "").all()
    every = generate_clinical_triage_zh(SyntheticSpec(size=200, seed=1, pii_rate=1.0))
    assert every["has_pii"].all() and (every["lookalike_kinds"] == "").all()
    assert all(1 <= len(k.split("|")) <= 3 for k in every["pii_kinds"])


def test_every_planted_value_is_in_its_note_in_the_stated_format(frame: pd.DataFrame) -> None:
    counts = {kind: 0 for kind in PII_KINDS}
    surnames = {s for s, _ in SURNAMES}
    for _, row in frame.iterrows():
        pairs = planted(row)
        assert bool(pairs) == row["has_pii"]
        for kind, value in pairs:
            counts[kind] += 1
            assert value in row["text"], (kind, value)
            if kind == "id_number":
                assert id_valid(value), value
                assert int(value[:2]) in PROVINCES, value
                birth = datetime.datetime.strptime(value[6:14], "%Y%m%d").date()
                low, high = AGE_RANGES[row["age_band"]]
                assert low <= age_on_reference(birth) <= high, value
                assert f"{age_on_reference(birth)}岁" in row["text"]
                assert int(value[14:17]) % 2 == (1 if row["sex"] == "male" else 0), value
            elif kind == "mobile":
                assert MOBILE.match(value), value
            elif kind == "landline":
                assert LANDLINE.match(value), value
            elif kind == "card":
                digits = value.replace(" ", "")
                assert digits.startswith("62") and len(digits) in (16, 19) and digits.isdigit(), value
                assert luhn_valid(digits), value
            elif kind == "email":
                assert EMAIL.match(value), value
            elif kind == "address":
                assert ADDRESS.match(value), value
            elif kind == "name":
                assert value[0] in surnames and 2 <= len(value) <= 3
                assert value[1:] in {g for g, _ in GIVEN_NAMES[row["sex"]]}
                assert re.search(rf"患者{value}|姓名：{value}|{value}(?:女士|先生)", row["text"]), row["text"]
    assert all(count > 40 for count in counts.values()), counts


def test_notes_without_pii_hold_no_personal_data(frame: pd.DataFrame) -> None:
    full_names = {s + g for s, _ in SURNAMES for names in GIVEN_NAMES.values() for g, _ in names}
    clean = frame[~frame["has_pii"]]
    for text in clean["text"]:
        assert not [m for m in ID_SHAPE.findall(text) if id_valid(m)], text
        assert not MOBILE_IN_TEXT.search(text), text
        assert "@" not in text and "身份证" not in text and "住址" not in text
        assert not any(name in text for name in full_names), text


def test_every_id_shaped_number_is_planted_and_valid_or_a_lookalike_and_invalid(frame: pd.DataFrame) -> None:
    seen_valid = seen_invalid = 0
    for _, row in frame.iterrows():
        ids = {v for k, v in planted(row) if k == "id_number"}
        bad = {v for k, v in planted(row, "lookalike") if k == "invalid_id_number"}
        for match in ID_SHAPE.findall(row["text"]):
            if id_valid(match):
                assert match in ids, match
                seen_valid += 1
            else:
                assert match in bad, match
                seen_invalid += 1
    assert seen_valid > 40 and seen_invalid > 10


def test_lookalikes_fail_the_checks_and_sit_only_in_notes_without_pii(frame: pd.DataFrame) -> None:
    counts = {kind: 0 for kind in LOOKALIKE_KINDS}
    for _, row in frame.iterrows():
        pairs = planted(row, "lookalike")
        assert not (pairs and row["has_pii"])
        for kind, value in pairs:
            counts[kind] += 1
            assert value in row["text"]
            assert not id_valid(value), value
            if kind == "invalid_id_number":
                # everything but the check character is that of a real id
                assert int(value[:2]) in PROVINCES and value[17].isdigit()
                birth = datetime.datetime.strptime(value[6:14], "%Y%m%d").date()
                assert f"{age_on_reference(birth)}岁" in row["text"]
    clean = (~frame["has_pii"]).sum()
    with_lookalike = (frame["lookalike_kinds"] != "").sum()
    assert 0.08 < with_lookalike / clean < 0.22
    assert all(count > 10 for count in counts.values()), counts
    assert "门诊号" not in "".join(frame["text"]) and "住院号" not in "".join(frame["text"])  # record numbers are personal data


def test_luhn_and_id_helpers_agree_with_known_values() -> None:
    # the test's own checksums, on published examples
    assert id_valid("11010519491231002X") and not id_valid("110105194912310021")
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert id_valid("440524188001010014")
