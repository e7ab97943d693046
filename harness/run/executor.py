"""Where a check's independent units of work run.

A check with many independent units (attack one batch, train one shadow
model) describes them as picklable :class:`Task` objects and calls
``ctx.executor.map(tasks)``. The local executor runs them here, one after
another; :class:`harness.run.ray_engine.RayExecutor` (``execution.engine:
ray``) runs the same tasks on a Ray cluster (``engines.build_executor`` picks
one). Tasks that share heavy state (a model, a built attack) go through
``map_pool`` with a :class:`WorkerPool`: each worker builds the state once.
Results always come back sorted by ``unit_id`` so where and in which order
tasks finished never changes results.json.
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


@dataclass(frozen=True)
class WorkerPool:
    """State many tasks share, built once per worker: ``setup(*args)``; a pooled task runs ``function(state, *task.args)``.

    On Ray each actor of the pool builds it once (``args`` travel through the
    object store, put there once); ``in_process``, when given, builds the state
    the tasks use when they run in this process instead (the local engine:
    e.g. an attack over the run's own Predictor rather than a copy of it).
    """

    kind: str
    setup: Callable[..., Any]
    args: tuple[Any, ...] = ()
    in_process: Callable[[], Any] | None = None


#: Called on the driver as each unit finishes (in completion order): ``on_result(unit_id, result)``.
OnResult = Callable[[str, Any], None]


class Executor(Protocol):
    def map(self, tasks: Iterable[Task]) -> list[tuple[str, Any]]: ...

    def map_pool(self, pool: WorkerPool, tasks: Iterable[Task], on_result: OnResult | None = None) -> list[tuple[str, Any]]: ...


class LocalExecutor:
    """Runs tasks in this process, in unit-id order."""

    engine = "local"

    def map(self, tasks: Iterable[Task]) -> list[tuple[str, Any]]:
        ordered = sorted(tasks, key=lambda task: task.unit_id)
        return [(task.unit_id, task.function(*task.args)) for task in ordered]

    def map_pool(self, pool: WorkerPool, tasks: Iterable[Task], on_result: OnResult | None = None) -> list[tuple[str, Any]]:
        """Build the pool's state once here (``in_process`` if given), then run the tasks in unit-id order."""
        ordered = sorted(tasks, key=lambda task: task.unit_id)
        if not ordered:
            return []
        state = pool.in_process() if pool.in_process is not None else pool.setup(*pool.args)
        results = []
        for task in ordered:
            value = task.function(state, *task.args)
            if on_result is not None:
                on_result(task.unit_id, value)
            results.append((task.unit_id, value))
        return results

    def describe(self) -> dict[str, Any]:
        """The run block's ``execution``."""
        return {"engine": "local", "workers": 1}

    def shutdown(self) -> None:
        pass


class CheckTimeout(Exception):
    """A check ran past its ``timeout``; the runner marks it ``error`` and goes on."""


def call_with_timeout(function: Callable[[], Any], timeout: float | None, name: str = "check") -> Any:
    """``function()``, but give up waiting after ``timeout`` seconds (``None``: no limit, run here).

    The call runs in a daemon worker thread and the caller waits on it. Python
    cannot kill a thread: after a timeout the work may go on in the
    background (a daemon thread does not keep the process alive at exit) and
    whatever it returns or raises later is discarded. Exceptions raised in
    time are re-raised here with their traceback. Torch works in the worker
    thread (grad mode is thread-local, and the predictor sets it itself).
    """
    if timeout is None:
        return function()
    import threading

    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = function()
        except BaseException as exc:  # handed to the caller, who decides
            outcome["error"] = exc

    worker = threading.Thread(target=target, name=f"harness-{name}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise CheckTimeout(f"timed out after {timeout:g} s (the check may still be running in the background; its result is discarded)")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")
