"""PII scanning (``privacy.pii``) and ``harness anonymize``.

Detectors are tested on positives and on look-alikes that fail the checksums;
recall is measured on the built-in data against values recovered from the text
with independent patterns; the check and the command run through the real CLI,
and every output file is searched for the planted raw values.
"""

from __future__ import annotations

import json
import random
import re
import time
from pathlib import Path

import pandas as pd
import pytest
from scipy.stats import binomtest

from harness.ml.builtin_data import FIRST_NAMES, SURNAMES, SyntheticSpec, generate_clinical_triage
from harness_privacy.anonymize import anonymize_file
from harness_privacy.pii import PiiOptions, scan_texts
from harness.text.pii import ALL_KINDS, find_pii, iban_valid, luhn_valid, mask_text, ssn_valid

from conftest import offline_env, run_cli, write_config


def kinds_of(text: str, **kw) -> list[tuple[str, str]]:
    return [(m.kind, m.value(text)) for m in find_pii(text, **kw)]


# ------------------------------------------------------------------ detectors


@pytest.mark.parametrize("text, kind, value", [
    ("mail jane.doe+x@mail.example.co.uk now", "email", "jane.doe+x@mail.example.co.uk"),
    ("card 4111 1111 1111 1111 on file", "card", "4111 1111 1111 1111"),
    ("card 4111-1111-1111-1111.", "card", "4111-1111-1111-1111"),
    ("amex 378282246310005 ok", "card", "378282246310005"),
    ("iban DE89 3704 0044 0532 0130 00 paid", "iban", "DE89 3704 0044 0532 0130 00"),
    ("iban GB82WEST12345698765432", "iban", "GB82WEST12345698765432"),
    ("SSN 123-45-6789.", "ssn", "123-45-6789"),
    ("SSN: 123456789", "ssn", "123456789"),
    ("from 192.168.1.20 at noon", "ip", "192.168.1.20"),
    ("from 2001:db8::8a2e:370:7334 at noon", "ip", "2001:db8::8a2e:370:7334"),
    ("DOB: 03/12/1985, seen today", "dob", "03/12/1985"),
    ("born on 12 March 1985 in Leeds", "dob", "12 March 1985"),
    ("date of birth 1985-03-12", "dob", "1985-03-12"),
    ("MRN 12345678 admitted", "mrn", "12345678"),
    ("medical record number: AB1234567", "mrn", "AB1234567"),
    ("call +44 20 7946 0958 today", "phone", "+44 20 7946 0958"),
    ("ph (617) 555-0177", "phone", "(617) 555-0177"),
    ("tel 555-0177.", "phone", "555-0177"),
    ("mobile 07700900123", "phone", "07700900123"),
    ("reach +14155550123", "phone", "+14155550123"),
    ("Patient Abigail O'Brien attends", "name", "Abigail O'Brien"),
    ("seen by Dr. Okonkwo today", "name", "Okonkwo"),
    ("Emily reports pain", "name", "Emily"),
])
def test_detects_each_kind(text: str, kind: str, value: str) -> None:
    assert kinds_of(text) == [(kind, value)]


@pytest.mark.parametrize("text", [
    "card 4111 1111 1111 1112 on file",          # Luhn fails
    "card 4111-1111-1111-1113.",                 # Luhn fails
    "iban DE88 3704 0044 0532 0130 00 paid",     # mod-97 fails
    "iban GB82WEST12345698765433",                # mod-97 fails
    "iban DE89 3704 0044 0532 0130",              # wrong length for DE
    "SSN 000-12-3456",                            # area 000
    "SSN 666-12-3456",                            # area 666
    "SSN 912-12-3456",                            # area 9xx
    "SSN 123-00-4567",                            # group 00
    "SSN 123-45-0000",                            # serial 0000
    "pinged 999.1.1.1 and 256.10.10.10",          # octets > 255
    "version 1.2.3.4.5 released",                 # dotted run, not an address
    "started at 10:30:00 sharp",                  # a time, not IPv6
    "seen 2023-01-05 and 12/03/2022",              # dates without birth context
    "BP 163/95, HR 110, SpO2 95%, Temp 37.2C, GCS 15, RR 31",
    "58-year-old man, 2 tablets of 500 mg, 1 000 ml, 10 000 000 units",
    "June was warm; Mariachi band; emily lowercase; Patient Health Questionnaire",
    "Triage note: 36-year-old man with high blood sugar. Patient details: none.",
    "Pt Stable overnight. Young man, Patient: Alert and oriented.",
])
def test_look_alikes_are_not_flagged(text: str) -> None:
    assert kinds_of(text) == []


