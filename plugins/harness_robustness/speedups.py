"""Scoped, outcome-preserving speed-ups of TextAttack's per-query Python overhead.

With a small or fast model most of an attack's time is not the model: it is
TextAttack re-deriving the word list of every candidate text. Each
``AttackedText`` built for a candidate calls ``words_from_text`` on its whole
text, and ``generate_new_attacked_text`` calls it again on every word it
copies (two calls per word per candidate), so a 40-word note costs ~80 regex
passes per candidate although the same few thousand strings recur all attack
long. ``words_from_text`` is a pure function of its arguments, so memoising it
changes no result; :func:`fast_text_ops` installs the memo only while the
harness attacks (the patch is restored afterwards, so a stock TextAttack run in
the same process, such as the benchmark's, is measured unpatched).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Callable, Iterator

__all__ = ["fast_text_ops", "quiet_attacker"]

_LOCK = threading.Lock()
_DEPTH = 0
_ORIGINAL: Callable[..., list[str]] | None = None
MAX_ENTRIES = 200_000


def _memoised(original: Callable[..., list[str]]) -> Callable[..., list[str]]:
    cache: dict[tuple[str, tuple[str, ...]], tuple[str, ...]] = {}

    def words_from_text(s: str, words_to_ignore: Any = ()) -> list[str]:
        key = (s, tuple(words_to_ignore))
        found = cache.get(key)
        if found is None:
            found = tuple(original(s, list(words_to_ignore)))
            if len(cache) >= MAX_ENTRIES:
                cache.clear()
            cache[key] = found
        return list(found)  # a fresh list: callers may mutate what they get

    words_from_text.__wrapped__ = original  # type: ignore[attr-defined]
    return words_from_text


@contextlib.contextmanager
def fast_text_ops() -> Iterator[None]:
    """Memoise ``textattack.shared.attacked_text.words_from_text`` inside the block (re-entrant)."""
    global _DEPTH, _ORIGINAL
    from harness_robustness.offline import import_textattack

    import_textattack()
    from textattack.shared import attacked_text

    with _LOCK:
        if _DEPTH == 0:
            _ORIGINAL = attacked_text.words_from_text
            attacked_text.words_from_text = _memoised(_ORIGINAL)
        _DEPTH += 1
    try:
        yield
    finally:
        with _LOCK:
            _DEPTH -= 1
            if _DEPTH == 0 and _ORIGINAL is not None:
                attacked_text.words_from_text = _ORIGINAL
                _ORIGINAL = None


class _QuietTqdm:
    """Stands in for the ``tqdm`` module inside ``textattack.attacker``: every bar is disabled."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def tqdm(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["disable"] = True
        return self._real.tqdm(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


@contextlib.contextmanager
def quiet_attacker() -> Iterator[None]:
    """Silence the progress bar TextAttack's ``Attacker`` draws on stderr even with ``silent=True``.

    The harness reports progress itself (one line per check); a bar per chunk
    of ten examples only buries those lines. Scoped like :func:`fast_text_ops`:
    only the ``tqdm`` name inside ``textattack.attacker`` is swapped, and only
    inside the block.
    """
    from harness_robustness.offline import import_textattack

    import_textattack()
    from textattack import attacker

    real = attacker.tqdm
    if isinstance(real, _QuietTqdm):  # nested
        yield
        return
    attacker.tqdm = _QuietTqdm(real)
    try:
        yield
    finally:
        attacker.tqdm = real
