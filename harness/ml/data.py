"""Datasets: read CSV / JSONL / Parquet / saved HF datasets, map columns, split, fingerprint.

Everything a check needs from data is a :class:`Split`: texts, integer labels,
sensitive attributes and stable ids, with a sha256 fingerprint of its content
so a report (and a later comparison) can prove which data was used. Loading
fails with one :class:`DataError` line for every problem a user can fix.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from harness.config.settings import DataConfig
from harness.errors import DataError

SPLIT_NAMES: tuple[str, ...] = ("train", "validation", "test")
_EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


@dataclass(frozen=True)
class Split:
    """One split of the data, columns already mapped to the harness's names."""

    name: str
    ids: tuple[str, ...]
    texts: tuple[str, ...]
    labels: np.ndarray  # int64, indexes into DatasetBundle.label_names
    sensitive: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def fingerprint(self) -> str:
        """sha256 over ids, texts, labels and sensitive values, in order."""
        digest = hashlib.sha256()
        for i in range(len(self.texts)):
            row = [self.ids[i], self.texts[i], int(self.labels[i])]
            row += [self.sensitive[name][i] for name in sorted(self.sensitive)]
            digest.update(json.dumps(row, ensure_ascii=False).encode("utf-8"))
            digest.update(b"\n")
        return digest.hexdigest()

    def summary(self, label_names: tuple[str, ...]) -> dict[str, Any]:
        counts = np.bincount(self.labels, minlength=len(label_names))
        return {
            "size": len(self),
            "fingerprint": self.fingerprint,
            "label_counts": {label_names[i]: int(c) for i, c in enumerate(counts)},
        }


@dataclass(frozen=True)
class DatasetBundle:
    """The splits of one dataset plus what the report must say about it."""

    splits: Mapping[str, Split]
    label_names: tuple[str, ...]
    sensitive_columns: tuple[str, ...]
    source: str
    synthetic: bool = False
    description: str = ""
    eval_split: str = "test"

    @property
    def eval(self) -> Split:
        return self.splits[self.eval_split]

    def get(self, name: str) -> Split | None:
        """The split called ``name`` (``\"train\"``, ``\"validation\"``, ``\"test\"``...), or ``None`` when the data has none."""
        return self.splits.get(name)

    def provenance(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "synthetic": self.synthetic,
            "description": self.description,
            "label_names": list(self.label_names),
            "sensitive_columns": list(self.sensitive_columns),
            "eval_split": self.eval_split,
            "splits": {name: split.summary(self.label_names) for name, split in self.splits.items()},
        }


# ---------------------------------------------------------------- reading files


def _sniff_binary(path: Path) -> None:
    with path.open("rb") as handle:
        head = handle.read(8192)
    if b"\x00" in head:
        raise DataError(f"{path}: looks like a binary file, not text ({_format_of(path)} expected)")


def _format_of(path: Path, declared: str = "auto") -> str:
    if declared != "auto":
        return declared
    if path.is_dir():
        return "hf"
    fmt = _EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise DataError(f"{path}: unknown data format {path.suffix!r}; use .csv, .jsonl, .parquet or a saved dataset folder (or set data.format)")
    return fmt


def read_table(path: Path, declared: str = "auto") -> pd.DataFrame:
    """Read one data file into a DataFrame, with one-line errors for every failure."""
    if not path.exists():
        raise DataError(f"{path}: data file not found")
    fmt = _format_of(path, declared)
    if fmt != "hf":
        if path.is_dir():
            raise DataError(f"{path}: is a directory, expected a {fmt} file")
        if path.stat().st_size == 0:
            raise DataError(f"{path}: data file is empty (0 bytes); expected a {fmt} file with a header and rows")
    try:
        if fmt == "csv":
            _sniff_binary(path)
            frame = pd.read_csv(path, sep="\t" if path.suffix.lower() == ".tsv" else ",", dtype=object, keep_default_na=False, na_values=[""])
        elif fmt == "jsonl":
            _sniff_binary(path)
            frame = _read_jsonl(path)
        elif fmt == "parquet":
            frame = pd.read_parquet(path)
        else:
            frame = _read_saved_dataset(path)
    except DataError:
        raise
    except UnicodeDecodeError:
        raise DataError(f"{path}: not valid UTF-8 text{_first_bad_utf8(path)}; save it as UTF-8") from None
    except Exception as exc:  # pandas / pyarrow / datasets raise many types
        raise DataError(f"{path}: cannot read as {fmt}: {_first_line(exc)}") from None
    if frame.empty:
        raise DataError(f"{path}: data file has no rows" + (f" (columns: {_columns(frame)})" if len(frame.columns) else ""))
    return frame


