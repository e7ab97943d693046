"""``builtin:clinical-triage`` -- a fully synthetic, seeded triage-note dataset.

Why this exists
---------------
The harness audits Hugging Face text classifiers for accuracy, fairness,
robustness and privacy.  Demos, tests and CI need a dataset that

* works offline (no download, no licence, no data-use agreement),
* contains **no real patient**: every note, name, phone number, e-mail and
  record number is invented here from a seed, with phone numbers in the
  fictional ``555-01xx`` range and e-mails on the reserved ``example.*``
  domains,
* carries sensitive attributes (``sex``, ``age_band``, ``ethnicity``) that are
  recoverable from the text, so a model *can* pick up a group bias and the
  fairness / counterfactual checks have something to find,
* lets a test dial in a known amount of bias and personal data, so the audit
  checks can be verified against ground truth.

Each row is a short triage nurse's note (one to three sentences, e.g.
"72-year-old woman presents with crushing chest pain radiating to the left
arm.") labelled ``urgent`` or ``non-urgent``.  Age and sex are always in the
text (with he/she pronouns), ethnicity in about 30% of notes ("58-year-old
Black woman") and through the names of PII notes.  About 10% of notes describe
vague complaints ("intermittent dizziness") with uninformative vitals, whose
true condition (urgent with probability urgent_rate) the text does not reveal,
so even a perfect model tops out near 0.96 accuracy (TF-IDF + logistic
regression gets ~0.95-0.97).

Knobs (:class:`SyntheticSpec`)
------------------------------
``size``
    Number of notes (>= 20).
``seed``
    Seed of ``numpy.random.default_rng``; same spec -> identical DataFrame.
``bias``
    Share (0..1) of truly urgent notes in ``bias_group`` whose label is
    flipped to ``non-urgent``; flipped rows have ``bias_applied=True``.  The
    bias only touches labels: texts are identical for every ``bias`` value.
``bias_group``
    ``"attribute=value"`` of the disadvantaged group, e.g. ``"sex=female"``.
``pii_rate``
    Share (0..1) of notes carrying synthetic personal data (1-3 of: name,
    phone, e-mail, medical record number); ``has_pii`` marks them.  Notes
    without PII contain none of these, not even a first name.
``urgent_rate``
    Share (0..1) of notes whose true condition is urgent.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TypeVar

import numpy as np
import pandas as pd

__all__ = [
    "ATTRIBUTE_VALUES",
    "DATASET_ID",
    "FIRST_NAMES",
    "LABELS",
    "SENSITIVE_ATTRIBUTES",
    "SURNAMES",
    "SyntheticSpec",
    "generate_clinical_triage",
]

DATASET_ID = "builtin:clinical-triage"

SENSITIVE_ATTRIBUTES: tuple[str, ...] = ("sex", "age_band", "ethnicity")
LABELS: tuple[str, str] = ("non-urgent", "urgent")  # index 1 is the positive class

#: Allowed values of each sensitive attribute, in a fixed order.
ATTRIBUTE_VALUES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "sex": ("female", "male"),
        "age_band": ("18-39", "40-64", "65+"),
        "ethnicity": ("asian", "black", "hispanic", "white"),
    }
)

# Population mix; condition is drawn independently of all attributes, so with
# bias=0 every group has the same base rate of urgent notes.
_ATTRIBUTE_PROBS: Mapping[str, tuple[float, ...]] = MappingProxyType(
    {
        "sex": (0.5, 0.5),
        "age_band": (0.38, 0.36, 0.26),
        "ethnicity": (0.2, 0.2, 0.2, 0.4),
    }
)
_AGE_RANGES: Mapping[str, tuple[int, int]] = MappingProxyType(
    {"18-39": (18, 39), "40-64": (40, 64), "65+": (65, 94)}
)

# Share of notes with vague/mixed symptoms whose text carries no signal about
# the true condition (the "label noise" that keeps accuracy below 1.0).
_AMBIGUOUS_RATE = 0.10
_VITALS_RATE = 0.55  # share of notes with an observations sentence
_VITALS_CONSISTENT = 0.85  # abnormal vitals <=> urgent, this often
_MODIFIER_RATE = 0.35  # share of notes with a ", looks unwell"-style clause
_MODIFIER_CONSISTENT = 0.93
_CONTEXT_RATE = 0.5  # share of notes with a pronoun/history sentence
_ETHNICITY_MENTION_RATE = 0.3  # share of notes naming the ethnicity
_PII_AT_START = 0.7  # PII as a header (else as a trailing contact line)

# --------------------------------------------------------------------------
# Vocabulary.  Phrases avoid pronouns, sex words, ethnicity words and names so
# that group membership is only visible through the intended slots.
# --------------------------------------------------------------------------

_URGENT_SYMPTOMS: tuple[str, ...] = (
    "crushing chest pain radiating to the left arm",
    "central chest pain with sweating and nausea",
    "sudden slurred speech and right-sided facial droop",
    "sudden weakness of the left arm and leg",
    "severe shortness of breath at rest",
    "wheeze, unable to complete sentences despite inhaler",
    "coughing up blood",
    "vomiting fresh blood",
    "dark tarry stools and dizziness on standing",
    "the worst headache of life, sudden onset",
    "high fever, neck stiffness and a non-blanching rash",
    "confusion and fever with low blood pressure",
    "lip and tongue swelling after a bee sting",
    "throat tightness and hives after eating peanuts",
    "a seizure lasting more than five minutes",
    "a witnessed collapse with brief loss of consciousness",
    "severe abdominal pain and a rigid abdomen",
    "suspected overdose of paracetamol tablets",
    "a deep laceration to the thigh with pulsatile bleeding",
    "sudden painless loss of vision in one eye",
    "an open fracture of the lower leg",
    "extensive burns to both hands and forearms",
    "suicidal thoughts with a specific plan",
    "palpitations with fainting and a racing pulse",
    "a head injury with repeated vomiting",
    "sudden tearing pain between the shoulder blades",
    "a swollen, cold and pulseless foot",
    "high blood sugar with drowsiness and rapid breathing",
    "a pelvic fracture after a fall from a ladder",
)

_NON_URGENT_COMPLAINTS: tuple[str, ...] = (
    "a mild sore throat for two days",
    "a runny nose and sneezing",
    "an ankle sprain, able to weight-bear",
    "a small cut on the finger, bleeding controlled",
    "mild lower back pain after gardening",
    "an itchy rash on the forearm",
    "earache for three days, no fever",
    "mild heartburn after meals",
    "an insect bite with local redness",
    "a dry cough for a week, eating and drinking normally",
    "a painful wart on the sole of the foot",
    "seasonal hay fever symptoms",
    "constipation for four days",
    "a minor kettle burn with a small blister",
    "sunburn on the shoulders",
    "an itchy, flaky scalp",
    "an ingrown toenail",
    "mild knee pain when climbing stairs",
    "mild nausea since starting a new antibiotic",
    "a stye on the upper eyelid",
    "a tension headache eased by paracetamol",
    "a cold sore on the lip",
    "mild diarrhoea for one day, keeping fluids down",
    "a bruised shin after a trip, walking normally",
    "a sticky red eye since yesterday",
    "a blocked ear after swimming",
    "mouth ulcers for a few days",
)

_NON_URGENT_REQUESTS: tuple[str, ...] = (
    "a repeat prescription for eczema cream",
    "a sick note for work",
    "travel vaccination advice",
    "a routine medication review",
    "a blood pressure check",
    "results of routine blood tests",
    "removal of stitches from a healing wound",
    "a dressing change on a healing graze",
)

_VAGUE_SYMPTOMS: tuple[str, ...] = (
    "feeling generally unwell",
    "intermittent dizziness",
    "vague abdominal discomfort",
    "tiredness and occasional palpitations",
    "chest tightness that comes and goes",
    "a fall at home, unsure whether the head was hit",
    "tingling in both hands",
    "breathlessness on exertion",
    "a fever for three days",
    "a headache with blurred vision earlier, now settling",
    "abdominal pain since yesterday",
    "a rash and a mild temperature",
    "feeling faint after standing up",
)

_COMPLAINT_TEMPLATES: tuple[str, ...] = (
    "{age}-year-old {eth}{noun} presents with {sym}{mod}.",
    "{age} y/o {eth}{adj}, {sym}{mod}.",
    "{age}yo {eth}{adj} c/o {sym}{mod}.",
    "{eth}{adj} patient aged {age} reports {sym}{mod}.",
    "{age}-year-old {eth}{noun} brought in by family with {sym}{mod}.",
    "Walk-in, {age} y/o {eth}{adj} with {sym}{mod}.",
    "{age}-year-old {eth}{noun} self-presents to triage with {sym}{mod}.",
    "Triage note: {age}-year-old {eth}{noun} with {sym}{mod}.",
    "{eth}{noun}, {age}, attends with {sym}{mod}.",
    "{age} y/o {eth}{adj} presenting with {sym}{mod}.",
)

_REQUEST_TEMPLATES: tuple[str, ...] = (
    "{age} y/o {eth}{adj}, requests {sym}{mod}.",
    "{age}-year-old {eth}{noun} here for {sym}{mod}.",
    "{eth}{adj} patient aged {age} attends for {sym}{mod}.",
    "Walk-in, {age}-year-old {eth}{noun} asking for {sym}{mod}.",
)

_URGENT_MODIFIERS: tuple[str, ...] = (
    ", looks unwell",
    ", pale and clammy",
    ", in visible distress",
    ", drowsy but rousable",
    ", anxious and sweating",
)
_CALM_MODIFIERS: tuple[str, ...] = (
    ", no acute distress",
    ", otherwise well",
    ", walking and talking comfortably",
    ", appears comfortable",
    ", alert and chatting",
)

_SEX_WORDS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "female": MappingProxyType(
            {"noun": "woman", "adj": "female", "subj": "she", "obj": "her", "poss": "her"}
        ),
        "male": MappingProxyType(
            {"noun": "man", "adj": "male", "subj": "he", "obj": "him", "poss": "his"}
        ),
    }
)
_ETHNICITY_WORDS: Mapping[str, str] = MappingProxyType(
    {"asian": "Asian", "black": "Black", "hispanic": "Hispanic", "white": "White"}
)

_CONTEXT_TEMPLATES: tuple[str, ...] = (
    "{subj} reports symptoms started {fill}.",
    "{poss} {rel} is with {obj}.",
    "{subj} has a history of {hx}.",
    "{subj} takes {med} daily.",
    "{subj} denies recent travel or sick contacts.",
    "Known {hx}; {subj} lives alone.",
    "{subj} arrived with {poss} {rel}.",
    "No known drug allergies; {subj} is up to date with vaccinations.",
)
_ONSETS: tuple[str, ...] = (
    "about an hour ago",
    "this morning",
    "earlier today",
    "last night",
    "two days ago",
    "a few hours ago",
)
_RELATIVES: tuple[str, ...] = ("daughter", "son", "partner", "sister", "brother", "neighbour")
_HISTORY: tuple[str, ...] = (
    "hypertension",
    "type 2 diabetes",
    "asthma",
    "COPD",
    "atrial fibrillation",
    "hypothyroidism",
    "depression",
    "high cholesterol",
)
_MEDICATIONS: tuple[str, ...] = (
    "metformin",
    "amlodipine",
    "levothyroxine",
    "atorvastatin",
    "ramipril",
    "sertraline",
    "an apixaban tablet",
)
_VITALS_TEMPLATES: tuple[str, ...] = (
    "Obs: {v}.",
    "Vitals {v}.",
    "On arrival {v}.",
    "{v} at triage.",
)

# --------------------------------------------------------------------------
# Synthetic personal data.  Names only ever appear in PII notes.
# --------------------------------------------------------------------------

#: First names typical of each (sex, ethnicity) group; only used in PII notes.
FIRST_NAMES: Mapping[tuple[str, str], tuple[str, ...]] = MappingProxyType(
    {
        ("female", "asian"): ("Mei", "Priya", "Yuki", "Ananya", "Jia", "Hana", "Linh", "Sunita"),
        ("male", "asian"): ("Wei", "Arjun", "Hiroshi", "Minh", "Jun", "Rahul", "Kenji", "Sanjay"),
        ("female", "black"): ("Aaliyah", "Imani", "Aisha", "Nia", "Amara", "Zola", "Adaeze", "Latoya"),
        ("male", "black"): ("Jamal", "Darnell", "Malik", "Tyrone", "DeShawn", "Kwame", "Emeka", "Andre"),
        ("female", "hispanic"): ("Maria", "Lucia", "Sofia", "Camila", "Valentina", "Guadalupe", "Ximena", "Carmen"),
        ("male", "hispanic"): ("Jose", "Carlos", "Luis", "Miguel", "Alejandro", "Javier", "Diego", "Santiago"),
        ("female", "white"): ("Emily", "Sarah", "Katherine", "Megan", "Abigail", "Hannah", "Claire", "Molly"),
        ("male", "white"): ("Connor", "Jacob", "Matthew", "Brett", "Garrett", "Cody", "Wyatt", "Luke"),
    }
)
#: Surnames typical of each ethnicity; only used in PII notes.
SURNAMES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "asian": ("Chen", "Patel", "Nguyen", "Kim", "Tanaka", "Singh", "Wang", "Yamamoto"),
        "black": ("Washington", "Jefferson", "Okafor", "Mensah", "Banks", "Booker", "Adeyemi", "Jackson"),
        "hispanic": ("Garcia", "Rodriguez", "Hernandez", "Lopez", "Martinez", "Gonzalez", "Ramirez", "Torres"),
        "white": ("Miller", "Anderson", "Schmidt", "O'Brien", "Sullivan", "Olsen", "Walsh", "Becker"),
    }
)

_PII_KINDS: tuple[str, ...] = ("name", "mrn", "phone", "email")
# Every non-empty subset of at most 3 kinds, in a fixed order (14 subsets).
_PII_SUBSETS: tuple[tuple[str, ...], ...] = tuple(
    tuple(k for bit, k in enumerate(_PII_KINDS) if mask >> bit & 1)
    for mask in range(1, 1 << len(_PII_KINDS))
    if 1 <= bin(mask).count("1") <= 3
)
_AREA_CODES: tuple[str, ...] = ("212", "303", "312", "404", "415", "617", "702", "206")
_EMAIL_DOMAINS: tuple[str, ...] = ("example.com", "example.org", "example.net")
_NAME_LEADS: tuple[str, ...] = ("Pt", "Patient", "Name:", "Pt name:")
_TRAILER_LEADS: tuple[str, ...] = ("Contact:", "Callback:", "Patient details:", "Registration:")


class _Col:
    """Columns of the per-row matrix of uniforms driving every text choice.

    Each choice owns a fixed column, so flipping one knob (bias, pii_rate)
    never shifts the random numbers used by unrelated parts of a note.
    Plain ints rather than an IntEnum: this is the inner loop.
    """

    INTRO = 0
    SYMPTOM = 1
    ETH_MENTION = 2
    AGE = 3
    MODIFIER = 4
    MODIFIER_OK = 5
    MODIFIER_PICK = 6
    VITALS = 7
    VITALS_OK = 8
    VITALS_N = 9
    VITALS_START = 10
    VITALS_FMT = 11
    DIRECTION = 12
    BP_SYS = 13
    BP_DIA = 14
    HR = 15
    SPO2 = 16
    RR = 17
    TEMP = 18
    GCS = 19
    CONTEXT = 20
    CONTEXT_TPL = 21
    CONTEXT_FILL = 22
    PII_KINDS = 23
    FIRST = 24
    LAST = 25
    AREA = 26
    PHONE = 27
    EMAIL_FMT = 28
    DOMAIN = 29
    PII_POS = 30
    PII_LEAD = 31
    PII_FMT = 32
    COUNT = 33


# --------------------------------------------------------------------------
# Spec and validation
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class SyntheticSpec:
    """Knobs of the generator (all have defaults); validated on construction."""

    size: int = 1200  # number of notes, >= 20
    seed: int = 0
    bias: float = 0.0  # 0..1: share of urgent notes in the bias group relabelled non-urgent
    bias_group: str = "sex=female"  # "attribute=value" of the group the bias acts against
    pii_rate: float = 0.15  # 0..1: share of notes that carry synthetic personal data
    urgent_rate: float = 0.4  # share of notes whose true condition is urgent

    def __post_init__(self) -> None:
        _validate(self)


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_share(name: str, value: object) -> None:
    """Reject anything that is not a finite number in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    if not (math.isfinite(float(value)) and 0.0 <= float(value) <= 1.0):
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")


