"""``harness anonymize DATA -o OUT``: a copy of a data file with personal data masked.

Uses the detectors of ``privacy.pii`` (:mod:`harness.text.pii`),
so what the check counts is what this command removes; values become typed
placeholders (``[EMAIL]``, ``[PHONE]``, ``[NAME]``...) so the text stays usable
for training and the kind of each removed value stays visible.

Formats: CSV, TSV, JSONL/NDJSON, JSON (an array of objects, or JSONL in a
``.json`` file) and Parquet; the output is written in the input's format,
atomically (:mod:`harness.fileio`), and nothing is written on any error.
Columns: the given ``--text-column``s, else every text column (a CSV/TSV
column whose non-empty values are not all numbers; a JSON key or Parquet
column holding strings).  Only top-level string values are masked: nested
JSON objects and lists are copied unchanged (the summary says so if any).
pandas is imported only when the command runs (``harness --help`` stays fast).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from harness import DataError, UsageError
# Not in the public API (yet): the core's PII detectors, so this command removes what privacy.pii counts.
from harness.text.pii import ALL_KINDS, find_pii, mask_matches

FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".parquet": "parquet", ".pq": "parquet"}


@dataclass
class AnonymizeReport:
    """What was replaced: rows, columns masked, values per kind, nested values left alone."""

    rows: int
    columns: list[str]
    replaced: Counter = field(default_factory=Counter)
    nested_skipped: int = 0

    def summary(self, target: Path) -> str:
        total = sum(self.replaced.values())
        kinds = ", ".join(f"{k} {self.replaced[k]}" for k in ALL_KINDS if self.replaced[k]) or "none found"
        line = f"anonymized {self.rows} rows, column(s) {', '.join(self.columns)} -> {target}: {total} replacement(s) ({kinds})"
        if self.nested_skipped:
            line += f"; {self.nested_skipped} nested value(s) copied unchanged"
        return line


def _format_of(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(f"{path}: unsupported format {path.suffix or '(no extension)'!r}; use {', '.join(sorted(FORMATS))}")
    return fmt


def _split_list(values: tuple[str, ...]) -> list[str]:
    """``--x a --x b`` and ``--x a,b`` both give ``[a, b]``."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


class _Masker:
    def __init__(self, kinds: frozenset[str], names: tuple[str, ...]) -> None:
        self.kinds, self.names = kinds, names
        self.replaced: Counter = Counter()

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        matches = find_pii(value, self.kinds, self.names)
        self.replaced.update(m.kind for m in matches)
        return mask_matches(value, matches)


