"""harness.results.io: the one reader of results.json, and the one set of "not a results file" messages.

``harness report``, ``harness compare``, ``harness run --baseline`` / ``--resume``
and ``harness sign`` / ``verify`` all read through it (their end-to-end
refusals are in test_bad_input.py, test_compare.py and test_signing.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.results.io import load_results, parse_results, read_results_file, read_results_json
from harness.results.types import AuditResult, CheckResult

MINIMAL = {"schema_version": "1.0", "verdict": "pass", "exit_code": 0, "checks": [], "provenance": {}}


def _write(tmp_path: Path, content: str | bytes, name: str = "results.json") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(None, "results.json: results file not found", id="missing"),
        pytest.param(b'{"a": "\xff"}', "results.json: not a harness results file (not UTF-8 text)", id="latin-1"),
        pytest.param("{not json", "results.json: not a harness results file (invalid JSON at line 1, column 2)", id="not-json"),
        pytest.param("[1, 2, 3]", "results.json: not a harness results file (no schema_version / checks)", id="list"),
        pytest.param('{"hello": "world"}', "results.json: not a harness results file (no schema_version / checks)", id="other-json"),
        pytest.param('{"checks": []}', "results.json: not a harness results file (no schema_version / checks)", id="no-schema"),
    ],
)
def test_every_reader_refuses_with_the_same_line(tmp_path: Path, content: str | bytes | None, message: str) -> None:
    path = tmp_path / "results.json" if content is None else _write(tmp_path, content)
    for reader in (read_results_file, read_results_json, load_results):
        with pytest.raises(UsageError) as caught:
            reader(path)
        assert str(caught.value) == f"{tmp_path}/{message}"


def test_a_folder_is_not_a_results_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is a directory, expected a results.json file"):
        load_results(tmp_path)


def test_duplicate_keys_are_recorded_for_verify_and_refused_for_everyone_else(tmp_path: Path) -> None:
    text = '{"schema_version": "1.0", "verdict": "fail", "verdict": "pass", "exit_code": 0, "checks": []}'
    path = _write(tmp_path, text)
    loaded = read_results_file(path)
    assert loaded.duplicate_keys == ("verdict",) and loaded.text == text and loaded.folder == tmp_path
    assert loaded.data["verdict"] == "pass"  # what a plain JSON reader would silently keep
    for reader in (read_results_json, load_results):
        with pytest.raises(UsageError, match=r"not a harness results file \(duplicate keys: verdict\)"):
            reader(path)


def test_a_body_the_result_cannot_read_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, json.dumps({"schema_version": "1.0", "checks": []}))
    assert read_results_json(path)["checks"] == []  # raw: fine
    with pytest.raises(UsageError, match=r"results.json: not a harness results file \(missing key 'verdict'\)"):
        load_results(path)
    with pytest.raises(UsageError, match=r"x.json: not a harness results file \(AttributeError"):
        parse_results({**MINIMAL, "checks": [3]}, Path("x.json"))


def test_load_results_reads_what_the_harness_writes(tmp_path: Path) -> None:
    result = AuditResult(verdict="pass", exit_code=0, checks=(CheckResult(id="a.b", title="A", status="pass", duration_s=0.5),),
                         provenance={"seed": 1})
    path = _write(tmp_path, json.dumps(result.to_dict()))
    loaded = load_results(path)
    assert loaded.check("a.b") is not None and loaded.check("a.b").duration_s == 0.5 and loaded.provenance == {"seed": 1}
    assert read_results_json(path) == json.loads(path.read_text(encoding="utf-8"))
