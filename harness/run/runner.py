"""Orchestration of one run: load, train, run checks, gate, write outputs.

Input problems (config, data, model) surface before anything is written to the
output folder. From the first check on, results.json is rewritten atomically
after every check with ``complete: false``, so a killed run leaves the last
good results on disk and ``--resume`` continues from them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
import time
import traceback
from pathlib import Path
from typing import Any, Mapping

from pydantic import ValidationError

from harness.text.language import NOT_APPLICABLE_MESSAGE, not_applicable_args
from harness.run import gate

from harness.integrity import manifest

from harness.run import provenance

from harness.ml import seeding
from harness.config.settings import AuditConfig, load_config
from harness.run.context import Progress, RunContext
from harness.errors import DataError, UsageError
from harness.fileio import atomic_write_text, dump_json
from harness.config.plan import Plan, PlannedCheck, build_plan
from harness.plugin.manager import PluginHost, get_host
from harness.results.types import AuditResult, CheckResult

RESULTS_FILE = "results.json"
TRAINING_FILE = "training.json"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _apply_overrides(
    config: AuditConfig, *, output: str | None, seed: int | None, device: str | None, formats: "list[str] | tuple[str, ...] | None" = None,
    fail_on: "list[str] | None" = None, engine: str | None = None, address: str | None = None,
) -> AuditConfig:
    update: dict[str, Any] = {}
    if address is not None and engine is None:
        engine = "ray"  # an address only means something to the Ray engine
    if engine is not None or address is not None:
        changes = {key: value for key, value in (("engine", engine), ("address", address)) if value is not None}
        try:
            update["execution"] = type(config.execution).model_validate({**config.execution.model_dump(), **changes})
        except ValidationError as error:
            from harness.config.settings import format_validation_error

            raise UsageError(format_validation_error(error, "--engine/--address", type(config.execution))) from None
    if fail_on is not None:
        update["gate"] = config.gate.model_copy(update={"fail_on": list(fail_on)})
    if output is not None or formats:
        changes: dict[str, Any] = {}
        if output is not None:
            changes["dir"] = output
        if formats:
            changes["formats"] = ["json", *(f for f in dict.fromkeys(formats) if f != "json")]
        update["output"] = config.output.model_copy(update=changes)
    if seed is not None:
        update["seed"] = seed
    if device is not None:
        update["model"] = config.model.model_copy(update={"device": device})
    return config.model_copy(update=update) if update else config


def _load_previous(path: Path) -> dict[str, CheckResult]:
    """Checks of an earlier run in the same folder (for ``--resume``); unreadable -> none."""
    from harness.results.io import read_results_json

    try:
        data = read_results_json(path)
        durations = (data.get("run") or {}).get("check_durations") or {}  # durations live in the run block
        return {c["id"]: CheckResult.from_dict({"duration_s": durations.get(c["id"], 0.0), **c}) for c in data.get("checks", [])}
    except (UsageError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _load_previous_predictions(path: Path) -> dict[str, Any] | None:
    """The per-example block of an earlier finished run in the same folder (for ``--resume``)."""
    from harness.results.io import read_results_json

    try:
        block = read_results_json(path).get("predictions")
    except UsageError:
        return None
    return block if isinstance(block, dict) else None


class Run:
    """One audit run. ``execute()`` returns the AuditResult; see module docstring."""

    def __init__(
        self,
        config: AuditConfig,
        *,
        source: str = "<config>",
        base_dir: Path | None = None,
        suite: str | None = None,
        resume: bool = False,
        quiet: bool = False,
        host: PluginHost | None = None,
        baseline: "str | Path | None" = None,
        force: bool = False,
        prepared: RunContext | None = None,
    ) -> None:
        self.config = config
        #: A context whose data, model and fine-tuning were loaded already (harness.testing's
        #: session cache): the run takes them over instead of loading and training again.
        self.prepared = prepared
        # --baseline wins over gate.baseline (which is relative to the config file)
        chosen = baseline if baseline is not None else config.gate.baseline
        self.baseline_path = None if chosen is None else (Path(chosen) if baseline is not None else (base_dir or Path.cwd()) / chosen)
        self.baseline_label = None if chosen is None else str(chosen)  # as the user wrote it: no absolute path in the body
        self.force = force
        self._baseline: dict[str, Any] | None = None
        self._previous_predictions: dict[str, Any] | None = None
        self.source = source
        self.base_dir = base_dir or Path.cwd()
        self.suite = suite
        self.resume = resume
        self.host = host or get_host()
        output_dir = Path(config.output.dir).expanduser()
        self.output_dir = output_dir if output_dir.is_absolute() else Path.cwd() / output_dir
        self.progress = Progress(quiet)
        self.started_at = _now()
        self.reproducibility: dict[str, Any] | None = None  # what seeding.seed_everything set (provenance)
        self._t0 = time.perf_counter()

    # ------------------------------------------------------------ phases

    def plan(self) -> Plan:
        registry = self.host.registry
        if self.host.failures:  # the checks of a plugin that failed run as errors naming it (plugins.registry_for)
            from harness.errors import ConfigError
            from harness.config.plan import load_suite

            try:
                suite_file, _ = load_suite(self.suite or self.config.suite, self.base_dir)
                registry = self.host.registry_for([*suite_file.checks, *self.config.checks])
            except ConfigError:
                pass  # build_plan reports it with the right context
        return build_plan(self.config, registry, suite=self.suite, base_dir=self.base_dir, source=self.source)

    def prepare(self, ctx: RunContext) -> None:
        """Load data and model, fine-tune when asked; all before any output is written.

        Progress lines come after each step succeeds, so a bad input prints
        exactly one line: the error.
        """
        from harness.ml import data as data_module
        from harness.ml import models
        bundle = self.host.hook.harness_load_dataset(spec=self.config.data, ctx=ctx)
        ctx.data = bundle or data_module.load_dataset(self.config.data, seed=ctx.seed, base_dir=self.base_dir)
        self.check_baseline(ctx)  # a baseline on other data is refused before any model loads
        sizes = ", ".join(f"{name} {len(split)}" for name, split in ctx.data.splits.items())
        held = [f"data: {ctx.data.source} ({sizes})"]  # printed once the model has loaded too
        spec = self.config.model
        if spec.fine_tune is not None and not len(ctx.data.splits.get("train") or ()):
            raise DataError("model.fine_tune: the data has no train split to fine-tune on (give data.files.train or a split)")
        # After the data: a data error is reported before torch is imported.
        ctx.device = models.choose_device(self.config.model.device)
        self.reproducibility = seeding.seed_everything(ctx.seed, ctx.device)
        train_key = self._training_key(ctx) if spec.fine_tune is not None else None
        resumed = self._resumed_model(ctx, train_key) if (self.resume and train_key) else None
        if resumed is not None:
            ctx.model, ctx.training = resumed
            for line in held:
                self.progress(line)
            self.progress(f"model: resumed the fine-tuned model from {self.output_dir / 'model'}")
        else:
            handle = self.host.hook.harness_load_model(spec=spec, ctx=ctx)
            if handle is None:
                train = ctx.data.get("train")
                handle = models.load_model(
                    spec, train.texts if train else (), ctx.data.label_names, seed=ctx.seed, device=ctx.device, base_dir=self.base_dir
                )
            ctx.model = handle
            for line in held:
                self.progress(line)
            self.progress(f"model: {spec.path} ({handle.num_parameters:,} parameters) on {ctx.device}")
            if spec.fine_tune is not None:
                self._fine_tune(ctx, train_key)
        from harness.ml.predict import Predictor

        ctx.predictor = Predictor(ctx.model, batch_size=spec.batch_size)
        self.attach_batch_inference(ctx)
        self.measure_languages(ctx)

    @staticmethod
    def attach_batch_inference(ctx: RunContext) -> None:
        """Engine ray: large requests to the shared Predictor run as Ray Data batch inference (same batches, same numbers)."""
        attach = getattr(ctx.executor, "attach_batch_inference", None)
        if attach is not None and ctx.predictor is not None:
            attach(ctx.predictor)

    def measure_languages(self, ctx: RunContext) -> None:
        """Detect the evaluation texts' languages once; checks that do not support them become not_applicable."""
        from harness.text.language import describe, detect_languages

        split = ctx.data.get(ctx.data.eval_split) if ctx.data else None
        ctx.languages = detect_languages(split.texts if split is not None else ())
        self.progress(f"languages of the {ctx.data.eval_split if ctx.data else 'evaluation'} texts: {describe(ctx.languages)}")

    def adopt(self, ctx: RunContext, prepared: RunContext) -> None:
        """Take data, model and fine-tuning report from ``prepared`` instead of :meth:`prepare`.

        The caller vouches that ``prepared`` was built from this run's model,
        data and seed settings (harness.testing keys its cache on them). The
        run gets its own Predictor, so its statistics count its own work.
        """
        from harness.ml.predict import Predictor

        if prepared.data is None or prepared.model is None:
            raise ValueError("Run(prepared=...): the context has no data or model loaded")
        ctx.data, ctx.model, ctx.training, ctx.device = prepared.data, prepared.model, prepared.training, prepared.device
        self.check_baseline(ctx)
        self.reproducibility = seeding.seed_everything(ctx.seed, ctx.device)
        self.progress(f"data and model: reused from {prepared.output_dir}")
        ctx.predictor = Predictor(ctx.model, batch_size=self.config.model.batch_size)
        self.attach_batch_inference(ctx)
        ctx.languages = prepared.languages
        if ctx.languages is None:
            self.measure_languages(ctx)

    def _copy_prepared_model(self) -> None:
        """The fine-tuned model a prepared context saved, copied to this run's output folder (checks may read it)."""
        if self.prepared is None:
            return
        saved, target = self.prepared.output_dir / "model", self.output_dir / "model"
        if saved.is_dir() and saved.resolve() != target.resolve():
            shutil.copytree(saved, target, dirs_exist_ok=True)

    def _training_key(self, ctx: RunContext) -> str:
        """What decides the fine-tuned weights: model config and starting weights, data, seed, library versions."""
        assert ctx.data is not None
        return provenance.result_key({
            "model": self.config.model.model_dump(mode="json", exclude={"device", "batch_size"}),
            "source": self._model_source_digest(),
            "train": ctx.data.splits["train"].fingerprint if "train" in ctx.data.splits else None,
            "validation": ctx.data.splits["validation"].fingerprint if "validation" in ctx.data.splits else None,
            "labels": list(ctx.data.label_names),
            "seed": ctx.seed,
        })

    def _model_source_digest(self) -> str | None:
        """The contents of a local model folder (one retrained in place is another input); None for hub ids and builtins."""
        from harness.errors import ModelError
        from harness.ml.models import resolve_model_path

        try:
            location, local = resolve_model_path(self.config.model.path, self.base_dir)
        except ModelError:
            return None  # loading the model reports it
        return provenance.files_sha256(location) if local else None

    def _resumed_model(self, ctx: RunContext, key: str) -> tuple[Any, Any] | None:
        from harness.ml import models
        from harness.ml.training import EpochRecord, TrainingReport

        folder = self.output_dir / "model"
        try:
            saved = json.loads((folder / TRAINING_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if saved.get("key") != key:
            return None
        spec = self.config.model.model_copy(update={"path": str(folder), "fine_tune": None})
        assert ctx.data is not None and ctx.device is not None
        handle = models.load_pretrained(spec, ctx.data.label_names, ctx.device)
        if handle.weights_sha256 != saved.get("weights_sha256"):
            return None  # the saved weights are not the ones the key vouched for: train again
        handle.source = self.config.model.path
        handle.extra["resumed_from"] = str(folder)
        report = saved["report"]
        history = tuple(EpochRecord(**r) for r in report.pop("history", []))
        known = {f.name for f in dataclasses.fields(TrainingReport)}
        extra = {k: v for k, v in report.items() if k not in known}
        fields = {k: v for k, v in report.items() if k in known and k != "extra"}
        return handle, TrainingReport(**{**fields, "history": history, "extra": extra})

    def _fine_tune(self, ctx: RunContext, key: str | None) -> None:
        from harness.ml import models
        from harness.ml import training
        assert ctx.model is not None and ctx.data is not None
        spec = self.config.model
        self.progress(f"fine-tuning {spec.path} on {len(ctx.data.splits.get('train') or ())} examples")
        report = self.host.hook.harness_train(model=ctx.model, data=ctx.data, spec=spec, ctx=ctx)
        if report is None:
            report = training.fine_tune(ctx.model, ctx.data, spec.fine_tune, seed=ctx.seed, progress=not self.progress.quiet)
        ctx.model.refresh_digest()
        ctx.training = report
        if spec.fine_tune is not None and spec.fine_tune.save_model:
            folder = self.output_dir / "model"
            # The key goes last: a crash while saving must not leave a key that vouches for half-written weights.
            (folder / TRAINING_FILE).unlink(missing_ok=True)
            models.save_model(ctx.model, folder, training.model_card(ctx.model, ctx.data, report))
            atomic_write_text(folder / TRAINING_FILE, dump_json({"key": key, "weights_sha256": ctx.model.weights_sha256, "report": report.to_dict()}))

    # ------------------------------------------------------------ checks

    def _inputs_key(self, planned: PlannedCheck, ctx: RunContext) -> str:
        """What decides a check's result (for ``--resume``): settings, data, model, seed, plugin and library versions."""
        assert ctx.data is not None and ctx.model is not None
        plugin_version = next((info.version for info in self.host.plugin_infos() if info.name == planned.plugin), "")
        return provenance.result_key({
            "check": planned.settings_digest(),
            "plugin": [planned.plugin, plugin_version],
            "data": {name: split.fingerprint for name, split in sorted(ctx.data.splits.items())},
            "labels": list(ctx.data.label_names),
            "sensitive": list(ctx.data.sensitive_columns),
            "weights": ctx.model.weights_sha256,
            "model": ctx.predictor.identity() if ctx.predictor is not None else None,
            "seed": ctx.seed,
        })

    def run_check(self, planned: PlannedCheck, ctx: RunContext) -> CheckResult:
        """Run one check; anything it raises or returns wrongly becomes ``error``.

        An errored check keeps the traceback (``CheckResult.error``), passed
        through ``ctx.redact`` like every data-derived text: an exception message
        may quote an example.
        """
        started = time.perf_counter()
        try:
            from harness.run.executor import call_with_timeout

            check = planned.check_class()
            outside = not_applicable_args(ctx.languages, check.supported_languages(planned.options), planned.id)
            if outside is not None:  # the method cannot test these texts: say so, never pass by default
                result = check.result(status="not_applicable", message=NOT_APPLICABLE_MESSAGE.format(**outside),
                                      message_id=NOT_APPLICABLE_MESSAGE, message_args=outside)
            else:
                result = call_with_timeout(lambda: check.run(ctx, planned.options), planned.timeout, planned.id)
            if not isinstance(result, CheckResult):
                raise TypeError(f"run() returned {type(result).__name__}, expected harness.CheckResult")
            if result.id != planned.id:
                result = dataclasses.replace(result, id=planned.id)
        except Exception as exc:
            result = CheckResult(
                id=planned.id,
                title=getattr(planned.check_class, "title", planned.id),
                status="error",
                message=f"{type(exc).__name__}: {exc}",
                regulations=tuple(getattr(planned.check_class, "regulations", ())),
                error={"type": type(exc).__name__, "traceback": _redacted_traceback(exc, ctx)},
            )
        result = gate.apply_thresholds(result, planned)
        return dataclasses.replace(result, duration_s=time.perf_counter() - started)

    # ------------------------------------------------------------ results

    def provenance(self, ctx: RunContext, plan: Plan) -> dict[str, Any]:
        config_json = self.config.model_dump(mode="json")
        config_json.get("output", {}).pop("dir", None)  # where outputs went is run metadata (run.output_dir), not an input
        config_json.pop("execution", None)  # where units ran is run metadata (run.execution): the same audit on every engine
        config_json.pop("mlflow", None)  # where the run is tracked is not an input (and a tracking URI may hold credentials)
        if config_json.get("output", {}).get("language") == "en":
            config_json["output"].pop("language")  # the default is left out, so English runs keep the config digest they had
        fine_tuning = ctx.training.to_dict() if ctx.training is not None and hasattr(ctx.training, "to_dict") else None
        fine_tuning, _ = seeding.split_timings(fine_tuning)  # epoch times go to run.fine_tuning_timings
        plugin_dists = tuple(sorted({info.source.removeprefix("entry point (").rstrip(")") for info in self.host.plugin_infos() if info.source.startswith("entry point (")}))
        return {
            "config": config_json,
            "config_source": self.source,
            "config_sha256": manifest.sha256_bytes(manifest.canonical_bytes(config_json)),
            "config_omits": ["output.dir", "execution", "mlflow"],
            "suite": {"name": plan.suite.name, "source": plan.suite_source, "description": plan.suite.description,
                      "checks": plan.suite.model_dump(mode="json")["checks"]},  # what the suite file said (manifest.suite digests it)
            "seed": ctx.seed,
            "data": ctx.data.provenance() if ctx.data else None,
            "languages": {"split": ctx.data.eval_split if ctx.data else None, **ctx.languages.to_dict()} if ctx.languages else None,
            "model": ctx.model.provenance() if ctx.model else None,
            "fine_tuning": fine_tuning,
            "reproducibility": self.reproducibility,
            "packages": provenance.package_versions(plugin_dists),
            "plugins": [dataclasses.asdict(info) for info in self.host.plugin_infos()],
            "plugin_failures": [dataclasses.asdict(f) for f in self.host.failures],
            "available_checks": {check_id: reg.plugin for check_id, reg in sorted(self.host.registry.checks.items())},
            "git": provenance.git_commit(self.base_dir),
        }

    def predictions(self, ctx: RunContext) -> dict[str, Any] | None:
        """Per-example outputs on the eval split, columnar and unrounded, for paired comparisons.

        Read through the shared Predictor, so texts the checks already scored
        cost no forward pass. Examples are keyed by the split's stable ids:
        a comparison pairs examples by id, never by position.
        """
        if ctx.predictor is None or ctx.data is None or ctx.model is None or ctx.data.eval_split not in ctx.data.splits:
            return None
        split = ctx.data.eval
        earlier = self._previous_predictions
        key = provenance.result_key({"split": split.name, "fingerprint": split.fingerprint, "model": ctx.predictor.identity()})
        if earlier and earlier.get("key") == key:
            return earlier  # --resume: same data, same model and device, same libraries: same outputs; no forward pass
        before = ctx.predictor.stats().forward_texts
        probs = ctx.predictor.probabilities(split.texts)
        return {
            "split": split.name,
            "fingerprint": split.fingerprint,
            "weights_sha256": ctx.model.weights_sha256,
            "key": key,  # provenance.result_key of what decides these outputs (reused by --resume only when equal)
            # texts this block sent through the model (0 when the checks had scored the split already);
            # kept apart from the run's predictor statistics, which count the checks' own work
            "forward_texts": ctx.predictor.stats().forward_texts - before,
            "ids": [str(i) for i in split.ids],
            "labels": [int(v) for v in split.labels],
            "predictions": [int(v) for v in probs.argmax(axis=1)] if len(split) else [],
            # exactly the values the checks computed on, unrounded (float32 -> float64 is exact and JSON
            # round-trips Python floats), so every metric recomputed from results.json equals the reported
            # one to the last bit; rounding to 6 digits had moved ROC-AUC by up to 7e-5 through the ties it made
            "scores": [[float(v) for v in row] for row in probs],
        }

    def load_baseline(self) -> None:
        """Read --baseline / gate.baseline before anything runs: a bad path is exit 2, not a wasted audit."""
        if self.baseline_path is None:
            return
        from harness.compare.engine import read_run

        self._baseline = read_run(self.baseline_path)

    def check_baseline(self, ctx: RunContext) -> None:
        """Refuse (unless forced) a baseline of another schema or evaluation data, once the data is loaded."""
        if self._baseline is None:
            return
        from harness.compare.policy import refuse_unless_forced
        from harness.results.types import SCHEMA_VERSION

        assert ctx.data is not None
        candidate = {"schema_version": SCHEMA_VERSION, "complete": True, "provenance": {"data": ctx.data.provenance()}}
        refuse_unless_forced(self._baseline, candidate, self.force)  # compare_runs records what --force overrode

    def with_comparison(self, result: AuditResult) -> AuditResult:
        """Compare the finished run with the baseline; a regression turns a pass into a fail (exit 1)."""
        if self._baseline is None:
            return result
        from harness.compare.engine import compare_runs

        comparison = compare_runs(
            self._baseline, json.loads(dump_json(result.to_dict())), gate=self.config.gate, force=self.force,
            baseline_path=self.baseline_label, candidate_path=RESULTS_FILE,
        )
        checks = list(result.checks)
        verdict, code = self.verdict(checks, len(comparison.regressions))
        return dataclasses.replace(result, comparison=comparison.to_dict(), verdict=verdict, exit_code=code)  # type: ignore[arg-type]

    def verdict(self, checks: list[CheckResult], regressions: int = 0) -> tuple[str, int]:
        policy = self.config.gate
        return gate.verdict(checks, len(self.host.failures), policy.fail_on, regressions,
                            inconclusive=policy.inconclusive, skipped=policy.skipped)

    def assemble(self, ctx: RunContext, plan: Plan, checks: list[CheckResult], *, complete: bool) -> AuditResult:
        verdict, code = self.verdict(checks)
        stats = ctx.predictor.stats().to_dict() if ctx.predictor else {}
        predictions = self.predictions(ctx) if complete else None
        if not complete:
            verdict = "incomplete"
        return AuditResult(
            verdict=verdict,  # type: ignore[arg-type]
            exit_code=code,
            checks=tuple(checks),
            provenance=self.provenance(ctx, plan),
            predictor=stats,
            run={
                "started_at": self.started_at,
                "finished_at": _now() if complete else None,
                "duration_s": round(time.perf_counter() - self._t0, 3),
                "machine": provenance.machine(),
                "device": str(ctx.device),
                "output_dir": str(self.output_dir),
                "execution": ctx.executor.describe() if hasattr(ctx.executor, "describe") else {"engine": type(ctx.executor).__name__},
                "fine_tuning_timings": seeding.split_timings(ctx.training.to_dict())[1] if ctx.training is not None and hasattr(ctx.training, "to_dict") else {},
            },
            complete=complete,
            predictions=predictions,
        )

    def check_output_dir(self) -> None:
        """Refuse an output folder that cannot be used, before any data or model loads (exit 2).

        An existing file, a path under a file, or a folder (or the nearest
        existing parent of one to create) that this process may not write.
        Nothing is created here: inputs are checked before anything is written.
        """
        folder = self.output_dir
        existing = folder
        while not (existing.exists() or existing.is_symlink()) and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            if existing == folder:
                raise UsageError(f"output folder {folder}: is {'a file' if folder.exists() else 'a broken link'}, not a folder")
            raise UsageError(f"output folder {folder}: cannot be created, {existing} is not a folder")
        if not os.access(existing, os.W_OK | os.X_OK):
            if existing == folder:
                raise UsageError(f"output folder {folder}: is not writable")
            raise UsageError(f"output folder {folder}: cannot be created, {existing} is not writable")

    def write_results(self, result: AuditResult) -> Path:
        """The in-progress results.json (``complete: false``); its manifest lists no output files yet."""
        return manifest.write_results(result.to_dict(), self.output_dir, list_outputs=False)

    # ------------------------------------------------------------ the whole run

    def execute(self) -> AuditResult:
        from harness.run.engines import build_executor

        plan = self.plan()
        self.host.hook.harness_validate_config(config=self.config, base_dir=self.base_dir)  # plugin keys: exit 2 before anything loads
        self.check_output_dir()  # a file given as --output: exit 2 now, not after the training
        ctx = RunContext(
            config=self.config,
            seed=self.config.seed,
            output_dir=self.output_dir,
            scratch_dir=self.output_dir / ".scratch",
            base_dir=self.base_dir,
            progress=self.progress,
        )
        # engine ray: joins or starts the cluster now, before anything loads (exit 2 when it cannot)
        ctx.executor = build_executor(self.config.execution, progress=self.progress, device=lambda: str(ctx.device or "cpu"))
        try:
            return self._execute(plan, ctx)
        finally:
            getattr(ctx.executor, "shutdown", lambda: None)()  # a Ray instance this run started stops with it

    def _execute(self, plan: Plan, ctx: RunContext) -> AuditResult:
        from harness.outputs.registry import remove_stale_outputs, write_outputs

        for failure in self.host.failures:
            self.progress(f"plugin {failure.name!r} failed to load ({failure.stage}): {failure.error}")
        previous = _load_previous(self.output_dir / RESULTS_FILE) if self.resume else {}
        self._previous_predictions = _load_previous_predictions(self.output_dir / RESULTS_FILE) if self.resume else None
        self.load_baseline()
        if self.prepared is not None:
            self.adopt(ctx, self.prepared)
        else:
            self.prepare(ctx)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_outputs(self.output_dir)
        self._copy_prepared_model()
        if not self.resume:
            ctx.empty_scratch()  # checkpoints of an earlier run (maybe of another model) are never read without --resume
        self.host.hook.harness_run_start(ctx=ctx)
        checks: list[CheckResult] = []
        for planned in plan.checks:
            key = self._inputs_key(planned, ctx)
            earlier = previous.get(planned.id)
            if earlier is not None and earlier.inputs_key == key and earlier.status != "error":
                self.progress(f"{planned.id}: kept from the earlier run ({earlier.status})")
                result = earlier
            else:
                self.progress(f"running {planned.id}")
                seeding.seed_globals(seeding.check_seed(ctx.seed, planned.id))  # global RNG state independent of check order
                result = dataclasses.replace(self.run_check(planned, ctx), inputs_key=key)
                self.progress(f"{planned.id}: {result.status}")
            checks.append(result)
            self.write_results(self.assemble(ctx, plan, checks, complete=False))
            self.host.hook.harness_check_done(result=result, ctx=ctx)
        result = self.with_comparison(self.assemble(ctx, plan, checks, complete=True))
        write_outputs(result, self.output_dir, self.config.output.formats, host=self.host, language=self.config.output.language)
        self.host.hook.harness_run_done(result=result, ctx=ctx)
        return result


def _redacted_traceback(exc: BaseException, ctx: RunContext) -> str:
    """The formatted traceback of ``exc``, personal data masked as in evidence (``ctx.redact``)."""
    text = "".join(traceback.format_exception(exc)).rstrip("\n")
    try:
        return ctx.redact(text)
    except Exception as redaction:  # never the raw text: it may quote personal data
        return f"(traceback not kept: redacting it failed with {type(redaction).__name__})"


def audit(
    config: "str | Path | Mapping[str, Any] | AuditConfig | None" = None,
    *,
    suite: str | None = None,
    output: str | None = None,
    seed: int | None = None,
    device: str | None = None,
    resume: bool = False,
    quiet: bool = True,
    baseline: "str | Path | None" = None,
    force: bool = False,
) -> AuditResult:
    """Run an audit from a YAML path, a dict or an AuditConfig; writes the same outputs as the CLI.

    ``baseline``: a results.json to compare with (as ``--baseline``; ``force`` as ``--force``).
    Raises :class:`harness.errors.UsageError` (or a subclass) for bad input.
    """
    parsed, source, base_dir = load_config(config)
    parsed = _apply_overrides(parsed, output=output, seed=seed, device=device)
    return Run(parsed, source=source, base_dir=base_dir, suite=suite, resume=resume, quiet=quiet, baseline=baseline, force=force).execute()


__all__ = ["Run", "audit", "UsageError"]