def _read_jsonl(path: Path) -> pd.DataFrame:
    """One JSON object per line; a ``.json`` file holding one array of objects is read too."""
    with path.open(encoding="utf-8") as handle:
        text = handle.read()
    if path.suffix.lower() == ".json" and text.lstrip().startswith("["):
        return _read_json_array(path, text)
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}: line {number} is not valid JSON ({exc.msg}); expected one JSON object per line") from None
        if not isinstance(row, dict):
            raise DataError(f"{path}: line {number} is not a JSON object (got {type(row).__name__})")
        rows.append(row)
    return pd.DataFrame(rows)


def _read_json_array(path: Path, text: str) -> pd.DataFrame:
    """A whole-file JSON array of objects (what ``json.dump(rows)`` writes)."""
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise DataError(f"{path}: item {number} of the JSON array is not an object (got {type(row).__name__})")
    return pd.DataFrame(rows)


def _first_bad_utf8(path: Path) -> str:
    """`` (byte 0xNN at line L, column C)`` for the first byte that is not UTF-8, read line by line.

    The position pandas reports is relative to its read buffer, not the file.
    """
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                return f" (byte 0x{line[exc.start]:02x} at line {number}, column {exc.start + 1})"
    return ""


def _first_line(exc: BaseException, limit: int = 300) -> str:
    """First line of a library's error, cut to ``limit`` characters (the CLI prints one line)."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line if len(line) <= limit else line[: limit - 1] + "\u2026"


def _read_saved_dataset(path: Path) -> pd.DataFrame:
    # A folder that save_to_disk did not write would otherwise cost the
    # ``datasets`` import only to fail; say what such a folder must hold.
    if not path.is_dir():
        raise DataError(f"{path}: data.format is hf but this is a file; a saved dataset is the folder save_to_disk wrote")
    if not any((path / marker).exists() for marker in ("state.json", "dataset_dict.json")):
        raise DataError(
            f"{path}: is a folder but not a saved Hugging Face dataset (no state.json from save_to_disk); "
            "point data.path at a .csv, .jsonl or .parquet file"
        )
    import datasets  # heavy: only when a saved dataset is used

    loaded = datasets.load_from_disk(str(path))
    if isinstance(loaded, datasets.DatasetDict):
        raise DataError(f"{path}: is a DatasetDict; point data.files at its splits' folders or save one split")
    return loaded.to_pandas()


# ---------------------------------------------------------------- mapping columns


def _columns(frame: pd.DataFrame) -> str:
    return ", ".join(map(str, frame.columns))


def _check_columns(frame: pd.DataFrame, spec: DataConfig, where: str) -> None:
    wanted = {"text": spec.text, "label": spec.label}
    if spec.id:
        wanted["id"] = spec.id
    for role, column in wanted.items():
        if column not in frame.columns:
            raise DataError(
                f"{where}: missing {role} column {column!r} (columns: {_columns(frame)}); set data.{role} to the right one"
            )
    for column in spec.sensitive or []:
        if column not in frame.columns:
            raise DataError(f"{where}: missing sensitive column {column!r} (data.sensitive; columns: {_columns(frame)})")


def _is_missing(value: Any) -> bool:
    """None, NaN or pandas' NA: what an empty CSV cell or a JSON null becomes."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # list-like values are not "missing"
        return False


def _check_texts(frame: pd.DataFrame, column: str, where: str) -> None:
    for position, value in enumerate(frame[column]):
        row = f"{where}: text column {column!r} row {position + 1}"
        if _is_missing(value):
            raise DataError(f"{row} is missing (an empty cell or null); every example needs a text")
        if not isinstance(value, str):
            raise DataError(f"{row} is not a string (got {type(value).__name__} {value!r})")
        if not value.strip():
            raise DataError(f"{row} is empty")


def _check_ids(frame: pd.DataFrame, column: str, where: str) -> None:
    """Ids name examples in the evidence and across runs, so each must be present and unique."""
    values = frame[column]
    for position, value in enumerate(values):
        if _is_missing(value):
            raise DataError(f"{where}: id column {column!r} row {position + 1} is missing")
    duplicated = values.astype(str).duplicated()
    if duplicated.any():
        position = int(np.argmax(duplicated.to_numpy()))
        raise DataError(f"{where}: id column {column!r} row {position + 1} repeats the id {values.iloc[position]!r}; ids must be unique")