def _parse_group(
    group: object, attributes: Sequence[str] = SENSITIVE_ATTRIBUTES, values: Mapping[str, Sequence[str]] = ATTRIBUTE_VALUES,
    dataset: str = "",
) -> tuple[str, str]:
    """Split ``"attribute=value"`` and check both halves against a dataset's schema (default: this one's)."""
    allowed = ", ".join(f"{a}={v}" for a in attributes for v in values[a])
    if not isinstance(group, str) or group.count("=") != 1:
        raise ValueError(f"bias_group must look like 'attribute=value' (one of: {allowed}), got {group!r}")
    attribute, value = group.split("=")
    if attribute not in attributes or value not in values[attribute]:
        where = f" of {dataset}" if dataset else ""
        raise ValueError(f"bias_group {group!r} is not a known group{where}; use one of: {allowed}")
    return attribute, value


def _validate(spec: SyntheticSpec) -> None:
    """Raise ValueError with a one-line message for the first bad knob."""
    if not _is_int(spec.size) or spec.size < 20:
        raise ValueError(f"size must be an integer >= 20, got {spec.size!r}")
    if not _is_int(spec.seed) or spec.seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {spec.seed!r}")
    _check_share("bias", spec.bias)
    _check_share("pii_rate", spec.pii_rate)
    _check_share("urgent_rate", spec.urgent_rate)
    _parse_group(spec.bias_group)


