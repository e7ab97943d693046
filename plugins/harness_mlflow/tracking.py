"""Log a finished audit to an MLflow tracking server through ``MlflowClient``.

``log_batch`` requests carry the metrics, params and tags (within MLflow's
limits of 1000 metrics, 100 params and 100 tags a request), then the output files are uploaded as artifacts and the run is
marked FINISHED (MLflow's status says the logging completed;
the audit's verdict is the ``audit.verdict`` tag).

Metric keys are ``<check id>.<metric>`` with ``.ci_low`` / ``.ci_high`` for the
interval bounds; a per-group metric ``name[sex]`` becomes ``name/sex`` (MLflow
allows letters, digits, ``_ - . / `` and spaces in keys, not brackets).

Nothing here may change the audit: a server that is down is found by a short
probe before anything is sent, and any error while logging becomes one
warning line on stderr (printed even with ``--quiet``).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:
    from harness import AuditResult, RunContext
    from harness_mlflow.settings import MlflowSettings

ARTIFACTS: tuple[str, ...] = ("results.json", "report.html", "junit.xml", "summary.md")
PROBE_TIMEOUT_S = 5.0
BATCH_METRICS, BATCH_PARAMS, BATCH_TAGS = 1000, 100, 100
#: While logging, unless the user set MLflow's own variables: few retries and a bounded wait, and no
#: "View run at URL" line on stdout (harness prints its summary there; the URL may hold a password).
CLIENT_ENV = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1", "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
              "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true"}


class TrackingUnavailable(Exception):
    """The tracking server did not answer the probe."""


@dataclass(frozen=True)
class Logged:
    run_id: str
    experiment_id: str
    metrics: int
    artifacts: int


def shown_uri(uri: str) -> str:
    """The URI without user name or password, for messages."""
    parts = urllib.parse.urlsplit(uri)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return uri


def metric_key(check_id: str, name: str) -> str:
    grouped = re.sub(r"\[([^\]]*)\]", r"/\1", name)
    return re.sub(r"[^\w\-./ ]", "_", f"{check_id}.{grouped}")


def metrics_of(result: "AuditResult") -> dict[str, float]:
    values: dict[str, float] = {}
    for check in result.checks:
        for metric in check.metrics:
            if metric.value is None:
                continue
            key = metric_key(check.id, metric.name)
            while key in values:
                key += "_"
            values[key] = float(metric.value)
            if metric.interval is not None and metric.interval.low is not None and metric.interval.high is not None:
                values[f"{key}.ci_low"] = float(metric.interval.low)
                values[f"{key}.ci_high"] = float(metric.interval.high)
    return values


def params_of(result: "AuditResult") -> dict[str, str]:
    provenance = result.provenance
    model = provenance.get("model") or {}
    data = provenance.get("data") or {}
    suite = provenance.get("suite") or {}
    params = {
        "model": str(model.get("source")),
        "model_weights_sha256": str(model.get("weights_sha256")),
        "data": str(data.get("source")),
        "data_eval_split": str(data.get("eval_split")),
        "suite": str(suite.get("name")),
        "seed": str(provenance.get("seed")),
        "config_sha256": str(provenance.get("config_sha256")),
    }
    for split, summary in sorted((data.get("splits") or {}).items()):
        params[f"data_fingerprint_{split}"] = str((summary or {}).get("fingerprint"))
    eval_split = (data.get("splits") or {}).get(data.get("eval_split")) or {}
    params["data_fingerprint"] = str(eval_split.get("fingerprint"))
    return params


def tags_of(result: "AuditResult") -> dict[str, str]:
    return {
        "audit.verdict": result.verdict,
        "audit.exit_code": str(result.exit_code),
        "audit.coverage": result.coverage.line[:5000],
        "audit.harness_version": str((result.provenance.get("packages") or {}).get("audit-harness")),
        "audit.results_body_sha256": str((result.manifest or {}).get("results_body")),
    }


def probe(uri: str) -> None:
    """Raise TrackingUnavailable when an http(s) server does not answer within PROBE_TIMEOUT_S."""
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme not in ("http", "https"):
        return  # a local store (file:, sqlite:) or a scheme MLflow resolves itself (databricks)
    url = uri.rstrip("/") + "/health"
    try:
        with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT_S):  # noqa: S310 - the user's own tracking server
            pass
    except urllib.error.HTTPError:
        return  # it answered (an auth proxy may refuse /health): the client reports real errors
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TrackingUnavailable(f"{shown_uri(uri)} did not answer ({reason})") from None


@contextlib.contextmanager
def client_env() -> Iterator[None]:
    added = [name for name in CLIENT_ENV if name not in os.environ]
    for name in added:
        os.environ[name] = CLIENT_ENV[name]
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def log_run(result: "AuditResult", ctx: "RunContext", settings: "MlflowSettings") -> Logged:
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    probe(settings.tracking_uri)
    client = MlflowClient(tracking_uri=settings.tracking_uri)
    experiment = client.get_experiment_by_name(settings.experiment)
    experiment_id = experiment.experiment_id if experiment is not None else client.create_experiment(settings.experiment)
    run = client.create_run(experiment_id, run_name=settings.run_name)
    run_id = run.info.run_id
    now = int(time.time() * 1000)
    metrics = [Metric(key, value, now, 0) for key, value in metrics_of(result).items()]
    params = [Param(key, value) for key, value in params_of(result).items()]
    tags = [RunTag(key, value) for key, value in tags_of(result).items()]
    for chunk in _chunks(metrics, BATCH_METRICS):
        client.log_batch(run_id, metrics=chunk)
    for chunk in _chunks(params, BATCH_PARAMS):
        client.log_batch(run_id, params=chunk)
    for chunk in _chunks(tags, BATCH_TAGS):
        client.log_batch(run_id, tags=chunk)
    uploaded = 0
    for name in ARTIFACTS:
        path = ctx.output_dir / name
        if path.is_file():
            client.log_artifact(run_id, str(path))
            uploaded += 1
    client.set_terminated(run_id, status="FINISHED")
    return Logged(run_id, experiment_id, len(metrics), uploaded)


def log_run_safely(result: "AuditResult", ctx: "RunContext", settings: "MlflowSettings") -> Logged | None:
    """:func:`log_run`, with every failure turned into one warning line: the audit's outcome stays as it is."""
    try:
        with client_env():
            logged = log_run(result, ctx, settings)
    except TrackingUnavailable as exc:
        _warn(f"the MLflow tracking server {exc}; the run was not logged (outputs and exit code unaffected)")
        return None
    except Exception as exc:  # MLflow raises its own, requests' and OS errors: none may change the audit
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        _warn(f"logging to MLflow at {shown_uri(settings.tracking_uri)} failed ({type(exc).__name__}: {first}); "
              "outputs and exit code unaffected")
        return None
    ctx.progress(f"mlflow: logged run {logged.run_id} to experiment {settings.experiment!r} at {shown_uri(settings.tracking_uri)} "
                 f"({logged.metrics} metrics, {logged.artifacts} artifacts)")
    return logged


def _warn(message: str) -> None:
    print(f"harness: warning: mlflow: {message}", file=sys.stderr, flush=True)
