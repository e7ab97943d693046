"""Choosing the engine a run's units of work go to: :func:`build_executor` (local or Ray).

Kept apart from executor.py (the Task type and the local engine) so the Ray
engine can import the Task type without an import cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from harness.run.executor import Executor, LocalExecutor

if TYPE_CHECKING:
    from harness.config.settings import ExecutionConfig


def build_executor(settings: "ExecutionConfig", *, progress: Callable[[str], None] = lambda message: None,
                   device: Callable[[], str] = lambda: "cpu") -> Executor:
    """The executor ``execution`` asks for, started (Ray: joined or launched; exit 2 if it cannot be)."""
    if settings.engine == "ray":
        from harness.run.ray_engine import RayExecutor  # Ray is imported there, and only for engine ray

        return RayExecutor(settings, progress=progress, device=device).start()
    return LocalExecutor()
