"""``harness compare`` and ``harness run --baseline``: paired statistics, the regression policy, refusals.

The statistics are cross-checked against independent computations (the
exact binomial by hand, scikit-learn's metrics, a hand-written bootstrap
loop); the CLI is exercised end to end on two real runs of the tiny model, a
normally trained baseline and a deliberately worse candidate.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from conftest import run_cli, write_config
from harness.stats import paired as ps
DATA = {"path": "builtin:clinical-triage", "synthetic": {"size": 300}}
SUITE = {"name": "cmp", "checks": {"accuracy.accuracy": {"min": 0.7, "n_boot": 200}, "accuracy.macro_f1": {"n_boot": 200}}}


# ---------------------------------------------------------------- statistics, against independent computations


def _binomial_two_sided_by_hand(b: int, c: int) -> float:
    """Exact McNemar: P(X <= min(b, c)) doubled, X ~ Binomial(b + c, 1/2), summed with integers."""
    n, k = b + c, min(b, c)
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


@pytest.mark.parametrize("b,c", [(0, 0), (1, 0), (5, 5), (3, 12), (47, 3), (20, 31)])
def test_mcnemar_matches_the_exact_binomial_by_hand(b: int, c: int) -> None:
    base = np.array([True] * b + [False] * c + [True] * 7 + [False] * 4)
    cand = np.array([False] * b + [True] * c + [True] * 7 + [False] * 4)
    got_b, got_c, p = ps.mcnemar_exact(base, cand)
    assert (got_b, got_c) == (b, c)
    assert p == pytest.approx(_binomial_two_sided_by_hand(b, c), rel=1e-9, abs=1e-15)


def test_metric_functions_match_scikit_learn() -> None:
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, recall_score, roc_auc_score

    rng = np.random.default_rng(3)
    for k in (2, 3):
        y = rng.integers(0, k, 200)
        scores = rng.dirichlet(np.ones(k), 200)
        scores[np.arange(200), y] += rng.random(200) * 0.6  # better than chance
        scores /= scores.sum(axis=1, keepdims=True)
        p = scores.argmax(axis=1)
        assert ps.accuracy(y, p, scores, k) == pytest.approx(accuracy_score(y, p))
        assert ps.balanced_accuracy(y, p, scores, k) == pytest.approx(balanced_accuracy_score(y, p))
        assert ps.macro_f1(y, p, scores, k) == pytest.approx(f1_score(y, p, average="macro", labels=list(range(k)), zero_division=0))
        assert ps.min_class_recall(y, p, scores, k) == pytest.approx(recall_score(y, p, average=None, labels=list(range(k))).min())
        expected_auc = roc_auc_score(y, scores[:, 1]) if k == 2 else roc_auc_score(y, scores, multi_class="ovr", average="macro")
        assert ps.roc_auc(y, p, scores, k) == pytest.approx(expected_auc)


def test_paired_bootstrap_matches_a_hand_written_loop() -> None:
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(0)
    n, k = 150, 3
    y = rng.integers(0, k, n)
    base = np.where(rng.random(n) < 0.8, y, rng.integers(0, k, n))
    cand = np.where(rng.random(n) < 0.4, y, rng.integers(0, k, n))
    scores = np.full((n, k), 1 / k)
    out = ps.paired_bootstrap(ps.RECOMPUTABLE["macro_f1"], k, y, base, scores, cand, scores, np.random.default_rng(42), n_boot=300)
    draws = np.random.default_rng(42)
    deltas = []
    for _ in range(300):
        idx = draws.integers(0, n, n)
        f1 = lambda pred, idx=idx: f1_score(y[idx], pred[idx], average="macro", labels=list(range(k)), zero_division=0)  # noqa: E731
        deltas.append(f1(cand) - f1(base))
    deltas = np.array(deltas)
    assert out.delta == pytest.approx(f1_score(y, cand, average="macro") - f1_score(y, base, average="macro"))
    assert (out.low, out.high) == pytest.approx((np.quantile(deltas, 0.025), np.quantile(deltas, 0.975)))
    assert out.p_value == pytest.approx(min(1.0, 2 * min(np.mean(deltas < 0), np.mean(deltas > 0))), abs=1e-12)
    assert out.high < 0 and out.p_value < 0.05 and out.paired


def test_unpaired_bootstrap_and_interval_rule_see_noise_and_signal() -> None:
    rng = np.random.default_rng(1)
    spec, k = ps.RECOMPUTABLE["accuracy"], 2

    def run(n: int, acc: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        y = rng.integers(0, 2, n)
        p = np.where(rng.random(n) < acc, y, 1 - y)
        return y, p, np.eye(2)[p]

    same = ps.unpaired_bootstrap(spec, k, run(400, 0.85), run(380, 0.85), np.random.default_rng(0), n_boot=500)
    worse = ps.unpaired_bootstrap(spec, k, run(400, 0.9), run(380, 0.6), np.random.default_rng(0), n_boot=500)
    assert not same.paired and "unpaired bootstrap" in same.method
    assert same.p_value > 0.01 and worse.p_value < 0.01 and worse.high < 0
    # normal approximation from intervals, against the formula written out
    out = ps.interval_normal(0.10, 0.05, 0.15, 0.95, 0.30, 0.22, 0.38, 0.95)
    z = 1.959963984540054
    se = math.hypot(0.10 / (2 * z), 0.16 / (2 * z))
    assert out.delta == pytest.approx(0.20)
    assert out.p_value == pytest.approx(math.erfc(0.20 / se / math.sqrt(2)))
    assert (out.low, out.high) == pytest.approx((0.20 - z * se, 0.20 + z * se))


# ---------------------------------------------------------------- end to end on two real runs


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """results.json of a trained baseline and of a barely trained candidate (run with --fail-on error)."""
    folder = tmp_path_factory.mktemp("compare")
    (folder / "cmp.yaml").write_text(yaml.safe_dump(SUITE), encoding="utf-8")
    base = write_config(folder, {
        "model": {"path": "builtin:tiny-bert", "fine_tune": {"epochs": 8, "lr": 2e-3, "batch_size": 16, "save_model": False}},
        "data": DATA, "suite": "cmp.yaml", "output": {"dir": "base", "formats": ["json"]},
        # 60 evaluation notes: accuracy's interval may contain 0.7; these tests are about the comparison, not that gate
        "gate": {"inconclusive": "warn"},
    }, "base.yaml")
    worse = write_config(folder, {
        "model": {"path": "builtin:tiny-bert", "fine_tune": {"epochs": 1, "lr": 1e-5, "batch_size": 16, "save_model": False}},
        "data": DATA, "suite": "cmp.yaml", "output": {"dir": "worse", "formats": ["json"]},
        "gate": {"inconclusive": "warn"},
    }, "worse.yaml")
    cli = run_cli("run", str(base), "-q", cwd=folder)
    assert cli.returncode == 0, cli.stderr + cli.stdout
    cli = run_cli("run", str(worse), "-q", "--fail-on", "error", cwd=folder)
    # its accuracy check fails its threshold, but --fail-on error says only errors fail the run
    assert cli.returncode == 0, cli.stderr + cli.stdout
    worse_results = json.loads((folder / "worse" / "results.json").read_text(encoding="utf-8"))
    assert worse_results["verdict"] == "pass" and worse_results["checks"][0]["status"] == "fail"
    return {"folder": folder, "base": folder / "base" / "results.json", "worse": folder / "worse" / "results.json"}


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _variant(runs: dict[str, Path], name: str, change: Any) -> Path:
    data = _load(runs["worse"])
    change(data)
    path = runs["folder"] / f"{name}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_results_keep_compact_per_example_predictions_valid_against_the_schema(runs: dict[str, Path]) -> None:
    import jsonschema

    results = _load(runs["base"])
    schema = json.loads((Path(__file__).resolve().parents[1] / "harness" / "results" / "schema" / "results.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(results, schema)
    block = results["predictions"]
    split = results["provenance"]["data"]["splits"]["test"]
    assert block["split"] == "test" and len(block["ids"]) == split["size"] == len(set(block["ids"]))
    assert block["fingerprint"] == split["fingerprint"]
    scores = np.array(block["scores"])
    assert np.allclose(scores.sum(axis=1), 1, atol=1e-5) and (scores.argmax(axis=1) == np.array(block["predictions"])).all()
    recorded = results["checks"][0]["metrics"][0]
    assert recorded["name"] == "accuracy"
    assert recorded["value"] == pytest.approx(np.mean(np.array(block["labels"]) == np.array(block["predictions"])))


def test_a_run_compared_with_itself_shows_no_change(runs: dict[str, Path]) -> None:
    cli = run_cli("compare", str(runs["base"]), str(runs["base"]), "--json", cwd=runs["folder"])
    assert cli.returncode == 0, cli.stderr
    result = json.loads(cli.stdout)
    assert result["paired"] and result["regressions"] == [] and result["verdict"] == "pass"
    rows = {r["key"]: r for r in result["rows"]}
    accuracy = rows["accuracy.accuracy.accuracy"]
    assert accuracy["delta"] == 0 and accuracy["p_value"] == 1 and accuracy["method"].startswith("McNemar exact test")
    assert rows["accuracy.macro_f1.macro_f1"]["method"].startswith("paired bootstrap")


def test_the_worse_model_is_a_significant_regression(runs: dict[str, Path], tmp_path: Path) -> None:
    cli = run_cli("compare", str(runs["base"]), str(runs["worse"]), "-o", str(tmp_path / "cmp"), cwd=runs["folder"])
    assert cli.returncode == 1, cli.stderr
    assert "the gate fails" in cli.stdout and "regressed" in cli.stdout
    result = _load(tmp_path / "cmp" / "comparison.json")
    row = next(r for r in result["rows"] if r["key"] == "accuracy.accuracy.accuracy")
    # independent check of the McNemar p-value from the two runs' own per-example predictions
    base, worse = _load(runs["base"])["predictions"], _load(runs["worse"])["predictions"]
    order = {i: n for n, i in enumerate(worse["ids"])}
    truth = np.array(base["labels"])
    b_ok = np.array(base["predictions"]) == truth
    w_ok = np.array([worse["predictions"][order[i]] for i in base["ids"]]) == truth
    b, c = int(np.sum(b_ok & ~w_ok)), int(np.sum(~b_ok & w_ok))
    assert row["p_value"] == pytest.approx(_binomial_two_sided_by_hand(b, c), rel=1e-9, abs=1e-300)
    assert row["delta"] == pytest.approx(w_ok.mean() - b_ok.mean())
    assert row["regression"] and row["change"] == "regressed" and row["paired"]
    assert row["delta_interval"]["high"] < 0
    junit = (tmp_path / "cmp" / "comparison-junit.xml").read_text(encoding="utf-8")
    assert 'name="accuracy.accuracy.accuracy"' in junit and 'type="regression"' in junit
    assert "| accuracy.accuracy | accuracy |" in (tmp_path / "cmp" / "comparison.md").read_text(encoding="utf-8")


def test_tolerance_and_policy_decide_what_fails(runs: dict[str, Path]) -> None:
    loose = run_cli("compare", str(runs["base"]), str(runs["worse"]), "--tolerance", "accuracy.*=0.9", "--json", cwd=runs["folder"])
    assert loose.returncode == 0, loose.stderr
    changes = {r["key"]: r["change"] for r in json.loads(loose.stdout)["rows"]}
    assert changes["accuracy.accuracy.accuracy"] == "worse, within tolerance"
    ungated = run_cli("compare", str(runs["base"]), str(runs["worse"]), "--no-regression", "fairness.*", cwd=runs["folder"])
    assert ungated.returncode == 0, ungated.stderr
    bad = run_cli("compare", str(runs["base"]), str(runs["worse"]), "--tolerance", "accuracy.*", cwd=runs["folder"])
    assert bad.returncode == 2 and "PATTERN=VALUE" in bad.stderr


def test_bad_inputs_are_refused_with_exit_2(runs: dict[str, Path]) -> None:
    folder = runs["folder"]
    cases = {
        "missing": (folder / "nope.json", "results file not found"),
        "foreign": (folder / "base.yaml", "not a harness results file"),
        "schema": (_variant(runs, "schema", lambda d: d.update(schema_version="0.9")), "schema versions differ"),
        "data": (_variant(runs, "data", lambda d: d["provenance"]["data"]["splits"]["test"].update(fingerprint="0" * 64)),
                 "evaluation data differ"),
    }
    for name, (path, message) in cases.items():
        cli = run_cli("compare", str(runs["base"]), str(path), cwd=folder)
        assert cli.returncode == 2, (name, cli.stderr)
        assert message in cli.stderr and len(cli.stderr.strip().splitlines()) == 1, (name, cli.stderr)
        assert "Traceback" not in cli.stderr


def test_force_compares_anyway_and_says_so_unpaired_when_examples_differ(runs: dict[str, Path]) -> None:
    def other_examples(data: dict[str, Any]) -> None:
        data["provenance"]["data"]["splits"]["test"]["fingerprint"] = "1" * 64
        data["predictions"]["ids"] = [f"other-{i}" for i in data["predictions"]["ids"]]

    path = _variant(runs, "other", other_examples)
    refused = run_cli("compare", str(runs["base"]), str(path), cwd=runs["folder"])
    assert refused.returncode == 2 and "--force" in refused.stderr
    forced = run_cli("compare", str(runs["base"]), str(path), "--force", "--json", cwd=runs["folder"])
    assert forced.returncode == 1, forced.stderr
    result = json.loads(forced.stdout)
    assert result["forced"] and not result["paired"] and "unpaired" in result["pairing_note"]
    row = next(r for r in result["rows"] if r["key"] == "accuracy.accuracy.accuracy")
    assert row["method"].startswith("unpaired bootstrap") and row["regression"]


def test_run_with_a_baseline_of_other_data_stops_before_the_model(runs: dict[str, Path], tmp_path: Path) -> None:
    config = write_config(tmp_path, {"model": {"path": "builtin:tiny-bert"}, "data": {**DATA, "synthetic": {"size": 200}},
                                     "suite": str(runs["folder"] / "cmp.yaml"), "output": {"dir": "out"}})
    cli = run_cli("run", str(config), "--baseline", str(runs["base"]), cwd=tmp_path)
    assert cli.returncode == 2 and "evaluation data differ" in cli.stderr, cli.stderr
    assert not (tmp_path / "out").exists()  # refused before anything was trained or written
    missing = run_cli("run", str(config), "--baseline", str(tmp_path / "none.json"), cwd=tmp_path)
    assert missing.returncode == 2 and "results file not found" in missing.stderr


def test_comparison_renders_escaped_in_html_markdown_and_junit(runs: dict[str, Path], tmp_path: Path) -> None:
    """Values in a comparison come from results files: a hostile model name stays text everywhere."""
    import xml.etree.ElementTree as ET

    from harness.compare.engine import compare
    from harness.outputs.junit import render_junit
    from harness.outputs.markdown import render_markdown
    from harness.outputs.html import render_html
    from harness.results.types import AuditResult

    hostile = "<script>alert(1)</script> [x](http://evil) @team"
    baseline = _load(runs["base"])
    baseline["provenance"]["model"]["source"] = hostile
    candidate = _load(runs["worse"])
    result = AuditResult.from_dict({**candidate, "comparison": compare(baseline, candidate).to_dict(), "verdict": "fail", "exit_code": 1})
    html = render_html(result)
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'id="comparison"' in html and "regressed significantly against the baseline" in html
    markdown = render_markdown(result)
    assert "<script>" not in markdown and "http://evil" not in markdown and "@team" not in markdown
    assert "### Comparison with the baseline" in markdown and "regressed" in markdown
    root = ET.fromstring(render_junit(result).split("\n", 1)[1])
    suite = root.find("testsuite[@name='comparison']")
    assert suite is not None and suite.find("properties/property[@name='baseline.model']").get("value") == hostile


def test_the_comparison_is_typed_and_its_json_round_trips(runs: dict[str, Path]) -> None:
    """compare() returns frozen dataclasses; to_dict() is the results.json block, from_dict() reads it back."""
    import dataclasses

    from harness.compare import Comparison, MetricChange, compare_runs
    from harness.fileio import dump_json

    baseline, candidate = _load(runs["base"]), _load(runs["worse"])
    comparison = compare_runs(baseline, candidate, baseline_path="base.json")
    assert isinstance(comparison, Comparison) and all(isinstance(r, MetricChange) for r in comparison.rows)
    with pytest.raises(dataclasses.FrozenInstanceError):
        comparison.rows[0].change = "improved"  # type: ignore[misc]
    block = comparison.to_dict()
    assert list(block) == ["version", "baseline", "candidate", "policy", "paired", "shared_examples", "pairing_note",
                           "forced", "rows", "regressions", "verdict", "exit_code"]
    assert list(block["rows"][0]) == ["check", "metric", "key", "baseline", "candidate", "delta", "delta_interval", "p_value",
                                      "method", "paired", "direction", "significant", "tolerance", "gated", "change",
                                      "regression", "note"]
    assert block["regressions"] == [r["key"] for r in block["rows"] if r["regression"]] and block["verdict"] == "fail"
    again = Comparison.from_dict(json.loads(dump_json(block)))
    assert again == comparison and dump_json(again.to_dict()) == dump_json(block)
    # the policy recorded by the candidate's config is the default: compare_runs(gate=None) reads it from there
    assert comparison.policy.alpha == 0.05 and comparison.policy.no_regression is None


def test_compare_runs_refuses_before_it_compares(runs: dict[str, Path]) -> None:
    from harness.compare import compare_runs
    from harness.errors import UsageError

    baseline, candidate = _load(runs["base"]), _load(runs["worse"])
    candidate["schema_version"] = "0.9"
    with pytest.raises(UsageError, match="schema versions differ.*--force"):
        compare_runs(baseline, candidate)
    forced = compare_runs(baseline, candidate, force=True, overrides={"alpha": 0.01, "tolerance": {"accuracy.*": 1.0}})
    assert forced.forced and "schema versions differ" in forced.forced[0]
    assert forced.policy.alpha == 0.01 and forced.regressions == ()
