"""Check ``privacy.membership_inference``: can an attacker tell training examples from unseen ones?

Members are a sample of the train split; non-members an equally large sample
of a split the model never trained on (the evaluation split by default).
Attacks:

- ``loss`` (Yeom et al. 2018): minus the cross-entropy of the true label, read
  through the run's shared Predictor (no extra forward pass for texts already
  scored by other checks);
- ``lira``: offline LiRA (Carlini et al. 2022) against K shadow models trained
  the target's way on random halves of a *population* split (validation by
  default) disjoint from the members and the non-members (``shadow.py``).

Metrics come from the exact ROC (``mia_metrics.py``): AUC (DeLong interval),
best-threshold balanced accuracy (bootstrap), TPR at 1% and 0.1% FPR
(Clopper-Pearson), and the epsilon lower bound the attack proves. When the
model was trained with DP (``TrainingReport.extra["dp"]``), a lower bound above
the accountant's epsilon means the DP implementation or its accounting is
broken: the check fails saying so. Every audit states its power (the largest
epsilon it could prove at this confidence); a claim above the power cannot be
refuted, and the check is then ``inconclusive``, never a pass. The decisive
audit is declared in advance: for a DP run, the white-box gradient canaries
DP-SGD inserted before its noise (``gradient_canaries.py``, on by default:
they test the mechanism the claim is about, whatever the model learned); else,
when the fine-tuning planted text canaries (``canaries.py``), the one-run
canary audit; else the train/test split. The others are still reported, each
with its own power. The gated ``auc`` / ``tpr_at_1pct_fpr`` are
those of the strongest attack run.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Sequence

from pydantic import Field

from harness import Check, CheckOptions, CheckResult, ConfigError, Interval, Metric, Threshold
from harness_privacy import gradient_canaries
from harness import N_  # marks a message id for extraction (babel.cfg); the report translates it

if TYPE_CHECKING:
    import numpy as np  # imported where used: registering the check keeps `harness --help` light

    from harness import AuditResult, ReportSection, RunContext

TEMPLATES = Path(__file__).parent / "templates"
PRIVACY_CLAUSES = ("EU AI Act Art. 15(5)", "NIST AI RMF MEASURE 2.10", "GDPR Art. 25", "GDPR Art. 35", "PIPL Art. 55", "PIPL Art. 56")
#: delta used for the epsilon audit when the model makes no DP claim (a common choice below 1/n).
DEFAULT_DELTA = 1e-5


#: The fixed message as a catalog msgid.
NO_TRAIN = N_("no train split: there are no known members to attack")
#: The attack's message as msgids: run() fills one outcome template with the attack name and pre-formatted
#: numbers; ``{audit}`` and ``{proved}`` are themselves messages ({"message_id", "message_args"}), so the
#: report translates each part; the English ``message`` is the same text assembled as before.
AUDIT_SPLIT = N_("train/test split audit ({members} + {nonmembers} held-out examples)")
AUDIT_CANARY = N_("canary audit ({canaries} canaries, {planted} planted)")
AUDIT_GRADIENT = N_("white-box gradient canary audit ({canaries} canaries, {planted} inserted)")
PROVES_ATTACK = N_("the {attack} attack proves epsilon >= {bound} (delta {delta}, {level} confidence)")
PROVES_AUDIT = N_("the {audit} proves epsilon >= {bound} (delta {delta}, {level} confidence)")
PROVES_NONE = N_("the {audit} proves no positive epsilon lower bound (delta {delta}, {level} confidence)")
BROKEN = N_("{proved}, above the claimed epsilon {claimed}: the DP implementation or its accounting is broken")
CANNOT_REFUTE = N_("this audit cannot refute the claimed epsilon {claimed}: the most it could prove is {power} with the {audit} "
                   "at {level} confidence (delta {delta}); {proved}; {attack} attack AUC {auc}")
CANNOT_REFUTE_CANARIES = N_("this audit cannot refute the claimed epsilon {claimed}: the most it could prove is {power} with the "
                            "{audit} at {level} confidence (delta {delta}); {proved}; {attack} attack AUC {auc}; plant canaries "
                            "({setting}) for a stronger audit")
BELOW_CLAIM = N_("{attack} attack AUC {auc}; {proved}; below the claimed epsilon {claimed} (the most it could prove is {power})")
NO_CLAIM = N_("{attack} attack AUC {auc}; {proved}; no claimed epsilon (the most it could prove is {power})")
SPLIT_ALONE = N_("{message}; the train/test-split attack alone proves {bound}, above the claim (not the declared audit)")
LIRA_FORMULA = "z = (phi_target - mean_out) / sd_out, phi = log(p_y / (1 - p_y))"
LIRA_SCORE = N_("{formula}; ranking by z = ranking by the offline likelihood ratio")
TWIN = N_("{message}; a non-DP twin trained the same way: AUC {auc}, epsilon lower bound {bound}")
WITH_NOTES = N_("{message}. {notes}")  # notes: the first note ({"text": ...}: looked up by exact msgid, else English)
MORE_NOTES = N_("{message}; {notes}")  # each further note
#: The fixed notes, as msgids (a note with values stays in English).
AS_LOADED = N_("the model was audited as loaded (no {setting}): how it was trained is unknown, "
               "so no shadow models can mimic it and only the {attack} attack ran")
NOT_DP = N_("{setting} ignored: the model was not trained with DP")
#: The fixed notes' English text -> their message (the notes themselves are kept as English strings in evidence).
FIXED_NOTES = {
    AS_LOADED.format(setting="model.fine_tune", attack="loss"): {"message_id": AS_LOADED, "message_args": {"setting": "model.fine_tune", "attack": "loss"}},
    NOT_DP.format(setting="reference_without_dp"): {"message_id": NOT_DP, "message_args": {"setting": "reference_without_dp"}},
}


def said(template: str, **args: Any) -> dict[str, Any]:
    """A message as ``{"message_id", "message_args"}`` (an argument of another message, or the check's own)."""
    return {"message_id": template, "message_args": args}


def _decisive(audit: Any, canary: Any, n: int) -> dict[str, Any]:
    """The decisive audit's name as a message (:data:`AUDIT_SPLIT` or :data:`AUDIT_CANARY`)."""
    if canary is not None:
        kind = AUDIT_GRADIENT if canary.method == gradient_canaries.METHOD else AUDIT_CANARY
        return said(kind, canaries=canary.canaries, planted=canary.included)
    return said(AUDIT_SPLIT, members=audit.evaluation.get("members", n - n // 2), nonmembers=audit.evaluation.get("nonmembers", n - n // 2))


def _with_method_message(audit: dict[str, Any]) -> dict[str, Any]:
    """A text-canary audit's record with its method note as a translatable message (the formula stays as data)."""
    from harness_privacy import canaries

    return {**audit, "method_message": canaries.METHOD_MESSAGE} if audit.get("method") == canaries.METHOD else audit


def _gradient_context(ctx: "RunContext") -> dict[str, Any]:
    """Where the gradient canaries were inserted (the scores stay in the saved model's training record)."""
    record = (getattr(ctx.training, "extra", None) or {}).get(gradient_canaries.KEY) or {}
    return {key: record.get(key) for key in ("parameter", "placement", "parameter_size", "steps", "inserted", "sample_rate", "clip", "seed")}


def english(message: Any) -> str:
    """The English text of a message built by :func:`said` (nested parts filled first); a ``{"text"}`` is its text."""
    if not isinstance(message, dict):
        return str(message)
    if "message_id" not in message:
        return str(message.get("text", ""))
    return message["message_id"].format(**{k: english(v) if isinstance(v, dict) else v for k, v in message["message_args"].items()})


class MembershipOptions(CheckOptions):
    attacks: tuple[Literal["loss", "lira"], ...] | None = Field(
        None, description="attacks to run; default: loss, plus lira when the run fine-tuned the model")
    shadow_models: int = Field(4, ge=2, le=256, description="K shadow models for offline LiRA")
    max_examples: int = Field(500, ge=10, le=1_000_000, description="members and non-members each (sampled, balanced)")
    non_members: str | None = Field(None, description="split of non-members (default: the evaluation split)")
    population: str = Field("validation", description="split the shadow models train on (disjoint from members and non-members)")
    exposed_examples: int = Field(10, ge=0, le=200, description="most exposed training examples shown (PII masked)")
    level: float = Field(0.95, gt=0.5, lt=1.0, description="confidence level of intervals and of the epsilon bound")
    delta: float | None = Field(None, ge=0, lt=1, description="delta of the epsilon audit for models without DP (default 1e-5; DP models use the accountant's)")
    reference_without_dp: bool = Field(False, description="DP targets: also train a non-DP twin the same way and attack it")


def _mask(text: str) -> str:
    """Exposed training examples are always masked (even with ``output.redact_pii: false``): they are members."""
    # Not in the public API (yet): the core's PII masking (ctx.redact masks only when the config asks).
    from harness.text.pii import mask_text

    return mask_text(text)


def _finite(value: Any) -> float | None:
    return float(value) if value is not None and math.isfinite(float(value)) else None


def _sample(n_total: int, n: int, rng: np.random.Generator) -> np.ndarray:
    import numpy as np

    return np.sort(rng.choice(n_total, size=n, replace=False)) if n < n_total else np.arange(n_total)


def _dp_claim(ctx: "RunContext") -> dict[str, Any] | None:
    extra = getattr(ctx.training, "extra", None) or {}
    dp = extra.get("dp")
    return dict(dp) if isinstance(dp, dict) and dp.get("epsilon") is not None else None


def _resolve_attacks(options: MembershipOptions, fine_tuned: bool, population: str, population_size: int) -> tuple[tuple[str, ...], list[str]]:
    notes: list[str] = []
    if options.attacks is not None:
        attacks = tuple(dict.fromkeys(options.attacks))
        if not attacks:
            raise ConfigError("privacy.membership_inference: attacks: give at least one of loss, lira")
        if "lira" in attacks and not fine_tuned:
            raise ConfigError(
                "privacy.membership_inference: attacks: lira needs shadow models trained the way the target was, "
                "but this run audits the model as loaded (no model.fine_tune), so how it was trained is unknown"
            )
        return attacks, notes
    if fine_tuned and population_size >= 4:
        return ("loss", "lira"), notes
    if fine_tuned and population_size < 0:
        notes.append(f"the population split {population!r} holds attacked candidates, so no shadow models could be trained on it and only the loss attack ran")
        return ("loss",), notes
    if fine_tuned:
        notes.append(f"no population split {population!r} of at least 4 examples to train shadow models on, so only the loss attack ran")
        return ("loss",), notes
    notes.append(AS_LOADED.format(setting="model.fine_tune", attack="loss"))
    return ("loss",), notes


def _attack_summary(name: str, members: np.ndarray, nonmembers: np.ndarray, rng: np.random.Generator, level: float) -> dict[str, Any]:
    from harness_privacy import mia_metrics as mm

    roc = mm.exact_roc(members, nonmembers)
    auc, auc_interval = mm.delong_interval(members, nonmembers, level)
    balanced, _ = mm.best_balanced_accuracy(roc)
    balanced_interval = mm.balanced_accuracy_interval(members, nonmembers, rng, level)
    low = {key: mm.tpr_at_fpr(roc, target, level) for key, target in (("1pct", 0.01), ("0.1pct", 0.001))}
    return {
        "attack": name,
        "auc": auc,
        "auc_interval": auc_interval.to_dict(),
        "balanced_accuracy": balanced,
        "balanced_accuracy_interval": None if balanced_interval is None else balanced_interval.to_dict(),
        "tpr_at_fpr": {
            key: {"target_fpr": t.target_fpr, "tpr": t.tpr, "interval": None if t.interval is None else t.interval.to_dict(),
                  "fpr": t.fpr, "resolvable": t.resolvable, "note": t.note, "note_message": t.note_message}
            for key, t in low.items()
        },
        "roc": mm.downsample_curve(roc),
        "roc_points": int(roc.tp.size),
    }


def _interval(data: dict[str, Any] | None) -> Interval | None:
    return None if not data else Interval(data["low"], data["high"], level=data["level"], method=data["method"])


class MembershipInference(Check):
    id = "privacy.membership_inference"
    title = N_("Membership inference and the empirical epsilon audit")
    description = (
        "Loss-threshold and offline LiRA attacks telling training examples from unseen ones: AUC, balanced accuracy, "
        "TPR at 1% / 0.1% FPR from the exact ROC, and the epsilon lower bound the attack proves against the DP claim."
    )
    primary_metric = "auc"
    default_thresholds = {"auc": Threshold(max=0.6)}
    regulations = PRIVACY_CLAUSES
    Options = MembershipOptions

    def run(self, ctx: "RunContext", options: MembershipOptions) -> CheckResult:  # type: ignore[override]
        import numpy as np

        from harness_privacy import mia_metrics as mm
        from harness_privacy import shadow

        data = ctx.require_data()
        train = data.get("train")
        if train is None or len(train) < 2:
            return self.result(status="skipped", message=NO_TRAIN, message_id=NO_TRAIN)
        non_name = options.non_members or data.eval_split
        if non_name == "train":
            raise ConfigError("privacy.membership_inference: non_members: the train split holds the members; name a split the model never trained on")
        nonmember_split = data.get(non_name)
        if nonmember_split is None or len(nonmember_split) < 2:
            raise ConfigError(f"privacy.membership_inference: non_members: no split {non_name!r} with at least 2 examples (splits: {', '.join(data.splits)})")
        fine_tuned = ctx.training is not None and ctx.config.model.fine_tune is not None
        population = data.get(options.population)
        population_size = -1 if options.population in ("train", non_name) else len(population) if population is not None else 0
        attacks, notes = _resolve_attacks(options, fine_tuned, options.population, population_size)
        rng = ctx.rng(self.id)
        n = min(len(train), len(nonmember_split), options.max_examples)
        member_idx, nonmember_idx = _sample(len(train), n, rng), _sample(len(nonmember_split), n, rng)
        texts = [train.texts[i] for i in member_idx] + [nonmember_split.texts[i] for i in nonmember_idx]
        labels = np.r_[np.asarray(train.labels)[member_idx], np.asarray(nonmember_split.labels)[nonmember_idx]]
        logits = ctx.require_predictor().logits(texts)
        scores: dict[str, np.ndarray] = {"loss": shadow.loss_scores(logits, labels)} if "loss" in attacks else {}
        evidence: dict[str, Any] = {"members": {"split": "train", "count": n, "available": len(train)},
                                    "non_members": {"split": non_name, "count": n, "available": len(nonmember_split)}}
        dp = _dp_claim(ctx)
        if "lira" in attacks:
            lira, evidence["shadow"] = self._lira(ctx, options, texts, labels, logits, non_name)
            scores["lira"] = lira
        if options.reference_without_dp:
            if dp is not None:
                evidence["reference_without_dp"] = self._reference(ctx, texts, labels, n, rng, options.level)
            else:
                notes.append(NOT_DP.format(setting="reference_without_dp"))
        summaries = {name: _attack_summary(name, scores[name][:n], scores[name][n:], rng, options.level) for name in attacks}
        if dp is not None and dp.get("delta") is not None:
            delta = float(dp["delta"])  # the claim's own delta: an epsilon at another delta is not comparable
            if options.delta is not None and options.delta != delta:
                notes.append(f"delta {options.delta:g} ignored: the bound is computed at the accountant's delta {delta:g} to be comparable")
        else:
            delta = options.delta if options.delta is not None else DEFAULT_DELTA
        audit = mm.audit_epsilon({name: (s[:n], s[n:]) for name, s in scores.items()}, delta=delta, rng=rng, level=options.level)
        text_canary = self._canary_audit(ctx, delta, options.level)
        gradient = self._gradient_audit(ctx, delta, options.level) if dp is not None else None
        # declared in advance: a DP run's white-box gradient canaries decide (they test the mechanism the claim is
        # about); else planted text canaries; else the train/test split
        canary = gradient if gradient is not None else text_canary
        bound, power = (canary.epsilon_lower_bound, canary.power) if canary is not None else (audit.epsilon_lower_bound, audit.power)
        decisive = english(_decisive(audit, canary, n))
        strongest = max(attacks, key=lambda name: summaries[name]["auc"])
        at_1 = max((summaries[a]["tpr_at_fpr"]["1pct"] for a in attacks), key=lambda t: -1.0 if t["tpr"] is None else t["tpr"])
        at_01 = max((summaries[a]["tpr_at_fpr"]["0.1pct"] for a in attacks), key=lambda t: -1.0 if t["tpr"] is None else t["tpr"])
        best = summaries[strongest]
        claimed = _finite(dp["epsilon"]) if dp else None
        metrics = [
            # n: members (= non-members) attacked, so an inconclusive AUC gate says how many would decide it
            Metric("auc", best["auc"], _interval(best["auc_interval"]), f"ROC AUC of the strongest attack ({strongest})", n=n),
            Metric("balanced_accuracy", best["balanced_accuracy"], _interval(best["balanced_accuracy_interval"]),
                   f"best-threshold balanced accuracy of {strongest} (threshold chosen on the same data: optimistic)"),
            Metric("tpr_at_1pct_fpr", at_1["tpr"], _interval(at_1["interval"]), at_1["note"] or "largest TPR with FPR <= 1%, strongest attack"),
            Metric("tpr_at_0.1pct_fpr", at_01["tpr"], _interval(at_01["interval"]), at_01["note"] or "largest TPR with FPR <= 0.1%, strongest attack"),
            Metric("epsilon_lower_bound", bound, None,
                   f"epsilon the {decisive} proves at {options.level:.0%} confidence (delta {delta:g}); 0 = nothing proved"),
            Metric("epsilon_audit_power", power, None,
                   f"the largest epsilon the {decisive} could prove at this confidence (every guess right); a claim above it cannot be refuted"),
            Metric("split_epsilon_lower_bound", audit.epsilon_lower_bound, None, "epsilon the train/test-split attack proves (Clopper-Pearson, held-out half)"),
            Metric("split_audit_power", audit.power, None, "the largest epsilon the train/test-split audit could prove (a perfect attack)"),
            Metric("canary_epsilon_lower_bound", None if text_canary is None else text_canary.epsilon_lower_bound, None,
                   "epsilon the planted canaries prove (Steinke, Nasr and Jagielski 2023)" if text_canary else "no canaries were planted (model.fine_tune.canaries)"),
            Metric("canary_audit_power", None if text_canary is None else text_canary.power, None,
                   "the largest epsilon the canary audit could prove (every guess right)" if text_canary else "no canaries were planted"),
            Metric("gradient_canary_epsilon_lower_bound", None if gradient is None else gradient.epsilon_lower_bound, None,
                   "epsilon the white-box gradient canaries prove (the DP-SGD mechanism's own outputs)" if gradient
                   else "no gradient canaries (DP runs only: model.fine_tune.dp.gradient_canaries)"),
            Metric("gradient_canary_audit_power", None if gradient is None else gradient.power, None,
                   "the largest epsilon the gradient canary audit could prove (every guess right)" if gradient else "no gradient canaries"),
            Metric("claimed_epsilon", claimed, None, "the DP accountant's epsilon" if dp else "no claimed epsilon: the model was not trained with DP"),
        ]
        for name in attacks:
            metrics.append(Metric(f"{name}_auc", summaries[name]["auc"], _interval(summaries[name]["auc_interval"]), f"ROC AUC of the {name} attack"))
        exposed = self._exposed(train, member_idx, scores[strongest][:n], scores[strongest][n:], options.exposed_examples, data.label_names)
        evidence.update({
            "attacks": summaries, "strongest_attack": strongest, "epsilon_audit": audit.to_dict(),
            "claimed": dp, "notes": notes, "exposed_examples": exposed,
            "canary_audit": None if text_canary is None else _with_method_message(text_canary.to_dict()),
            "gradient_canary_audit": None if gradient is None else {**gradient.to_dict(), **_gradient_context(ctx)},
            "decisive_audit": decisive,
            "epsilon_audit_power": power,
            "exposed_attack": strongest,
            "auc_interval_method": "DeLong (normal approximation from Mann-Whitney placement values)",
        })
        status: Literal["pass", "fail", "inconclusive"] = "pass"
        who = f"the {audit.attack} attack" if canary is None and audit.attack else f"the {decisive}"
        if bound > 0:
            proved = f"{who} proves epsilon >= {bound:.3g} (delta {delta:g}, {options.level:.0%} confidence)"
        else:
            proved = f"the {decisive} proves no positive epsilon lower bound (delta {delta:g}, {options.level:.0%} confidence)"
        can_prove = f"the most it could prove is {power:.3g}"
        if claimed is not None and bound > claimed:
            status = "fail"
            message = (f"{proved}, above the claimed epsilon {claimed:.3g}: the DP implementation or its accounting is broken")
        elif claimed is not None and claimed > power:
            status = "inconclusive"
            message = (f"this audit cannot refute the claimed epsilon {claimed:.3g}: {can_prove} with the {decisive} "
                       f"at {options.level:.0%} confidence (delta {delta:g}); {proved}; {strongest} attack AUC {best['auc']:.3f}")
            if canary is None:
                message += "; plant canaries (model.fine_tune.canaries) for a stronger audit"
        else:
            versus = f"below the claimed epsilon {claimed:.3g} ({can_prove})" if claimed is not None else f"no claimed epsilon ({can_prove})"
            message = f"{strongest} attack AUC {best['auc']:.3f}; {proved}; {versus}"
        if canary is not None and claimed is not None and audit.epsilon_lower_bound > claimed and status != "fail":
            message += f"; the train/test-split attack alone proves {audit.epsilon_lower_bound:.3g}, above the claim (not the declared audit)"
        reference = evidence.get("reference_without_dp")
        if reference:
            message += f"; a non-DP twin trained the same way: AUC {reference['auc']:.3f}, epsilon lower bound {reference['epsilon_lower_bound']:.3g}"
        if notes:
            message += ". " + "; ".join(notes)
        translatable = self._said(audit, canary, claimed, bound, power, delta, options.level, strongest, best["auc"],
                                  evidence.get("reference_without_dp"), notes, n)
        # the report's table shows the decisive audit and the notes translated: each also as {text, message_id, message_args}
        evidence["decisive_audit_message"] = {"text": decisive, **_decisive(audit, canary, n)}
        evidence["note_messages"] = [{"text": note, **FIXED_NOTES.get(note, {})} for note in notes]
        if english(translatable) != message:  # a shape the templates do not cover: the English message alone
            translatable = {"message_id": "", "message_args": {}}
        return self.result(metrics=metrics, evidence=evidence, message=message, status=status, **translatable)

    @staticmethod
    def _said(audit: Any, canary: Any, claimed: float | None, bound: float, power: float, delta: float, level: float,
              strongest: str, auc: float, reference: Any, notes: list[str], n: int) -> dict[str, Any]:
        """The message of run() as a msgid with arguments (:data:`NO_CLAIM` and its siblings)."""
        decisive = _decisive(audit, canary, n)
        shared = {"delta": f"{delta:g}", "level": f"{level:.0%}"}
        if bound > 0 and canary is None and audit.attack:
            proved = said(PROVES_ATTACK, attack=audit.attack, bound=f"{bound:.3g}", **shared)
        elif bound > 0:
            proved = said(PROVES_AUDIT, audit=decisive, bound=f"{bound:.3g}", **shared)
        else:
            proved = said(PROVES_NONE, audit=decisive, **shared)
        claim = None if claimed is None else f"{claimed:.3g}"
        if claimed is not None and bound > claimed:
            message = said(BROKEN, proved=proved, claimed=claim)
        elif claimed is not None and claimed > power:
            hint = {} if canary is not None else {"setting": "model.fine_tune.canaries"}
            message = said(CANNOT_REFUTE if canary is not None else CANNOT_REFUTE_CANARIES, claimed=claim, power=f"{power:.3g}",
                           audit=decisive, proved=proved, attack=strongest, auc=f"{auc:.3f}", **shared, **hint)
        elif claimed is not None:
            message = said(BELOW_CLAIM, attack=strongest, auc=f"{auc:.3f}", proved=proved, claimed=claim, power=f"{power:.3g}")
        else:
            message = said(NO_CLAIM, attack=strongest, auc=f"{auc:.3f}", proved=proved, power=f"{power:.3g}")
        if canary is not None and claimed is not None and audit.epsilon_lower_bound > claimed and not (bound > claimed):
            message = said(SPLIT_ALONE, message=message, bound=f"{audit.epsilon_lower_bound:.3g}")
        if reference:
            message = said(TWIN, message=message, auc=f"{reference['auc']:.3f}", bound=f"{reference['epsilon_lower_bound']:.3g}")
        for index, note in enumerate(notes):
            message = said(MORE_NOTES if index else WITH_NOTES, message=message, notes=FIXED_NOTES.get(note, {"text": note}))
        return message

    # ------------------------------------------------------------ parts

    def _gradient_audit(self, ctx: "RunContext", delta: float, level: float) -> Any:
        """The white-box gradient canary audit when DP-SGD inserted canaries (``TrainingReport.extra["gradient_canaries"]``)."""
        record = (getattr(ctx.training, "extra", None) or {}).get(gradient_canaries.KEY)
        if not isinstance(record, dict) or not record.get("scores"):
            return None
        return gradient_canaries.audit(record, delta=delta, level=level)

    def _canary_audit(self, ctx: "RunContext", delta: float, level: float) -> Any:
        """The one-run canary audit when the fine-tuning planted canaries (``TrainingReport.extra["canaries"]``)."""
        record = (getattr(ctx.training, "extra", None) or {}).get("canaries")
        if not isinstance(record, dict) or ctx.model is None:
            return None
        from harness_privacy import canaries, shadow

        planted = canaries.regenerate(record, len(ctx.require_data().label_names), ctx.model.tokenizer)
        logits = ctx.require_predictor().logits(list(planted.texts))
        return canaries.audit(shadow.logit_confidence(logits, planted.labels), planted.included, delta=delta, level=level)

    def _lira(self, ctx: "RunContext", options: MembershipOptions, texts: list[str], labels: np.ndarray, logits: np.ndarray, non_name: str) -> tuple[np.ndarray, dict[str, Any]]:
        import numpy as np

        # Not in the public API (yet): a unit of work for ctx.executor (shadow models may train elsewhere).
        from harness.run.executor import Task
        from harness_privacy import shadow

        data = ctx.require_data()
        if options.population in ("train", non_name):
            raise ConfigError(f"privacy.membership_inference: population: {options.population!r} holds attacked candidates; "
                              "shadow models must train on a split disjoint from members and non-members (e.g. validation)")
        population = data.get(options.population)
        if population is None or len(population) < 4:
            raise ConfigError(f"privacy.membership_inference: population: no split {options.population!r} with at least 4 examples "
                              f"to train shadow models on (splits: {', '.join(data.splits)}); give data.split.validation > 0 or attacks: [loss]")
        rng = ctx.rng(f"{self.id}:shadows")
        jobs = []
        for k in range(options.shadow_models):
            half, rest = shadow.half_split(population, rng)
            jobs.append(shadow.ShadowJob(
                index=k, seed=int(rng.integers(0, 2**31 - 1)), config=ctx.config, base_dir=str(ctx.base_dir),
                scratch_dir=str(ctx.scratch_dir / "membership"), device=str(ctx.device or "cpu"), label_names=data.label_names,
                vocabulary_texts=tuple(data.splits["train"].texts), train=half, validation=rest, candidates=tuple(texts),
            ))
        ctx.progress(f"privacy.membership_inference: training {len(jobs)} shadow models on halves of {options.population!r} ({len(population)} examples)")
        outcomes = [outcome for _, outcome in ctx.executor.map(Task(f"shadow-{job.index:03d}", shadow.train_shadow, (job,)) for job in jobs)]
        shadow_phi = np.stack([shadow.logit_confidence(o.logits, labels) for o in outcomes])
        scores, info = shadow.lira_offline_scores(shadow.logit_confidence(logits, labels), shadow_phi)
        info.update({
            "population_split": options.population, "population_size": len(population),
            "train_examples_each": [o.train_examples for o in outcomes], "method": outcomes[0].method if outcomes else "",
            "epochs_run": [o.epochs_run for o in outcomes],
            "dp_epsilon": [None if o.dp is None else o.dp.get("epsilon") for o in outcomes],
            "score": LIRA_SCORE.format(formula=LIRA_FORMULA),
            "score_message": {"text": LIRA_SCORE.format(formula=LIRA_FORMULA), **said(LIRA_SCORE, formula=LIRA_FORMULA)},
        })
        return scores, info

    def _reference(self, ctx: "RunContext", texts: list[str], labels: np.ndarray, n: int, rng: np.random.Generator, level: float) -> dict[str, Any]:
        """A non-DP twin trained on the same data the same way: what the attack achieves without DP."""
        # Not in the public API (yet): a unit of work for ctx.executor (shadow models may train elsewhere).
        from harness.run.executor import Task
        from harness_privacy import mia_metrics as mm
        from harness_privacy import shadow

        data = ctx.require_data()
        train = data.splits["train"]
        validation = data.get("validation") or train
        ctx.progress("privacy.membership_inference: training the non-DP reference twin")
        job = shadow.ShadowJob(
            index=999, seed=ctx.seed, config=ctx.config, base_dir=str(ctx.base_dir), scratch_dir=str(ctx.scratch_dir / "membership"),
            device=str(ctx.device or "cpu"), label_names=data.label_names, vocabulary_texts=tuple(train.texts),
            train=train, validation=validation, candidates=tuple(texts), without_dp=True,
        )
        outcome = ctx.executor.map([Task("reference-without-dp", shadow.train_shadow, (job,))])[0][1]
        loss = shadow.loss_scores(outcome.logits, labels)
        summary = _attack_summary("loss", loss[:n], loss[n:], rng, level)
        audit = mm.audit_epsilon({"loss": (loss[:n], loss[n:])}, delta=DEFAULT_DELTA, rng=rng, level=level)
        return {"auc": summary["auc"], "auc_interval": summary["auc_interval"], "epsilon_lower_bound": audit.epsilon_lower_bound,
                "tpr_at_1pct_fpr": summary["tpr_at_fpr"]["1pct"]["tpr"], "roc": summary["roc"], "method": outcome.method}

    def _exposed(self, train: Any, member_idx: np.ndarray, member_scores: np.ndarray, nonmember_scores: np.ndarray, count: int, label_names: Sequence[str]) -> list[dict[str, Any]]:
        """The members the attack singles out most confidently, masked; with the share of non-members scoring as high."""
        import numpy as np

        if count <= 0:
            return []
        ordered = np.sort(nonmember_scores)
        rows = []
        for position in np.argsort(-member_scores, kind="mergesort")[:count]:
            i = int(member_idx[position])
            score = float(member_scores[position])
            rows.append({
                "id": train.ids[i], "text": _mask(train.texts[i])[:400], "label": label_names[int(train.labels[i])],
                "score": score, "nonmembers_at_or_above": float((ordered.size - np.searchsorted(ordered, score, side="left")) / ordered.size),
            })
        return rows


CHECKS = (MembershipInference,)


def report_sections(result: "AuditResult") -> "list[ReportSection] | None":
    """The attacks' table, the ROC on a log FPR axis, the epsilon audit and the most exposed examples."""
    from harness import ReportSection

    check = result.check(MembershipInference.id)
    if check is None or "attacks" not in check.evidence:
        return None
    evidence = check.evidence
    curves = {name: summary["roc"] for name, summary in evidence["attacks"].items()}
    reference = evidence.get("reference_without_dp")
    if reference:
        from harness.outputs.charts import label

        curves[label(N_("{attack}, non-DP twin"), attack="loss")] = reference["roc"]
    return [ReportSection(
        title=N_("Membership inference"), template="harness_privacy/membership.html",
        context={"evidence": evidence, "chart": roc_chart(curves), "claimed": evidence.get("claimed"),
                 "audit": evidence["epsilon_audit"], "metrics": {m.name: m for m in check.metrics}},
        search_path=str(TEMPLATES), check=check.id,
    )]


def roc_chart(curves: dict[str, dict[str, list[float]]]) -> Any:
    """The attacks' ROC curves on a log FPR axis (deterministic SVG, see harness.outputs.charts)."""
    from harness.outputs import charts
    figure, axes = charts._figure(4.6, 3.8)
    low = 1.0
    for name, curve in curves.items():
        points = [(f, t) for f, t in zip(curve["fpr"], curve["tpr"]) if f > 0]
        if points:
            axes.plot([p[0] for p in points], [p[1] for p in points], drawstyle="steps-post", label=charts._label(name, 30))
            low = min(low, points[0][0])
    axes.plot([low, 1], [low, 1], linestyle="--", color="grey", linewidth=1, label=N_("chance"))
    axes.set_xscale("log")
    axes.set_xlim(low, 1)
    axes.set_ylim(0, 1)
    axes.set_xlabel(N_("false positive rate (log): non-members called members"))
    axes.set_ylabel(N_("true positive rate: members found"))
    axes.legend(loc="upper left", frameon=False)
    return charts._to_svg(figure, N_("Membership inference ROC (log-scale false positive rate)"))