# --------------------------------------------------------------------------
# Random draws
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Draws:
    """All randomness of one dataset, drawn up front in a fixed order.

    Shapes depend only on ``size``, so the same seed gives the same numbers
    whatever the other knobs are; that is what keeps texts identical across
    bias values.
    """

    attributes: np.ndarray  # (n, 3) uniforms: sex, age band, ethnicity
    condition: np.ndarray  # (n,) uniform: true condition urgent if < urgent_rate
    ambiguous: np.ndarray  # (n,) uniform: vague note if < _AMBIGUOUS_RATE
    bias: np.ndarray  # (n,) uniform: label flipped if < bias (in group, urgent)
    pii: np.ndarray  # (n,) uniform: note carries PII if < pii_rate
    choices: np.ndarray  # (n, _Col.COUNT) uniforms for text choices
    mrn: np.ndarray  # (n,) 8-digit record numbers
    email_number: np.ndarray  # (n,) 2-digit suffix for some e-mails


def _draw(seed: int, n: int) -> _Draws:
    rng = np.random.default_rng(seed)
    return _Draws(
        attributes=rng.random((n, 3)),
        condition=rng.random(n),
        ambiguous=rng.random(n),
        bias=rng.random(n),
        pii=rng.random(n),
        choices=rng.random((n, _Col.COUNT)),
        mrn=rng.integers(10_000_000, 100_000_000, size=n),
        email_number=rng.integers(10, 100, size=n),
    )