def _luhn_check_digit(payload: str) -> str:
    """Independent Luhn: double every second digit from the right of payload+check."""
    digits = [int(c) for c in payload]
    total = 0
    for i, d in enumerate(reversed(digits)):
        total += sum(divmod(d * 2, 10)) if i % 2 == 0 else d
    return str((10 - total % 10) % 10)


def test_luhn_and_iban_agree_with_independent_construction() -> None:
    rnd = random.Random(7)
    for _ in range(300):
        payload = str(rnd.randint(4 * 10**14, 5 * 10**14 - 1))
        good = payload + _luhn_check_digit(payload)
        assert luhn_valid(good)
        for wrong in set("0123456789") - {good[-1]}:
            assert not luhn_valid(payload + wrong)
    for _ in range(100):
        bban = "".join(rnd.choice("0123456789") for _ in range(18))  # DE: 22 chars
        numeric = int(bban + "131400")  # D=13, E=14, check digits 00
        iban = f"DE{98 - numeric % 97:02d}{bban}"
        assert iban_valid(iban)
        assert not iban_valid(iban[:-1] + str((int(iban[-1]) + 1) % 10))
    assert ssn_valid("123", "45", "6789") and not ssn_valid("666", "45", "6789")


def test_overlaps_resolve_to_the_most_specific_kind() -> None:
    text = "card 4111-1111-1111-1111, mail kwame37@example.net, Pt Kwame Jefferson"
    assert kinds_of(text) == [("card", "4111-1111-1111-1111"), ("email", "kwame37@example.net"), ("name", "Kwame Jefferson")]


def test_mask_text_uses_typed_placeholders_and_configured_names() -> None:
    text = "Zed Quux (MRN#89629615, kwame37@example.net, tel 555-0142), SSN 123-45-6789."
    assert mask_text(text) == "Zed Quux (MRN#[MRN], [EMAIL], tel [PHONE]), SSN [SSN]."
    assert mask_text(text, names=["Zed"]) == "[NAME] (MRN#[MRN], [EMAIL], tel [PHONE]), SSN [SSN]."
    assert mask_text("zed quux", names=["Zed"]) == "zed quux"  # case-sensitive
    assert mask_text("Zedekiah", names=["Zed"]) == "Zedekiah"  # whole words
    assert mask_text(text, kinds=["email"]) == "Zed Quux (MRN#89629615, [EMAIL], tel 555-0142), SSN 123-45-6789."
    with pytest.raises(ValueError, match="unknown PII kind"):
        mask_text(text, kinds=["passport"])


# ------------------------------------------------------------------ recall on the built-in data

_ALL_NAMES = sorted({n for names in FIRST_NAMES.values() for n in names}, key=len, reverse=True)
_ALL_SURNAMES = sorted({n for names in SURNAMES.values() for n in names}, key=len, reverse=True)
_PLANTED = {
    "email": re.compile(r"[a-z0-9.]+@example\.(?:com|org|net)"),
    "mrn": re.compile(r"(?<=MRN#)\d{8}|(?<=MRN )\d{8}|(?<=MRN no\. )\d{8}"),
    "phone": re.compile(r"(?:\(\d{3}\) |\d{3}-)?555-01\d\d"),
    "name": re.compile(r"(?:%s) (?:%s)" % ("|".join(_ALL_NAMES), "|".join(map(re.escape, _ALL_SURNAMES)))),
}


