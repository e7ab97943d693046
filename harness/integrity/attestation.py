"""in-toto attestations of an audit: ``harness attest`` and ``harness verify --attestation``.

Supply-chain tools (in-toto, Sigstore, SLSA verifiers, OpenSSF model signing)
read one format: an in-toto Statement v1 (subjects with their digests, a typed
predicate) inside a DSSE envelope. We build the Statement with in-toto's own
Python bindings (``in_toto_attestation``) and sign the envelope with
securesystemslib's DSSE ``Envelope`` and an Ed25519 ``CryptoSigner``: no format
is written by hand. The key is the one ``harness sign`` uses, and the
envelope's ``keyid`` is the same fingerprint (sha256 of the raw public key),
so one key and one fingerprint vouch for results.json and for its attestation.

Subjects (what the statement is about):

- ``model/<file>``: every file of the audited model folder saved in the results
  folder (or given with ``--model-dir``), sha256 of its bytes, except the model
  card README.md (it is documentation that ``harness export model-card``
  updates afterwards). ``verify --model-dir DIR`` re-hashes DIR's files; a file
  changed, missing or added fails.
- ``data/<split>``: each data split, with its fingerprint, a sha256 over the
  split's ids, texts, labels and sensitive values (``digestMethod`` in the
  subject's annotations). ``verify`` with data paths loads those files with the
  run's own data settings and seed, splits them as the run did and compares
  the fingerprints: the same data in another file format still matches, a
  changed text does not.

The predicate (``PREDICATE_TYPE``) carries the verdict, the coverage line, each
check's id, status, gating and headline metric with its interval, the model's
state-dict digest, the harness version, and the sha256 of results.json (and
its manifest's results-body digest). Output: one envelope per line
(``*.intoto.jsonl``, the layout Sigstore and SLSA tools read).
"""

from __future__ import annotations

import binascii
import json
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Mapping, Sequence

from harness.errors import UsageError
from harness.fileio import atomic_write_text
from harness.integrity import manifest as manifest_module
from harness.integrity.signing import (
    VerificationError,
    _raw_public,
    fingerprint,
    integrity_problems,
    load_private_key,
    load_public_key,
    read_signed_results,
    short_fingerprint,
)

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
#: The predicate's type: an audit-harness audit result, version 1 (fields: module docstring).
PREDICATE_TYPE = "urn:audit-harness:predicate:audit-result:v1"
MODEL_PREFIX = "model/"
DATA_PREFIX = "data/"
#: Files of a model folder that are not the model: the card documents it and may be updated after the audit.
NOT_MODEL_FILES = frozenset({"README.md"})
SPLIT_DIGEST_METHOD = "harness.ml.data.Split.fingerprint: sha256 over the split's ids, texts, labels and sensitive values"
EXTRA = "attest"


def require_libraries() -> None:
    """UsageError (exit 2), one line naming the extra, when in-toto's bindings or securesystemslib are missing."""
    try:
        import in_toto_attestation.v1.statement  # noqa: F401
        import securesystemslib.dsse  # noqa: F401
        import securesystemslib.signer  # noqa: F401
    except ImportError as exc:
        raise UsageError(f"attestations need the optional extra: pip install 'audit-harness[{EXTRA}]' ({exc.name or exc} is not installed)") from None


# ------------------------------------------------------------------ subjects


def folder_digests(folder: Path) -> dict[str, str]:
    """``model/<relative path>`` -> sha256 of every non-hidden file of a model folder (links followed; the card excepted)."""
    if not folder.is_dir():
        raise UsageError(f"{folder}: model folder not found" if not folder.exists() else f"{folder}: is not a folder")
    digests = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        # links are followed: a Hugging Face cache snapshot is a folder of links to the blobs
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        if relative.as_posix() in NOT_MODEL_FILES:
            continue
        digests[MODEL_PREFIX + relative.as_posix()] = manifest_module.sha256_file(path)
    return digests


def _model_from_manifest(outputs: Mapping[str, str]) -> dict[str, str]:
    return {name: digest for name, digest in sorted(outputs.items())
            if name.startswith(MODEL_PREFIX) and name.removeprefix(MODEL_PREFIX) not in NOT_MODEL_FILES}


@dataclass(frozen=True)
class Subject:
    name: str
    sha256: str
    annotations: dict[str, Any] = field(default_factory=dict)