def _read_json_records(path: Path, fmt: str) -> tuple[list[dict[str, Any]], bool]:
    """Records and whether the file was one JSON array (else one object per line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{path}: not valid UTF-8 text") from None
    if fmt == "json" and text.lstrip().startswith("["):
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
        array = True
    else:
        rows, array = [], False
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}: line {number} is not valid JSON ({exc.msg})") from None
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise DataError(f"{path}: record {number} is not a JSON object (got {type(row).__name__})")
    if not rows:
        raise DataError(f"{path}: no records")
    return rows, array


def _choose_columns(available: list[str], text_like: list[str], wanted: list[str], path: Path) -> list[str]:
    if wanted:
        unknown = [c for c in wanted if c not in available]
        if unknown:
            raise UsageError(f"{path}: no column {', '.join(map(repr, unknown))}; columns: {', '.join(available)}")
        return wanted
    if not text_like:
        raise UsageError(f"{path}: no text column to anonymize (columns: {', '.join(available)}); name one with --text-column")
    return text_like


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def anonymize_file(source: Path, target: Path, *, columns: list[str], kinds: frozenset[str], names: tuple[str, ...]) -> AnonymizeReport:
    """Read ``source``, mask the chosen (or all text) columns, write ``target`` atomically in the same format."""
    # Not in the public API (yet): the core's atomic writes.
    from harness.fileio import atomic_write_bytes, atomic_write_text

    fmt = _format_of(source)
    if not source.exists():
        raise DataError(f"{source}: data file not found")
    if source.is_dir():
        raise DataError(f"{source}: is a directory, expected a {fmt} file")
    target_fmt = _format_of(target)
    if target_fmt != fmt:
        raise UsageError(f"{target}: output must have the input's format ({fmt}), not {target_fmt}")
    if target.exists() and target.resolve() == source.resolve():
        raise UsageError(f"{target}: the output must not overwrite the input")
    masker = _Masker(kinds, names)

    if fmt in ("json", "jsonl"):
        rows, array = _read_json_records(source, fmt)
        available = list(dict.fromkeys(k for row in rows for k in row))
        text_like = [k for k in available if any(isinstance(row.get(k), str) for row in rows)]
        chosen = _choose_columns(available, text_like, columns, source)
        nested = 0
        for row in rows:
            for key in chosen:
                if key in row:
                    if isinstance(row[key], (dict, list)):
                        nested += 1
                    row[key] = masker(row[key])
        if array:
            text = json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
        else:
            text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        atomic_write_text(target, text)
        return AnonymizeReport(len(rows), chosen, masker.replaced, nested)

    # Not in the public API (yet): the core's CSV/TSV/Parquet reader, so the command reads files as `harness run` does.
    from harness.ml.data import read_table

    frame = read_table(source, "parquet" if fmt == "parquet" else "csv")
    available = [str(c) for c in frame.columns]
    if fmt == "parquet":
        text_like = [c for c in available if frame[c].map(lambda v: isinstance(v, str)).any()]
    else:
        text_like = [c for c in available if frame[c].map(lambda v: isinstance(v, str) and v != "" and not _is_number(v)).any()]
    chosen = _choose_columns(available, text_like, columns, source)
    for column in chosen:
        frame[column] = frame[column].map(masker)
    if fmt == "parquet":
        import io

        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        atomic_write_bytes(target, buffer.getvalue())
    else:
        atomic_write_text(target, frame.to_csv(index=False, sep="\t" if fmt == "tsv" else ",", lineterminator="\n"))
    return AnonymizeReport(len(frame), chosen, masker.replaced)


@click.command("anonymize")
@click.argument("data")
@click.option("--output", "-o", required=True, help="File to write (same format as DATA; must not be DATA).")
@click.option("--text-column", "text_columns", multiple=True, help="Column to mask (repeatable or comma-separated); default: every text column.")
@click.option("--names", "names", multiple=True, help="Names to mask (repeatable or comma-separated; case-sensitive, whole words).")
@click.option("--names-file", type=click.Path(dir_okay=False), help="File of names to mask, one per line.")
@click.option("--kinds", "kinds", multiple=True, help=f"Kinds to mask (repeatable or comma-separated; default all: {', '.join(ALL_KINDS)}).")
def anonymize_command(data: str, output: str, text_columns: tuple[str, ...], names: tuple[str, ...], names_file: str | None, kinds: tuple[str, ...]) -> None:
    """Write a copy of DATA with personal data replaced by typed placeholders ([EMAIL], [PHONE], [NAME]...)."""
    from harness import run_command

    def body() -> int:
        wanted = _split_list(kinds) or list(ALL_KINDS)
        unknown = [k for k in wanted if k not in ALL_KINDS]
        if unknown:
            raise UsageError(f"unknown kind(s) {', '.join(map(repr, unknown))}; known: {', '.join(ALL_KINDS)}")
        all_names = _split_list(names)
        if names_file:
            from harness_privacy.pii import load_names

            all_names += load_names(Path(names_file))
        target = Path(output)
        report = anonymize_file(Path(data), target, columns=_split_list(text_columns), kinds=frozenset(wanted), names=tuple(all_names))
        click.echo(report.summary(target))
        return 0

    run_command(body)