def planted_values(text: str) -> dict[str, list[tuple[int, int]]]:
    """Spans of the synthetic generator's PII, found with patterns of its own formats."""
    return {kind: [m.span() for m in pattern.finditer(text)] for kind, pattern in _PLANTED.items()}


def test_all_planted_pii_is_found_on_the_builtin_data() -> None:
    frame = generate_clinical_triage(SyntheticSpec(size=3000, seed=11, pii_rate=0.3))
    per_kind = {kind: 0 for kind in _PLANTED}
    for text, has_pii in zip(frame["text"], frame["has_pii"]):
        matches = find_pii(text)
        assert bool(matches) == bool(has_pii), text
        covered = {(m.kind, m.start, m.end) for m in matches}
        for kind, spans in planted_values(text).items():
            for start, end in spans:
                per_kind[kind] += 1
                # the planted value lies inside a detection of its kind
                assert any(k == kind and s <= start and end <= e for k, s, e in covered), (kind, text)
                assert text[start:end] not in mask_text(text)
    assert all(count > 100 for count in per_kind.values()), per_kind


def test_scan_is_fast() -> None:
    texts = tuple(generate_clinical_triage(SyntheticSpec(size=10_000, seed=3))["text"])
    started = time.perf_counter()
    scan = scan_texts({"all": texts})
    elapsed = time.perf_counter() - started
    assert scan.texts == 10_000 and scan.with_pii > 0
    assert elapsed < 5.0, f"scanning 10k notes took {elapsed:.2f}s"


def test_options_refuse_bad_kinds() -> None:
    with pytest.raises(Exception, match="passport"):
        PiiOptions(kinds=["passport"])
    with pytest.raises(Exception, match="at least one"):
        PiiOptions(kinds=[])


# ------------------------------------------------------------------ the check, end to end


