"""Scale-out of the shadow-model training: the local engine against 1 and 2 Ray workers of 1 CPU each.

    python benchmarks/scale_out.py [--part both|shadows|attack] [--shadows 4] [--size 1000] [--epochs 3] [--threads 1]
        [--repeats 3] [--overhead-tasks 200] [--attack-examples 40] [--attack-model minilm|tiny-bert] [--json PATH]

The same membership-inference shadow models (``harness_privacy.shadow.train_shadow``,
the tasks ``privacy.membership_inference`` hands ``ctx.executor``) are trained
by the local engine and by ``RayExecutor`` on a local Ray instance started with
1 and then 2 CPUs (``num_cpus_per_task: 1``). For each Ray configuration the
first ``map`` is "cold" (worker processes start and import torch and the
harness) and the next ``--repeats`` are "warm" (workers reused, as in a run
with several checks or a long-lived cluster; the fastest is kept); speed-up and parallel efficiency are of the
warm time against the local engine. The per-task overhead is measured with
``--overhead-tasks`` no-op tasks on one warm worker (scheduling, argument
shipping, result return), and the object-store size of one shadow task's
arguments is printed. Every engine's shadow logits must be identical to the
local engine's (exit 1 otherwise).

The attack (``--part attack``; both by default): the robustness check's
attack path (``run_attack``: deepwordbug on ``--attack-examples`` evaluation
examples, chunks of 10) with the fine-tuned MiniLM (``--attack-model``;
``tiny-bert`` for a quick run), the eval texts already in the Predictor's
cache as in a run, on the local engine and on a local Ray instance with 1
and 2 one-CPU actors. Each Ray attack starts its actor pool (process start,
imports, the model rebuilt from the object store, the attack built): that
start is measured on its own (the pool with no-op chunks) and printed beside
the totals; speed-ups are of the totals. The records and the predictor's
counters must equal the local engine's (exit 1 otherwise).

PyTorch runs with ``--threads`` intra-op threads in the driver and, through
the Ray engine's determinism settings, in every worker (1 by default: a
1-CPU worker with 2 threads would oversubscribe its core).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _jobs(ctx: Any, shadows: int) -> list[Any]:
    """The shadow jobs privacy.membership_inference builds (membership._lira), on the run's population split."""
    from harness_privacy import shadow

    data = ctx.require_data()
    population = data.get("validation")
    train = data.splits["train"]
    candidates = tuple(train.texts[:40]) + tuple(data.eval.texts[:40])
    import numpy as np

    rng = np.random.default_rng(0)
    jobs = []
    for k in range(shadows):
        half, rest = shadow.half_split(population, rng)
        jobs.append(shadow.ShadowJob(
            index=k, seed=int(rng.integers(0, 2**31 - 1)), config=ctx.config, base_dir=str(ctx.base_dir),
            scratch_dir=str(ctx.scratch_dir / "membership"), device="cpu", label_names=data.label_names,
            vocabulary_texts=tuple(train.texts), train=half, validation=rest, candidates=candidates,
        ))
    return jobs


def _tasks(jobs: list[Any]) -> list[Any]:
    from harness.run.executor import Task
    from harness_privacy import shadow

    return [Task(f"shadow-{job.index:03d}", shadow.train_shadow, (job,)) for job in jobs]


def _noop(value: int) -> int:
    return value


def _noop_chunk(state: Any, value: int) -> int:
    return value


