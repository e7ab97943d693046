"""The Ray engine: :class:`harness.run.executor.Task` objects as Ray tasks.

Built by the runner when ``execution.engine: ray`` (``harness run --engine
ray``). Ray is imported here only, and only then: it is the optional extra
``audit-harness[ray]``. What changes with the engine is where units run, never
what they compute: every task is a pure function of its arguments (seeds
included), results come back sorted by unit id, and the run block of
results.json, not its body, records the engine, the cluster's resources and
the worker processes that ran tasks.

- ``address: local`` starts a Ray instance on this machine for the run and
  stops it at the end; ``auto``, ``ray://HOST:PORT`` and ``HOST:PORT`` join a
  running cluster (never stopped by the harness). A cluster that cannot be
  reached within ``connect_timeout_s`` is a one-line error (exit 2). A Ray
  already initialised in this process (a notebook, a test) is used as it is.
- Each task reserves ``num_cpus_per_task`` / ``num_gpus_per_task``; at most
  ``max_concurrency`` are in flight; a task whose worker process dies is re-run
  by Ray up to ``max_retries`` times (a task's own exception is not retried:
  it is deterministic and would fail again).
- Arguments are shipped through Ray's object store; an object that several
  tasks of one ``map`` share (the same Python object) is put there once.
- ``map_pool`` runs tasks that share heavy state (the attack's chunks: a
  model and a built attack) on an actor pool: each actor builds the
  :class:`harness.run.executor.WorkerPool`'s state once from arguments put in
  the object store once; an actor whose process dies is restarted (state
  rebuilt) and its task re-run, up to ``max_retries`` times.
- The driver prints one progress line per unit kind (``shadow``, ``chunk``:
  the unit id without its trailing index) with done / total, rate and ETA;
  worker logs are not forwarded.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Iterable

from harness.errors import UsageError
from harness.run.executor import OnResult, Task, WorkerPool

if TYPE_CHECKING:
    from harness.config.settings import ExecutionConfig

EXTRA = "audit-harness[ray]"
#: Test-only fault injection: a folder; the first attempt of every task kills its own
#: worker process (SIGKILL) part-way through, leaving ``<unit>.attempt-N`` markers there.
KILL_ONCE_ENV = "HARNESS_RAY_TEST_KILL_ONCE"
#: Seconds into the first attempt at which the fault injection kills the worker.
KILL_AFTER_ENV = "HARNESS_RAY_TEST_KILL_AFTER_S"
#: Test-only: comma-separated unit ids the fault injection is limited to (default: every unit).
KILL_UNITS_ENV = "HARNESS_RAY_TEST_KILL_UNITS"


def import_ray() -> Any:
    """``import ray``, or the one-line error (exit 2) that names the extra."""
    try:
        import ray
    except ImportError:
        raise UsageError(f"execution.engine: ray needs Ray, which is not installed: pip install '{EXTRA}'") from None
    return ray


def unit_kind(unit_id: str) -> str:
    """``shadow-003`` -> ``shadow``; a unit id without a numeric suffix is its own kind."""
    head, sep, tail = unit_id.rpartition("-")
    return head if sep and tail.isdigit() else unit_id


def _host_port(address: str) -> tuple[str, int]:
    rest = address.removeprefix("ray://")
    host, _, port = rest.rpartition(":")
    return host.strip("[]"), int(port)


def check_reachable(address: str, timeout: float) -> None:
    """Fail fast (exit 2) when nothing listens at ``address``: Ray's own connect retries for minutes."""
    host, port = _host_port(address)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        if isinstance(exc, (socket.timeout, TimeoutError)):
            reason = f"no answer within {timeout:g} s"
        raise UsageError(f"execution.address: cannot reach the Ray cluster at {address} ({reason})") from None