def _label_names(frames: list[tuple[pd.DataFrame, str]], spec: DataConfig) -> tuple[str, ...]:
    """The label vocabulary, from data.label_names or the values present (ints -> 0..max)."""
    for frame, where in frames:
        for position, value in enumerate(frame[spec.label]):
            if _is_missing(value) or (isinstance(value, str) and not value.strip()):
                raise DataError(f"{where}: label column {spec.label!r} row {position + 1} is missing")
    values = pd.concat([f[spec.label] for f, _ in frames], ignore_index=True)
    if spec.label_names:
        names = tuple(spec.label_names)
    elif all(_is_int_like(v) for v in values):
        highest = max(int(v) for v in values)
        names = tuple(str(i) for i in range(highest + 1))
    else:
        names = tuple(sorted({str(v).strip() for v in values}))
    present = {_label_text(v, names) for v in values}
    if len(present) < 2:
        where = ", ".join(w for _, w in frames)
        raise DataError(
            f"{where}: label column {spec.label!r} has a single class ({next(iter(present))!r}); "
            "a classifier audit needs at least two"
        )
    return names


def _is_int_like(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, np.integer)):
        return True
    return isinstance(value, str) and value.strip().lstrip("-").isdigit()


def _label_text(value: Any, names: tuple[str, ...]) -> str:
    if _is_int_like(value) and str(value).strip() not in names and 0 <= int(value) < len(names):
        return names[int(value)]
    return str(value).strip()


def _to_split(name: str, frame: pd.DataFrame, spec: DataConfig, names: tuple[str, ...], where: str) -> Split:
    index = {label: i for i, label in enumerate(names)}
    labels = []
    for position, value in enumerate(frame[spec.label]):
        text = _label_text(value, names)
        if text not in index:
            raise DataError(f"{where}: row {position + 1} has label {text!r}, not one of {', '.join(names)}")
        labels.append(index[text])
    ids = frame[spec.id].astype(str).tolist() if spec.id else [f"{name}-{i}" for i in range(len(frame))]
    sensitive = {
        column: tuple("unknown" if pd.isna(v) else str(v) for v in frame[column])
        for column in (spec.sensitive or [])
    }
    return Split(name, tuple(ids), tuple(frame[spec.text].tolist()), np.asarray(labels, dtype=np.int64), sensitive)


