"""Where a check's independent units of work run.

A check with many independent units (attack one batch, train one shadow
model) describes them as picklable :class:`Task` objects and calls
``ctx.executor.map(tasks)``. The local executor runs them here, one after
another; a distributed executor (Ray is the intended one) can run the same
tasks elsewhere. Results always come back sorted by ``unit_id`` so where and
in which order tasks finished never changes results.json.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Protocol


@dataclass(frozen=True)
class Task:
    """A pure unit of work: ``function(*args)``; function must be importable (picklable)."""

    unit_id: str
    function: Callable[..., Any]
    args: tuple[Any, ...] = ()


class Executor(Protocol):
    def map(self, tasks: Iterable[Task]) -> list[tuple[str, Any]]: ...


class LocalExecutor:
    """Runs tasks in this process, in unit-id order."""

    def map(self, tasks: Iterable[Task]) -> list[tuple[str, Any]]:
        ordered = sorted(tasks, key=lambda task: task.unit_id)
        return [(task.unit_id, task.function(*task.args)) for task in ordered]
