"""``harness attest`` and ``harness verify --attestation``: in-toto Statement v1 in a DSSE envelope.

The envelope is checked with securesystemslib itself (not through harness
code), the subjects against digests this test computes with hashlib, and the
tampering cases through the real CLI. Reads the session's smoke run and writes
only into copies; one small run on a CSV file checks data files against the
attested split fingerprints.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import SmokeRun, offline_env, run_cli, write_config

pytest.importorskip("in_toto_attestation")
pytest.importorskip("securesystemslib")


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("keys")
    done = run_cli("keygen", "-o", str(folder / "key"), cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder / "key", folder / "key.pub"


@pytest.fixture(scope="module")
def attested(smoke_run: SmokeRun, keys: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the smoke run's folder, signed and attested (audit.intoto.jsonl beside results.json)."""
    folder = tmp_path_factory.mktemp("attested") / "out"
    shutil.copytree(smoke_run.output, folder, ignore=shutil.ignore_patterns(".scratch"))
    assert run_cli("sign", str(folder / "results.json"), "--key", str(keys[0]), cwd=folder.parent).returncode == 0
    done = run_cli("attest", str(folder / "results.json"), "--key", str(keys[0]), cwd=folder.parent)
    assert done.returncode == 0, done.stderr
    assert "audit.intoto.jsonl" in done.stdout and "3 data splits" in done.stdout
    return folder


def _envelope(path: Path) -> dict[str, Any]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(lines) == 1
    return json.loads(lines[0])


def _sslib_key(pubkey: Path) -> Any:
    from cryptography.hazmat.primitives import serialization
    from securesystemslib.signer import SSlibKey

    public = serialization.load_pem_public_key(pubkey.read_bytes())
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return SSlibKey.from_crypto(public, keyid=hashlib.sha256(raw).hexdigest())


def test_envelope_verifies_with_securesystemslib_and_statement_says_what_was_audited(attested: Path, keys: tuple[Path, Path]) -> None:
    from securesystemslib.dsse import Envelope

    envelope = Envelope.from_dict(_envelope(attested / "audit.intoto.jsonl"))
    assert envelope.payload_type == "application/vnd.in-toto+json"
    key = _sslib_key(keys[1])
    assert key.keyid in envelope.verify([key], 1)  # raises when the signature does not hold
    statement = json.loads(envelope.payload)
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    results_path = attested / "results.json"
    results = json.loads(results_path.read_text(encoding="utf-8"))

    subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    model_files = {f"model/{p.relative_to(attested / 'model').as_posix()}": hashlib.sha256(p.read_bytes()).hexdigest()
                   for p in (attested / "model").rglob("*") if p.is_file() and p.name != "README.md"}
    assert "model/model.safetensors" in model_files
    splits = {f"data/{name}": s["fingerprint"] for name, s in results["provenance"]["data"]["splits"].items()}
    assert subjects == {**model_files, **splits}

    predicate = statement["predicate"]
    assert statement["predicateType"] == "urn:audit-harness:predicate:audit-result:v1"
    assert predicate["verdict"] == results["verdict"] and predicate["coverage"] == results["coverage"]["line"]
    assert predicate["complete"] is True and predicate["exitCode"] == results["exit_code"]
    assert predicate["results"]["sha256"] == hashlib.sha256(results_path.read_bytes()).hexdigest()
    assert predicate["results"]["signedBy"] == results["signature"]["fingerprint"] == key.keyid
    assert predicate["model"]["weightsSha256"] == results["provenance"]["model"]["weights_sha256"]
    assert [(c["id"], c["status"]) for c in predicate["checks"]] == [(c["id"], c["status"]) for c in results["checks"]]
    for mine, theirs in zip(predicate["checks"], results["checks"]):
        assert mine["headline"]["value"] == theirs["metrics"][0]["value"]
        assert mine["headline"]["interval"]["low"] == theirs["metrics"][0]["interval"]["low"]
    assert predicate["harness"]["version"] == results["provenance"]["packages"]["audit-harness"]


def test_verify_cli_accepts_the_attestation_and_the_model_folder(attested: Path, keys: tuple[Path, Path]) -> None:
    done = run_cli("verify", "--attestation", str(attested / "audit.intoto.jsonl"), "--pubkey", str(keys[1]),
                   "--model-dir", str(attested / "model"), cwd=attested)
    assert done.returncode == 0, done.stderr
    assert "verified: attestation signed by" in done.stdout and "model files" in done.stdout


