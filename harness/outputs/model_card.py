"""The audit in a Hugging Face model card: ``harness export model-card``.

The card is read and written through ``huggingface_hub``'s ``ModelCard`` /
``ModelCardData`` / ``EvalResult``, so the metadata is the ``model-index`` the
Hub renders as an evaluation table and parses back, never YAML written by hand.

- ``model-index``: one ``EvalResult`` per check with a headline metric (its
  first metric, the one the report and summary.md show): task
  text-classification, the dataset source and the evaluation split, the
  metric's name and value, and the check id in the metric's ``args`` (that is
  how a later export finds and replaces its own entries and keeps everyone
  else's). ``verified`` is false: the Hub reserves it for its own evaluations.
- An "Audit" section in the card's text between two HTML comments: the
  verdict, the coverage line, the gated failures, every headline metric with
  its interval, the limitations and the sha256 of results.json. An export
  rewrites only what lies between the comments, so the card's own sections
  (and other metadata) stay as they were; a card without the markers gets the
  section appended.

Everything copied from the results (check ids, messages, data names) passes
through :func:`harness.text.sanitize.markdown_text`: the Hub renders the card.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from harness.errors import UsageError
from harness.fileio import atomic_write_text
from harness.integrity.manifest import sha256_file
from harness.outputs.html_view import limitations
from harness.results.io import load_results
from harness.results.types import AuditResult, CheckResult
from harness.text.numbers import format_interval, format_number
from harness.text.sanitize import markdown_text

BEGIN = "<!-- audit-harness:begin (written by harness export model-card; edits inside are replaced on the next export) -->"
END = "<!-- audit-harness:end -->"
BEGIN_PREFIX = "<!-- audit-harness:begin"
CARD_FILE = "README.md"
TASK = "text-classification"
#: The key in an EvalResult's ``metric_args`` naming the check it comes from.
CHECK_ARG = "audit_harness_check"
FAILED = ("fail", "error")


@dataclass(frozen=True)
class CardOutcome:
    path: Path
    metrics: int
    updated: bool  # an existing card was updated (its other sections kept)


def _headline_results(result: AuditResult) -> list[tuple[CheckResult, Any]]:
    return [(check, check.metrics[0]) for check in result.checks if check.metrics and check.metrics[0].value is not None]


def eval_results(result: AuditResult) -> list[Any]:
    """One ``EvalResult`` per headline metric."""
    from huggingface_hub import EvalResult

    data = result.provenance.get("data") or {}
    source = str(data.get("source") or "unknown")
    split = data.get("eval_split")
    return [
        EvalResult(task_type=TASK, dataset_type=source, dataset_name=source, dataset_split=split,
                   metric_type=metric.name, metric_value=metric.value, metric_name=f"{check.id}: {metric.name}",
                   metric_args={CHECK_ARG: check.id}, verified=False)
        for check, metric in _headline_results(result)
    ]


def _metric_row(check: CheckResult, metric: Any) -> str:
    interval = metric.interval
    shown = format_interval(interval.low, interval.high) if interval is not None else "none"
    level = f"{interval.level:.0%}" if interval is not None else ""
    method = markdown_text(interval.method) if interval is not None else ""
    return (f"| {markdown_text(check.id)} | {markdown_text(check.status)} | {markdown_text(metric.name)} | {format_number(metric.value)} "
            f"| {shown} {level} | {method} |")


def audit_section(result: AuditResult, results_sha256: str) -> str:
    """The card's Audit section, markers included."""
    provenance = result.provenance
    model = provenance.get("model") or {}
    data = provenance.get("data") or {}
    packages = provenance.get("packages") or {}
    signature = result.signature or {}
    lines = [BEGIN, "## Audit", ""]
    lines.append(f"**Verdict: {result.verdict.upper()}** (harness exit code {result.exit_code}), audited by audit-harness "
                 f"{markdown_text(packages.get('audit-harness', 'unknown'))}"
                 + (f" on {markdown_text(result.run.get('finished_at'))}" if result.run.get("finished_at") else "") + ".")
    lines += ["", f"Coverage: {markdown_text(result.coverage.line)}", "", "### Gated failures", ""]
    failed = [check for check in result.checks if check.gated and check.status in FAILED]
    lines += [f"- {markdown_text(check.id)} ({check.status}): {markdown_text(check.message, 300)}" for check in failed] or ["- none"]
    lines += ["", "### Headline metrics", "", "| check | status | metric | value | interval | method |", "|---|---|---|---|---|---|"]
    lines += [_metric_row(check, metric) for check, metric in _headline_results(result)]
    notes = limitations(result)
    lines += ["", "### Limitations", ""]
    lines += [f"- {markdown_text(note, 500)}" for note in notes] or ["- none stated"]
    splits = data.get("splits") or {}
    eval_split = data.get("eval_split")
    lines += ["", "### Evidence", "",
              f"- results.json sha256: `{results_sha256}`",
              f"- results body sha256 (manifest): `{markdown_text((result.manifest or {}).get('results_body', 'none'))}`",
              "- signed by: " + (f"Ed25519 key `{markdown_text(signature.get('fingerprint'))}`" if signature.get("fingerprint") else "not signed (harness sign)"),
              f"- model: {markdown_text(model.get('source', 'unknown'))}, weights sha256 (state dict) `{markdown_text(model.get('weights_sha256', 'none'))}`",
              f"- data: {markdown_text(data.get('source', 'unknown'))}, evaluation split {markdown_text(eval_split)} "
              f"({format_number((splits.get(eval_split) or {}).get('size'))} examples, fingerprint "
              f"`{markdown_text((splits.get(eval_split) or {}).get('fingerprint', 'none'))}`)",
              "", END]
    return "\n".join(lines) + "\n"


