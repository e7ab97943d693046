"""Run a TextAttack recipe on a seeded, class-stratified sample and summarise it.

The sample is attacked in chunks of :data:`CHUNK_SIZE` examples; each chunk gets its
own seed derived from ``(seed, chunk index)`` and a cleared attack cache, so a
chunk's results do not depend on which chunks ran before it. With
``checkpoint_dir`` every finished chunk is written there as JSON (atomically) and
a re-run loads finished chunks and attacks only the missing ones: resumed and
uninterrupted runs give identical per-example results.

What changed in a successful attack is recorded as ``changed``: ``[word index,
old word, new word]`` triples from TextAttack's word diff (``changed_unit:
"word"``), or, for Chinese text (``changed_unit: "character"``), ``[character
offset, old, new]`` from a character-level diff (``chinese.character_changes``):
TextAttack's words of a Chinese text are jieba's, and re-segmenting a perturbed
text shifts them, so a word diff would name words that did not change.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from harness import wilson_interval
from harness_robustness.chinese import character_changes
from harness_robustness.offline import import_textattack
from harness_robustness.recipes import build_attack, describe
from harness_robustness.speedups import fast_text_ops, quiet_attacker
from harness_robustness.wrapper import make_wrapper

__all__ = [
    "AttackOutcome", "CHUNK_SIZE", "attack_pairs", "stratified_sample", "run_attack", "summarise", "chunk_seed",
    "chunk_key", "attack_identity", "words_touched", "ChunkSpec", "ChunkAttacker", "ChunkResult", "attack_chunk",
    "worker_attacker",
]

CHUNK_SIZE = 10


@dataclass(frozen=True)
class AttackOutcome:
    recipe: str
    components: dict
    query_budget: int | None
    examples: int
    succeeded: int
    failed: int
    skipped: int
    original_accuracy: float
    original_accuracy_interval: tuple | None
    accuracy_under_attack: float
    accuracy_under_attack_interval: tuple | None
    attack_success_rate: float | None
    attack_success_rate_interval: tuple | None
    avg_words_perturbed: float | None
    avg_queries: float | None
    successes: list = field(default_factory=list)
    #: What ``changed`` records index: ``"word"`` (word index) or ``"character"`` (character offset, Chinese text).
    changed_unit: str = "word"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def stratified_sample(labels: Sequence[Any], n: int, seed: int) -> list[int]:
    """``n`` indices (sorted) drawn per class in proportion to class size; deterministic for a seed.

    Largest-remainder allocation, every class gets at least one when ``n`` allows;
    all indices when ``n >= len(labels)``.
    """
    labels = list(labels)
    total = len(labels)
    if n >= total:
        return list(range(total))
    if n <= 0:
        return []
    classes = sorted(set(labels), key=lambda x: (str(type(x)), x))
    members = {c: [i for i, label in enumerate(labels) if label == c] for c in classes}
    exact = {c: n * len(members[c]) / total for c in classes}
    quota = {c: int(exact[c]) for c in classes}
    if n >= len(classes):
        for c in classes:
            quota[c] = max(quota[c], 1)
    while sum(quota.values()) > n:  # the minimum-one rule overshot: take from the largest quota
        c = max(classes, key=lambda k: (quota[k] - exact[k], quota[k]))
        quota[c] -= 1
    for c in sorted(classes, key=lambda k: exact[k] - quota[k], reverse=True):
        if sum(quota.values()) >= n:
            break
        if quota[c] < len(members[c]):
            quota[c] += 1
    rng = np.random.default_rng(seed)
    chosen: list[int] = []
    for c in classes:
        picked = rng.permutation(len(members[c]))[: quota[c]]
        chosen.extend(members[c][i] for i in picked)
    return sorted(chosen)


def chunk_seed(seed: int, chunk: int) -> int:
    return int(np.random.SeedSequence([int(seed), int(chunk)]).generate_state(1)[0] % (2**31 - 1))


def _label(label_names: Sequence[str], value: Any) -> Any:
    try:
        return label_names[int(value)]
    except (TypeError, ValueError, IndexError):
        return value


def _word_spans(text: Any) -> list[tuple[int, int]] | None:
    """``(start, end)`` of each of ``text.words`` in ``text.text``, found in order; ``None`` when a word is not there verbatim."""
    content, position, spans = text.text, 0, []
    for word in text.words:
        found = content.find(word, position)
        if found < 0:
            return None
        spans.append((found, found + len(word)))
        position = found + len(word)
    return spans


def words_touched(original: Any, changes: Sequence[Sequence[Any]]) -> int | None:
    """How many of ``original.words`` the character ``changes`` (``[offset, old, new]``) touch; ``None`` if unknown.

    A replaced span touches every word it overlaps; an insertion (``old == ""``)
    the word it lands in or next to.
    """
    spans = _word_spans(original)
    if spans is None:
        return None
    touched: set[int] = set()
    for offset, old, _new in changes:
        start, end = int(offset), int(offset) + len(old)
        for i, (a, b) in enumerate(spans):
            if (start < b and a < end) if end > start else (a <= start <= b):
                touched.add(i)
                if end == start:
                    break
    return len(touched)


def _record(index: int, result: Any, label_names: Sequence[str], changed_unit: str = "word") -> dict[str, Any]:
    kind = type(result).__name__
    status = {"SuccessfulAttackResult": "succeeded", "SkippedAttackResult": "skipped"}.get(kind, "failed")
    original = result.original_result.attacked_text
    perturbed = result.perturbed_result.attacked_text
    record: dict[str, Any] = {
        "index": int(index),
        "status": status,
        "original": original.text,
        "perturbed": perturbed.text,
        "original_label": _label(label_names, result.original_result.output),
        "perturbed_label": _label(label_names, result.perturbed_result.output),
        "num_queries": int(result.perturbed_result.num_queries),
    }
    if status == "succeeded" and changed_unit == "character":
        changes = character_changes(original.text, perturbed.text)
        touched = words_touched(original, changes)
        if touched is None:  # a word not found verbatim: TextAttack's own word diff
            touched = len(original.all_words_diff(perturbed))
        record["changed"] = changes
        record["words_perturbed"] = touched / max(1, len(original.words))
    elif status == "succeeded":
        changed = sorted(original.all_words_diff(perturbed))
        old_words, new_words = original.words, perturbed.words
        record["changed"] = [
            [int(i), old_words[i] if i < len(old_words) else "", new_words[i] if i < len(new_words) else ""] for i in changed
        ]
        record["words_perturbed"] = len(changed) / max(1, len(old_words))
    return record


def attack_pairs(attack: Any, pairs: list[tuple[str, int]], seed: int, query_budget: int | None = None) -> list[Any]:
    """Attack ``(text, label)`` pairs in order with a fresh cache and ``seed``; TextAttack results in order.

    Exactly what ``Attacker(attack, Dataset(pairs), AttackArgs(random_seed=seed))``
    does, with TextAttack's word splitting memoised (:func:`fast_text_ops`), so
    the outcomes are those of a stock run with the same seed.
    """
    textattack = import_textattack()
    attack.clear_cache()
    dataset = textattack.datasets.Dataset(pairs)
    args = textattack.AttackArgs(
        num_examples=len(pairs), random_seed=seed, query_budget=query_budget, disable_stdout=True, silent=True
    )
    with fast_text_ops(), quiet_attacker():
        return list(textattack.Attacker(attack, dataset, args).attack_dataset())


def _interval(successes: int, trials: int) -> tuple | None:
    interval = wilson_interval(successes, trials)
    return None if interval is None else (interval.low, interval.high)


def summarise(
    recipe: str, components: dict, query_budget: int | None, records: list[dict], changed_unit: str = "word"
) -> AttackOutcome:
    """Metrics of per-example records (as written by the chunks)."""
    n = len(records)
    succeeded = sum(r["status"] == "succeeded" for r in records)
    failed = sum(r["status"] == "failed" for r in records)
    skipped = n - succeeded - failed
    attacked = succeeded + failed
    shares = [r["words_perturbed"] for r in records if r["status"] == "succeeded"]
    queries = [r["num_queries"] for r in records if r["status"] != "skipped"]
    successes = [
        {k: r[k] for k in ("index", "original", "perturbed", "changed", "original_label", "perturbed_label")}
        for r in records
        if r["status"] == "succeeded"
    ]
    return AttackOutcome(
        recipe=recipe,
        components=components,
        query_budget=query_budget,
        examples=n,
        succeeded=succeeded,
        failed=failed,
        skipped=skipped,
        original_accuracy=attacked / n if n else float("nan"),
        original_accuracy_interval=_interval(attacked, n),
        accuracy_under_attack=failed / n if n else float("nan"),
        accuracy_under_attack_interval=_interval(failed, n),
        attack_success_rate=succeeded / attacked if attacked else None,
        attack_success_rate_interval=_interval(succeeded, attacked),
        # Defined when nothing succeeded: no successful attack changed any word (0.0), as long as
        # something was attacked at all; with nothing attacked there is nothing to average (None).
        avg_words_perturbed=float(np.mean(shares)) if shares else (0.0 if attacked else None),
        avg_queries=float(np.mean(queries)) if queries else None,
        successes=successes,
        changed_unit=changed_unit,
    )


#: The libraries whose versions decide an attack's outcome (TextAttack's search, the model's outputs).
ATTACK_LIBRARIES = ("audit-harness", "textattack", "torch", "transformers", "tokenizers", "numpy")


def chunk_key(identity: Mapping[str, Any], chunk: int, pairs: list[tuple[str, int]]) -> str:
    """The name of one chunk's result: the attack's ``identity`` (model, options, seed, data), the chunk and its texts.

    A checkpoint is reused only when every input that decides its records is
    the same, including the library versions (:func:`harness.run.provenance.result_key`):
    a chunk attacked on another model, with other options or another
    TextAttack is never read back as this one.
    """
    # Not in the public API (yet): the core's digest of inputs plus library versions, as for --resume.
    from harness.run.provenance import result_key

    return result_key({**identity, "chunk": int(chunk), "pairs": [[str(t), int(y)] for t, y in pairs]}, ATTACK_LIBRARIES)


def attack_identity(
    predictor: Any, recipe: str, components: dict, query_budget: int | None, seed: int, label_names: Sequence[str],
    fields: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Everything besides the chunk that decides an attack's records, or ``None`` when the model has no identity.

    The model is named by :meth:`harness.ml.predict.Predictor.identity` (weights
    sha256, tokenizer, device); a predictor without one cannot vouch for a
    checkpoint, so nothing is read or written for it. ``fields``: what the
    caller knows besides (the data fingerprint, the check options, the run seed).
    """
    describe_model = getattr(predictor, "identity", None)
    model = describe_model() if callable(describe_model) else None
    if not model or not model.get("weights_sha256"):
        return None
    return {
        "model": model, "recipe": recipe, "components": components, "query_budget": query_budget,
        "seed": int(seed), "label_names": list(label_names), "context": dict(fields or {}),
    }