def _attack_model(name: str, seed: int) -> tuple[Any, Any]:
    """(bundle, handle): attack_speed.py's data (600 synthetic notes) and its fine-tuned MiniLM or tiny BERT."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import attack_speed

    bundle = attack_speed.load_bundle(seed)
    handle = attack_speed.minilm(bundle, seed) if name == "minilm" else attack_speed.tiny_bert(bundle, seed)
    return bundle, handle


def attack_scaling(args: argparse.Namespace) -> tuple[list[dict[str, Any]], dict[str, Any], bool]:
    """The attack on the local engine and on 1 and 2 Ray actors: rows, sizes, identical?"""
    import pickle

    import ray

    from harness.config.settings import ExecutionConfig
    from harness.ml.predict import Predictor
    from harness.ml.remote import cache_snapshot, pack_model
    from harness.run.executor import Task, WorkerPool
    from harness.run.ray_engine import RayExecutor
    from harness_robustness.attack import run_attack, worker_attacker

    t0 = time.perf_counter()
    bundle, handle = _attack_model(args.attack_model, 0)
    split = bundle.eval
    print(f"\nattack: {args.attack_model} fine-tuned in {time.perf_counter() - t0:.1f} s; deepwordbug on "
          f"{min(args.attack_examples, len(split))} of {len(split)} {split.name} examples (chunks of 10)")

    def attack(executor: Any) -> tuple[Any, float, Any]:
        predictor = Predictor(handle)
        predictor.logits(split.texts)  # what the accuracy checks leave in the cache
        start = time.perf_counter()
        outcome = run_attack(split.texts, split.labels, bundle.label_names, predictor, recipe="deepwordbug",
                             examples=args.attack_examples, seed=0, executor=executor)
        return outcome, time.perf_counter() - start, predictor.stats()

    reference, local_s, local_stats = attack(None)
    rows = [{"engine": "local", "workers": 1, "start_s": 0.0, "total_s": local_s}]
    same = True
    sizes: dict[str, Any] = {}
    predictor = Predictor(handle)
    predictor.logits(split.texts)
    payload = pack_model(predictor)
    sizes["model_payload_bytes"] = len(pickle.dumps(payload))
    sizes["cache_snapshot_bytes"] = len(pickle.dumps(cache_snapshot(predictor)))
    for workers in (1, 2):
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, logging_level="WARNING",
                 object_store_memory=400 * 1024 * 1024)
        try:
            executor = RayExecutor(ExecutionConfig(engine="ray", num_cpus_per_task=1)).start()
            pool = WorkerPool("chunk", worker_attacker, (payload, cache_snapshot(predictor), "deepwordbug"))
            start = time.perf_counter()  # the pool's start alone: every actor rebuilds the model, builds the attack
            executor.map_pool(pool, [Task(f"noop-{i:05d}", _noop_chunk, (i,)) for i in range(workers)])
            start_s = time.perf_counter() - start
            outcome, total_s, stats = attack(executor)
            same = same and outcome.to_dict() == reference.to_dict() and stats == local_stats
            rows.append({"engine": "ray", "workers": workers, "start_s": start_s, "total_s": total_s,
                         "again_on_driver": executor.notes.get("chunks_attacked_again_on_driver", 0)})
        finally:
            ray.shutdown()
    print(f"\n{'engine':<8}{'workers':>8}{'pool start s':>14}{'attack s':>10}{'speed-up':>10}{'efficiency':>12}")
    for row in rows:
        row["speedup"] = local_s / row["total_s"]
        row["efficiency"] = row["speedup"] / row["workers"]
        print(f"{row['engine']:<8}{row['workers']:>8}{row['start_s']:>14.2f}{row['total_s']:>10.2f}"
              f"{row['speedup']:>9.2f}x{row['efficiency']:>11.0%}")
    one, two = rows[1], rows[2]
    print(f"\n2 Ray actors vs 1 on the attack: {one['total_s'] / two['total_s']:.2f}x "
          f"(without the pool start: {(one['total_s'] - one['start_s']) / max(two['total_s'] - two['start_s'], 1e-9):.2f}x)")
    print(f"object store: the model payload {sizes['model_payload_bytes'] / 2**20:.1f} MiB and the cache snapshot "
          f"{sizes['cache_snapshot_bytes'] / 1024:.0f} KiB, put once per attack; chunks re-attacked on the driver: "
          f"{[row.get('again_on_driver', 0) for row in rows[1:]]}")
    print(f"attack records and predictor counters identical on every engine: {same} "
          f"({reference.succeeded} succeeded, {reference.failed} failed, {reference.skipped} skipped; "
          f"{local_stats.forward_texts} texts forwarded)")
    return rows, sizes, same


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shadows", type=int, default=4)
    parser.add_argument("--size", type=int, default=1000, help="synthetic notes (the population split is 20%%)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3, help="warm repetitions; the fastest is kept (the VM is shared)")
    parser.add_argument("--overhead-tasks", type=int, default=200)
    parser.add_argument("--part", choices=("both", "shadows", "attack"), default="both")
    parser.add_argument("--attack-examples", type=int, default=40)
    parser.add_argument("--attack-model", choices=("minilm", "tiny-bert"), default="minilm")
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args(argv)
    report: dict[str, Any] = {"threads": args.threads}
    same = True
    if args.part in ("both", "shadows"):
        same = shadow_scaling(args, report)
    if args.part in ("both", "attack"):
        import torch

        torch.set_num_threads(args.threads)
        rows, sizes, identical = attack_scaling(args)
        report["attack"] = {"rows": rows, "sizes": sizes, "identical": identical, "examples": args.attack_examples,
                            "model": args.attack_model}
        same = same and identical
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(report, indent=2))
    return 0 if same else 1


def shadow_scaling(args: argparse.Namespace, report: dict[str, Any]) -> bool:
    """The shadow models on the local engine and on 1 and 2 Ray workers; identical logits?"""

    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    import ray

    from harness.config.settings import ExecutionConfig
    from harness.run.executor import LocalExecutor, Task
    from harness.run.ray_engine import RayExecutor
    from harness.testing import build_context

    folder = Path(tempfile.mkdtemp(prefix="scale-out-"))
    t0 = time.perf_counter()
    ctx = build_context(folder, data={"path": "builtin:clinical-triage", "synthetic": {"size": args.size}},
                        model={"path": "builtin:tiny-bert", "fine_tune": {"epochs": args.epochs}})
    jobs = _jobs(ctx, args.shadows)
    print(f"target fine-tuned in {time.perf_counter() - t0:.1f} s; {len(jobs)} shadow models of "
          f"{len(jobs[0].train)} training examples each, {args.epochs} epochs, torch threads {args.threads}")

    rows: list[dict[str, Any]] = []
    local_times = []
    for _ in range(1 + args.repeats):  # cold (first shadow: lazy imports, the plugin host), then warm
        start = time.perf_counter()
        reference = LocalExecutor().map(_tasks(jobs))
        local_times.append(time.perf_counter() - start)
    local_s = min(local_times[1:])
    rows.append({"engine": "local", "workers": 1, "cold_s": local_times[0], "warm_s": local_s})
    same = True
    overhead: dict[str, Any] = {}
    for workers in (1, 2):
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, logging_level="WARNING",
                 object_store_memory=200 * 1024 * 1024)
        try:
            executor = RayExecutor(ExecutionConfig(engine="ray", num_cpus_per_task=1)).start()
            times = []
            for _ in range(1 + args.repeats):
                start = time.perf_counter()
                outcome = executor.map(_tasks(jobs))
                times.append(time.perf_counter() - start)
                same = same and all(np.array_equal(a[1].logits, b[1].logits) for a, b in zip(reference, outcome))
            rows.append({"engine": "ray", "workers": workers, "cold_s": times[0], "warm_s": min(times[1:])})
            if workers == 1:
                n = args.overhead_tasks
                one = RayExecutor(ExecutionConfig(engine="ray", num_cpus_per_task=1)).start()
                one.map([Task(f"noop-{i:05d}", _noop, (i,)) for i in range(4)])  # warm
                start = time.perf_counter()
                one.map([Task(f"noop-{i:05d}", _noop, (i,)) for i in range(n)])
                overhead["per_task_s"] = (time.perf_counter() - start) / n
                import pickle

                import cloudpickle

                overhead["shadow_task_args_bytes"] = len(cloudpickle.dumps(jobs[0]))
                overhead["shadow_result_bytes"] = len(pickle.dumps(reference[0][1]))
        finally:
            ray.shutdown()

    print(f"\n{'engine':<8}{'workers':>8}{'cold s':>9}{'warm s':>9}{'speed-up':>10}{'efficiency':>12}")
    for row in rows:
        row["speedup"] = local_s / row["warm_s"]
        row["efficiency"] = row["speedup"] / row["workers"]
        print(f"{row['engine']:<8}{row['workers']:>8}{row['cold_s']:>9.2f}{row['warm_s']:>9.2f}"
              f"{row['speedup']:>9.2f}x{row['efficiency']:>11.0%}")
    two = next(r for r in rows if r["engine"] == "ray" and r["workers"] == 2)
    one = next(r for r in rows if r["engine"] == "ray" and r["workers"] == 1)
    print(f"\n2 Ray workers vs 1: {one['warm_s'] / two['warm_s']:.2f}x (warm)")
    print(f"per-task overhead (no-op tasks, 1 warm worker): {overhead['per_task_s'] * 1000:.2f} ms; "
          f"one shadow task ships {overhead['shadow_task_args_bytes'] / 1024:.0f} KiB of arguments and returns "
          f"{overhead['shadow_result_bytes'] / 1024:.1f} KiB")
    print(f"per shadow model (local engine): {local_s / len(jobs):.2f} s")
    print(f"shadow logits identical on every engine: {same}")
    report["shadows"] = {"rows": rows, "overhead": overhead, "identical": same, "shadows": len(jobs)}
    return same


if __name__ == "__main__":
    sys.exit(main())
