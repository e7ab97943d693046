"""The one reader of results.json (public: ``harness.load_results``).

Every consumer (``harness report``, ``harness compare``, ``harness run
--baseline``, ``harness sign`` / ``verify``, plugins, tests) reads a results
file through here, so a file that is not a harness results file gets the same
one-line message everywhere. Three levels, each built on the one below:

* :func:`read_results_file`: the text, the parsed object and any duplicate
  keys, for the integrity checks (which need the exact bytes and report a
  duplicate key as tampering rather than refusing the file);
* :func:`read_results_json`: the raw dict, refusing a duplicate key (harness
  never writes one, and a JSON reader silently keeps the last value);
* :func:`load_results`: the typed :class:`~harness.results.types.AuditResult`.

A harness results file is a UTF-8 JSON object with ``schema_version`` and
``checks``; anything else is refused with a :class:`~harness.errors.UsageError`
(exit code 2) that names the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from harness.errors import UsageError
from harness.fileio import dump_json
from harness.results.types import AuditResult

__all__ = ["ResultsFile", "read_results_file", "read_results_json", "parse_results", "load_results", "normalized"]


@dataclass(frozen=True)
class ResultsFile:
    """A results.json as read: its path, exact text, parsed body and the keys that occur twice in one object."""

    path: Path
    text: str
    data: dict[str, Any]
    duplicate_keys: tuple[str, ...] = ()

    @property
    def folder(self) -> Path:
        return self.path.parent


def _not_results(path: Path, why: str) -> UsageError:
    return UsageError(f"{path}: not a harness results file ({why})")


def read_results_file(path: Path) -> ResultsFile:
    """Read and parse ``path``; duplicate keys are recorded, not refused. UsageError when it is not a results file."""
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen:
                duplicates.append(key)
            seen[key] = value
        return seen

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{path}: results file not found") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory, expected a results.json file") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _not_results(path, "not UTF-8 text") from None
    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        raise _not_results(path, f"invalid JSON at line {exc.lineno}, column {exc.colno}") from None
    except (ValueError, RecursionError) as exc:  # e.g. a number too long to convert
        raise _not_results(path, f"{type(exc).__name__}: {exc}") from None
    if not isinstance(data, dict) or "schema_version" not in data or "checks" not in data:
        raise _not_results(path, "no schema_version / checks")
    return ResultsFile(path, text, data, tuple(duplicates))


def read_results_json(path: Path) -> dict[str, Any]:
    """The raw body of a results.json, as written; a duplicate key is refused (UsageError)."""
    loaded = read_results_file(path)
    if loaded.duplicate_keys:
        raise _not_results(path, f"duplicate keys: {', '.join(sorted(set(loaded.duplicate_keys)))}")
    return loaded.data


def parse_results(data: Mapping[str, Any], path: Path) -> AuditResult:
    """``data`` (a results.json body read from ``path``) as an AuditResult; UsageError naming ``path`` when it does not fit."""
    try:
        return AuditResult.from_dict(data)
    except KeyError as exc:
        raise _not_results(path, f"missing key {exc.args[0]!r}") from None
    except (ValueError, TypeError, AttributeError) as exc:
        raise _not_results(path, f"{type(exc).__name__}: {exc}") from None


def load_results(path: Path) -> AuditResult:
    """A results.json as an :class:`AuditResult` (what ``harness report`` renders)."""
    return parse_results(read_results_json(path), path)


def normalized(result: AuditResult) -> AuditResult:
    """The result exactly as results.json stores it (sorted keys, JSON types), without writing or reading a file.

    Every renderer starts from this form, so outputs rendered at the end of a
    run and ones rendered again later from results.json are byte-identical.
    """
    return AuditResult.from_dict(json.loads(dump_json(result.to_dict())))