def test_pii_check_through_the_cli(tmp_path: Path) -> None:
    size, seed = 400, 5
    (tmp_path / "names.txt").write_text("# extra names\nQuux\n", encoding="utf-8")
    (tmp_path / "suite.yaml").write_text(
        "name: pii-only\nchecks:\n  privacy.pii: {examples: 8, names_file: names.txt}\n"
        # checks that copy example texts into results and the report: redacted too (RunContext.redact)
        "  robustness.attack_success_rate: {recipe: deepwordbug, examples: 40, gate: false}\n"
        "  fairness.counterfactual: {gate: false}\n", encoding="utf-8"
    )
    config = write_config(tmp_path, {
        # briefly trained, so the attack has correct predictions to flip (and examples to show)
        "model": {"path": "builtin:tiny-bert", "fine_tune": {"epochs": 6, "lr": 3.0e-3, "batch_size": 16}},
        "data": {"path": "builtin:clinical-triage", "synthetic": {"size": size, "seed": seed}},
        "suite": "suite.yaml", "seed": 0,
        "output": {"dir": "out", "formats": ["json", "html", "junit", "markdown"]},
    })
    cli = run_cli("run", str(config), "-q", cwd=tmp_path, env=offline_env(), timeout=600)
    assert cli.returncode == 1, cli.stderr + cli.stdout  # default gate pii_rate <= 0 fails on planted PII
    out = tmp_path / "out"
    result = json.loads((out / "results.json").read_text(encoding="utf-8"))
    (check,) = [c for c in result["checks"] if c["id"] == "privacy.pii"]
    assert check["status"] == "fail" and check["gated"]
    assert "GDPR Art. 5(1)(c)" in check["regulations"]

    frame = generate_clinical_triage(SyntheticSpec(size=size, seed=seed))
    truth = int(frame["has_pii"].sum())
    metrics = {m["name"]: m for m in check["metrics"]}
    evidence = check["evidence"]
    assert evidence["texts"] == size and evidence["with_pii"] == truth
    assert sum(s["with_pii"] for s in evidence["splits"]) == truth
    assert metrics["pii_rate"]["value"] == pytest.approx(truth / size)
    ci = binomtest(truth, size).proportion_ci(confidence_level=0.95, method="wilson")
    assert metrics["pii_rate"]["interval"]["low"] == pytest.approx(ci.low, abs=1e-9)
    assert metrics["pii_rate"]["interval"]["high"] == pytest.approx(ci.high, abs=1e-9)
    for part in evidence["splits"]:
        m = metrics[f"pii_rate[{part['split']}]"]
        assert m["value"] == pytest.approx(part["with_pii"] / part["texts"])
    for kind in ("email", "mrn", "phone", "name"):
        independent = sum(1 for t in frame["text"] if _PLANTED[kind].search(t))
        assert evidence["texts_by_kind"][kind] == independent, kind
        assert metrics[f"pii_rate[kind={kind}]"]["value"] == pytest.approx(independent / size)
    assert evidence["texts_by_kind"]["card"] == 0 and evidence["configured_names"] == 1
    assert len(evidence["examples"]) == 8
    assert all("[" in e["text"] and e["kinds"] for e in evidence["examples"])

    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Personal data found" in report and "[EMAIL]" in report and "[MRN]" in report
    (attack,) = [c for c in result["checks"] if c["id"] == "robustness.attack_success_rate"]
    (counterfactual,) = [c for c in result["checks"] if c["id"] == "fairness.counterfactual"]
    assert attack["evidence"]["successes"]
    shown = [e["original"] for e in attack["evidence"]["successes"]]
    shown += [e[key] for a in counterfactual["evidence"]["attributes"] for e in a.get("worst", []) for key in ("original", "swapped")]
    # which examples the attack flips depends on the model; across both checks some shown text held PII, kept masked
    assert any(re.search(r"\[(NAME|EMAIL|PHONE|MRN)\]", text) for text in shown)
    raw = {frame["text"][i][s:e] for i in range(size) for spans in planted_values(frame["text"][i]).values() for s, e in spans}
    assert len(raw) > 50
    for name in ("results.json", "report.html", "summary.md", "junit.xml"):
        content = (out / name).read_text(encoding="utf-8")
        leaked = sorted(v for v in raw if v in content or v.replace("'", "&#39;") in content)
        assert not leaked, f"{name} shows raw PII: {leaked[:5]}"


# ------------------------------------------------------------------ harness anonymize


@pytest.fixture(scope="module")
def notes() -> pd.DataFrame:
    return generate_clinical_triage(SyntheticSpec(size=200, seed=2, pii_rate=0.4))


def _raw_values(frame: pd.DataFrame) -> set[str]:
    return {t[s:e] for t in frame["text"] for spans in planted_values(t).values() for s, e in spans}


def test_anonymize_csv_end_to_end(tmp_path: Path, notes: pd.DataFrame) -> None:
    source = tmp_path / "notes.csv"
    notes.to_csv(source, index=False)
    cli = run_cli("anonymize", str(source), "-o", "masked.csv", cwd=tmp_path)
    assert cli.returncode == 0, cli.stderr
    assert len(cli.stdout.strip().splitlines()) == 1
    masked = pd.read_csv(tmp_path / "masked.csv", dtype=str, keep_default_na=False)
    assert list(masked.columns) == list(notes.columns) and len(masked) == len(notes)
    assert (masked["id"] == notes["id"]).all() and (masked["label"] == notes["label"]).all()
    content = (tmp_path / "masked.csv").read_text(encoding="utf-8")
    assert not [v for v in _raw_values(notes) if v in content]
    expected = {kind: sum(len(spans) for t in notes["text"] for k, spans in planted_values(t).items() if k == kind) for kind in _PLANTED}
    for kind, count in expected.items():
        assert f"{kind} {count}" in cli.stdout, (kind, count, cli.stdout)
    assert masked["text"].str.contains(r"\[(?:EMAIL|PHONE|MRN|NAME)\]").sum() == int(notes["has_pii"].sum())
    # rows without PII are byte-for-byte unchanged
    clean = ~notes["has_pii"].to_numpy()
    assert (masked["text"][clean] == notes["text"][clean]).all()