def subjects_of(results: Mapping[str, Any], model_files: Mapping[str, str]) -> list[Subject]:
    subjects = [Subject(name, digest, {"kind": "model-file"}) for name, digest in sorted(model_files.items())]
    splits = ((results.get("provenance") or {}).get("data") or {}).get("splits") or {}
    for split, summary in sorted(splits.items()):
        if not isinstance(summary, Mapping) or not summary.get("fingerprint"):
            raise UsageError(f"results.json: data split {split!r} has no fingerprint to attest")
        subjects.append(Subject(DATA_PREFIX + split, summary["fingerprint"],
                                {"kind": "data-split", "size": summary.get("size"), "digestMethod": SPLIT_DIGEST_METHOD}))
    return subjects


# ------------------------------------------------------------------ predicate


def _headline(check: Mapping[str, Any]) -> dict[str, Any] | None:
    metrics = check.get("metrics") or []
    if not metrics:
        return None
    first = metrics[0]
    return {"name": first.get("name"), "value": first.get("value"), "interval": first.get("interval")}


def predicate_of(results: Mapping[str, Any], results_sha256: str) -> dict[str, Any]:
    provenance = results.get("provenance") or {}
    model = provenance.get("model") or {}
    data = provenance.get("data") or {}
    config = provenance.get("config") or {}
    signature = results.get("signature") if isinstance(results.get("signature"), Mapping) else None
    return {
        "harness": {"name": "audit-harness", "version": _harness_version(),
                    "resultsWrittenBy": (provenance.get("packages") or {}).get("audit-harness")},
        "results": {"name": manifest_module.RESULTS_FILE, "sha256": results_sha256,
                    "resultsBodySha256": (results.get("manifest") or {}).get("results_body"),
                    "schemaVersion": results.get("schema_version"),
                    "signedBy": signature.get("fingerprint") if signature else None},
        "verdict": results.get("verdict"),
        "exitCode": results.get("exit_code"),
        "complete": results.get("complete"),
        "coverage": (results.get("coverage") or {}).get("line"),
        "checks": [{"id": check.get("id"), "status": check.get("status"), "gated": check.get("gated"), "headline": _headline(check)}
                   for check in results.get("checks") or []],
        "model": {"source": model.get("source"), "weightsSha256": model.get("weights_sha256"),
                  "weightsDigestMethod": model.get("weights_digest_method")},
        "data": {"source": data.get("source"), "evalSplit": data.get("eval_split"), "settings": config.get("data"),
                 "seed": provenance.get("seed")},
        "configSha256": provenance.get("config_sha256"),
    }


def _harness_version() -> str | None:
    try:
        return metadata.version("audit-harness")
    except metadata.PackageNotFoundError:
        return None


def build_statement(subjects: Sequence[Subject], predicate: Mapping[str, Any]) -> dict[str, Any]:
    """The Statement through in-toto's bindings (validated), as the JSON dict they produce."""
    from google.protobuf import json_format
    from in_toto_attestation.v1.resource_descriptor import ResourceDescriptor
    from in_toto_attestation.v1.statement import Statement

    descriptors = [ResourceDescriptor(name=s.name, digest={"sha256": s.sha256}, annotations=s.annotations).pb for s in subjects]
    statement = Statement(descriptors, PREDICATE_TYPE, dict(predicate))
    statement.validate()
    return json_format.MessageToDict(statement.pb)


def parse_statement(payload: bytes) -> dict[str, Any]:
    """A payload read back through the bindings; ValueError when it is not a valid Statement v1."""
    from google.protobuf import json_format
    from in_toto_attestation.v1 import statement_pb2
    from in_toto_attestation.v1.statement import Statement

    data = json.loads(payload.decode("utf-8"))
    message = statement_pb2.Statement()  # type: ignore[attr-defined]
    json_format.ParseDict(data, message)
    Statement.copy_from_pb(message).validate()
    if data.get("predicateType") != PREDICATE_TYPE:
        raise ValueError(f"predicate type {data.get('predicateType')!r} is not {PREDICATE_TYPE}")
    return data


# ------------------------------------------------------------------ attest


def _sslib_key(public_key: Any) -> Any:
    from securesystemslib.signer import SSlibKey

    return SSlibKey.from_crypto(public_key, keyid=fingerprint(_raw_public(public_key)))