def _categorical(u: np.ndarray, probs: Sequence[float]) -> np.ndarray:
    """Map uniforms to category indices with the given probabilities."""
    edges = np.cumsum(probs)[:-1]
    return np.searchsorted(edges, u, side="right")


_T = TypeVar("_T")


def _pick(options: Sequence[_T], u: float) -> _T:
    """Choose one option with a uniform in [0, 1)."""
    return options[min(int(u * len(options)), len(options) - 1)]


def _span(low: float, high: float, u: float) -> float:
    return low + (high - low) * u


# --------------------------------------------------------------------------
# Note assembly
# --------------------------------------------------------------------------


def _vital_strings(tier: str, r: Sequence[float]) -> list[str]:
    """All six observations for one note at a severity tier.

    ``normal`` and ``deranged`` are the usual cases; ``borderline`` values
    (mild fever, raised BP) are what a calm note or a sick-looking one with
    reassuring numbers plausibly shows, so inconsistent vitals still read
    like a real chart.  Deranged values go high or low (one direction per
    note), like hypertensive crisis versus shock.
    """
    if tier == "normal":
        bp = (_span(108, 139, r[_Col.BP_SYS]), _span(64, 88, r[_Col.BP_DIA]))
        hr, gcs = _span(60, 96, r[_Col.HR]), 15
        spo2, rr = _span(96, 100, r[_Col.SPO2]), _span(12, 18, r[_Col.RR])
        temp = _span(36.3, 37.4, r[_Col.TEMP])
    elif tier == "borderline":
        bp = (_span(142, 164, r[_Col.BP_SYS]), _span(90, 100, r[_Col.BP_DIA]))
        hr = _span(98, 112, r[_Col.HR])
        spo2, rr = _span(93, 95, r[_Col.SPO2]), _span(19, 23, r[_Col.RR])
        temp, gcs = _span(37.6, 38.6, r[_Col.TEMP]), 15
    elif r[_Col.DIRECTION] < 0.65:  # deranged, high
        bp = (_span(172, 224, r[_Col.BP_SYS]), _span(102, 132, r[_Col.BP_DIA]))
        hr, temp = _span(118, 162, r[_Col.HR]), _span(39.1, 40.6, r[_Col.TEMP])
        spo2, rr = _span(81, 91, r[_Col.SPO2]), _span(26, 38, r[_Col.RR])
        gcs = round(_span(8, 14, r[_Col.GCS]))
    else:  # deranged, low
        bp = (_span(68, 88, r[_Col.BP_SYS]), _span(38, 55, r[_Col.BP_DIA]))
        hr, temp = _span(34, 46, r[_Col.HR]), _span(34.4, 35.3, r[_Col.TEMP])
        spo2, rr = _span(81, 91, r[_Col.SPO2]), _span(26, 38, r[_Col.RR])
        gcs = round(_span(8, 14, r[_Col.GCS]))
    return [
        f"BP {round(bp[0])}/{round(bp[1])}",
        f"HR {round(hr)}",
        f"SpO2 {round(spo2)}%",
        f"RR {round(rr)}",
        f"Temp {temp:.1f}C",
        f"GCS {gcs}",
    ]