def test_anonymize_jsonl_keeps_types_and_masks_only_chosen_columns(tmp_path: Path) -> None:
    rows = [
        {"id": 1, "note": "Pt Zed Quux, SSN 123-45-6789, card 4111 1111 1111 1111", "contact": "zq@example.org", "score": 0.5, "tags": ["a"]},
        {"id": 2, "note": "nothing here, card 4111 1111 1111 1112", "contact": None, "score": 1, "tags": []},
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cli = run_cli("anonymize", str(source), "-o", str(tmp_path / "out.jsonl"), "--text-column", "note", "--names", "Zed", cwd=tmp_path)
    assert cli.returncode == 0, cli.stderr
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert out[0] == {**rows[0], "note": "Pt [NAME], SSN [SSN], card [CARD]"}
    assert out[1] == rows[1]  # the Luhn-invalid number stays
    assert "3 replacement(s)" in cli.stdout and "card 1" in cli.stdout
    # --kinds restricts; every string column by default
    cli = run_cli("anonymize", str(source), "-o", str(tmp_path / "out2.jsonl"), "--kinds", "email", cwd=tmp_path)
    assert cli.returncode == 0, cli.stderr
    out = [json.loads(line) for line in (tmp_path / "out2.jsonl").read_text(encoding="utf-8").splitlines()]
    assert out[0]["contact"] == "[EMAIL]" and out[0]["note"] == rows[0]["note"]


@pytest.mark.parametrize("suffix", [".tsv", ".json", ".parquet"])
def test_anonymize_other_formats_round_trip(tmp_path: Path, suffix: str) -> None:
    frame = pd.DataFrame({"id": ["a1", "a2"], "text": ["mail zq@example.org now", "plain"], "n": [1, 2]})
    source, target = tmp_path / f"in{suffix}", tmp_path / f"out{suffix}"
    if suffix == ".tsv":
        frame.to_csv(source, sep="\t", index=False)
    elif suffix == ".json":
        source.write_text(json.dumps(frame.to_dict(orient="records")), encoding="utf-8")
    else:
        frame.to_parquet(source, index=False)
    report = anonymize_file(source, target, columns=[], kinds=frozenset(ALL_KINDS), names=())
    assert report.replaced == {"email": 1} and report.columns == ["id", "text"]
    if suffix == ".tsv":
        back = pd.read_csv(target, sep="\t")
    elif suffix == ".json":
        back = pd.DataFrame(json.loads(target.read_text(encoding="utf-8")))
    else:
        back = pd.read_parquet(target)
    assert back["text"].tolist() == ["mail [EMAIL] now", "plain"]
    assert back["id"].tolist() == ["a1", "a2"] and back["n"].astype(int).tolist() == [1, 2]


@pytest.mark.parametrize("args, message", [
    (["missing.csv", "-o", "x.csv"], "not found"),
    (["notes.csv", "-o", "notes.csv"], "must not overwrite the input"),
    (["notes.csv", "-o", "x.csv", "--text-column", "nope"], "no column 'nope'"),
    (["notes.txt", "-o", "x.txt"], "unsupported format"),
    (["notes.csv", "-o", "x.jsonl"], "input's format"),
    (["notes.csv", "-o", "x.csv", "--kinds", "passport"], "unknown kind"),
    (["notes.csv", "-o", "x.csv", "--names-file", "none.txt"], "names file not found"),
])
def test_anonymize_bad_inputs_exit_2_and_write_nothing(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "notes.csv").write_text("id,text\n1,tel 555-0142\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("tel 555-0142\n", encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    cli = run_cli("anonymize", *args, cwd=tmp_path)
    assert cli.returncode == 2, cli.stdout + cli.stderr
    assert message in cli.stderr and len(cli.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (tmp_path / "notes.csv").read_text(encoding="utf-8") == "id,text\n1,tel 555-0142\n"
