"""Ed25519 signatures over a run's manifest: ``harness keygen``, ``harness sign``, ``harness verify``.

What is signed, and why that is enough. The manifest (harness/integrity/manifest.py)
holds the sha256 of the results body, of the run metadata and of every output
file, plus the config, data and model digests. The signature covers the
canonical JSON of the whole manifest, prefixed by a domain tag::

    b"audit-harness manifest v1\\n" + canonical_bytes(manifest)

so any change to the body, the run block or a listed file changes a digest
(found by recomputing it), and any change to a digest breaks the signature.
``verify`` also checks that results.json is byte for byte the layout harness
writes for its content, so even a change JSON parsing cannot see (whitespace,
a duplicate key) fails. results.json gains a block::

    "signature": {"algorithm": "ed25519", "public_key": base64(raw 32 bytes),
                  "fingerprint": sha256(raw public key) hex, "signed": "manifest",
                  "signature": base64(64 bytes)}

The report shows the signer. ``sign`` first checks the results are intact
(body, run, every listed file but report.html), then re-renders report.html
from results.json plus the signer's public key and fingerprint, puts that
file's new digest in the manifest, signs the manifest, and writes results.json
last (atomically). So the signed manifest vouches for the report that names
its signer, and ``harness report`` re-renders the very same bytes later.
A crash between the two writes leaves a report.html that no longer matches the
old manifest; signing again repairs it, since report.html is regenerated from
the verified body rather than trusted.

Keys: ``keygen`` writes an unencrypted PKCS#8 PEM private key (mode 0600) and
``KEY.pub`` (SubjectPublicKeyInfo PEM). ``sign --key`` also reads OpenSSH
Ed25519 private keys, ``verify --pubkey`` also OpenSSH public keys and a
bare base64 raw key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from harness.integrity import manifest as manifest_module
from harness.errors import UsageError
from harness.fileio import atomic_write_bytes, atomic_write_text
from harness.results.io import ResultsFile, parse_results, read_results_file
from harness.results.types import AuditResult

DOMAIN = b"audit-harness manifest v1\n"
REPORT_FILE = "report.html"


class VerificationError(Exception):
    """The results or an output changed, or the signature does not hold: exit code 1."""


# ------------------------------------------------------------------ keys


def fingerprint(raw_public_key: bytes) -> str:
    """sha256 of the raw 32-byte public key, hex (64 characters)."""
    return hashlib.sha256(raw_public_key).hexdigest()


def short_fingerprint(value: str) -> str:
    """The first 64 bits of a fingerprint in groups of four, as the report and the CLI show it."""
    head = value[:16]
    return " ".join(head[i : i + 4] for i in range(0, len(head), 4))


def _raw_public(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def generate_keypair(path: Path, *, force: bool = False) -> tuple[Path, Path, str]:
    """Write a new Ed25519 private key to ``path`` (PEM, 0600) and its public key to ``path.pub``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    public_path = path.with_name(path.name + ".pub")
    for target in (path, public_path):
        if target.exists() and not force:
            raise UsageError(f"{target}: already exists (use --force to overwrite a key)")
        if target.is_dir():
            raise UsageError(f"{target}: is a directory")
    if not path.parent.is_dir():
        raise UsageError(f"{path.parent}: no such folder")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    # Created 0600 from the start: the key is never readable by others, not even for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_pem)
    os.chmod(path, 0o600)
    atomic_write_bytes(public_path, public_pem)
    return path, public_path, fingerprint(_raw_public(key.public_key()))