def _write_atomic(path: Path, data: Any) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(temporary, path)


def run_attack(
    texts: Sequence[str],
    labels: Sequence[int],
    label_names: Sequence[str],
    predictor: Any,
    *,
    recipe: str,
    examples: int = 100,
    query_budget: int | None = None,
    seed: int = 0,
    checkpoint_dir: str | os.PathLike | None = None,
    checkpoint_fields: Mapping[str, Any] | None = None,
    changed_unit: str = "word",
    executor: Any = None,
) -> AttackOutcome:
    """Attack a class-stratified sample of ``examples`` texts with ``recipe`` through ``predictor``.

    The chunks are units of work for ``executor`` (the run's ``ctx.executor``;
    none: this process): see :func:`_attack_chunks`. Every engine gives the
    same records and moves ``predictor``'s counters alike.

    With ``checkpoint_dir``, finished chunks are saved and reused under
    :func:`chunk_key` (the model's identity, the attack, ``checkpoint_fields``
    such as the data fingerprint and check options, the library versions).
    ``changed_unit``: ``"character"`` records Chinese edits by character offset
    (see the module docstring); ``"word"`` (the default) by word index.
    """
    if changed_unit not in ("word", "character"):
        raise ValueError(f"changed_unit must be 'word' or 'character', got {changed_unit!r}")
    labels = [int(x) for x in labels]
    sample = stratified_sample(labels, examples, seed)
    attack = build_attack(recipe, make_wrapper(predictor))
    components = describe(attack)
    identity = None
    if checkpoint_dir is not None:
        fields = {"examples": int(examples), **(checkpoint_fields or {})}
        if changed_unit != "word":  # word records keep the keys they had before character records existed
            fields["changed_unit"] = changed_unit
        identity = attack_identity(predictor, recipe, components, query_budget, seed, label_names, fields)
    directory = Path(checkpoint_dir) if identity is not None else None
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
    done: dict[int, list[dict]] = {}
    todo: list[ChunkSpec] = []
    for chunk, start in enumerate(range(0, len(sample), CHUNK_SIZE)):
        indices = sample[start : start + CHUNK_SIZE]
        pairs = [(str(texts[i]), labels[i]) for i in indices]
        path = None
        if directory is not None:  # set only when the model has an identity to key checkpoints by
            path = directory / f"chunk-{chunk:05d}-{chunk_key(identity, chunk, pairs)[:32]}.json"
            if path.is_file():
                try:
                    done[chunk] = json.loads(path.read_text(encoding="utf-8"))
                    continue
                except (OSError, json.JSONDecodeError):
                    pass  # unreadable checkpoint: attack the chunk again
        todo.append(ChunkSpec(chunk, tuple(indices), tuple(pairs), chunk_seed(seed, chunk), query_budget,
                              tuple(label_names), changed_unit, None if path is None else str(path)))
    if todo:
        done.update(_attack_chunks(todo, attack, predictor, recipe, executor))
    records = [record for chunk in sorted(done) for record in done[chunk]]
    return summarise(recipe, components, query_budget, records, changed_unit)


