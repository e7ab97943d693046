"""Check ``privacy.artifact_pii``: personal data inside what is released with a model.

Why: a model is released as a folder, and its weights are not the only thing
learnt from the training data. A tokenizer's vocabulary and merges are read
off a corpus with no privacy accounting at all: the built-in tiny BERT's
vocabulary used to hold 54 medical record numbers verbatim, and a byte-level
BPE trained on support tickets keeps frequent e-mail addresses as single
tokens. Model cards and configs carry author e-mails, local paths and
example inputs. Releasing them is a disclosure outside any DP guarantee
(GDPR Art. 5(1)(c), 25, 32).

What is scanned, per file of the model folder (sub-folders included):

- token lists, one token at a time with :func:`harness.text.pii.token_pii_kind`:
  ``tokenizer.json`` (the model's vocabulary, the result of every merge, the
  added tokens), ``vocab.txt``, ``vocab.json``, ``merges.txt``,
  ``added_tokens.json`` and SentencePiece models (when ``sentencepiece`` is
  installed). A vocabulary has no context, so only the detectors that decide
  on the value alone apply: e-mail, card (Luhn), IBAN (mod 97), SSN, IP,
  phone, and identifier-shaped numbers (6-15 digits, as ``mrn`` / ``phone``);
  not dates of birth (a date alone is not one) nor the bundled first-name
  list (in any uncased vocabulary it flags "will", "mark": bert-base-uncased
  holds 355 of the bundled names as ordinary subwords), unless
  ``token_common_names: true``. Names you give (``names`` / ``names_file``)
  are matched as whole tokens in any case;
- every other text file (``config.json``, ``generation_config.json``,
  ``tokenizer_config.json``, ``special_tokens_map.json``, the model card
  ``README.md``, other ``.json`` / ``.md`` / ``.txt`` / ``.yaml``), with the
  full detectors of :func:`harness.text.pii.find_pii` (every kind, bundled names
  and lead words, and your names), JSON string by string;
- the ``__metadata__`` of ``.safetensors`` headers, as text. Other binary
  files are listed as not scanned.

Which folder: ``path:`` when given; else the model this run saved
(``OUTPUT/model``, when its card names the audited weights' sha256); else the
local folder the model was loaded from, when it was not fine-tuned; else the
handle's tokenizer and config saved through ``save_pretrained`` to a scratch
folder (the built-in model, a hub model, a model fine-tuned and not saved).

Metric ``artifact_pii_count``: distinct personal-data values found across the
files (the same MRN in ``vocab.txt`` and ``tokenizer.json`` counts once),
gated at ``max: 0``; ``artifact_pii_count[kind=...]`` per kind. The evidence
lists each occurrence with its file, where in it (vocabulary id, line, JSON
key) and kind, and the value *masked* (typed placeholder and shape:
``[MRN] 9999999``); raw values never leave this module.
"""

from __future__ import annotations

import json
import re
import struct
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from pydantic import Field

from harness import Check, CheckOptions, CheckResult, ConfigError, Metric, Threshold
# Not in the public API (yet): the core's PII detectors, the same ones ctx.redact and the report use.
from harness.text.pii import ALL_KINDS, PLACEHOLDERS, find_pii, mask_text, token_pii_kind
from harness import N_  # marks a message id for extraction (babel.cfg); the report translates it

if TYPE_CHECKING:
    from harness import AuditResult, ReportSection, RunContext

__all__ = ["ArtifactPiiCheck", "ArtifactPiiOptions", "ArtifactScan", "CHECKS", "mask_value", "report_sections", "scan_folder"]

TEMPLATES = Path(__file__).parent / "templates"
CLAUSES = ("GDPR Art. 5(1)(c)", "GDPR Art. 25", "GDPR Art. 32", "NIST AI RMF MEASURE 2.10", "PIPL Art. 51")

TOKEN_FILES = frozenset({"tokenizer.json", "vocab.txt", "vocab.json", "merges.txt", "added_tokens.json"})
SENTENCEPIECE_SUFFIX = ".model"
TEXT_SUFFIXES = frozenset({".json", ".md", ".txt", ".yaml", ".yml", ".jinja", ".cfg", ".ini"})


#: What was scanned (evidence "scanned"), one phrase per source of the folder (_release_folder).
GIVEN = N_("the folder given in the check's options")
SAVED = N_("the model folder this run saved (weights sha256 named in its card)")
LOADED = N_("the model folder the audited model was loaded from")
SCRATCH = N_("the audited model's tokenizer and config, saved with save_pretrained (no folder is released by this run)")