def merge_text(text: str, section: str) -> str:
    """``text`` with its Audit section replaced by ``section`` (appended when it has none)."""
    start = text.find(BEGIN_PREFIX)
    if start >= 0:
        stop = text.find(END, start)
        if stop < 0:
            raise UsageError(f"the card has the audit-harness begin marker but no {END!r}; fix the card by hand")
        return text[:start] + section + text[stop + len(END):].lstrip("\n")
    return text.rstrip("\n") + ("\n\n" if text.strip() else "") + section


def build_card(result: AuditResult, results_sha256: str, existing: Any | None, model_name: str) -> Any:
    """A ModelCard: ``existing`` (kept apart from its audit entries) updated with this audit."""
    from huggingface_hub import ModelCard, ModelCardData

    data = existing.data if existing is not None else ModelCardData()
    text = existing.text if existing is not None else f"\n# {markdown_text(model_name)}\n"
    kept = [entry for entry in (data.eval_results or []) if CHECK_ARG not in (entry.metric_args or {})]
    data.eval_results = kept + eval_results(result)
    data.model_name = data.model_name or model_name
    data.pipeline_tag = data.pipeline_tag or TASK
    tags = list(data.tags or [])
    data.tags = tags if "audit-harness" in tags else [*tags, "audit-harness"]
    return ModelCard(f"---\n{data.to_yaml()}\n---\n{merge_text(text, audit_section(result, results_sha256))}")


def load_card(path: Path) -> Any | None:
    from huggingface_hub import ModelCard

    if not path.exists():
        return None
    if not path.is_file():
        raise UsageError(f"{path}: is not a file, expected a model card (README.md)")
    try:
        return ModelCard.load(path)
    except Exception as exc:  # huggingface_hub raises ValueError/yaml errors for a broken header
        raise UsageError(f"{path}: cannot read the existing model card ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from None


def export_model_card(results_path: Path, *, model_dir: Path | None = None, output: Path | None = None) -> CardOutcome:
    """Write or update the card at ``output`` or ``model_dir/README.md``."""
    if (model_dir is None) == (output is None):
        raise UsageError("harness export model-card: give --model-dir DIR (writes DIR/README.md) or -o FILE, one of them")
    if model_dir is not None and not model_dir.is_dir():
        raise UsageError(f"{model_dir}: model folder not found" if not model_dir.exists() else f"{model_dir}: is not a folder")
    target = output if output is not None else model_dir / CARD_FILE  # type: ignore[operator]
    result = load_results(results_path)
    existing = load_card(target)
    source = str((result.provenance.get("model") or {}).get("source") or "model")
    name = model_dir.resolve().name if model_dir is not None else source
    card = build_card(result, sha256_file(results_path), existing, name)
    atomic_write_text(target, str(card.content))
    return CardOutcome(target, len(card.data.eval_results or []), existing is not None)


def card_metrics(card: Any) -> dict[str, float]:
    """``check id`` -> metric value of the card's audit entries (what a round-trip compares)."""
    return {entry.metric_args[CHECK_ARG]: entry.metric_value for entry in card.data.eval_results or []
            if CHECK_ARG in (entry.metric_args or {})}


def headline_metrics(results: Mapping[str, Any]) -> dict[str, float]:
    """``check id`` -> headline metric value, read from a results.json dict."""
    return {check["id"]: check["metrics"][0]["value"] for check in results.get("checks") or []
            if check.get("metrics") and check["metrics"][0].get("value") is not None}
