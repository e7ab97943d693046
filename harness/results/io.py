"""The one reader of results.json (public: ``harness.load_results``).

Every consumer (``harness report``, ``harness compare``, ``harness verify``,
plugins, tests) reads a results file through here, so a file that is not a
harness results file gets the same one-line message everywhere.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.errors import UsageError
from harness.results.types import AuditResult


def load_results(path: Path) -> AuditResult:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return AuditResult.from_dict(data)
    except FileNotFoundError:
        raise UsageError(f"{path}: results file not found") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory, expected a results.json file") from None
    except KeyError as exc:
        raise UsageError(f"{path}: not a harness results file (missing key {exc.args[0]!r})") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: not a harness results file (invalid JSON at line {exc.lineno}, column {exc.colno})") from None
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        raise UsageError(f"{path}: not a harness results file ({type(exc).__name__}: {exc})") from None