def load_private_key(path: Path) -> Any:
    """An Ed25519 private key from a PEM (PKCS#8) or OpenSSH file; UsageError for anything else."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    data = _read_key_file(path, "private key")
    key = None
    errors = []
    for loader in (serialization.load_pem_private_key, serialization.load_ssh_private_key):
        try:
            key = loader(data, password=None)
            break
        except TypeError:  # encrypted
            raise UsageError(f"{path}: the private key is encrypted; harness sign reads unencrypted keys (keep the file mode 0600)") from None
        except (ValueError, binascii.Error, UnsupportedAlgorithm) as exc:
            errors.append(str(exc))
    if key is None:
        raise UsageError(f"{path}: not a PEM or OpenSSH private key")
    if not isinstance(key, Ed25519PrivateKey):
        raise UsageError(f"{path}: a {type(key).__name__.removeprefix('_')} key, expected an Ed25519 key (make one with harness keygen)")
    return key


def load_public_key(path: Path) -> Any:
    """An Ed25519 public key from PEM, OpenSSH (``ssh-ed25519 ...``) or bare base64 of the raw 32 bytes."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    data = _read_key_file(path, "public key")
    key = None
    for loader in (serialization.load_pem_public_key, serialization.load_ssh_public_key):
        try:
            key = loader(data)
            break
        except (ValueError, binascii.Error, TypeError, UnsupportedAlgorithm):
            continue
    if key is None:
        try:
            raw = base64.b64decode(data.strip(), validate=True)
            if len(raw) == 32:
                key = Ed25519PublicKey.from_public_bytes(raw)
        except (ValueError, binascii.Error):
            pass
    if key is None:
        if b"PRIVATE KEY" in data:
            raise UsageError(f"{path}: is a private key; --pubkey takes the public key (the .pub file keygen wrote)")
        raise UsageError(f"{path}: not a PEM, OpenSSH or base64 Ed25519 public key")
    if not isinstance(key, Ed25519PublicKey):
        raise UsageError(f"{path}: a {type(key).__name__.removeprefix('_')} key, expected an Ed25519 public key")
    return key


def _read_key_file(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{path}: {what} file not found") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory, expected a {what} file") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None


# ------------------------------------------------------------------ results files


def read_signed_results(path: Path) -> ResultsFile:
    """A results.json to sign or verify (through the one results reader), with its manifest; UsageError (exit 2) otherwise.

    Duplicate keys are not refused here: :func:`integrity_problems` reports them as a change (exit 1).
    """
    loaded = read_results_file(path)
    manifest = loaded.data.get("manifest")
    if not isinstance(manifest, dict) or not isinstance(manifest.get("outputs"), dict) or "results_body" not in manifest:
        raise UsageError(f"{path}: has no manifest (written by a harness without tamper evidence, or not by harness)")
    return loaded


def integrity_problems(loaded: ResultsFile, *, skip: tuple[str, ...] = ()) -> tuple[list[str], int]:
    """What changed since the manifest was written: a list of short phrases, and the number of files intact.

    ``skip``: output files not to check (sign regenerates report.html).
    """
    data, manifest = loaded.data, loaded.data["manifest"]
    problems: list[str] = []
    if manifest.get("algorithm") != manifest_module.ALGORITHM:
        problems.append(f"manifest algorithm {manifest.get('algorithm')!r} is not sha256")
        return problems, 0
    if manifest_module.body_digest(data) != manifest.get("results_body"):
        problems.append(f"the results body of {loaded.path.name} changed")
    if manifest_module.run_digest(data) != manifest.get("run"):
        problems.append(f"the run metadata of {loaded.path.name} changed")
    inputs = manifest_module.input_digests(data)
    for name in ("config", "suite", "data", "model"):
        if inputs[name] != manifest.get(name):
            problems.append(f"the manifest's {name} digest does not match the provenance")
    intact = 0
    folder = loaded.folder.resolve()
    for name, expected in sorted(manifest["outputs"].items()):
        if name in skip:
            continue
        target = (folder / name).resolve()
        if not str(name) or folder not in target.parents:
            problems.append(f"the manifest lists {name!r}, outside the results folder")
            continue
        if not target.is_file():
            problems.append(f"{name} is missing")
        elif manifest_module.sha256_file(target) != expected:
            problems.append(f"{name} changed")
        else:
            intact += 1
    if loaded.duplicate_keys:
        problems.append(f"{loaded.path.name} has duplicate keys ({', '.join(sorted(set(loaded.duplicate_keys)))})")
    elif not problems and not manifest_module.layout_intact(loaded.text, data):
        problems.append(f"{loaded.path.name} was edited (its bytes differ from the layout harness writes for the same content)")
    return problems, intact


