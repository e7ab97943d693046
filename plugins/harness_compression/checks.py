"""The compression checks: the audited model against its compressed twin, on the same examples.

- ``compression.agreement``: how often the two predict the same label (exact
  interval), accuracy before and after with McNemar's exact test, calibration
  change; the examples they disagree on, masked. Gated: agreement >= 0.98.
- ``compression.group_regression``: per sensitive group, the change of accuracy,
  TPR and FPR (paired intervals); gated on the group that lost most (Hooker et
  al. 2019: compression can cost some groups far more than the average).
- ``compression.robustness_regression``: the robustness plugin's attack on both
  models, same sample, same seed; gated on the rise of the attack success rate.
- ``compression.footprint``: parameter bytes, bytes on disk, measured latency.

All read one :class:`~harness_compression.audit.PairAudit` per option set
(``audit.py``); the compressed model is built once per spec (``compress.py``).
NumPy, torch and torchao are imported only when a check runs.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from harness import Check, CheckResult, Interval, Metric, Threshold
from harness_compression.audit import footprint_of, pair_audit
from harness_compression.options import AttackRegressionOptions, CompressionOptions
from harness import N_  # marks a message id for extraction (babel.cfg); the report translates it

if TYPE_CHECKING:
    from harness import RunContext

__all__ = [
    "COMPRESSION_CLAUSES", "AgreementCheck", "GroupRegressionCheck", "RobustnessRegressionCheck", "FootprintCheck", "CHECKS",
    "describe_spec",
]

#: A compressed model is a changed model: its accuracy and robustness are evidence of their own (Art. 15),
#: tested before release against declared thresholds (Art. 9), its levels stated for use (Art. 13).
COMPRESSION_CLAUSES = (
    "EU AI Act Art. 9(6)-(8)",
    "EU AI Act Art. 15(1)",
    "EU AI Act Art. 15(3)",
    "EU AI Act Art. 13(3)(b)(ii)",
    "EU AI Act Art. 43(4)",
    "NIST AI RMF MEASURE 2.3",
    "NIST AI RMF MEASURE 2.5",
    "ISO/IEC 42001 A.6.2.4",
)
GROUP_CLAUSES = (*COMPRESSION_CLAUSES, "EU AI Act Art. 10(2)(f)-(g)", "NIST AI RMF MEASURE 2.11", "PIPL Art. 24")
ROBUSTNESS_CLAUSES = (*COMPRESSION_CLAUSES, "EU AI Act Art. 15(4)", "EU AI Act Art. 15(5)", "NIST AI RMF MEASURE 2.7")
FOOTPRINT_CLAUSES = ("EU AI Act Art. 11 + Annex IV", "NIST AI RMF MEASURE 2.1")


#: The checks' messages as catalog msgids (the compression spec and group names are data; numbers pre-formatted).
AGREEMENT = N_("{spec}: {agree} of {n} predictions unchanged (agreement {value}, exact 95% interval [{low}, {high}]); "
               "accuracy {before} -> {after}, McNemar exact p = {p}")
NO_SENSITIVE = N_("no sensitive attributes configured ({setting})")
NO_GROUP_JUDGED = N_("no group has at least {minimum} examples: the groups are reported, none is judged")
GROUP_LOSS = N_("{spec}: the group that lost most accuracy is {group}: {value} [{low}, {high}] (overall change {overall}); "
                "{judged} groups judged")
ATTACK = N_("{spec}: {recipe} attack success rate {before} on the original, {after} on the compressed model "
            "(change {change} [{low}, {high}], {examples} examples, same sample and seed)")
ATTACK_NOTHING = N_("{spec}: the attack had no correctly classified example to attack on one of the models")
FOOTPRINT = N_("{spec}: parameter bytes x{params}, bytes on disk x{disk}, latency x{latency} ({device}, {threads} threads)")
FP16_CPU = N_("fp16 on a CPU: torch has no fast fp16 kernels there, so the latency ratio measured here says little about a GPU, "
              "where fp16 is the fast path")
PRUNED_DENSE = N_("pruned weights are stored dense: {sparsity} of the nn.Linear weights are zero, but bytes and latency only "
                  "shrink with a sparse format or kernel")


def _said(template: str, **args: Any) -> dict[str, Any]:
    return {"message": template.format(**args), "message_id": template, "message_args": args}


def _note(template: str, **args: Any) -> dict[str, Any]:
    return {"text": template.format(**args), "message_id": template, "message_args": args}


def describe_spec(spec: dict[str, Any]) -> str:
    """``int8-dynamic``, ``magnitude-prune 0.95`` or ``model PATH``: how messages name the compression."""
    if "model" in spec:
        return f"model {spec['model']}"
    return spec["method"] + (f" {spec['amount']:g}" if "amount" in spec else "")


def _f(value: float | None) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value + 0.0:.3f}"  # + 0.0: no "-0.000"


def _interval(data: dict[str, Any] | None) -> Interval | None:
    return None if not data else Interval(data["low"], data["high"], data["level"], data["method"])


def _worst(rows: list[tuple[str, float, Interval | None, int]], level: float) -> tuple[str, float, Interval | None, int] | None:
    """The row with the largest loss, and ``[max of lows, max of highs]``: covers the worst true loss when each covers its own."""
    if not rows:
        return None
    name, value, _, n = max(rows, key=lambda r: r[1])
    if any(r[2] is None for r in rows):
        return name, value, None, n
    methods = sorted({r[2].method for r in rows if r[2] is not None})
    interval = Interval(max(r[2].low for r in rows if r[2]), max(r[2].high for r in rows if r[2]), level,
                        f"worst over groups of {', '.join(methods)}")
    return name, value, interval, min(r[3] for r in rows)


class _CompressionCheck(Check):
    Options = CompressionOptions
    regulations = COMPRESSION_CLAUSES

    def common_evidence(self, audit: Any) -> dict[str, Any]:
        return {"compression": dict(audit.spec), "compression_details": dict(audit.details), "split": audit.split, "n": audit.n}


class AgreementCheck(_CompressionCheck):
    id = "compression.agreement"
    title = N_("Compressed model: agreement with the original")
    description = ("Share of evaluation examples on which the compressed model predicts what the original predicts (exact "
                   "interval), accuracy of both with McNemar's exact test, calibration change, and the disagreeing examples.")
    primary_metric = "agreement"
    default_thresholds = {"agreement": Threshold(min=0.98)}

    def run(self, ctx: "RunContext", options: CompressionOptions) -> CheckResult:  # type: ignore[override]
        audit = pair_audit(ctx, options)
        calibration = audit.calibration
        metrics = [
            Metric("agreement", audit.agreement.value, audit.agreement.interval, n=audit.n,
                   description="share of examples with the same predicted label"),
            Metric("flip_rate", audit.flip_rate.value, audit.flip_rate.interval, n=audit.n),
            Metric("accuracy_original", audit.accuracy_original.value, audit.accuracy_original.interval, n=audit.n),
            Metric("accuracy_compressed", audit.accuracy_compressed.value, audit.accuracy_compressed.interval, n=audit.n),
            Metric("accuracy_change", audit.accuracy_change.change, audit.accuracy_change.interval, n=audit.n,
                   description="compressed - original, paired"),
            Metric("mcnemar_p_value", audit.mcnemar["p_value"], description="McNemar's exact test on correctness, two-sided"),
            Metric("ece_original", calibration["original"]),
            Metric("ece_compressed", calibration["compressed"]),
            Metric("ece_change", calibration["change"], calibration["interval"], n=audit.n, description="compressed - original, paired"),
        ]
        evidence = self.common_evidence(audit)
        evidence.update({
            "mcnemar": dict(audit.mcnemar),
            "agreement": audit.agreement.to_dict(),
            "disagreements": list(audit.disagreements),
            "disagreements_total": audit.flip_rate.k,
            "compressed_predictions": list(audit.compressed_predictions),
            "calibration": {k: (v.to_dict() if isinstance(v, Interval) else v) for k, v in calibration.items()},
        })
        if audit.limitations:
            evidence["limitations"] = list(audit.limitations)
        interval = audit.agreement.interval
        said = _said(AGREEMENT, spec=describe_spec(audit.spec), agree=audit.agreement.k, n=audit.n, value=_f(audit.agreement.value),
                     low=_f(interval.low if interval else None), high=_f(interval.high if interval else None),
                     before=_f(audit.accuracy_original.value), after=_f(audit.accuracy_compressed.value), p=f"{audit.mcnemar['p_value']:.3g}")
        return self.result(metrics=metrics, evidence=evidence, **said)


class GroupRegressionCheck(_CompressionCheck):
    id = "compression.group_regression"
    title = N_("Compressed model: change per sensitive group")
    description = ("Per group of each sensitive attribute, the change of accuracy, TPR and FPR from the original to the "
                   "compressed model (paired intervals); gated on the group that lost most.")
    primary_metric = "max_group_accuracy_loss"
    default_thresholds = {"max_group_accuracy_loss": Threshold(max=0.05)}
    regulations = GROUP_CLAUSES

    def run(self, ctx: "RunContext", options: CompressionOptions) -> CheckResult:  # type: ignore[override]
        data = ctx.require_data()
        if not data.sensitive_columns and not options.attributes:
            return self.result(status="skipped", **_said(NO_SENSITIVE, setting="data.sensitive"))
        audit = pair_audit(ctx, options)
        evidence = self.common_evidence(audit)
        evidence["groups"] = [row.to_dict() for row in audit.groups]
        evidence["min_group_size"] = options.min_group_size
        evidence["overall_accuracy_change"] = audit.accuracy_change.to_dict()
        evidence["limitations"] = [{"text": f"{why}: its groups are not compared."} for why in audit.skipped_attributes.values()]
        judged = [row for row in audit.groups if row.judged]
        if not judged:
            return self.result(status="not_applicable", evidence=evidence, **_said(NO_GROUP_JUDGED, minimum=options.min_group_size))
        losses, tpr_losses, fpr_rises, per_group = [], [], [], []
        for row in judged:
            value, interval = row.accuracy.negated()
            if value is not None:
                losses.append((row.group, value, interval, row.count))
                per_group.append(Metric(f"accuracy_loss[{row.group}]", value, interval, n=row.count))
            for label, change in row.tpr.items():
                value, interval = change.negated()
                if value is not None:
                    tpr_losses.append((f"{row.group}, class={label}", value, interval, change.n))
            for label, change in row.fpr.items():
                if change.change is not None:
                    fpr_rises.append((f"{row.group}, class={label}", change.change, change.interval, change.n))
        metrics = []
        for name, rows in (("max_group_accuracy_loss", losses), ("max_group_tpr_loss", tpr_losses), ("max_group_fpr_increase", fpr_rises)):
            worst = _worst(rows, audit.level)
            if worst is None:
                metrics.append(Metric(name, None))
                continue
            group, value, interval, n = worst
            metrics.append(Metric(name, value, interval, description=f"worst group: {group}", n=n))
            evidence[f"worst_{name.removeprefix('max_group_')}"] = group
        metrics += per_group
        head = _worst(losses, audit.level)
        if head is None:
            return self.result(status="not_applicable", evidence=evidence, metrics=metrics, **_said(NO_GROUP_JUDGED, minimum=options.min_group_size))
        group, value, _, _ = head
        own = next(m.interval for m in per_group if m.name == f"accuracy_loss[{group}]")
        evidence["worst_group"] = group
        said = _said(GROUP_LOSS, spec=describe_spec(audit.spec), group=group, value=_f(value), low=_f(own.low if own else None),
                     high=_f(own.high if own else None), overall=_f(audit.accuracy_change.change), judged=len(judged))
        return self.result(metrics=metrics, evidence=evidence, **said)


class RobustnessRegressionCheck(_CompressionCheck):
    id = "compression.robustness_regression"
    title = N_("Compressed model: change of the attack success rate")
    description = ("The robustness plugin's TextAttack recipe on both models, same class-stratified sample and seed; "
                   "gated on the rise of the attack success rate (paired bootstrap over the attacked examples).")
    primary_metric = "attack_success_rate_increase"
    default_thresholds = {"attack_success_rate_increase": Threshold(max=0.1)}
    Options = AttackRegressionOptions
    regulations = ROBUSTNESS_CLAUSES
    languages = ("en", "zh")

    def supported_languages(self, options: AttackRegressionOptions) -> tuple[str, ...] | None:  # type: ignore[override]
        from harness_robustness.recipes import recipe_languages

        return recipe_languages(options.recipe)

    def run(self, ctx: "RunContext", options: AttackRegressionOptions) -> CheckResult:  # type: ignore[override]
        from harness_compression.attack import attack_pair

        pair = attack_pair(ctx, options)
        evidence = {"compression": pair["spec"], "recipe": pair["recipe"], "examples": pair["examples"], "seed": pair["seed"],
                    "original": pair["original"], "compressed": pair["compressed"], "change": pair["change"],
                    "newly_flipped": pair["newly_flipped"]}
        spec = describe_spec(pair["spec"])
        change = pair["change"]
        interval = _interval(change.get("interval"))
        metrics = [
            Metric("attack_success_rate_increase", change["value"], interval, n=change.get("n"), description="compressed - original, paired"),
            Metric("attack_success_rate_original", pair["original"]["attack_success_rate"], _interval(pair["original"].get("interval"))),
            Metric("attack_success_rate_compressed", pair["compressed"]["attack_success_rate"], _interval(pair["compressed"].get("interval"))),
        ]
        if change["value"] is None:
            return self.result(status="inconclusive", metrics=metrics, evidence=evidence, **_said(ATTACK_NOTHING, spec=spec))
        said = _said(ATTACK, spec=spec, recipe=pair["recipe"], before=_f(pair["original"]["attack_success_rate"]),
                     after=_f(pair["compressed"]["attack_success_rate"]), change=_f(change["value"]),
                     low=_f(interval.low if interval else None), high=_f(interval.high if interval else None), examples=pair["examples"])
        return self.result(metrics=metrics, evidence=evidence, **said)


class FootprintCheck(_CompressionCheck):
    id = "compression.footprint"
    title = N_("Compressed model: size and latency")
    description = ("Parameter bytes, bytes on disk (both saved alike) and measured latency of the compressed model against the "
                   "original, as ratios; reported, gate it with thresholds (e.g. latency_ratio max 1).")
    regulations = FOOTPRINT_CLAUSES

    def run(self, ctx: "RunContext", options: CompressionOptions) -> CheckResult:  # type: ignore[override]
        from harness_compression.compress import compressed_model, linear_sparsity

        spec = options.spec()
        twin = compressed_model(ctx, spec)
        measured = footprint_of(ctx, options)
        timing = measured["latency"]
        sparsity = linear_sparsity(twin.handle.model)
        metrics = [
            Metric("parameter_bytes_ratio", measured["parameter_bytes_ratio"], description="compressed / original"),
            Metric("disk_bytes_ratio", measured["disk_bytes_ratio"], description="compressed / original, both saved with torch.save"),
            Metric("latency_ratio", measured["latency_ratio"], description=f"compressed / original, median of {timing['repeats']} passes"),
            Metric("parameter_bytes_original", float(measured["parameter_bytes"]["original"])),
            Metric("parameter_bytes_compressed", float(measured["parameter_bytes"]["compressed"])),
            Metric("disk_bytes_original", float(measured["disk_bytes"]["original"])),
            Metric("disk_bytes_compressed", float(measured["disk_bytes"]["compressed"])),
            Metric("linear_weight_sparsity", sparsity, description="share of exact zeros among nn.Linear weights"),
        ]
        limitations = []
        if spec.get("method") == "fp16" and twin.handle.device.type == "cpu":
            limitations.append(_note(FP16_CPU))
        if sparsity >= 0.01:
            limitations.append(_note(PRUNED_DENSE, sparsity=f"{sparsity:.1%}"))
        evidence = {"compression": spec, "compression_details": dict(twin.details), **measured, "limitations": limitations}
        said = _said(FOOTPRINT, spec=describe_spec(spec), params=_f(measured["parameter_bytes_ratio"]), disk=_f(measured["disk_bytes_ratio"]),
                     latency=_f(measured["latency_ratio"]), device=timing["device"], threads=timing["threads"])
        return self.result(metrics=metrics, evidence=evidence, **said)


CHECKS = (AgreementCheck, GroupRegressionCheck, RobustnessRegressionCheck, FootprintCheck)