def test_flipped_byte_in_the_statement_fails(attested: Path, keys: tuple[Path, Path], tmp_path: Path) -> None:
    envelope = _envelope(attested / "audit.intoto.jsonl")
    payload = bytearray(base64.b64decode(envelope["payload"]))
    at = payload.index(b'"verdict":"') + len(b'"verdict":"')
    payload[at] ^= 0x01  # one bit of one byte of the verdict
    envelope["payload"] = base64.b64encode(bytes(payload)).decode("ascii")
    tampered = tmp_path / "tampered.intoto.jsonl"
    tampered.write_text(json.dumps(envelope) + "\n", encoding="utf-8")
    done = run_cli("verify", "--attestation", str(tampered), "--pubkey", str(keys[1]), cwd=tmp_path)
    assert done.returncode == 1 and "bad signature" in done.stderr


def test_other_key_fails(attested: Path, tmp_path: Path) -> None:
    assert run_cli("keygen", "-o", str(tmp_path / "other"), cwd=tmp_path).returncode == 0
    done = run_cli("verify", "--attestation", str(attested / "audit.intoto.jsonl"), "--pubkey", str(tmp_path / "other.pub"), cwd=tmp_path)
    assert done.returncode == 1 and "wrong key" in done.stderr


def test_a_different_model_folder_fails_the_digest_check(attested: Path, keys: tuple[Path, Path], tmp_path: Path) -> None:
    other = tmp_path / "model"
    shutil.copytree(attested / "model", other)
    weights = other / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF  # the last byte of the last tensor: a different model that still loads
    weights.write_bytes(bytes(data))
    (other / "extra.py").write_text("print('hello')\n", encoding="utf-8")
    done = run_cli("verify", "--attestation", str(attested / "audit.intoto.jsonl"), "--pubkey", str(keys[1]), "--model-dir", str(other), cwd=tmp_path)
    assert done.returncode == 1
    assert "model.safetensors" in done.stderr and "does not match" in done.stderr and "extra.py" in done.stderr
    # the card may change after the audit (harness export model-card): it is not a subject
    same = tmp_path / "same"
    shutil.copytree(attested / "model", same)
    (same / "README.md").write_text("# rewritten card\n", encoding="utf-8")
    done = run_cli("verify", "--attestation", str(attested / "audit.intoto.jsonl"), "--pubkey", str(keys[1]), "--model-dir", str(same), cwd=tmp_path)
    assert done.returncode == 0, done.stderr