#: How a file was read (evidence ``files[].scanned``; ``scanned_message`` beside it when the phrase has values).
TOKENS = N_("{count} tokens")
LARGER = N_("no: larger than {size} MB")
UNREADABLE_FILE = N_("no: unreadable ({error})")
#: The detectors applied (evidence ``token_detectors`` / ``text_detectors``, with ``*_message`` beside them).
TOKEN_DETECTORS = N_("{kinds}, {mrn} (identifier-shaped numbers), {more}")
CONFIGURED_NAMES = N_("{detectors}, {name} (configured names)")
BUNDLED_NAMES = N_("{detectors}, {name} (bundled list)")
TEXT_DETECTORS = N_("every kind of {module}")
NAMES_OFF = N_("{detectors} (bundled names off)")


def _said(template: str, **args: Any) -> dict[str, Any]:
    """A phrase as ``{"text", "message_id", "message_args"}`` (an argument may itself be one): the report translates it."""
    def english(value: Any) -> Any:
        return value["text"] if isinstance(value, dict) else value

    return {"text": template.format(**{k: english(v) for k, v in args.items()}), "message_id": template, "message_args": args}


def _scanned(template: str, **args: Any) -> dict[str, Any]:
    """``scanned`` (the English phrase, as before) and ``scanned_message`` (the same phrase, translatable)."""
    message = _said(template, **args)
    return {"scanned": message["text"], "scanned_message": message}


def _detectors(configured_names: bool, token_common_names: bool, text_common_names: bool) -> dict[str, Any]:
    """The detectors applied to token lists and to other text, each in English and as a translatable message."""
    tokens = _said(TOKEN_DETECTORS, kinds="email, phone", mrn="mrn", more="ssn, card, iban, ip")
    if configured_names:
        tokens = _said(CONFIGURED_NAMES, detectors=tokens, name="name")
    if token_common_names:
        tokens = _said(BUNDLED_NAMES, detectors=tokens, name="name")
    texts = _said(TEXT_DETECTORS, module="harness.text.pii")
    if not text_common_names:
        texts = _said(NAMES_OFF, detectors=texts)
    return {"token_detectors": tokens["text"], "token_detectors_message": tokens,
            "text_detectors": texts["text"], "text_detectors_message": texts}


#: The check's messages as catalog msgids: the phrase naming the folder is part of each (message args are data, never
#: translated), so there is one full message per phrase; counts are passed as numbers, kinds and files as data.
UNREADABLE = {
    GIVEN: N_("no released file could be scanned (the folder given in the check's options: {files} file(s), none "
              "readable as tokens or text)"),
    SAVED: N_("no released file could be scanned (the model folder this run saved (weights sha256 named in its card): "
              "{files} file(s), none readable as tokens or text)"),
    LOADED: N_("no released file could be scanned (the model folder the audited model was loaded from: {files} file(s), "
               "none readable as tokens or text)"),
    SCRATCH: N_("no released file could be scanned (the audited model's tokenizer and config, saved with save_pretrained "
                "(no folder is released by this run): {files} file(s), none readable as tokens or text)"),
}
CLEAN = {
    GIVEN: N_("no personal data in {read} released file(s) (the folder given in the check's options)"),
    SAVED: N_("no personal data in {read} released file(s) (the model folder this run saved (weights sha256 named in "
              "its card))"),
    LOADED: N_("no personal data in {read} released file(s) (the model folder the audited model was loaded from)"),
    SCRATCH: N_("no personal data in {read} released file(s) (the audited model's tokenizer and config, saved with "
                "save_pretrained (no folder is released by this run))"),
}
FOUND = N_("{values} personal-data value(s) in the released files ({kinds}) in {files}: retrain the tokenizer on "
           "redacted text or remove them")

class ArtifactPiiOptions(CheckOptions):
    path: str | None = Field(None, description="model folder to scan instead of the audited model's (relative to the config)")
    names: list[str] = Field([], description="names to find (whole tokens in any case; whole words in text files); recorded with the config, prefer names_file")
    names_file: str | None = Field(None, description="file of names to find, one per line, # comments (relative to the config); its content is not recorded")
    token_common_names: bool = Field(False, description="also flag vocabulary tokens equal to a bundled common given name (noisy: 'will', 'mark' in uncased vocabularies)")
    text_common_names: bool = Field(True, description="flag bundled common given names in text files (model card, configs)")
    examples: int = Field(20, ge=0, le=500, description="masked findings listed in the evidence")
    max_file_mb: float = Field(50.0, gt=0, description="files larger than this are listed as not scanned")