class _Meter:
    """done / total, rate and ETA of one kind of unit, printed at most once a second (and when done)."""

    def __init__(self, kind: str, total: int, progress: Callable[[str], None]) -> None:
        self.kind, self.total, self.progress = kind, total, progress
        self.done = 0
        self.t0 = time.perf_counter()
        self.last = 0.0

    def tick(self) -> None:
        self.done += 1
        now = time.perf_counter()
        if self.done < self.total and now - self.last < 1.0:
            return
        self.last = now
        elapsed = max(now - self.t0, 1e-9)
        rate = self.done / elapsed
        eta = (self.total - self.done) / rate if rate > 0 else float("inf")
        self.progress(f"{self.kind}: {self.done}/{self.total} done on ray, {rate:.2f}/s, "
                      + (f"ETA {eta:.0f} s" if self.done < self.total else f"{elapsed:.1f} s"))


def _run_unit(meta: dict[str, Any], function: Callable[..., Any], *args: Any) -> tuple[Any, int, str]:
    """What a Ray worker runs for one Task: the driver's determinism settings, then ``function(*args)``.

    Returns (result, worker pid, node id) so the driver can record how many
    worker processes did the work.
    """
    _deterministic(meta.get("torch_threads"))
    kill_dir = meta.get("kill_once")
    timer = None
    if kill_dir and (not meta.get("kill_units") or meta["unit_id"] in meta["kill_units"].split(",")):
        timer = _arm_fault(kill_dir, meta["unit_id"], float(meta.get("kill_after_s") or 0.5))
    result = function(*args)
    if timer is not None:  # the unit finished before the timer: die now, before the result is delivered
        os.kill(os.getpid(), signal.SIGKILL)
    node = ""
    try:
        import ray

        node = ray.get_runtime_context().get_node_id()
    except Exception:  # recorded for the run block only
        pass
    return result, os.getpid(), node


class _PoolActor:
    """One worker of a :class:`harness.run.executor.WorkerPool`: builds the pool's state once, then runs its tasks.

    The state is built on the actor's first task, from arguments fetched from
    the object store (each call carries only their references). A restarted
    actor (its process died) builds it again the same way when Ray re-runs
    the task it had. (Not in ``__init__``: Ray warns on every restartable
    actor whose constructor arguments live in the object store.)
    """

    def __init__(self, meta: dict[str, Any]) -> None:
        _deterministic(meta.get("torch_threads"))
        self.state: Any = None
        self.ready = False

    def run(self, meta: dict[str, Any], setup: Callable[..., Any], setup_args: list[Any], function: Callable[..., Any],
            *args: Any) -> tuple[Any, int, str]:
        if not self.ready:
            import ray

            self.state = setup(*(ray.get(arg) if isinstance(arg, ray.ObjectRef) else arg for arg in setup_args))
            self.ready = True
        return _run_unit(meta, function, self.state, *args)


class _InferenceActor:
    """One actor of a Ray Data batch-inference pool: the model, rebuilt once from the object store.

    Each row is one of the driver Predictor's own padded batches (pickled), so
    the batches, and with them the logits to the last bit, are the local ones.
    """

    def __init__(self, payload: list[Any], threads: int | None) -> None:
        import ray

        from harness.ml.remote import unpack_model

        _deterministic(threads)
        reference = payload[0]  # wrapped in a list: Ray passes a nested reference as it is
        self.handle = unpack_model(ray.get(reference) if isinstance(reference, ray.ObjectRef) else reference).handle

    def __call__(self, rows: dict[str, Any]) -> dict[str, Any]:
        import pickle

        import numpy as np

        from harness.ml.predict import forward_arrays

        logits = [pickle.dumps(forward_arrays(self.handle, pickle.loads(blob))) for blob in rows["batch"]]
        return {"index": np.asarray(rows["index"]), "logits": np.asarray(logits, dtype=object)}


def _deterministic(threads: int | None) -> None:
    """The driver's PyTorch settings in this worker: deterministic kernels and the same intra-op thread count.

    The thread count is an input of the numbers: a CPU matmul splits its sums by
    thread, so a shadow model trained with 1 thread differs in the last bits
    from one trained with 2 (measured: LiRA's sigma moved in the 8th digit).
    Ray starts workers with OMP_NUM_THREADS = the task's CPUs; the driver's
    count is set back here so every engine computes the same floats.
    """
    from harness.ml.seeding import deterministic_torch

    deterministic_torch(threads)


