"""``harness export model-card``: the audit in a Hugging Face model card, read back with huggingface_hub.

Reads the session's smoke run (tests/conftest.py) and writes only into copies.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from huggingface_hub import EvalResult, ModelCard

from conftest import SmokeRun, run_cli


def _headline(results: dict) -> dict[str, float]:
    """check id -> the value of its first metric, read straight from results.json."""
    return {c["id"]: c["metrics"][0]["value"] for c in results["checks"] if c["metrics"] and c["metrics"][0]["value"] is not None}


def _card_metrics(card: ModelCard) -> dict[str, float]:
    return {entry.metric_args["audit_harness_check"]: entry.metric_value for entry in card.data.eval_results or []
            if "audit_harness_check" in (entry.metric_args or {})}


@pytest.fixture()
def model_copy(smoke_run: SmokeRun, tmp_path: Path) -> Path:
    target = tmp_path / "model"
    shutil.copytree(smoke_run.output / "model", target)
    return target


def test_card_round_trips_and_keeps_the_existing_card(smoke_run: SmokeRun, model_copy: Path) -> None:
    results_path = smoke_run.output / "results.json"
    results = smoke_run.results
    before = ModelCard.load(model_copy / "README.md")  # the card harness wrote beside the fine-tuned weights
    assert before.data.library_name == "transformers" and "Intended for audit and evaluation" in before.text

    done = run_cli("export", "model-card", str(results_path), "--model-dir", str(model_copy), cwd=smoke_run.folder)
    assert done.returncode == 0, done.stderr
    assert "updated" in done.stdout and str(model_copy / "README.md") in done.stdout

    card = ModelCard.load(model_copy / "README.md")
    # model-index parsed back by huggingface_hub: one entry per headline metric, the values of results.json
    assert _card_metrics(card) == _headline(results) and len(_headline(results)) >= 2
    for entry in card.data.eval_results:
        assert entry.task_type == "text-classification" and entry.dataset_split == results["provenance"]["data"]["eval_split"]
        assert entry.dataset_type == results["provenance"]["data"]["source"] and entry.verified is False
    accuracy = next(c for c in results["checks"] if c["id"] == "accuracy.accuracy")["metrics"][0]
    assert next(e for e in card.data.eval_results if e.metric_args["audit_harness_check"] == "accuracy.accuracy").metric_type == accuracy["name"]
    # the card's own metadata and text stay
    assert card.data.library_name == "transformers" and "audit-harness" in card.data.tags
    assert before.text.strip() in card.text
    # the Audit section: verdict, coverage, intervals, limitations and the sha256 of results.json
    text = card.text
    assert f"**Verdict: {results['verdict'].upper()}**" in text
    assert "Coverage: " in text and "### Gated failures" in text and "### Limitations" in text
    assert hashlib.sha256(results_path.read_bytes()).hexdigest() in text
    low, high = accuracy["interval"]["low"], accuracy["interval"]["high"]
    assert f"[{low:.3f}, {high:.3f}]" in text


def test_second_export_replaces_only_its_own_section_and_entries(smoke_run: SmokeRun, model_copy: Path) -> None:
    results_path = smoke_run.output / "results.json"
    card_path = model_copy / "README.md"
    assert run_cli("export", "model-card", str(results_path), "--model-dir", str(model_copy), cwd=smoke_run.folder).returncode == 0
    # a person adds a section and another tool adds its own evaluation between two exports
    card = ModelCard.load(card_path)
    card.data.eval_results = [*card.data.eval_results, EvalResult(task_type="text-classification", dataset_type="glue", dataset_name="GLUE SST-2",
                                                                  metric_type="accuracy", metric_value=0.5, dataset_split="validation")]
    card.text = card.text + "\n## Deployment notes\n\nServed behind the triage desk only.\n"
    card_path.write_text(str(card.content), encoding="utf-8")

    done = run_cli("export", "model-card", str(results_path), "--model-dir", str(model_copy), cwd=smoke_run.folder)
    assert done.returncode == 0, done.stderr
    again = ModelCard.load(card_path)
    assert again.text.count("## Audit") == 1 and again.text.count("<!-- audit-harness:begin") == 1
    assert "## Deployment notes" in again.text and "Served behind the triage desk only." in again.text
    assert _card_metrics(again) == _headline(smoke_run.results)
    others = [e for e in again.data.eval_results if "audit_harness_check" not in (e.metric_args or {})]
    assert [(e.dataset_type, e.metric_value) for e in others] == [("glue", 0.5)]


def test_new_card_file_and_escaping(smoke_run: SmokeRun, tmp_path: Path) -> None:
    """-o writes a new card; text from the results cannot inject HTML or links into it."""
    results = json.loads((smoke_run.output / "results.json").read_text(encoding="utf-8"))
    check = results["checks"][0]
    check["status"], check["message"] = "fail", "<img src=x onerror=alert(1)> [click](http://evil.example) @team"
    results["verdict"] = "fail"
    crafted = tmp_path / "results.json"
    crafted.write_text(json.dumps(results), encoding="utf-8")
    card_path = tmp_path / "card.md"
    done = run_cli("export", "model-card", str(crafted), "-o", str(card_path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    card = ModelCard.load(card_path)
    assert _card_metrics(card) == _headline(results)
    section = card.text[card.text.index("### Gated failures"):card.text.index("### Headline metrics")]
    assert check["id"].replace("_", "\\_") in section  # the failed gated check is listed
    assert "<img" not in card.text and "](http" not in card.text


@pytest.mark.parametrize("args, expected", [
    ((), "give --model-dir DIR"),
    (("--model-dir", "{tmp}", "-o", "{tmp}/x.md"), "one of them"),
    (("--model-dir", "{tmp}/absent"), "model folder not found"),
])
def test_bad_input_is_one_line_exit_2(smoke_run: SmokeRun, tmp_path: Path, args: tuple[str, ...], expected: str) -> None:
    filled = [a.replace("{tmp}", str(tmp_path)) for a in args]
    done = run_cli("export", "model-card", str(smoke_run.output / "results.json"), *filled, cwd=tmp_path)
    assert done.returncode == 2 and expected in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_broken_existing_card_and_missing_results(smoke_run: SmokeRun, tmp_path: Path) -> None:
    card = tmp_path / "README.md"
    card.write_text("---\nlicense: [unclosed\n---\n# card\n", encoding="utf-8")
    done = run_cli("export", "model-card", str(smoke_run.output / "results.json"), "-o", str(card), cwd=tmp_path)
    assert done.returncode == 2 and "cannot read the existing model card" in done.stderr
    assert card.read_text(encoding="utf-8").startswith("---\nlicense: [unclosed")  # left as it was
    done = run_cli("export", "model-card", str(tmp_path / "nope.json"), "-o", str(tmp_path / "c.md"), cwd=tmp_path)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