@dataclass(frozen=True)
class Finding:
    """One occurrence: ``value`` is raw and stays in memory (never in results)."""

    file: str
    where: str
    kind: str
    value: str


@dataclass
class ArtifactScan:
    """Findings and what was (not) scanned in one folder."""

    folder: Path
    findings: list[Finding] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)

    def distinct(self) -> set[tuple[str, str]]:
        return {(f.kind, f.value) for f in self.findings}

    def distinct_by_kind(self) -> Counter:
        return Counter(kind for kind, _ in self.distinct())


def mask_value(value: str, kind: str) -> str:
    """Typed placeholder and shape of the value (letters ``x``, digits ``9``): never the value."""
    shape = re.sub(r"\d", "9", re.sub(r"[^\W\d_]", "x", value))
    return f"{PLACEHOLDERS.get(kind, '[PII]')} {shape}"


# ------------------------------------------------------------------ token lists


def _tokenizer_json_tokens(data: Any) -> Iterator[tuple[str, str]]:
    """(where, token) of a tokenizers ``tokenizer.json``: vocabulary, merge results, added tokens."""
    model = data.get("model") if isinstance(data, dict) else None
    vocab = model.get("vocab") if isinstance(model, dict) else None
    if isinstance(vocab, dict):  # WordPiece, BPE, WordLevel
        for token, index in vocab.items():
            yield f"model.vocab id {index}", str(token)
    elif isinstance(vocab, list):  # Unigram: [piece, score]
        for index, entry in enumerate(vocab):
            if isinstance(entry, (list, tuple)) and entry:
                yield f"model.vocab id {index}", str(entry[0])
    merges = model.get("merges") if isinstance(model, dict) else None
    if isinstance(merges, list):
        for index, merge in enumerate(merges):
            parts = merge.split(" ") if isinstance(merge, str) else merge if isinstance(merge, (list, tuple)) else []
            yield f"model.merges #{index}", "".join(str(p) for p in parts)
    for entry in (data.get("added_tokens") or []) if isinstance(data, dict) else []:
        if isinstance(entry, dict) and "content" in entry:
            yield f"added_tokens id {entry.get('id')}", str(entry["content"])


def _file_tokens(path: Path) -> Iterator[tuple[str, str]]:
    name = path.name
    text = path.read_text(encoding="utf-8", errors="replace")
    if name == "tokenizer.json":
        yield from _tokenizer_json_tokens(json.loads(text))
    elif name in ("vocab.json", "added_tokens.json"):
        data = json.loads(text)
        items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
        for token, index in items:
            yield f"id {index}", str(token)
    elif name == "merges.txt":
        for line_no, line in enumerate(text.splitlines(), 1):
            if line.startswith("#version") or not line.strip():
                continue
            yield f"line {line_no}", line.strip().replace(" ", "")
    else:  # vocab.txt: one token a line
        for line_no, line in enumerate(text.splitlines(), 1):
            if line:
                yield f"line {line_no}", line


def _sentencepiece_tokens(path: Path) -> Iterator[tuple[str, str]] | None:
    try:
        import sentencepiece  # type: ignore[import-not-found]
    except ImportError:
        return None
    processor = sentencepiece.SentencePieceProcessor()
    try:
        processor.Load(str(path))
    except Exception:  # not a SentencePiece model (another ``.model`` file)
        return None
    return ((f"piece id {i}", processor.IdToPiece(i)) for i in range(processor.GetPieceSize()))


# ------------------------------------------------------------------ text


