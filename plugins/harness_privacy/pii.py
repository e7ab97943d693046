"""Placeholder: being written (see harness_privacy/__init__.py)."""

from __future__ import annotations

from typing import Any

CHECKS: tuple = ()


def report_sections(result: Any, env: Any) -> list | None:
    return None


def register_commands(cli: Any) -> None:
    return None