@dataclass(frozen=True)
class ChunkSpec:
    """One chunk of the sample: a unit of work (``chunk-NNNNN``) for the run's executor."""

    chunk: int
    indices: tuple[int, ...]
    pairs: tuple[tuple[str, int], ...]
    seed: int
    query_budget: int | None
    label_names: tuple[str, ...]
    changed_unit: str
    checkpoint: str | None  # written by the driver once the chunk's records are final

    @property
    def unit_id(self) -> str:
        return f"chunk-{self.chunk:05d}"


@dataclass
class ChunkAttacker:
    """What attacks chunks in one process: the attack, built once, and (on a worker) its recording predictor."""

    attack: Any
    recorder: Any = None  # harness.ml.remote.RecordingPredictor on a worker; None over the run's own Predictor
    cache: Mapping[str, Any] = field(default_factory=dict)  # the driver's cache when the attack started


@dataclass(frozen=True)
class ChunkResult:
    records: list[dict]
    log: Any = None  # harness.ml.remote.QueryLog of a worker's predictor


def worker_attacker(payload: Any, cache: Mapping[str, Any], recipe: str) -> ChunkAttacker:
    """A pool worker's state: the driver's model rebuilt from ``payload`` (object store) and the attack, built once."""
    # Not in the public API (yet): the model payload and the predictor that records what it answered.
    from harness.ml.remote import unpack_model

    recorder = unpack_model(payload)
    return ChunkAttacker(build_attack(recipe, make_wrapper(recorder)), recorder, cache)