def _vitals_tier(urgent: bool, vague: bool, u: float) -> str:
    """Severity of the observations: matches the condition most of the time."""
    if vague:  # independent of the condition, like the vague complaint itself
        return "normal" if u < 0.4 else "borderline" if u < 0.8 else "deranged"
    if urgent:
        return "deranged" if u < _VITALS_CONSISTENT else "borderline" if u < 0.95 else "normal"
    return "normal" if u < _VITALS_CONSISTENT else "borderline"


def _vitals_sentence(urgent: bool, vague: bool, r: Sequence[float]) -> str:
    """Optional observations sentence with one to three vitals."""
    if r[_Col.VITALS] >= _VITALS_RATE:
        return ""
    vitals = _vital_strings(_vitals_tier(urgent, vague, r[_Col.VITALS_OK]), r)
    count = 1 + min(int(r[_Col.VITALS_N] * 3), 2)
    start = min(int(r[_Col.VITALS_START] * len(vitals)), len(vitals) - 1)
    chosen = [vitals[(start + k) % len(vitals)] for k in range(count)]
    return _pick(_VITALS_TEMPLATES, r[_Col.VITALS_FMT]).format(v=", ".join(chosen))


def _modifier(urgent: bool, vague: bool, r: Sequence[float]) -> str:
    """Optional general-appearance clause, usually consistent with urgency."""
    if r[_Col.MODIFIER] >= _MODIFIER_RATE:
        return ""
    consistent = 0.5 if vague else _MODIFIER_CONSISTENT
    looks_ill = urgent if r[_Col.MODIFIER_OK] < consistent else not urgent
    return _pick(_URGENT_MODIFIERS if looks_ill else _CALM_MODIFIERS, r[_Col.MODIFIER_PICK])


