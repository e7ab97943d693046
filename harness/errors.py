"""Exceptions that map to the CLI's exit codes.

Every error a user can fix (bad config, missing file, wrong column, offline hub
id) is a ``UsageError``: the CLI prints its message as one line and exits 2,
with no traceback. Anything else escaping a check becomes that check's
``error`` status instead (exit 3), so one broken plugin never hides the rest.
"""

from __future__ import annotations


class HarnessError(Exception):
    """Base class of the harness's own errors."""


class UsageError(HarnessError):
    """Bad input the user can fix: exit code 2, one line on stderr."""

    exit_code = 2


class ConfigError(UsageError):
    """The audit config (or a suite file) is invalid."""


class DataError(UsageError):
    """A dataset is missing, unreadable or does not have what the config says."""


class ModelError(UsageError):
    """A model cannot be found or loaded as a sequence classifier."""