def _arm_fault(folder: str, unit_id: str, after_s: float) -> "threading.Timer | None":
    """Test-only: on the first attempt of ``unit_id``, SIGKILL this worker ``after_s`` seconds in."""
    os.makedirs(folder, exist_ok=True)
    attempt = 1
    while os.path.exists(os.path.join(folder, f"{unit_id}.attempt-{attempt}")):
        attempt += 1
    with open(os.path.join(folder, f"{unit_id}.attempt-{attempt}"), "w", encoding="utf-8") as handle:
        handle.write(str(os.getpid()))
    if attempt > 1:
        return None
    timer = threading.Timer(after_s, lambda: os.kill(os.getpid(), signal.SIGKILL))
    timer.daemon = True
    timer.start()
    return timer


def _driver_threads() -> int | None:
    """PyTorch's intra-op thread count in this (the driver's) process, if torch is loaded."""
    import sys

    torch = sys.modules.get("torch")
    return int(torch.get_num_threads()) if torch is not None else None


class RayExecutor:
    """Runs tasks as Ray remote functions; results sorted by unit id, as :class:`LocalExecutor`'s."""

    engine = "ray"

    def __init__(self, settings: "ExecutionConfig", *, progress: Callable[[str], None] = lambda message: None,
                 device: Callable[[], str] = lambda: "cpu") -> None:
        self.settings = settings
        self.progress = progress
        self.device = device
        self.started_here = False
        self.started_instance = False  # kept for the run block after shutdown
        self.resources: dict[str, float] = {}
        self.nodes = 0
        self.tasks: dict[str, int] = {}
        self.worker_pids: set[tuple[str, int]] = set()
        self.pools: dict[str, int] = {}  # pool kind -> actors started (restarts not counted)
        self.notes: dict[str, int] = {}  # what callers asked to record (e.g. chunks re-run on the driver)
        self._ray: Any = None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> "RayExecutor":
        """Join or start the cluster; exit 2 (UsageError) when Ray is missing or the cluster unreachable."""
        ray = import_ray()
        self._ray = ray
        settings = self.settings
        if ray.is_initialized():
            where = "the Ray instance this process had initialised"
        else:
            address = settings.address
            if address == "local":
                # ERROR: Ray's start-up notices (token authentication, the node's IP) are not the audit's progress
                kwargs: dict[str, Any] = {"address": "local", "include_dashboard": False, "log_to_driver": False,
                                          "logging_level": "ERROR"}
                if settings.num_cpus is not None:
                    kwargs["num_cpus"] = settings.num_cpus
                ray.init(**kwargs)
                self.started_here = self.started_instance = True
                where = "a local Ray instance started for this run"
            else:
                if address != "auto":
                    check_reachable(address, settings.connect_timeout_s)
                self._connect(ray, address)
                where = f"the Ray cluster at {address}"
        self.resources = {key: float(value) for key, value in sorted(ray.cluster_resources().items())
                          if not key.startswith("node:")}
        self.nodes = sum(1 for node in ray.nodes() if node.get("Alive"))
        self._check_fits()
        shown = ", ".join(f"{self.resources.get(key, 0):g} {key}" for key in ("CPU", "GPU") if key in self.resources)
        self.progress(f"engine: ray, {where} ({self.nodes} node{'s' * (self.nodes != 1)}, {shown or 'no CPU'}); "
                      f"{self.slots()} task{'s' * (self.slots() != 1)} at a time")
        return self

    def _connect(self, ray: Any, address: str) -> None:
        from harness.run.executor import CheckTimeout, call_with_timeout

        timeout = self.settings.connect_timeout_s
        try:
            # in a thread (so it can time out): Ray's "SIGTERM handler is not set" warning is expected, hence ERROR
            call_with_timeout(lambda: ray.init(address=address, log_to_driver=False, logging_level="ERROR"), timeout, "ray-connect")
        except CheckTimeout:
            raise UsageError(f"execution.address: the Ray cluster at {address} did not answer within {timeout:g} s") from None
        except ConnectionError as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise UsageError(f"execution.address: cannot connect to the Ray cluster at {address} ({first})") from None

    def shutdown(self) -> None:
        """Stop the instance if this run started it; a joined cluster is left running."""
        if self._ray is not None and self.started_here:
            self._ray.shutdown()
            self.started_here = False

    # ------------------------------------------------------------ settings

    def num_gpus(self) -> float:
        if self.settings.num_gpus_per_task is not None:
            return float(self.settings.num_gpus_per_task)
        return 1.0 if self.device().startswith("cuda") else 0.0

    def slots(self) -> int:
        """How many tasks the cluster can run at once with the per-task reservations (and max_concurrency)."""
        counts = [int(self.resources.get("CPU", 0) // self.settings.num_cpus_per_task)]
        gpus = self.num_gpus() if self.device is not None else 0.0
        if gpus > 0:
            counts.append(int(self.resources.get("GPU", 0) // gpus))
        if self.settings.max_concurrency is not None:
            counts.append(self.settings.max_concurrency)
        return max(min(counts), 0)

    def _check_fits(self) -> None:
        """A task the cluster can never schedule would wait forever: say so now (exit 2)."""
        cpus = self.resources.get("CPU", 0.0)
        if self.settings.num_cpus_per_task > cpus:
            raise UsageError(f"execution.num_cpus_per_task: {self.settings.num_cpus_per_task:g} CPUs per task, "
                             f"but the Ray cluster has {cpus:g}")
        gpus = self.settings.num_gpus_per_task or 0.0
        if gpus > self.resources.get("GPU", 0.0):
            raise UsageError(f"execution.num_gpus_per_task: {gpus:g} GPUs per task, "
                             f"but the Ray cluster has {self.resources.get('GPU', 0.0):g}")

    # ------------------------------------------------------------ work

    def _gpus(self) -> float:
        gpus = self.num_gpus()
        if gpus > self.resources.get("GPU", 0.0):
            raise UsageError(f"execution.num_gpus_per_task: the model runs on {self.device()}, so each task needs "
                             f"{gpus:g} GPU, but the Ray cluster has {self.resources.get('GPU', 0.0):g}")
        return gpus

    @staticmethod
    def _meta() -> dict[str, Any]:
        meta: dict[str, Any] = {"torch_threads": _driver_threads()}
        if os.environ.get(KILL_ONCE_ENV):
            meta.update(kill_once=os.environ[KILL_ONCE_ENV], kill_after_s=os.environ.get(KILL_AFTER_ENV),
                        kill_units=os.environ.get(KILL_UNITS_ENV))
        return meta

    def _meters(self, ordered: list[Task]) -> dict[str, _Meter]:
        meters: dict[str, _Meter] = {}
        for task in ordered:
            kind = unit_kind(task.unit_id)
            meters.setdefault(kind, _Meter(kind, 0, self.progress)).total += 1
        return meters

    def _finished(self, task: Task, value: Any, pid: int, node: str, meters: dict[str, _Meter]) -> None:
        self.worker_pids.add((node, pid))
        kind = unit_kind(task.unit_id)
        self.tasks[kind] = self.tasks.get(kind, 0) + 1
        meters[kind].tick()

    def map_pool(self, pool: WorkerPool, tasks: Iterable[Task], on_result: OnResult | None = None) -> list[tuple[str, Any]]:
        """Tasks on a pool of actors, each building ``pool``'s state once from the object store.

        As many actors as the cluster runs tasks at once (and no more than
        tasks); each runs one task at a time, the next as soon as it is free.
        An actor whose process dies is restarted (state rebuilt) and its task
        re-run, up to ``max_retries`` times. ``on_result`` is called here as
        each task finishes; the actors are stopped at the end.
        """
        ray = self._ray if self._ray is not None else self.start()._ray
        ordered = sorted(tasks, key=lambda task: task.unit_id)
        if not ordered:
            return []
        gpus = self._gpus()
        retries = self.settings.max_retries
        actor_class = ray.remote(_PoolActor).options(
            num_cpus=self.settings.num_cpus_per_task, num_gpus=gpus, max_restarts=retries, max_task_retries=retries,
        )
        meta_base = self._meta()
        plain = (int, float, str, bool, type(None))
        args = tuple(arg if isinstance(arg, plain) else ray.put(arg) for arg in pool.args)  # once, for every actor
        size = max(1, min(self.slots() or 1, len(ordered)))
        actors = [actor_class.remote(meta_base) for _ in range(size)]
        self.pools[pool.kind] = self.pools.get(pool.kind, 0) + size
        meters = self._meters(ordered)
        results: dict[str, Any] = {}
        pending: dict[Any, tuple[Task, Any]] = {}
        idle, queue = list(actors), list(ordered)
        try:
            while queue or pending:
                while queue and idle:
                    actor, task = idle.pop(0), queue.pop(0)
                    ref = actor.run.remote({**meta_base, "unit_id": task.unit_id}, pool.setup, list(args), task.function,
                                           *task.args)
                    pending[ref] = (task, actor)
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    task, actor = pending.pop(ref)
                    idle.append(actor)
                    value, pid, node = self._get(ray, ref, task)
                    results[task.unit_id] = value
                    self._finished(task, value, pid, node, meters)
                    if on_result is not None:
                        on_result(task.unit_id, value)
        finally:
            for actor in actors:
                try:
                    ray.kill(actor)
                except Exception:
                    pass
        return [(task.unit_id, results[task.unit_id]) for task in ordered]

    def map(self, tasks: Iterable[Task]) -> list[tuple[str, Any]]:
        ray = self._ray if self._ray is not None else self.start()._ray
        ordered = sorted(tasks, key=lambda task: task.unit_id)
        if not ordered:
            return []
        gpus = self._gpus()
        remote = ray.remote(_run_unit).options(
            num_cpus=self.settings.num_cpus_per_task, num_gpus=gpus, max_retries=self.settings.max_retries,
            retry_exceptions=False,
        )
        meta_base = self._meta()
        shared: dict[int, Any] = {}  # id(object) -> ObjectRef: one copy of an argument several tasks share
        counts: dict[int, int] = {}
        for task in ordered:
            for arg in task.args:
                counts[id(arg)] = counts.get(id(arg), 0) + 1

        def ship(arg: Any) -> Any:
            if counts.get(id(arg), 0) < 2 or isinstance(arg, (int, float, str, bool, type(None))):
                return arg
            if id(arg) not in shared:
                shared[id(arg)] = ray.put(arg)
            return shared[id(arg)]

        meters = self._meters(ordered)
        limit = self.slots() or 1
        if self.settings.max_concurrency is None:
            limit = len(ordered)  # Ray queues what does not fit; the limit only guards a cap the user set
        results: dict[str, Any] = {}
        pending: dict[Any, Task] = {}
        queue = list(ordered)
        try:
            while queue or pending:
                while queue and len(pending) < limit:
                    task = queue.pop(0)
                    ref = remote.remote({**meta_base, "unit_id": task.unit_id}, task.function, *(ship(a) for a in task.args))
                    pending[ref] = task
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    task = pending.pop(ref)
                    value, pid, node = self._get(ray, ref, task)
                    results[task.unit_id] = value
                    self._finished(task, value, pid, node, meters)
        finally:
            for ref in pending:  # an error in one unit: the others are not waited for
                try:
                    ray.cancel(ref, force=True)
                except Exception:
                    pass
        return [(task.unit_id, results[task.unit_id]) for task in ordered]

    def _get(self, ray: Any, ref: Any, task: Task) -> tuple[Any, int, str]:
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as exc:  # the unit's own exception, raised here as itself
            raise exc.as_instanceof_cause() from None
        except ray.exceptions.RayError as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise RuntimeError(f"{task.unit_id}: Ray could not run the task after {self.settings.max_retries} "
                               f"retries ({type(exc).__name__}: {first})") from None

    # ------------------------------------------------------------ batch inference (Ray Data)

    def attach_batch_inference(self, predictor: Any) -> None:
        """Send ``predictor``'s large requests (``batch_inference_min_texts`` new texts or more) to Ray Data."""
        predictor.remote = lambda arrays: self.infer_batches(predictor, arrays)
        predictor.remote_min_texts = self.settings.batch_inference_min_texts

    def infer_batches(self, predictor: Any, arrays: list[dict[str, Any]]) -> list[Any]:
        """Logits of the predictor's padded batches, computed by ``map_batches`` on an actor pool holding the model.

        The weights go into the object store once per request (packed now: they
        may have changed since the last one), each actor rebuilds the model once
        (its digest must be the driver's), one row is one whole batch, and the
        logits come back in the batches' order.
        """
        import pickle

        from harness.ml.remote import pack_model

        ray = self._ray if self._ray is not None else self.start()._ray
        import logging

        import ray.data as ray_data

        # Ray Data's own notices (progress bars off, "execution finished") are not the audit's progress: one line below is
        logging.getLogger("ray.data").setLevel(logging.ERROR)
        context = ray_data.DataContext.get_current()
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        payload = ray.put(pack_model(predictor))
        rows = [{"index": index, "batch": pickle.dumps(batch)} for index, batch in enumerate(arrays)]
        size = max(1, min(self.slots() or 1, len(rows)))
        gpus = self._gpus()
        dataset = ray_data.from_items(rows, override_num_blocks=len(rows)).map_batches(
            _InferenceActor, fn_constructor_args=([payload], _driver_threads()), batch_size=1, compute=ray_data.ActorPoolStrategy(size=size),
            num_cpus=self.settings.num_cpus_per_task, **({"num_gpus": gpus} if gpus else {}),
        )
        started = time.perf_counter()
        done = {int(row["index"]): pickle.loads(row["logits"]) for row in dataset.take_all()}
        if sorted(done) != list(range(len(rows))):
            raise RuntimeError(f"Ray Data returned {len(done)} of {len(rows)} inference batches")
        texts = sum(len(next(iter(batch.values()))) for batch in arrays)
        self.pools["inference"] = max(self.pools.get("inference", 0), size)
        self.note("inference_batches", len(rows))
        self.note("inference_texts", texts)
        self.progress(f"inference: {texts} texts in {len(rows)} batches on ray ({size} actor{'s' * (size != 1)}), "
                      f"{time.perf_counter() - started:.1f} s")
        return [done[index] for index in range(len(rows))]

    def describe(self) -> dict[str, Any]:
        """The run block's ``execution``: engine, where, the cluster's resources, how many workers did what."""
        return {
            "engine": "ray",
            "address": self.settings.address,
            "started_instance": self.started_instance,
            "nodes": self.nodes,
            "resources": self.resources,
            "num_cpus_per_task": self.settings.num_cpus_per_task,
            "num_gpus_per_task": self.num_gpus() if self._ray is not None else self.settings.num_gpus_per_task,
            "max_concurrency": self.settings.max_concurrency,
            "max_retries": self.settings.max_retries,
            "torch_threads": _driver_threads(),
            "workers": self.slots(),
            "worker_processes_used": len(self.worker_pids),
            "tasks": dict(sorted(self.tasks.items())),
            "actors": dict(sorted(self.pools.items())),
            **({"notes": dict(sorted(self.notes.items()))} if self.notes else {}),
        }

    def note(self, name: str, amount: int = 1) -> None:
        """Count something in the run block's ``execution.notes`` (never in results.json's body)."""
        self.notes[name] = self.notes.get(name, 0) + amount