def attack_chunk(state: ChunkAttacker, spec: ChunkSpec) -> ChunkResult:
    """Attack one chunk with its own seed and a cleared attack cache; on a worker, with the driver's cache and a log."""
    if state.recorder is not None:
        state.recorder.restart(state.cache)
    results = attack_pairs(state.attack, list(spec.pairs), spec.seed, spec.query_budget)
    records = [_record(i, r, spec.label_names, spec.changed_unit) for i, r in zip(spec.indices, results)]
    return ChunkResult(records, state.recorder.take_log() if state.recorder is not None else None)


def _attack_chunks(todo: list[ChunkSpec], attack: Any, predictor: Any, recipe: str, executor: Any) -> dict[int, list[dict]]:
    """Each chunk of ``todo`` attacked through ``executor`` (none: here); chunk -> records, checkpoints written.

    Local engine: the tasks run here, in chunk order, over the run's own
    Predictor (``attack``), exactly as a plain loop. Another engine: each
    worker rebuilds the model from the object store once and starts every
    chunk from a copy of this predictor's cache; back here, in chunk order,
    :func:`harness.ml.remote.replay_queries` checks that this predictor would
    have forwarded exactly the texts the worker did (so the same batches and
    logits, so the same records) and takes over the worker's outputs and
    counters; a chunk for which it would not have (a text an earlier chunk
    computed) is attacked again here, as the local engine would.
    """
    # Not in the public API (yet): the executor's unit of work and worker pool.
    from harness.run.executor import LocalExecutor, Task, WorkerPool

    executor = executor if executor is not None else LocalExecutor()
    specs = {spec.unit_id: spec for spec in todo}
    tasks = [Task(spec.unit_id, attack_chunk, (spec,)) for spec in todo]
    done: dict[int, list[dict]] = {}

    def finish(spec: ChunkSpec, records: list[dict]) -> None:
        if spec.checkpoint is not None:
            _write_atomic(Path(spec.checkpoint), records)
        done[spec.chunk] = records

    if getattr(executor, "engine", "local") == "local":
        pool = WorkerPool("chunk", worker_attacker, in_process=lambda: ChunkAttacker(attack))
        executor.map_pool(pool, tasks, on_result=lambda unit, result: finish(specs[unit], result.records))
        return done

    from harness.ml.remote import cache_snapshot, pack_model, replay_queries

    arrived: dict[str, ChunkResult] = {}
    waiting = [spec.unit_id for spec in todo]  # chunk order: the order the local engine attacks them in

    def settle(unit: str, result: ChunkResult) -> None:
        arrived[unit] = result
        while waiting and waiting[0] in arrived:
            spec = specs[waiting.pop(0)]
            outcome = arrived.pop(spec.unit_id)
            if replay_queries(predictor, outcome.log):
                finish(spec, outcome.records)
                continue
            getattr(executor, "note", lambda name: None)("chunks_attacked_again_on_driver")
            getattr(executor, "progress", lambda message: None)(
                f"{spec.unit_id}: this run's predictor had cached texts the worker computed; attacked again here")
            finish(spec, attack_chunk(ChunkAttacker(attack), spec).records)

    pool = WorkerPool("chunk", worker_attacker, (pack_model(predictor), cache_snapshot(predictor), recipe))
    executor.map_pool(pool, tasks, on_result=settle)
    return done