def test_attest_refuses_changed_results_and_foreign_weights(attested: Path, keys: tuple[Path, Path], tmp_path: Path) -> None:
    folder = tmp_path / "out"
    shutil.copytree(attested, folder)
    (folder / "summary.md").write_text("all green\n", encoding="utf-8")
    done = run_cli("attest", str(folder / "results.json"), "--key", str(keys[0]), cwd=tmp_path)
    assert done.returncode == 2 and "refusing to attest" in done.stderr and "summary.md changed" in done.stderr

    # --model-dir: the folder's weights must be the audited ones (state-dict digest), else nothing is attested
    other = tmp_path / "other-model"
    shutil.copytree(attested / "model", other)
    data = bytearray((other / "model.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (other / "model.safetensors").write_bytes(bytes(data))
    target = tmp_path / "x.intoto.jsonl"
    done = run_cli("attest", str(attested / "results.json"), "--key", str(keys[0]), "--model-dir", str(other), "-o", str(target), cwd=tmp_path)
    assert done.returncode == 2 and "are not the audited model's" in done.stderr and not target.exists()
    # (the audited folder given as --model-dir is accepted: test_data_files_are_compared_with_the_attested_splits)


def test_bad_input_exit_2(attested: Path, keys: tuple[Path, Path], tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("not json\n", encoding="utf-8")
    for args, expected in [
        (("verify", "--attestation", str(garbage), "--pubkey", str(keys[1])), "is not a DSSE envelope"),
        (("verify", "--attestation", str(attested / "audit.intoto.jsonl")), "needs --pubkey"),
        (("verify", "--attestation", str(tmp_path / "absent.jsonl"), "--pubkey", str(keys[1])), "attestation file not found"),
        (("attest", str(attested / "results.json"), "--key", str(keys[1])), "not a PEM or OpenSSH private key"),
    ]:
        done = run_cli(*args, cwd=tmp_path)
        assert done.returncode == 2 and expected in done.stderr and len(done.stderr.strip().splitlines()) == 1, (args, done.stderr)


def test_missing_library_names_the_extra(attested: Path, keys: tuple[Path, Path]) -> None:
    script = ("import sys; sys.modules['securesystemslib'] = None; from harness.cli.main import main; "
              f"main(['attest', {str(attested / 'results.json')!r}, '--key', {str(keys[0])!r}, '-o', '/dev/null'])")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=offline_env(), timeout=120)
    assert done.returncode == 2 and "pip install 'audit-harness[attest]'" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def csv_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small audit of a CSV file (the run splits it), with its saved model."""
    from harness.ml.builtin_data import SyntheticSpec, generate_clinical_triage

    folder = tmp_path_factory.mktemp("csvrun")
    generate_clinical_triage(SyntheticSpec(size=200))[["id", "text", "label", "sex"]].to_csv(folder / "notes.csv", index=False)
    config = write_config(folder, {"model": {"path": "builtin:tiny-bert", "fine_tune": {"epochs": 2, "batch_size": 16}},
                                   "data": {"path": "notes.csv", "id": "id"}, "suite": "smoke", "seed": 3, "output": {"dir": "out"}})
    done = run_cli("run", str(config), "-q", cwd=folder)
    assert done.returncode in (0, 1), done.stderr
    return folder


def test_data_files_are_compared_with_the_attested_splits(csv_run: Path, keys: tuple[Path, Path]) -> None:
    results = csv_run / "out" / "results.json"
    # --model-dir: the saved model's folder, accepted because its state-dict digest is the audited weights'
    done = run_cli("attest", str(results), "--key", str(keys[0]), "-o", "audit.intoto.jsonl", "--model-dir", "out/model", cwd=csv_run)
    assert done.returncode == 0, done.stderr
    assert "model files (out/model)" in done.stdout
    verify = ("verify", "--attestation", "audit.intoto.jsonl", "--pubkey", str(keys[1]))
    done = run_cli(*verify, "notes.csv", cwd=csv_run)
    assert done.returncode == 0, done.stderr
    assert "3 data splits of notes.csv" in done.stdout
    # the same rows in another format still match (the fingerprint is over content) ...
    import pandas as pd

    frame = pd.read_csv(csv_run / "notes.csv")
    frame.to_json(csv_run / "notes.jsonl", orient="records", lines=True)
    assert run_cli(*verify, "notes.jsonl", cwd=csv_run).returncode == 0
    # ... one changed note does not
    frame.loc[7, "text"] = frame.loc[7, "text"] + " Resolved."
    frame.to_csv(csv_run / "edited.csv", index=False)
    done = run_cli(*verify, "edited.csv", cwd=csv_run)
    assert done.returncode == 1 and "does not match its attested fingerprint" in done.stderr


def _ci_attest_commands() -> list[tuple[str, str]]:
    """(where, shell command) of the optional attestation step in each CI example."""
    import yaml

    root = Path(__file__).resolve().parents[1] / "examples" / "ci"
    github = yaml.safe_load((root / "github-actions.yml").read_text(encoding="utf-8"))
    step = next(s for s in github["jobs"]["audit"]["steps"] if s.get("id") == "attest")
    assert step["if"] == "always()" and "secrets.AUDIT_SIGNING_KEY" in step["env"]["AUDIT_SIGNING_KEY"]
    gitlab = yaml.safe_load((root / "gitlab-ci.yml").read_text(encoding="utf-8"))["model-audit"]
    assert "audit-report/audit.intoto.jsonl" in gitlab["artifacts"]["paths"]
    return [("github", step["run"]), ("gitlab", next(c for c in gitlab["after_script"] if "harness attest" in c))]


@pytest.mark.parametrize("where", ["github", "gitlab"])
def test_ci_examples_attest_when_a_key_is_configured(attested: Path, keys: tuple[Path, Path], tmp_path: Path, where: str) -> None:
    import os

    command = dict(_ci_attest_commands())[where]
    shutil.copytree(attested, tmp_path / "audit-report", ignore=shutil.ignore_patterns("audit.intoto.jsonl"))
    env = offline_env(AUDIT_OUTPUT="audit-report", RUNNER_TEMP=str(tmp_path))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("AUDIT_SIGNING_KEY", None)
    done = subprocess.run(["bash", "-e", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "not set" in done.stdout and not (tmp_path / "audit-report" / "audit.intoto.jsonl").exists()
    env["AUDIT_SIGNING_KEY"] = keys[0].read_text(encoding="utf-8")
    done = subprocess.run(["bash", "-e", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not list(tmp_path.glob("audit.key*"))  # the key file is removed again
    done = run_cli("verify", "--attestation", "audit-report/audit.intoto.jsonl", "--pubkey", str(keys[1]),
                   "--model-dir", "audit-report/model", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert run_cli("verify", "audit-report/results.json", "--pubkey", str(keys[1]), cwd=tmp_path).returncode == 0