@dataclass(frozen=True)
class AttestOutcome:
    path: Path
    fingerprint: str
    model_files: int
    data_splits: int
    model_source: str  # where the model subjects came from


def attest_results(results_path: Path, key_path: Path, output: Path | None = None, model_dir: Path | None = None) -> AttestOutcome:
    """Write a signed in-toto attestation of ``results_path`` (default: audit.intoto.jsonl beside it).

    The results must be intact (as ``harness sign`` demands): an attestation
    never vouches for files that changed since the run. With ``model_dir`` the
    model subjects are that folder's files; its weights must be the audited
    ones (their state-dict digest equals the results' ``weights_sha256``).
    """
    require_libraries()
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import CryptoSigner

    loaded = read_signed_results(results_path)
    key = load_private_key(key_path)
    # the model card is no subject and is what ``harness export model-card`` updates: it may have changed
    problems, _ = integrity_problems(loaded, skip=tuple(MODEL_PREFIX + name for name in NOT_MODEL_FILES))
    if problems:
        raise UsageError(f"{results_path}: refusing to attest results that changed since the run: {'; '.join(problems)}")
    results = loaded.data
    if model_dir is not None:
        model_files = folder_digests(model_dir)
        _check_weights(model_dir, results)
        source = str(model_dir)
    else:
        model_files = _model_from_manifest(results["manifest"]["outputs"])
        source = str(loaded.folder / "model")
        if not model_files:
            raise UsageError(f"{results_path}: the results folder holds no saved model; give the audited model's folder with --model-dir")
    subjects = subjects_of(results, model_files)
    statement = build_statement(subjects, predicate_of(results, manifest_module.sha256_file(results_path)))
    envelope = Envelope(manifest_module.canonical_bytes(statement), PAYLOAD_TYPE, {})
    public = _sslib_key(key.public_key())
    envelope.sign(CryptoSigner(key, public))
    target = output if output is not None else loaded.folder / "audit.intoto.jsonl"
    if target.is_dir():
        raise UsageError(f"{target}: is a directory, expected the attestation file to write")
    atomic_write_text(target, json.dumps(envelope.to_dict(), sort_keys=True, separators=(",", ":")) + "\n")
    return AttestOutcome(target, public.keyid, len(model_files), len(subjects) - len(model_files), source)


def _check_weights(model_dir: Path, results: Mapping[str, Any]) -> None:
    from harness.ml.weights import folder_weights_sha256

    expected = ((results.get("provenance") or {}).get("model") or {}).get("weights_sha256")
    actual = folder_weights_sha256(model_dir)
    if actual != expected:
        raise UsageError(f"{model_dir}: its weights (state dict sha256 {actual[:16]}) are not the audited model's ({str(expected)[:16]})")


# ------------------------------------------------------------------ verify


@dataclass(frozen=True)
class AttestationCheck:
    fingerprint: str
    verdict: str | None
    subjects: int
    model_files_checked: int
    data_splits_checked: int


def read_envelopes(path: Path) -> list[Any]:
    """The DSSE envelopes of an ``.intoto.jsonl`` file (one per line); UsageError when it is not one."""
    from securesystemslib.dsse import Envelope

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: attestation file not found") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory, expected an attestation file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the attestation ({exc})") from None
    envelopes = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            envelopes.append(Envelope.from_dict(json.loads(line)))
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
            raise UsageError(f"{path}: line {number} is not a DSSE envelope ({type(exc).__name__}: {exc})") from None
    if not envelopes:
        raise UsageError(f"{path}: holds no attestation")
    return envelopes