def _two_way(order: np.ndarray, test_size: float, seed: int, labels: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """One seeded cut; stratified when ``labels`` is given and sklearn can stratify it.

    A small split may leave a class with one member, or fewer test rows than
    classes, where sklearn refuses to stratify: shuffle plainly then rather
    than fail. Only a cut that leaves a side empty raises (ValueError).
    """
    from sklearn.model_selection import train_test_split

    if labels is not None:
        try:
            return train_test_split(order, test_size=test_size, random_state=seed, stratify=labels)
        except ValueError:
            pass
    return train_test_split(order, test_size=test_size, random_state=seed)


def stratified_split(frame: pd.DataFrame, labels: np.ndarray, fractions: Mapping[str, float], seed: int) -> dict[str, pd.DataFrame]:
    """Seeded, label-stratified split; a class too small to stratify falls back to a plain shuffle.

    Raises ValueError when the frame has too few rows for the fractions asked.
    """
    order = np.arange(len(frame))
    stratify = labels if np.bincount(labels).min() >= 3 else None
    rest_fraction = fractions["validation"] + fractions["test"]
    if fractions["train"] > 0:
        train_idx, rest_idx = _two_way(order, rest_fraction, seed, stratify)
    else:
        train_idx, rest_idx = order[:0], order
    parts = {"train": train_idx}
    if fractions["validation"] > 0:
        test_share = fractions["test"] / rest_fraction
        sub_stratify = labels[rest_idx] if stratify is not None else None
        val_idx, test_idx = _two_way(rest_idx, test_share, seed, sub_stratify)
        parts["validation"], parts["test"] = val_idx, test_idx
    else:
        parts["test"] = rest_idx
    return {name: frame.iloc[np.sort(idx)].reset_index(drop=True) for name, idx in parts.items() if len(idx)}


def _split_or_fail(frame: pd.DataFrame, labels: np.ndarray, spec: DataConfig, seed: int, where: str) -> dict[str, pd.DataFrame]:
    """``stratified_split`` with the config's fractions, as one DataError line when rows are too few."""
    fractions = {"train": spec.split.train, "validation": spec.split.validation, "test": spec.split.test}
    try:
        return stratified_split(frame, labels, fractions, seed)
    except ValueError:
        asked = ", ".join(f"{name} {share:g}" for name, share in fractions.items() if share > 0)
        raise DataError(
            f"{where}: {len(frame)} rows are too few to split into {asked} (data.split); "
            "add rows, change the fractions or give data.files"
        ) from None


# ---------------------------------------------------------------- entry point


def _resolve(path: str, base_dir: Path) -> Path:
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else base_dir / candidate


def load_dataset(spec: DataConfig, *, seed: int, base_dir: Path) -> DatasetBundle:
    """Load, validate, map and split the data the config describes."""
    if spec.files is None and spec.path and spec.path.startswith("builtin:"):
        return _load_builtin(spec, seed=seed)
    if spec.files is not None:
        frames = {}
        for name in SPLIT_NAMES:
            file = getattr(spec.files, name)
            if file is not None:
                path = _resolve(file, base_dir)
                frames[name] = (read_table(path, spec.format), str(path))
        source = ", ".join(f"{name}={where}" for name, (_, where) in frames.items())
    elif spec.path:
        path = _resolve(spec.path, base_dir)
        frames = {"all": (read_table(path, spec.format), str(path))}
        source = str(path)
    else:
        raise DataError("data: give data.path or data.files")
    for frame, where in frames.values():
        _check_columns(frame, spec, where)
        _check_texts(frame, spec.text, where)
        if spec.id:
            _check_ids(frame, spec.id, where)
    names = _label_names(list(frames.values()), spec)
    if "all" in frames:
        frame, where = frames.pop("all")
        labels = np.asarray([names.index(_label_text(v, names)) if _label_text(v, names) in names else -1 for v in frame[spec.label]])
        if (labels < 0).any():
            bad = frame[spec.label].iloc[int(np.argmax(labels < 0))]
            raise DataError(f"{where}: label {bad!r} is not one of {', '.join(names)}")
        split_seed = spec.split.seed if spec.split.seed is not None else seed
        frames = {name: (part, where) for name, part in _split_or_fail(frame, labels, spec, split_seed, where).items()}
    splits = {name: _to_split(name, frame, spec, names, where) for name, (frame, where) in frames.items()}
    if spec.eval_split not in splits:
        raise DataError(f"data.eval_split: split {spec.eval_split!r} does not exist (have: {', '.join(splits)})")
    return DatasetBundle(splits, names, tuple(spec.sensitive or ()), source, eval_split=spec.eval_split)


def _load_builtin(spec: DataConfig, *, seed: int) -> DatasetBundle:
    from harness.config.settings import BUILTIN_DATASETS
    from harness.ml import builtin_data, builtin_data_zh

    if spec.path == builtin_data_zh.DATASET_ID:
        synthetic, generate = builtin_data_zh, builtin_data_zh.generate_clinical_triage_zh
    elif spec.path == builtin_data.DATASET_ID:
        synthetic, generate = builtin_data, builtin_data.generate_clinical_triage
    else:
        raise DataError(f"data.path: unknown built-in dataset {spec.path!r}; available: {', '.join(BUILTIN_DATASETS)}")
    knobs = spec.synthetic
    try:
        generator_spec = synthetic.SyntheticSpec(
            size=knobs.size,
            seed=knobs.seed if knobs.seed is not None else seed,
            bias=knobs.bias,
            bias_group=knobs.bias_group,
            pii_rate=knobs.pii_rate,
        )
        frame = generate(generator_spec)
    except ValueError as exc:
        raise DataError(f"data.synthetic: {exc}") from None
    sensitive = spec.sensitive if spec.sensitive is not None else list(synthetic.SENSITIVE_ATTRIBUTES)
    mapped = spec.model_copy(update={"text": "text", "label": "label", "id": "id", "sensitive": sensitive, "label_names": list(synthetic.LABELS)})
    _check_columns(frame, mapped, spec.path)
    names = tuple(synthetic.LABELS)
    labels = np.asarray([names.index(v) for v in frame["label"]])
    split_seed = spec.split.seed if spec.split.seed is not None else seed
    parts = _split_or_fail(frame, labels, spec, split_seed, spec.path or "builtin")
    splits = {name: _to_split(name, part, mapped, names, spec.path) for name, part in parts.items()}
    if synthetic is builtin_data_zh:
        description = builtin_data_zh.describe(generator_spec)
    else:
        description = (
            f"Synthetic clinical triage notes generated by the harness (size={knobs.size}, "
            f"bias={knobs.bias:g} against {knobs.bias_group}, pii_rate={knobs.pii_rate:g}); no real patient data."
        )
    return DatasetBundle(splits, names, tuple(sensitive), spec.path, synthetic=True, description=description, eval_split=spec.eval_split)
