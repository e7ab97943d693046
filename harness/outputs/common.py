"""Small helpers the output renderers share."""

from __future__ import annotations

from typing import Any, Mapping

__all__ = ["nested_get"]


def nested_get(mapping: Any, *keys: str) -> Any:
    """``mapping[k1][k2]...``, or None as soon as a level is missing or not a mapping (results.json is untrusted input)."""
    for key in keys:
        if not isinstance(mapping, Mapping):
            return None
        mapping = mapping.get(key)
    return mapping