def verify_attestation(path: Path, pubkey_path: Path, *, model_dir: Path | None = None,
                       data_paths: Sequence[str] = (), base_dir: Path | None = None) -> list[AttestationCheck]:
    """Check every envelope's signature by the key, its statement, and the subjects against the files at hand.

    Raises :class:`~harness.integrity.signing.VerificationError` (exit 1) naming what does not hold.
    """
    require_libraries()
    from securesystemslib.exceptions import VerificationError as SslibVerificationError

    expected = load_public_key(pubkey_path)
    key = _sslib_key(expected)
    envelopes = read_envelopes(path)
    checks = []
    for envelope in envelopes:
        problems: list[str] = []
        if envelope.payload_type != PAYLOAD_TYPE:
            problems.append(f"payload type {envelope.payload_type!r} is not {PAYLOAD_TYPE}")
        signers = sorted(envelope.signatures)
        try:
            envelope.verify([key], 1)
        except SslibVerificationError:
            if key.keyid in envelope.signatures:
                problems.append("bad signature: the statement or the signature was altered")
            else:
                shown = ", ".join(short_fingerprint(k) for k in signers) or "nobody"
                problems.append(f"wrong key: signed by {shown}, not by the --pubkey key {short_fingerprint(key.keyid)}")
        if problems:
            raise VerificationError("; ".join(problems))
        try:
            statement = parse_statement(envelope.payload)
        except (ValueError, UnicodeDecodeError) as exc:
            raise VerificationError(f"the signed payload is not an audit-harness in-toto Statement v1 ({exc})") from None
        subjects = {s["name"]: (s.get("digest") or {}).get("sha256") for s in statement.get("subject", [])}
        model_checked = _compare_model(subjects, model_dir, problems) if model_dir is not None else 0
        data_checked = _compare_data(subjects, statement["predicate"], data_paths, base_dir or Path.cwd(), problems) if data_paths else 0
        if problems:
            raise VerificationError("; ".join(problems))
        checks.append(AttestationCheck(key.keyid, statement["predicate"].get("verdict"), len(subjects), model_checked, data_checked))
    return checks


def _compare_model(subjects: Mapping[str, str | None], model_dir: Path, problems: list[str]) -> int:
    attested = {name: digest for name, digest in subjects.items() if name.startswith(MODEL_PREFIX)}
    if not attested:
        problems.append("the attestation has no model files to compare --model-dir with")
        return 0
    at_hand = folder_digests(model_dir)
    for name, digest in sorted(attested.items()):
        if name not in at_hand:
            problems.append(f"{name.removeprefix(MODEL_PREFIX)} is missing from {model_dir}")
        elif at_hand[name] != digest:
            problems.append(f"{name.removeprefix(MODEL_PREFIX)} in {model_dir} does not match its attested sha256")
    extra = sorted(set(at_hand) - set(attested))
    if extra:
        problems.append(f"{model_dir} has files the attestation does not list: {', '.join(n.removeprefix(MODEL_PREFIX) for n in extra)}")
    return len(attested)


def _compare_data(subjects: Mapping[str, str | None], predicate: Mapping[str, Any], data_paths: Sequence[str], base_dir: Path,
                  problems: list[str]) -> int:
    from harness.config.settings import DataConfig
    from harness.ml.data import load_dataset

    data = predicate.get("data") or {}
    settings = data.get("settings")
    if not isinstance(settings, Mapping):
        raise UsageError("the attestation records no data settings, so data files cannot be compared with it")
    settings = dict(settings)
    per_split = [item for item in data_paths if "=" in item]
    if per_split:
        if len(per_split) != len(data_paths):
            raise UsageError("data paths: give either one file, or SPLIT=FILE for each split, not both")
        files = {}
        for item in per_split:
            name, _, file = item.partition("=")
            if name not in ("train", "validation", "test"):
                raise UsageError(f"data path {item!r}: unknown split {name!r}; expected train, validation or test")
            files[name] = file
        settings.update(path=None, files=files)
    elif len(data_paths) == 1:
        settings.update(path=data_paths[0], files=None)
    else:
        raise UsageError("data paths: give one data file (the run split it), or SPLIT=FILE for each of the run's split files")
    try:
        spec = DataConfig.model_validate(settings)
    except ValueError as exc:
        raise UsageError(f"data paths: {str(exc).splitlines()[0]}") from None
    seed = data.get("seed")
    bundle = load_dataset(spec, seed=int(seed) if isinstance(seed, (int, float)) else 0, base_dir=base_dir)
    attested = {name.removeprefix(DATA_PREFIX): digest for name, digest in subjects.items() if name.startswith(DATA_PREFIX)}
    for split, digest in sorted(attested.items()):
        if split not in bundle.splits:
            problems.append(f"data split {split} is not in the data at hand")
        elif bundle.splits[split].fingerprint != digest:
            problems.append(f"data split {split} of the data at hand does not match its attested fingerprint")
    return len(attested)


def statement_of(path: Path) -> dict[str, Any]:
    """The (unverified) statement of the first envelope: for tools and tests that read what was attested."""
    envelope = read_envelopes(path)[0]
    return json.loads(envelope.payload.decode("utf-8"))
