"""The manifest of a run: sha256 digests of its inputs, its findings and every file it wrote.

results.json carries ``"manifest"``::

    {"algorithm": "sha256",
     "canonical_form": "...",                 # how results_body and run were serialised
     "config": sha256(canonical(provenance.config)),
     "suite": sha256(canonical(provenance.suite)),   # name, source, and the checks and settings it selects
     "data": {split: fingerprint},             # Split.fingerprint: ids, texts, labels, sensitive values
     "model": weights sha256,                  # over the state dict, independent of the file format
     "results_body": sha256(canonical(results minus "manifest", "signature", "run")),
     "run": sha256(canonical(results["run"])),
     "outputs": {relative path: sha256 of the file's bytes}}

Canonical JSON is ``json.dumps(value, sort_keys=True, separators=(",", ":"),
ensure_ascii=False, allow_nan=False)`` encoded as UTF-8. The body and the run
metadata have separate digests on purpose: two runs of one config with one
seed on one machine have the same ``results_body`` digest (that is the
reproducibility claim), and only ``run``, ``outputs`` (the report shows times)
and a signature differ.

``outputs`` lists every regular file under the output folder at the end of
the run, except results.json itself and hidden paths (``.scratch``, temporary
files): report.html, junit.xml, summary.md, the saved model and its card,
plugin artifacts. The other outputs are written first and results.json last
(atomically), so the manifest always describes files that exist, and a crash
before the end leaves the previous results.json (``complete: false``) intact.

The file layout is fixed too (:func:`dump_results`): sorted keys, 2-space
indent, and the top level ordered body first, then ``manifest``,
``signature`` and ``run`` last, so everything that differs between two
identical runs sits in one block at the end of the file. Because the layout is
a function of the parsed content, :func:`layout_intact` lets a verifier detect a
byte changed anywhere, even where JSON parsing would not notice (whitespace,
a duplicate key).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Iterable, Mapping

from harness.fileio import atomic_write_text

RESULTS_FILE = "results.json"
ALGORITHM = "sha256"
CANONICAL_FORM = 'json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False), UTF-8'
#: Top-level keys that are not part of the results body (digested separately or not at all).
NOT_BODY: tuple[str, ...] = ("manifest", "signature", "run")
#: Order of the trailing blocks in results.json.
TAIL: tuple[str, ...] = ("manifest", "signature", "run")


def canonical_bytes(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def body_of(results: Mapping[str, Any]) -> dict[str, Any]:
    """The results body: everything the inputs determine (no run metadata, manifest or signature)."""
    return {key: value for key, value in results.items() if key not in NOT_BODY}


def body_digest(results: Mapping[str, Any]) -> str:
    return sha256_bytes(canonical_bytes(body_of(results)))


def run_digest(results: Mapping[str, Any]) -> str:
    return sha256_bytes(canonical_bytes(results.get("run", {})))


def output_files(folder: Path) -> list[str]:
    """Relative POSIX paths of the files the manifest lists (sorted; see module docstring)."""
    names = []
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts) or path.is_symlink() or not path.is_file():
            continue
        if relative.as_posix() == RESULTS_FILE:
            continue
        names.append(relative.as_posix())
    return sorted(names)


def input_digests(results: Mapping[str, Any]) -> dict[str, Any]:
    """The config, data and model digests, read from the provenance the results already carry."""
    provenance = results.get("provenance") or {}
    data = provenance.get("data") or {}
    model = provenance.get("model") or {}
    return {
        "config": sha256_bytes(canonical_bytes(provenance.get("config", {}))),
        "suite": sha256_bytes(canonical_bytes(provenance.get("suite", {}))),
        "data": {name: split.get("fingerprint") for name, split in sorted((data.get("splits") or {}).items())},
        "model": model.get("weights_sha256"),
    }


def build_manifest(results: Mapping[str, Any], folder: Path | None, outputs: Iterable[str] | None = None) -> dict[str, Any]:
    """The manifest of ``results`` (a results.json dict) whose outputs lie in ``folder``.

    ``outputs``: the files to list (default: :func:`output_files` of ``folder``;
    none when ``folder`` is None).
    """
    names = list(outputs) if outputs is not None else (output_files(folder) if folder is not None else [])
    return {
        "algorithm": ALGORITHM,
        "canonical_form": CANONICAL_FORM,
        **input_digests(results),
        "results_body": body_digest(results),
        "run": run_digest(results),
        "outputs": {name: sha256_file(folder / name) for name in sorted(names)} if folder is not None else {},
    }


def dump_results(results: Mapping[str, Any]) -> str:
    """results.json text: sorted keys, 2-space indent, body first, then manifest, signature, run."""
    nested = json.loads(json.dumps(results, sort_keys=True, allow_nan=False))  # sorts every nested object
    ordered = {key: nested[key] for key in sorted(nested) if key not in TAIL}
    ordered.update({key: nested[key] for key in TAIL if key in nested})
    return json.dumps(ordered, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def layout_intact(text: str, results: Mapping[str, Any]) -> bool:
    """Whether ``text`` is exactly what :func:`dump_results` writes for its own content."""
    return text == dump_results(results)


def write_results(results: Mapping[str, Any], folder: Path, *, list_outputs: bool = True) -> Path:
    """Add the manifest to ``results`` and write ``folder/results.json`` atomically.

    ``list_outputs=False`` (the writes after each check, while a run is in
    progress) leaves ``outputs`` empty: the rendered files do not exist yet and
    hashing a saved model after every check would cost time for nothing.
    """
    data = {key: value for key, value in results.items() if key not in ("manifest", "signature")}
    data["manifest"] = build_manifest(data, folder, None if list_outputs else [])
    path = folder / RESULTS_FILE
    atomic_write_text(path, dump_results(data))
    return path
