"""Data loading: every format gives the same splits; labels, columns, splits, fingerprints."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from harness.config.settings import DataConfig, SplitConfig, SplitFiles, SyntheticConfig
from harness.ml.data import load_dataset, stratified_split


def _frame(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    labels = rng.choice(["spam", "ham", "eggs"], n, p=[0.5, 0.3, 0.2])
    return pd.DataFrame({
        "body": [f"message number {i} about {label}" for i, label in enumerate(labels)],
        "kind": labels,
        "region": rng.choice(["north", "south"], n),
        "uid": [f"u{i:03d}" for i in range(n)],
    })


def _write_all_formats(frame: pd.DataFrame, folder: Path) -> dict[str, Path]:
    import datasets

    paths = {"csv": folder / "d.csv", "jsonl": folder / "d.jsonl", "parquet": folder / "d.parquet", "hf": folder / "saved"}
    frame.to_csv(paths["csv"], index=False)
    paths["jsonl"].write_text("".join(json.dumps(row) + "\n" for row in frame.to_dict(orient="records")))
    frame.to_parquet(paths["parquet"])
    datasets.Dataset.from_pandas(frame, preserve_index=False).save_to_disk(str(paths["hf"]))
    return paths


def test_all_formats_give_identical_splits(tmp_path: Path) -> None:
    paths = _write_all_formats(_frame(), tmp_path)
    bundles = {
        fmt: load_dataset(DataConfig(path=str(p), text="body", label="kind", id="uid", sensitive=["region"]), seed=0, base_dir=tmp_path)
        for fmt, p in paths.items()
    }
    reference = bundles["csv"]
    assert reference.label_names == ("eggs", "ham", "spam")  # string labels, sorted, names kept
    assert reference.sensitive_columns == ("region",)
    for fmt, bundle in bundles.items():
        for name in ("train", "validation", "test"):
            assert bundle.splits[name].fingerprint == reference.splits[name].fingerprint, (fmt, name)


def test_split_is_seeded_stratified_and_disjoint(tmp_path: Path) -> None:
    path = _write_all_formats(_frame(200), tmp_path)["csv"]
    spec = DataConfig(path=str(path), text="body", label="kind", id="uid", split=SplitConfig(train=0.5, validation=0.25, test=0.25))
    bundle = load_dataset(spec, seed=7, base_dir=tmp_path)
    again = load_dataset(spec, seed=7, base_dir=tmp_path)
    other = load_dataset(spec, seed=8, base_dir=tmp_path)
    assert bundle.eval.fingerprint == again.eval.fingerprint != other.eval.fingerprint
    ids = [set(s.ids) for s in bundle.splits.values()]
    assert sum(map(len, ids)) == 200 and len(set.union(*ids)) == 200
    overall = np.bincount(np.concatenate([s.labels for s in bundle.splits.values()]), minlength=3) / 200
    for split in bundle.splits.values():
        share = np.bincount(split.labels, minlength=3) / len(split)
        assert np.abs(share - overall).max() < 0.05


def test_integer_labels_and_explicit_names(tmp_path: Path) -> None:
    frame = pd.DataFrame({"text": [f"t{i}" for i in range(30)], "label": [i % 2 for i in range(30)]})
    frame.to_csv(tmp_path / "a.csv", index=False)
    plain = load_dataset(DataConfig(path=str(tmp_path / "a.csv")), seed=0, base_dir=tmp_path)
    assert plain.label_names == ("0", "1")
    named = load_dataset(DataConfig(path="a.csv", label_names=["negative", "positive"]), seed=0, base_dir=tmp_path)
    assert named.label_names == ("negative", "positive")
    assert named.eval.fingerprint == plain.eval.fingerprint  # same content, same integer labels


def test_explicit_split_files(tmp_path: Path) -> None:
    frame = _frame(40)
    frame.iloc[:30].to_csv(tmp_path / "train.csv", index=False)
    frame.iloc[30:].to_json(tmp_path / "test.jsonl", orient="records", lines=True)
    bundle = load_dataset(
        DataConfig(path=None, files=SplitFiles(train="train.csv", test="test.jsonl"), text="body", label="kind", id="uid"),
        seed=0, base_dir=tmp_path,
    )
    assert set(bundle.splits) == {"train", "test"}
    assert bundle.splits["test"].ids == tuple(frame.uid.iloc[30:])


def test_missing_sensitive_values_become_unknown(tmp_path: Path) -> None:
    frame = pd.DataFrame({"text": [f"t{i}" for i in range(30)], "label": ["a", "b"] * 15, "group": ["x", None, "y"] * 10})
    frame.to_csv(tmp_path / "g.csv", index=False)
    bundle = load_dataset(DataConfig(path="g.csv", sensitive=["group"]), seed=0, base_dir=tmp_path)
    values = set().union(*(s.sensitive["group"] for s in bundle.splits.values()))
    assert values == {"x", "y", "unknown"}


def test_fingerprint_changes_with_any_content() -> None:
    bundle = load_dataset(DataConfig(synthetic=SyntheticConfig(size=100)), seed=0, base_dir=Path("."))
    split = bundle.eval
    from dataclasses import replace

    changed_text = replace(split, texts=(split.texts[0] + " ",) + split.texts[1:])
    changed_label = replace(split, labels=np.r_[1 - split.labels[0], split.labels[1:]])
    assert len({split.fingerprint, changed_text.fingerprint, changed_label.fingerprint}) == 3


def test_builtin_dataset_is_synthetic_documented_and_seeded() -> None:
    a = load_dataset(DataConfig(synthetic=SyntheticConfig(size=120, bias=0.5)), seed=1, base_dir=Path("."))
    b = load_dataset(DataConfig(synthetic=SyntheticConfig(size=120, bias=0.5)), seed=1, base_dir=Path("."))
    assert a.synthetic and "no real patient data" in a.description and "bias=0.5" in a.description
    assert a.label_names == ("non-urgent", "urgent")
    assert a.sensitive_columns == ("sex", "age_band", "ethnicity")
    assert {n: s.fingerprint for n, s in a.splits.items()} == {n: s.fingerprint for n, s in b.splits.items()}


def test_tiny_class_falls_back_to_plain_shuffle() -> None:
    frame = pd.DataFrame({"x": range(20)})
    labels = np.array([0] * 18 + [1] * 2)
    parts = stratified_split(frame, labels, {"train": 0.6, "validation": 0.2, "test": 0.2}, seed=0)
    assert sum(len(p) for p in parts.values()) == 20