def signed_message(manifest: Mapping[str, Any]) -> bytes:
    return DOMAIN + manifest_module.canonical_bytes(manifest)


def signer_block(public_key: Any) -> dict[str, Any]:
    raw = _raw_public(public_key)
    return {"algorithm": "ed25519", "public_key": base64.b64encode(raw).decode("ascii"), "fingerprint": fingerprint(raw), "signed": "manifest"}


# ------------------------------------------------------------------ sign / verify


@dataclass(frozen=True)
class SignOutcome:
    fingerprint: str
    files: int
    report_rendered: bool
    replaced: str | None  # fingerprint of an earlier signature this one replaced


def sign_results(path: Path, key_path: Path, *, render_report: Callable[[AuditResult], str]) -> SignOutcome:
    """Sign ``path`` in place (see module docstring for the order of writes).

    ``render_report``: the HTML report of a result (``harness.outputs.html.render_html``
    with the plugin host; passed in by the caller, since outputs sit above integrity).
    """
    loaded = read_signed_results(path)
    key = load_private_key(key_path)
    problems, _ = integrity_problems(loaded, skip=(REPORT_FILE,))
    if problems:
        raise UsageError(f"{path}: refusing to sign results that changed since the run: {'; '.join(problems)}")
    data = dict(loaded.data)
    earlier = data.pop("signature", None)
    signer = signer_block(key.public_key())
    manifest = dict(data["manifest"])
    outputs = dict(manifest["outputs"])
    rendered = REPORT_FILE in outputs
    if rendered:
        result = parse_results({**data, "signature": signer}, path)
        report_path = loaded.folder / REPORT_FILE
        atomic_write_text(report_path, render_report(result))
        outputs[REPORT_FILE] = manifest_module.sha256_file(report_path)
    manifest["outputs"] = outputs
    signature = key.sign(signed_message(manifest))
    data["manifest"] = manifest
    data["signature"] = {**signer, "signature": base64.b64encode(signature).decode("ascii")}
    atomic_write_text(path, manifest_module.dump_results(data))
    replaced = earlier.get("fingerprint") if isinstance(earlier, dict) else None
    return SignOutcome(signer["fingerprint"], len(outputs), rendered, replaced)


@dataclass(frozen=True)
class VerifyOutcome:
    signed: bool
    fingerprint: str | None
    files: int


def verify_results(path: Path, pubkey_path: Path | None = None) -> VerifyOutcome:
    """Recompute every digest and check the signature; VerificationError names what changed."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    loaded = read_signed_results(path)
    expected_key = load_public_key(pubkey_path) if pubkey_path is not None else None
    problems, intact = integrity_problems(loaded)
    block = loaded.data.get("signature")
    signer_fp: str | None = None
    if block is None:
        if expected_key is not None:
            problems.append(f"{path.name} is not signed (--pubkey asks for a signature)")
    else:
        try:
            if not isinstance(block, dict) or block.get("algorithm") != "ed25519" or block.get("signed") != "manifest":
                raise ValueError("unknown signature algorithm or scope")
            raw = base64.b64decode(block["public_key"], validate=True)
            signature = base64.b64decode(block["signature"], validate=True)
            public_key = Ed25519PublicKey.from_public_bytes(raw)
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            problems.append(f"the signature block is malformed ({exc})")
        else:
            signer_fp = fingerprint(raw)
            if block.get("fingerprint") != signer_fp:
                problems.append("the signature block's fingerprint does not match its public key")
            try:
                public_key.verify(signature, signed_message(loaded.data["manifest"]))
            except InvalidSignature:
                problems.append("bad signature: the manifest or the signature was altered")
            if expected_key is not None:
                wanted = fingerprint(_raw_public(expected_key))
                if wanted != signer_fp:
                    problems.append(f"wrong key: signed by {short_fingerprint(signer_fp)}, not by the --pubkey key {short_fingerprint(wanted)}")
    if problems:
        raise VerificationError("; ".join(problems))
    return VerifyOutcome(block is not None, signer_fp, intact)
