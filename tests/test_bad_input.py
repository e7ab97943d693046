"""Bad input, end to end: exit code 2, one clear line on stderr, nothing written.

Each test runs the real ``harness`` console script in a subprocess, in its own
folder, offline (``HF_HUB_OFFLINE=1``) unless it says otherwise, and asserts
what the README promises for "usage or input error":

- exit code 2;
- stderr is exactly one non-empty line, ``harness: error: ...``, naming the
  file, key or column at fault (no library warnings, no progress lines: the
  runs use ``-q``, which silences the harness's own progress reporter);
- no traceback;
- no ``results.json`` in the output folder (these errors all happen before
  the run writes anything).

Warnings are NOT silenced here (no ``PYTHONWARNINGS=ignore``): a library that
prints to stderr on a bad input is a bug in how the harness calls it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

HARNESS = shutil.which("harness", path=str(Path(sys.executable).parent)) or str(Path(sys.executable).parent / "harness")
ERROR_PREFIX = "harness: error: "

#: 20 rows, two labels, a sensitive column: valid data for the model-error cases.
GOOD_CSV = "text,label,group\n" + "".join(
    f"note {i} about a patient with {'chest pain' if i % 2 else 'a mild cough'},{'urgent' if i % 2 else 'routine'},{'a' if i % 3 else 'b'}\n"
    for i in range(20)
)


@dataclass(frozen=True)
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def harness(cwd: Path, *args: str, offline: bool = True, timeout: float = 60) -> Outcome:
    """Run the console script in ``cwd`` with an empty HF cache; ``offline=False`` drops every HF offline switch."""
    env = dict(os.environ)
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "PYTHONWARNINGS", "HARNESS_DEBUG"):
        env.pop(name, None)
    if offline:
        env["HF_HUB_OFFLINE"] = "1"
    env["HF_HOME"] = str(cwd / "hf-home")  # an empty cache: "not cached" must not depend on this machine
    started = time.perf_counter()
    done = subprocess.run([HARNESS, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    return Outcome(done.returncode, done.stdout, done.stderr, time.perf_counter() - started)


def run_audit(cwd: Path, config: str | Path | None, *extra: str, offline: bool = True, timeout: float = 60) -> Outcome:
    """``harness run [CONFIG] -q -o out`` in ``cwd``."""
    # no --quiet: progress lines only follow successful steps, so an error is the only line
    args = ["run", *([str(config)] if config is not None else []), "-o", "out", *extra]
    return harness(cwd, *args, offline=offline, timeout=timeout)


def assert_bad_input(outcome: Outcome, cwd: Path, *needles: str) -> str:
    """The contract for exit code 2 (README, "Exit codes"); returns the message (after the prefix)."""
    detail = f"rc={outcome.returncode}\nstdout:\n{outcome.stdout}\nstderr:\n{outcome.stderr}"
    assert outcome.returncode == 2, detail
    assert "Traceback" not in outcome.stderr, detail
    lines = outcome.stderr.splitlines()
    assert len(lines) == 1 and lines[0].strip(), f"expected exactly one stderr line\n{detail}"
    line = lines[0]
    assert line.startswith(ERROR_PREFIX), detail
    message = line.removeprefix(ERROR_PREFIX)
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"
    assert not (cwd / "out" / "results.json").exists(), "an output folder was left behind as if the run had started"
    return message


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def config_for_data(folder: Path, data: str, extra: str = "") -> Path:
    """A config auditing the (never reached) built-in model on the data section ``data``."""
    return write(folder, "audit.yaml", f"data: {data}\nsuite: smoke\n{extra}")


# ---------------------------------------------------------------- 1. the config file itself


def test_config_file_missing(tmp_path: Path) -> None:
    assert_bad_input(run_audit(tmp_path, "missing.yaml"), tmp_path, "missing.yaml", "not found")


def test_config_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "configs").mkdir()
    assert_bad_input(run_audit(tmp_path, "configs"), tmp_path, "configs", "directory")


def test_config_invalid_utf8(tmp_path: Path) -> None:
    write(tmp_path, "audit.yaml", b"seed: 1\nsuite: sm\xffoke\n")
    assert_bad_input(run_audit(tmp_path, "audit.yaml"), tmp_path, "audit.yaml", "UTF-8", "line 2, column 10")


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        pytest.param("data:\n  path: x.csv\n bad: y\n", ("line 3, column 2",), id="indentation"),
        pytest.param("checks: [accuracy.accuracy\nseed: 1\n", ("line 2, column 5",), id="unclosed-list"),
        pytest.param("seed: 1\nsuite: smoke\nseed: 2\n", ("line 3, column 1", "duplicate key 'seed'", "line 1"), id="duplicate-key"),
        pytest.param("seed: 1\nsuite: \"a\x01\"\n", ("line 2, column 10", "control character"), id="control-char"),
    ],
)
def test_config_invalid_yaml(tmp_path: Path, text: str, needles: tuple[str, ...]) -> None:
    write(tmp_path, "audit.yaml", text)
    assert_bad_input(run_audit(tmp_path, "audit.yaml"), tmp_path, "audit.yaml", "invalid YAML", *needles)


@pytest.mark.parametrize(("text", "kind"), [("- model\n- data\n", "list"), ("just some words\n", "str"), ("42\n", "int")])
def test_config_top_level_not_a_mapping(tmp_path: Path, text: str, kind: str) -> None:
    write(tmp_path, "audit.yaml", text)
    assert_bad_input(run_audit(tmp_path, "audit.yaml"), tmp_path, "audit.yaml", "top level", "mapping", kind)


# ---------------------------------------------------------------- 2. keys and values of the config


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        pytest.param("model: {fine_tun: {}}\n", ("model.fine_tun", "did you mean 'fine_tune'"), id="unknown-key"),
        pytest.param("sed: 1\n", ("sed", "did you mean 'seed'", "expected one of"), id="unknown-top-key"),
        pytest.param("seed: abc\n", ("seed", "integer", "'abc'"), id="wrong-type"),
        pytest.param("model: {device: tpu}\n", ("model.device", "'cuda'", "'tpu'"), id="bad-literal"),
        pytest.param("model: {path: 'builtin:tiny-brt'}\n", ("model.path", "did you mean 'builtin:tiny-bert'"), id="unknown-builtin-model"),
        pytest.param("data: {split: {train: 0.9, validation: 0.2, test: 0.2}}\n", ("data.split", "sum to 1", "1.3"), id="split-sum"),
        pytest.param("checks: {accuracy.acuracy: {}}\n", ("checks.accuracy.acuracy", "did you mean 'accuracy.accuracy'"), id="unknown-check"),
        pytest.param("checks: {accuracy.accuracy: {n_bot: 10}}\n", ("checks.accuracy.accuracy.n_bot", "did you mean 'n_boot'"), id="unknown-option"),
        pytest.param("checks: {accuracy.accuracy: {n_boot: 5}}\n", ("checks.accuracy.accuracy.n_boot", "100", "5"), id="bad-option"),
        pytest.param("checks: {accuracy.accuracy: {thresholds: 5}}\n", ("checks.accuracy.accuracy.thresholds", "mapping"), id="thresholds-type"),
        pytest.param("checks: {accuracy.accuracy: {min: high}}\n", ("checks.accuracy.accuracy.min", "number", "'high'"), id="threshold-value"),
        pytest.param("checks: {accuracy.accuracy: {enabled: 'no'}}\n", ("checks.accuracy.accuracy.enabled", "true or false"), id="enabled-string"),
        pytest.param("suite: smok\n", ("suite", "unknown suite 'smok'", "did you mean 'smoke'", "available:"), id="unknown-suite"),
        pytest.param("suite: ./my-suite.yaml\n", ("suite", "my-suite.yaml", "suite file", "not found"), id="missing-suite-file"),
        pytest.param("output: {formats: [json, pdf]}\n", ("output.formats", "'pdf'", "json, html"), id="unknown-format"),
    ],
)
def test_config_bad_key_or_value(tmp_path: Path, text: str, needles: tuple[str, ...]) -> None:
    write(tmp_path, "audit.yaml", text)
    assert_bad_input(run_audit(tmp_path, "audit.yaml"), tmp_path, "audit.yaml", *needles)


def test_unknown_suite_on_the_command_line(tmp_path: Path) -> None:
    assert_bad_input(run_audit(tmp_path, None, "--suite", "nope"), tmp_path, "--suite", "unknown suite 'nope'", "smoke")


def test_bad_option_in_a_suite_file_names_the_suite_file(tmp_path: Path) -> None:
    write(tmp_path, "mine.yaml", "name: mine\nchecks:\n  accuracy.accuracy: {n_bot: 10}\n")
    write(tmp_path, "audit.yaml", "suite: ./mine.yaml\n")
    message = assert_bad_input(run_audit(tmp_path, "audit.yaml"), tmp_path, "mine.yaml", "checks.accuracy.accuracy.n_bot")
    assert "audit.yaml" not in message


# ---------------------------------------------------------------- 3. data files


@pytest.mark.parametrize(
    ("name", "content", "needles"),
    [
        pytest.param(None, b"", ("nope.csv", "not found"), id="missing"),
        pytest.param("data.csv", b"", ("data.csv", "empty"), id="empty-csv"),
        pytest.param("data.jsonl", b"", ("data.jsonl", "empty"), id="empty-jsonl"),
        pytest.param("data.parquet", b"", ("data.parquet", "empty"), id="empty-parquet"),
        pytest.param("data.csv", b"text,label\n", ("data.csv", "no rows", "text, label"), id="header-only-csv"),
        pytest.param("data.parquet", GOOD_CSV.encode(), ("data.parquet", "parquet"), id="csv-named-parquet"),
        pytest.param("data.jsonl", b"not json\n", ("data.jsonl", "line 1", "not valid JSON"), id="text-named-jsonl"),
        pytest.param("data.json", b'[{"text": "a", "label": 1},\n 3]\n', ("data.json", "item 2", "not an object"), id="json-array-non-object"),
        pytest.param("data.csv", bytes(range(256)) * 4, ("data.csv", "binary"), id="binary-csv"),
        pytest.param("data.csv", "text,label\ncaf\u00e9,1\n".encode("latin-1"), ("data.csv", "UTF-8", "line 2, column 4"), id="latin1-csv"),
        pytest.param("data.txt", GOOD_CSV.encode(), ("data.txt", "'.txt'", ".csv, .jsonl, .parquet"), id="unknown-extension"),
        pytest.param("folder/", b"", ("folder", "not a saved Hugging Face dataset"), id="folder-not-a-dataset"),
    ],
)
def test_bad_data_file(tmp_path: Path, name: str | None, content: bytes, needles: tuple[str, ...]) -> None:
    if name is None:
        name = "nope.csv"
    elif name.endswith("/"):
        name = name.rstrip("/")
        (tmp_path / name).mkdir()
    else:
        write(tmp_path, name, content)
    config_for_data(tmp_path, f"{{path: {name}}}")
    assert_bad_input(run_audit(tmp_path, "audit.yaml"), tmp_path, *needles)


def test_json_array_file_is_read(tmp_path: Path) -> None:
    """A ``.json`` file holding one array of objects is data too; prove it is read (its bad row is found)."""
    rows = [{"text": f"note {i}", "label": i % 2} for i in range(12)] + [{"text": "", "label": 0}]
    write(tmp_path, "data.json", json.dumps(rows, indent=2))
    config_for_data(tmp_path, "{path: data.json}")
    assert_bad_input(run_audit(tmp_path, "audit.yaml"), tmp_path, "data.json", "row 13", "empty")


# ---------------------------------------------------------------- 4. columns and values


def _rows(count: int = 12, **override: object) -> list[dict[str, object]]:
    """``count`` valid rows; ``r4_label=None`` sets column ``label`` of row index 4 (the file's 5th row)."""
    rows: list[dict[str, object]] = [{"text": f"note {i}", "label": "yes" if i % 2 else "no", "group": "a" if i % 3 else "b"} for i in range(count)]
    for key, value in override.items():
        row, column = key.split("_", 1)
        rows[int(row.removeprefix("r"))][column] = value
    return rows


def _jsonl(rows: list[dict[str, object]]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


def _csv(rows: list[dict[str, object]]) -> str:
    header = list(rows[0])
    return ",".join(header) + "\n" + "".join(",".join("" if row[c] is None else str(row[c]) for c in header) + "\n" for row in rows)


@pytest.mark.parametrize(
    ("name", "content", "data", "needles"),
    [
        pytest.param("data.csv", _csv(_rows()), "{path: data.csv, text: body}", ("data.csv", "text column 'body'", "columns: text, label, group"), id="missing-text-column"),
        pytest.param("data.csv", _csv(_rows()), "{path: data.csv, label: target}", ("data.csv", "label column 'target'"), id="missing-label-column"),
        pytest.param("data.csv", _csv(_rows()), "{path: data.csv, sensitive: [group, nope]}", ("data.csv", "sensitive column 'nope'"), id="missing-sensitive-column"),
        pytest.param(None, "", "{path: 'builtin:clinical-triage', sensitive: [nope], synthetic: {size: 40}}", ("builtin:clinical-triage", "sensitive column 'nope'", "sex"), id="builtin-missing-sensitive"),
        pytest.param("data.csv", _csv([{**r, "label": "yes"} for r in _rows()]), "{path: data.csv}", ("data.csv", "label column 'label'", "single class", "'yes'"), id="single-class"),
        pytest.param("data.csv", _csv(_rows(r4_label=None)), "{path: data.csv}", ("data.csv", "label column 'label'", "row 5", "missing"), id="missing-label"),
        pytest.param("data.csv", _csv(_rows(r3_text="   ")), "{path: data.csv}", ("data.csv", "text column 'text'", "row 4", "empty"), id="blank-text"),
        pytest.param("data.csv", _csv(_rows(r2_text=None)), "{path: data.csv}", ("data.csv", "text column 'text'", "row 3", "missing"), id="csv-empty-text-cell"),
        pytest.param("data.jsonl", _jsonl(_rows(r1_text=5)), "{path: data.jsonl}", ("data.jsonl", "text column 'text'", "row 2", "not a string", "5"), id="jsonl-number-text"),
        pytest.param("data.jsonl", _jsonl(_rows(r1_text=None)), "{path: data.jsonl}", ("data.jsonl", "text column 'text'", "row 2", "missing"), id="jsonl-null-text"),
        pytest.param("data.jsonl", _jsonl([{**r, "id": i % 11} for i, r in enumerate(_rows())]), "{path: data.jsonl, id: id}", ("data.jsonl", "id column 'id'", "row 12", "unique"), id="duplicate-id"),
        pytest.param("data.csv", _csv(_rows(2)), "{path: data.csv}", ("data.csv", "2 rows are too few", "data.split"), id="too-few-rows"),
    ],
)
def test_bad_columns_or_values(tmp_path: Path, name: str | None, content: str, data: str, needles: tuple[str, ...]) -> None:
    if name is not None:
        write(tmp_path, name, content)
    config_for_data(tmp_path, data)
    assert_bad_input(run_audit(tmp_path, "audit.yaml"), tmp_path, *needles)


# ---------------------------------------------------------------- 5. models


def _model_config(folder: Path, model_path: str) -> Path:
    """Valid data (given as split files: no split step, so no sklearn import) and the model under test."""
    write(folder, "train.csv", GOOD_CSV)
    write(folder, "test.csv", GOOD_CSV)
    return write(folder, "audit.yaml", f"model: {{path: '{model_path}'}}\ndata: {{files: {{train: train.csv, test: test.csv}}}}\nsuite: smoke\n")


BERT_CONFIG = json.dumps({"model_type": "bert", "architectures": ["BertForSequenceClassification"], "vocab_size": 30, "hidden_size": 8})


@pytest.mark.parametrize(
    ("files", "needles"),
    [
        pytest.param(None, ("model.path", "./no/such/dir", "does not exist"), id="missing-folder"),
        pytest.param({"README.md": "hello"}, ("model.path", "no config.json"), id="no-config-json"),
        pytest.param({"config.json": "{}", "model.safetensors": ""}, ("model.path", "config.json", "no 'model_type'"), id="config-without-model-type"),
        pytest.param({"config.json": '{"model_type": "vit"}', "model.safetensors": ""}, ("model.path", "'vit'", "no sequence-classification head"), id="vit"),
        pytest.param({"config.json": BERT_CONFIG, "pytorch_model.bin": "not really a pickle"}, ("model.path", "pytorch_model.bin", "allow_pickle"), id="pickle-only"),
        pytest.param({"config.json": BERT_CONFIG}, ("model.path", "no weight file"), id="no-weights"),
    ],
)
def test_bad_model_folder(tmp_path: Path, files: dict[str, str] | None, needles: tuple[str, ...]) -> None:
    if files is None:
        _model_config(tmp_path, "./no/such/dir")
    else:
        for name, content in files.items():
            write(tmp_path, f"model/{name}", content)
        _model_config(tmp_path, "./model")
    assert_bad_input(run_audit(tmp_path, "audit.yaml"), tmp_path, *needles)


@pytest.mark.parametrize("hub_id", ["bert-base-uncased", "someorg/somemodel"])
def test_hub_id_offline_fails_fast(tmp_path: Path, hub_id: str) -> None:
    _model_config(tmp_path, hub_id)
    outcome = run_audit(tmp_path, "audit.yaml", timeout=60)
    assert_bad_input(outcome, tmp_path, "model.path", repr(hub_id), "not in the Hugging Face cache", "HF_HUB_OFFLINE is set (offline)")
    assert outcome.seconds < 30, f"took {outcome.seconds:.1f} s"


def test_hub_id_without_offline_switch_fails_fast(tmp_path: Path) -> None:
    """No HF_HUB_OFFLINE: the 2 s reachability probe must answer, whatever DNS does, well under 30 s.

    Skipped where huggingface.co is really reachable (the model would download).
    """
    import socket

    try:
        socket.create_connection(("huggingface.co", 443), timeout=2).close()
        pytest.skip("huggingface.co is reachable from here")
    except OSError:
        pass
    _model_config(tmp_path, "someorg/somemodel")
    outcome = run_audit(tmp_path, "audit.yaml", offline=False, timeout=60)
    assert_bad_input(outcome, tmp_path, "model.path", "'someorg/somemodel'", "huggingface.co cannot be reached")
    assert outcome.seconds < 30, f"took {outcome.seconds:.1f} s"


# ---------------------------------------------------------------- 6. harness report


@pytest.mark.parametrize(
    ("content", "needles"),
    [
        pytest.param(None, ("results.json", "not found"), id="missing"),
        pytest.param('{"hello": "world"}', ("results.json", "not a harness results file"), id="other-json"),
        pytest.param("[1, 2, 3]", ("results.json", "not a harness results file"), id="json-list"),
        pytest.param("{not json", ("results.json", "not a harness results file"), id="not-json"),
    ],
)
def test_report_on_bad_results(tmp_path: Path, content: str | None, needles: tuple[str, ...]) -> None:
    if content is not None:
        write(tmp_path, "results.json", content)
    outcome = harness(tmp_path, "report", "results.json")
    detail = f"rc={outcome.returncode}\nstderr:\n{outcome.stderr}"
    assert outcome.returncode == 2, detail
    assert "Traceback" not in outcome.stderr, detail
    lines = outcome.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(ERROR_PREFIX), detail
    for needle in needles:
        assert needle in lines[0], detail
    assert not (tmp_path / "report.html").exists()


# ---------------------------------------------------------------- 7. device


def test_cuda_not_available(tmp_path: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is available on this machine")
    assert_bad_input(run_audit(tmp_path, None, "--device", "cuda"), tmp_path, "--device", "cuda", "no CUDA device")


# ---------------------------------------------------------------- 8. the output folder
# Checked before any data or model loads: the one stderr line is the error (a data
# load would have printed its progress line first), and the run takes seconds, not a training.


def test_output_is_an_existing_file(tmp_path: Path) -> None:
    write(tmp_path, "report.txt", "not a folder\n")
    outcome = harness(tmp_path, "run", "--output", "report.txt")
    assert_bad_input(outcome, tmp_path, "output folder", "report.txt", "is a file, not a folder")
    assert (tmp_path / "report.txt").read_text() == "not a folder\n"


def test_output_under_a_file(tmp_path: Path) -> None:
    write(tmp_path, "report.txt", "not a folder\n")
    outcome = harness(tmp_path, "run", "--output", "report.txt/out")
    assert_bad_input(outcome, tmp_path, "report.txt/out", "cannot be created", "is not a folder")


def test_output_folder_that_cannot_be_written(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("running as root: a chmod-ed folder stays writable (test_output_under_a_file covers an output that cannot be made)")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert_bad_input(harness(tmp_path, "run", "--output", "locked"), tmp_path, "locked", "is not writable")
        assert_bad_input(harness(tmp_path, "run", "--output", "locked/out"), tmp_path, "locked/out", "cannot be created", "is not writable")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)
