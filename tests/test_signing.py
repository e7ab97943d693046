"""Tamper evidence end to end: ``harness keygen``, ``harness sign``, ``harness verify`` through the real CLI.

Every test works on a copy of the session smoke run's output folder; one byte
flipped in the results body, the run block or any listed output file must make
``verify`` exit 1 naming what changed, and bad input must exit 2.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest

from conftest import SmokeRun, run_cli

SCHEMA = Path(__file__).resolve().parent.parent / "harness" / "results" / "schema" / "results.schema.json"


def _fingerprint_from(stdout: str) -> str:
    match = re.search(r"\(([0-9a-f]{64})\)", stdout)
    assert match, stdout
    return match.group(1)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | str]:
    folder = tmp_path_factory.mktemp("keys")
    made = {}
    for name in ("signer", "other"):
        cli = run_cli("keygen", "-o", str(folder / name), cwd=folder)
        assert cli.returncode == 0, cli.stderr
        made[name] = folder / name
        made[f"{name}_fp"] = _fingerprint_from(cli.stdout)
    return made


@pytest.fixture(scope="module")
def signed_folder(smoke_run: SmokeRun, keys: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("signed") / "out"
    shutil.copytree(smoke_run.output, folder)
    cli = run_cli("sign", str(folder / "results.json"), "--key", str(keys["signer"]), cwd=folder.parent)
    assert cli.returncode == 0, cli.stderr + cli.stdout
    assert "report.html re-rendered" in cli.stdout
    return folder


@pytest.fixture()
def signed_copy(signed_folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / "out"
    shutil.copytree(signed_folder, target)
    return target


def _verify(folder: Path, *extra: str):
    return run_cli("verify", str(folder / "results.json"), *extra, cwd=folder.parent)


def _flip_byte(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


# ------------------------------------------------------------------ keys


def test_keygen_writes_a_private_key_only_its_owner_reads(keys: dict) -> None:
    private, public = keys["signer"], Path(str(keys["signer"]) + ".pub")
    assert private.stat().st_mode & 0o777 == 0o600
    assert private.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    from cryptography.hazmat.primitives import serialization

    raw = serialization.load_pem_public_key(public.read_bytes()).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert hashlib.sha256(raw).hexdigest() == keys["signer_fp"]  # the fingerprint is what the docs say it is


# ------------------------------------------------------------------ round trip


def test_sign_and_verify_round_trip(signed_copy: Path, keys: dict) -> None:
    results = json.loads((signed_copy / "results.json").read_text())
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(results)
    block = results["signature"]
    assert block["fingerprint"] == keys["signer_fp"] and list(results)[-1] == "run"
    # an independent check of the signature with the cryptography package and the documented message
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    message = b"audit-harness manifest v1\n" + json.dumps(results["manifest"], sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    Ed25519PublicKey.from_public_bytes(base64.b64decode(block["public_key"])).verify(base64.b64decode(block["signature"]), message)
    # every listed output's digest is the file's sha256; results.json itself is not listed
    outputs = results["manifest"]["outputs"]
    assert {"report.html", "junit.xml", "summary.md", "model/model.safetensors"} <= set(outputs) and "results.json" not in outputs
    for name, digest in outputs.items():
        assert hashlib.sha256((signed_copy / name).read_bytes()).hexdigest() == digest, name

    cli = _verify(signed_copy, "--pubkey", str(keys["signer"]) + ".pub")
    assert cli.returncode == 0, cli.stderr
    short = " ".join(keys["signer_fp"][i : i + 4] for i in range(0, 16, 4))
    assert cli.stdout.strip() == f"verified: signed by {short}, results body and {len(outputs)} files intact"
    # the report names its signer, and re-rendering it from results.json gives the signed bytes again
    html = (signed_copy / "report.html").read_text()
    assert f"Signed by key fingerprint <code>{short}</code>" in html and keys["signer_fp"] in html
    rendered = run_cli("report", str(signed_copy / "results.json"), cwd=signed_copy.parent)
    assert rendered.returncode == 0, rendered.stderr
    assert (signed_copy / "report.html").read_text() == html
    assert _verify(signed_copy).returncode == 0


def test_unsigned_results_verify_against_the_manifest_only(smoke_run: SmokeRun, tmp_path: Path, keys: dict) -> None:
    folder = tmp_path / "out"
    shutil.copytree(smoke_run.output, folder)
    cli = _verify(folder)
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout.startswith("verified: not signed")
    assert "not signed" in (folder / "report.html").read_text()
    _flip_byte(folder / "junit.xml", 200)
    cli = _verify(folder)
    assert cli.returncode == 1 and "junit.xml changed" in cli.stderr
    cli = _verify(folder, "--pubkey", str(keys["signer"]) + ".pub")
    assert cli.returncode == 1 and "not signed" in cli.stderr


# ------------------------------------------------------------------ tampering


def test_a_flipped_metric_value_fails_naming_the_body(signed_copy: Path, keys: dict) -> None:
    path = signed_copy / "results.json"
    text = path.read_text()
    at = text.index('"value": ') + len('"value": ') + 2  # a digit of the first metric value ("0.9..." -> "0.8...")
    assert text[at].isdigit(), text[at - 12 : at + 4]
    _flip_byte(path, len(text[:at].encode()))
    json.loads(path.read_text())  # still valid JSON: only the number changed
    cli = _verify(signed_copy)
    assert cli.returncode == 1
    assert cli.stderr.strip().startswith("harness: verification FAILED: the results body of results.json changed")
    assert len(cli.stderr.strip().splitlines()) == 1
    # and sign refuses to vouch for it
    refused = run_cli("sign", str(path), "--key", str(keys["signer"]), cwd=signed_copy.parent)
    assert refused.returncode == 2 and "refusing to sign" in refused.stderr and "results body" in refused.stderr


@pytest.mark.parametrize("name", ["report.html", "junit.xml", "summary.md", "model/model.safetensors"])
def test_a_flipped_byte_in_an_output_file_fails_naming_it(signed_copy: Path, name: str) -> None:
    target = signed_copy / name
    _flip_byte(target, target.stat().st_size // 2)
    cli = _verify(signed_copy)
    assert cli.returncode == 1
    assert f"{name} changed" in cli.stderr and "results body" not in cli.stderr


def test_a_missing_output_and_edited_run_metadata_fail(signed_copy: Path) -> None:
    (signed_copy / "summary.md").unlink()
    path = signed_copy / "results.json"
    text = path.read_text()
    at = text.index('"started_at": "') + len('"started_at": "') + 3  # the year's last digit
    path.write_text(text[:at] + str((int(text[at]) + 1) % 10) + text[at + 1 :])
    cli = _verify(signed_copy)
    assert cli.returncode == 1
    assert "summary.md is missing" in cli.stderr and "run metadata of results.json changed" in cli.stderr


def test_byte_changes_json_parsing_cannot_see_still_fail(signed_copy: Path) -> None:
    path = signed_copy / "results.json"
    original = path.read_text()
    path.write_text(original.replace('"verdict": "pass"', '"verdict":  "pass"', 1))  # one more space
    cli = _verify(signed_copy)
    assert cli.returncode == 1 and "edited" in cli.stderr
    # a duplicate key before the real one: a JSON reader keeps the last value, the verifier notices
    path.write_text(original.replace('  "verdict": "pass"', '  "verdict": "fail",\n  "verdict": "pass"', 1))
    cli = _verify(signed_copy)
    assert cli.returncode == 1 and "duplicate keys (verdict)" in cli.stderr


def test_a_rewritten_manifest_breaks_the_signature(signed_copy: Path) -> None:
    """Someone who edits a number and recomputes every digest still cannot forge the signature."""
    from harness.integrity.manifest import build_manifest, dump_results

    path = signed_copy / "results.json"
    data = json.loads(path.read_text())
    data["checks"][0]["metrics"][0]["value"] = 0.999
    manifest = build_manifest(data, signed_copy)
    assert manifest["outputs"] == data["manifest"]["outputs"]
    data["manifest"] = manifest
    path.write_text(dump_results(data))
    cli = _verify(signed_copy)
    assert cli.returncode == 1 and "bad signature" in cli.stderr and "results body" not in cli.stderr


def test_a_signature_by_another_key_fails_only_with_pubkey(signed_copy: Path, keys: dict) -> None:
    resigned = run_cli("sign", str(signed_copy / "results.json"), "--key", str(keys["other"]), cwd=signed_copy.parent)
    assert resigned.returncode == 0, resigned.stderr
    assert "replaced the signature" in resigned.stdout
    assert _verify(signed_copy).returncode == 0  # intact, but signed by "other": only --pubkey says whose key to trust
    cli = _verify(signed_copy, "--pubkey", str(keys["signer"]) + ".pub")
    assert cli.returncode == 1 and "wrong key" in cli.stderr
    assert _verify(signed_copy, "--pubkey", str(keys["other"]) + ".pub").returncode == 0


# ------------------------------------------------------------------ bad input


def test_bad_input_exits_2_with_one_line(signed_copy: Path, keys: dict, tmp_path: Path) -> None:
    not_results = tmp_path / "config.json"
    not_results.write_text('{"model": {}}')
    garbage = tmp_path / "garbage.pub"
    garbage.write_text("not a key\n")
    no_manifest = tmp_path / "old.json"
    old = json.loads((signed_copy / "results.json").read_text())
    for key in ("manifest", "signature"):
        old.pop(key)
    no_manifest.write_text(json.dumps(old))
    results = str(signed_copy / "results.json")
    cases = [
        (("verify", str(tmp_path / "missing.json")), "results file not found"),
        (("verify", str(tmp_path)), "is a directory"),
        (("verify", str(not_results)), "not a harness results file"),
        (("verify", str(no_manifest)), "has no manifest"),
        (("verify", results, "--pubkey", str(tmp_path / "missing.pub")), "public key file not found"),
        (("verify", results, "--pubkey", str(garbage)), "not a PEM, OpenSSH or base64 Ed25519 public key"),
        (("verify", results, "--pubkey", str(keys["signer"])), "is a private key"),
        (("sign", results, "--key", str(garbage)), "not a PEM or OpenSSH private key"),
        (("sign", results, "--key", str(tmp_path / "missing")), "private key file not found"),
        (("keygen", "-o", str(keys["signer"])), "already exists"),
        (("keygen", "-o", str(tmp_path / "no" / "such" / "key")), "no such folder"),
    ]
    for args, expected in cases:
        cli = run_cli(*args, cwd=tmp_path)
        assert cli.returncode == 2, (args, cli.stderr)
        assert expected in cli.stderr and len(cli.stderr.strip().splitlines()) == 1, (args, cli.stderr)
    assert _verify(signed_copy).returncode == 0  # none of that touched the results