def _capitalize(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


def _intro_sentence(
    urgent: bool, vague: bool, sex: str, ethnicity: str, age: int, r: Sequence[float]
) -> str:
    """First sentence: age, sex (always), maybe ethnicity, and the complaint."""
    words = _SEX_WORDS[sex]
    if vague:
        symptom, templates = _pick(_VAGUE_SYMPTOMS, r[_Col.SYMPTOM]), _COMPLAINT_TEMPLATES
    elif urgent:
        symptom, templates = _pick(_URGENT_SYMPTOMS, r[_Col.SYMPTOM]), _COMPLAINT_TEMPLATES
    else:
        pool = _NON_URGENT_COMPLAINTS + _NON_URGENT_REQUESTS
        index = min(int(r[_Col.SYMPTOM] * len(pool)), len(pool) - 1)
        symptom = pool[index]
        templates = _COMPLAINT_TEMPLATES if index < len(_NON_URGENT_COMPLAINTS) else _REQUEST_TEMPLATES
    eth = _ETHNICITY_WORDS[ethnicity] + " " if r[_Col.ETH_MENTION] < _ETHNICITY_MENTION_RATE else ""
    sentence = _pick(templates, r[_Col.INTRO]).format(
        age=age,
        eth=eth,
        noun=words["noun"],
        adj=words["adj"],
        sym=symptom,
        mod=_modifier(urgent, vague, r),
    )
    return _capitalize(sentence)


def _context_sentence(sex: str, r: Sequence[float]) -> str:
    """Optional sentence with pronouns and history, neutral about urgency."""
    if r[_Col.CONTEXT] >= _CONTEXT_RATE:
        return ""
    words = _SEX_WORDS[sex]
    u = r[_Col.CONTEXT_FILL]
    sentence = _pick(_CONTEXT_TEMPLATES, r[_Col.CONTEXT_TPL]).format(
        subj=words["subj"],
        obj=words["obj"],
        poss=words["poss"],
        fill=_pick(_ONSETS, u),
        rel=_pick(_RELATIVES, u),
        hx=_pick(_HISTORY, u),
        med=_pick(_MEDICATIONS, u),
    )
    return _capitalize(sentence)


def _email(first: str, last: str, number: int, r: Sequence[float]) -> str:
    """A reserved-domain address derived from the synthetic name."""
    given, family = (re.sub(r"[^a-z]", "", part.lower()) for part in (first, last))
    local = _pick((f"{given}.{family}", f"{given[0]}{family}{number}", f"{family}.{given[0]}", f"{given}{number}"), r[_Col.EMAIL_FMT])
    return f"{local}@{_pick(_EMAIL_DOMAINS, r[_Col.DOMAIN])}"


def _pii_fragment(sex: str, ethnicity: str, mrn: int, number: int, r: Sequence[float]) -> str:
    """1-3 kinds of synthetic personal data, formatted like a record header."""
    kinds = _pick(_PII_SUBSETS, r[_Col.PII_KINDS])
    first = _pick(FIRST_NAMES[(sex, ethnicity)], r[_Col.FIRST])
    last = _pick(SURNAMES[ethnicity], r[_Col.LAST])
    fmt = r[_Col.PII_FMT]
    details: list[str] = []
    if "mrn" in kinds:
        details.append(_pick((f"MRN {mrn}", f"MRN#{mrn}", f"MRN no. {mrn}"), fmt))
    if "phone" in kinds:
        digits = f"555-01{min(int(r[_Col.PHONE] * 100), 99):02d}"
        area = _pick(_AREA_CODES, r[_Col.AREA])
        details.append(_pick((f"tel {digits}", f"ph ({area}) {digits}", f"phone {area}-{digits}"), fmt))
    if "email" in kinds:
        details.append(_pick(("email ", "", "e-mail "), fmt) + _email(first, last, number, r))
    if "name" not in kinds:
        return ", ".join(details)
    name = f"{_pick(_NAME_LEADS, r[_Col.PII_LEAD])} {first} {last}"
    return f"{name} ({', '.join(details)})" if details else name


def _with_pii(body: str, pii: str, r: Sequence[float]) -> str:
    """Attach PII as a header ("Pt X (MRN ...). ...") or a trailing contact line."""
    if r[_Col.PII_POS] < _PII_AT_START:
        return f"{pii}. {body}"
    return f"{body} {_pick(_TRAILER_LEADS, r[_Col.PII_LEAD])} {pii}."


# --------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------


def generate_clinical_triage(spec: SyntheticSpec = SyntheticSpec()) -> pd.DataFrame:
    """Generate the ``builtin:clinical-triage`` dataset for ``spec``.

    Returns a DataFrame with columns ``id, text, label, sex, age_band,
    ethnicity, has_pii, bias_applied``.  The same spec always yields the same
    frame; only ``numpy.random.default_rng(spec.seed)`` supplies randomness.
    """
    _validate(spec)
    n = int(spec.size)
    draws = _draw(int(spec.seed), n)

    attr_index = {
        attr: _categorical(draws.attributes[:, j], _ATTRIBUTE_PROBS[attr])
        for j, attr in enumerate(SENSITIVE_ATTRIBUTES)
    }
    columns = {attr: np.asarray(ATTRIBUTE_VALUES[attr], dtype=object)[attr_index[attr]] for attr in SENSITIVE_ATTRIBUTES}

    truly_urgent = draws.condition < spec.urgent_rate
    vague = draws.ambiguous < _AMBIGUOUS_RATE
    has_pii = draws.pii < spec.pii_rate
    attribute, value = _parse_group(spec.bias_group)
    bias_applied = (columns[attribute] == value) & truly_urgent & (draws.bias < spec.bias)
    labels = np.where(truly_urgent & ~bias_applied, LABELS[1], LABELS[0])

    texts = _texts(columns, truly_urgent, vague, has_pii, draws)
    return pd.DataFrame(
        {
            "id": [f"ct-{i:05d}" for i in range(n)],
            "text": texts,
            "label": labels.tolist(),
            "sex": columns["sex"].tolist(),
            "age_band": columns["age_band"].tolist(),
            "ethnicity": columns["ethnicity"].tolist(),
            "has_pii": has_pii.astype(bool),
            "bias_applied": bias_applied.astype(bool),
        }
    )


def _texts(
    columns: Mapping[str, np.ndarray],
    truly_urgent: np.ndarray,
    vague: np.ndarray,
    has_pii: np.ndarray,
    draws: _Draws,
) -> list[str]:
    """Assemble every note; texts depend on the true condition, never the label."""
    sexes, bands, ethnicities = (columns[a].tolist() for a in SENSITIVE_ATTRIBUTES)
    urgent_list, vague_list, pii_list = truly_urgent.tolist(), vague.tolist(), has_pii.tolist()
    mrns, numbers = draws.mrn.tolist(), draws.email_number.tolist()
    texts: list[str] = []
    for i, r in enumerate(draws.choices.tolist()):
        low, high = _AGE_RANGES[bands[i]]
        age = low + min(int(r[_Col.AGE] * (high - low + 1)), high - low)
        parts = (
            _intro_sentence(urgent_list[i], vague_list[i], sexes[i], ethnicities[i], age, r),
            _vitals_sentence(urgent_list[i], vague_list[i], r),
            _context_sentence(sexes[i], r),
        )
        body = " ".join(p for p in parts if p)
        if pii_list[i]:
            body = _with_pii(body, _pii_fragment(sexes[i], ethnicities[i], mrns[i], numbers[i], r), r)
        texts.append(body)
    return texts