def _json_strings(data: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(data, dict):
        for key, value in data.items():
            path = f"{where}.{key}" if where else str(key)
            yield path + " (key)", str(key)
            yield from _json_strings(value, path)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _json_strings(value, f"{where}[{index}]")
    elif isinstance(data, str):
        yield where, data


def _text_pieces(path: Path) -> Iterator[tuple[str, str]]:
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".json":
        try:
            yield from _json_strings(json.loads(text))
            return
        except json.JSONDecodeError:
            pass
    for line_no, line in enumerate(text.splitlines(), 1):
        yield f"line {line_no}", line


def _safetensors_metadata(path: Path) -> Iterator[tuple[str, str]]:
    with path.open("rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            return
        (size,) = struct.unpack("<Q", head)
        if size > 100_000_000:
            return
        header = json.loads(handle.read(size).decode("utf-8", errors="replace"))
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    if isinstance(metadata, dict):
        yield from _json_strings(metadata, "__metadata__")


# ------------------------------------------------------------------ the scan


def _scan_tokens(rel: str, tokens: "Iterable[tuple[str, str]]", scan: "ArtifactScan", token_kind: "Callable[[str], str | None]") -> int:
    """Check each ``(where, token)`` alone with ``token_kind``; record findings in ``scan``, return the count read."""
    count = 0
    for where, token in tokens:
        count += 1
        kind = token_kind(token)
        if kind:
            scan.findings.append(Finding(rel, where, kind, token))
    return count


def scan_folder(
    folder: Path,
    names: Iterable[str] = (),
    token_common_names: bool = False,
    text_common_names: bool = True,
    max_file_mb: float = 50.0,
) -> ArtifactScan:
    """Scan every file of ``folder`` (recursively) for personal data; see the module docstring."""
    names = tuple(names)
    scan = ArtifactScan(folder)
    seen_tokens: dict[str, str | None] = {}

    def token_kind(token: str) -> str | None:
        if token not in seen_tokens:
            seen_tokens[token] = token_pii_kind(token, names, token_common_names)
        return seen_tokens[token]

    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        entry: dict[str, Any] = {"file": rel}
        scan.files.append(entry)
        if path.stat().st_size > max_file_mb * 1_000_000 and path.suffix != ".safetensors":
            entry.update(_scanned(LARGER, size=f"{max_file_mb:g}"))
            continue
        before = len(scan.findings)
        try:
            if path.name in TOKEN_FILES:
                entry.update(_scanned(TOKENS, count=_scan_tokens(rel, _file_tokens(path), scan, token_kind)))
                if path.name == "tokenizer.json":
                    # added tokens and special tokens can also be sentences: scan them as text too
                    for where, piece in _tokenizer_json_tokens(json.loads(path.read_text(encoding="utf-8", errors="replace"))):
                        if where.startswith("added_tokens") and " " in piece:
                            scan.findings.extend(
                                Finding(rel, where, m.kind, m.value(piece)) for m in find_pii(piece, names=names, use_common_names=text_common_names)
                            )
            elif path.suffix == SENTENCEPIECE_SUFFIX:
                pieces = _sentencepiece_tokens(path)
                if pieces is None:
                    entry["scanned"] = N_("no: not a SentencePiece model, or sentencepiece is not installed")
                    continue
                entry.update(_scanned(TOKENS, count=_scan_tokens(rel, pieces, scan, token_kind)))
            elif path.suffix == ".safetensors":
                for where, piece in _safetensors_metadata(path):
                    scan.findings.extend(
                        Finding(rel, where, m.kind, m.value(piece)) for m in find_pii(piece, names=names, use_common_names=text_common_names)
                    )
                entry["scanned"] = N_("header metadata")
            elif path.suffix.lower() in TEXT_SUFFIXES or path.name == "README":
                for where, piece in _text_pieces(path):
                    scan.findings.extend(
                        Finding(rel, where, m.kind, m.value(piece)) for m in find_pii(piece, names=names, use_common_names=text_common_names)
                    )
                entry["scanned"] = N_("text")
            else:
                entry["scanned"] = N_("no: binary")
                continue
        except (OSError, ValueError, UnicodeDecodeError, struct.error) as exc:
            entry.update(_scanned(UNREADABLE_FILE, error=type(exc).__name__))
            continue
        entry["findings"] = len(scan.findings) - before
    return scan


def _release_folder(ctx: "RunContext", options: ArtifactPiiOptions, scratch: Path) -> tuple[Path, str]:
    """The folder to scan and a sentence saying what it is (see the module docstring)."""
    if options.path:
        folder = Path(options.path).expanduser()
        folder = folder if folder.is_absolute() else ctx.base_dir / folder
        if not folder.is_dir():
            raise ConfigError(f"privacy.artifact_pii: path {options.path!r} is not a folder")
        return folder, GIVEN
    handle = ctx.model
    if handle is None:
        raise RuntimeError("the model is not loaded yet")
    saved = ctx.output_dir / "model"
    card = saved / "README.md"
    if handle.weights_sha256 and card.is_file() and handle.weights_sha256 in card.read_text(encoding="utf-8", errors="replace"):
        return saved, SAVED
    location = handle.extra.get("location")
    if ctx.training is None and location and Path(location).is_dir():
        return Path(location), LOADED
    handle.tokenizer.save_pretrained(scratch)
    handle.model.config.save_pretrained(scratch)
    generation = getattr(handle.model, "generation_config", None)
    if generation is not None and getattr(handle.model, "can_generate", lambda: False)():
        generation.save_pretrained(scratch)
    return scratch, SCRATCH


class ArtifactPiiCheck(Check):
    id = "privacy.artifact_pii"
    title = N_("Personal data in the model's released files")
    description = (
        "Personal data in what is released with the model: tokenizer vocabulary, merges and added tokens "
        "(token by token), config, generation config and model card (as text), with masked findings."
    )
    primary_metric = "artifact_pii_count"
    default_thresholds = {"artifact_pii_count": Threshold(max=0.0)}
    regulations = CLAUSES
    Options = ArtifactPiiOptions

    def run(self, ctx: "RunContext", options: ArtifactPiiOptions) -> CheckResult:  # type: ignore[override]
        from harness_privacy.pii import load_names

        names = list(options.names)
        if options.names_file:
            path = Path(options.names_file)
            names += load_names(path if path.is_absolute() else ctx.base_dir / path)
        ctx.scratch_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="artifact-pii-", dir=ctx.scratch_dir) as tmp:
            folder, what = _release_folder(ctx, options, Path(tmp))
            scan = scan_folder(folder, names, options.token_common_names, options.text_common_names, options.max_file_mb)
        distinct = scan.distinct()
        by_kind = scan.distinct_by_kind()
        metrics = [Metric("artifact_pii_count", float(len(distinct)),
                          description=f"distinct personal-data values in {len(scan.files)} released file(s)")]
        for kind in ALL_KINDS:
            if by_kind[kind]:
                metrics.append(Metric(f"artifact_pii_count[kind={kind}]", float(by_kind[kind]), description=f"distinct {kind} values"))
        occurrences = Counter(f.file for f in scan.findings)
        vocabulary = ctx.model.extra.get("vocabulary") if ctx.model is not None and not options.path else None
        evidence = {
            "scanned": what,
            "folder": folder.name if folder.name and not folder.name.startswith("artifact-pii-") else None,
            "files": scan.files,
            "distinct_values": len(distinct),
            "occurrences": len(scan.findings),
            "by_kind": {k: by_kind[k] for k in ALL_KINDS if by_kind[k]},
            "by_file": {mask_text(k): v for k, v in sorted(occurrences.items())},
            "findings": [
                # a JSON key path or a file name can hold the value itself: masked too
                {"file": mask_text(f.file), "where": mask_text(f.where), "kind": f.kind, "masked": mask_value(f.value, f.kind)}
                for f in scan.findings[: options.examples]
            ],
            "findings_note": N_("values are masked (typed placeholder and shape: letters x, digits 9); raw values are never stored"),
            **_detectors(bool(names), options.token_common_names, options.text_common_names),
            "configured_names": len(names),
            "vocabulary": vocabulary,
        }
        read = [f for f in scan.files if not str(f.get("scanned", "no")).startswith("no")]
        if not read:  # a clean result over nothing read is no evidence: say so, never pass
            template, args = UNREADABLE[what], {"files": len(scan.files)}
            return self.result(metrics=metrics, evidence=evidence, status="inconclusive", message=template.format(**args),
                               message_id=template, message_args=args)
        if not distinct:
            template, args = CLEAN[what], {"read": len(read)}
        else:
            kinds = ", ".join(f"{k} {by_kind[k]}" for k in ALL_KINDS if by_kind[k])
            files = ", ".join(mask_text(f) for f in sorted(occurrences))
            template, args = FOUND, {"values": len(distinct), "kinds": kinds, "files": files}
        return self.result(metrics=metrics, evidence=evidence, message=template.format(**args), message_id=template,
                           message_args=args)


CHECKS: tuple[type[Check], ...] = (ArtifactPiiCheck,)


def report_sections(result: "AuditResult") -> "list[ReportSection] | None":
    """The files scanned, the masked findings and where the built-in vocabulary came from."""
    from harness import ReportSection

    check = result.check(ArtifactPiiCheck.id)
    if check is None or "files" not in check.evidence:
        return None
    return [ReportSection(
        title=N_("Personal data in the released model files"), template="harness_privacy/artifact_pii.html",
        context={"evidence": check.evidence}, search_path=str(TEMPLATES), check=check.id,
    )]
