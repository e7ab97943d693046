"""Check ``privacy.pii``: personal data in the training and evaluation texts.

Why a data check in a model audit: a text classifier fine-tuned on notes that
carry names, phone numbers or record numbers can memorise and leak them
(membership inference, ``privacy.membership_inference``, measures that leak),
and keeping them is against data minimisation (GDPR Art. 5(1)(c)) when the task
(triage) does not need them.  The check counts, per split and per kind, the
texts holding personal data, and shows a few examples *masked*: the raw values
never leave this module, so results.json and every report are free of them.

Metrics (all shares of texts, with Wilson intervals from :mod:`harness.stats.intervals`):

- ``pii_rate``: texts with any personal data over all scanned splits (the
  primary metric, gated by default at ``max: 0``: a DPO's default expectation
  is that a training corpus carries no direct identifiers; relax it per suite
  with ``max:`` or ``thresholds:``, or report only with ``gate: false``);
- ``pii_rate[<split>]``: the same per split;
- ``pii_rate[kind=<kind>]``: texts holding at least one value of that kind.

Counts of values per kind and per split are in the evidence.  Detection rules
(and what is deliberately not detected) are in :mod:`harness.text.pii`;
``harness anonymize`` (:mod:`harness_privacy.anonymize`) writes a masked copy
of a data file with the same detectors.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator

from harness import Check, CheckOptions, CheckResult, ConfigError, Metric, Threshold, wilson_interval
# Not in the public API (yet): the core's PII detectors, the same ones ctx.redact and the report use.
from harness.text.pii import (
    ALL_KINDS,
    PLACEHOLDERS,
    PiiMatch,
    find_pii,
    mask_matches,
    mask_text,
)
from harness import N_  # marks a message id for extraction (babel.cfg); the report translates it

if TYPE_CHECKING:
    from harness import AuditResult, ReportSection, RunContext

__all__ = ["CHECKS", "PiiCheck", "PiiOptions", "PiiScan", "load_names", "mask_text", "report_sections", "scan_texts"]

TEMPLATES = Path(__file__).parent / "templates"

PII_CLAUSES = (
    "GDPR Art. 5(1)(c)",
    "GDPR Art. 25",
    "GDPR Art. 32",
    "EU AI Act Art. 10(5)",
    "NIST AI RMF MEASURE 2.10",
    "PIPL Art. 28",
    "PIPL Art. 51",
)

#: Every kind the core detector knows (English and Chinese formats), so a config can name any of them.
Kind = Literal[ALL_KINDS]  # type: ignore[valid-type]


#: The check's messages as catalog msgids (kinds and numbers are data, passed formatted).
NO_TEXTS = N_("no texts to scan in the selected splits")
FOUND = N_("{flagged} of {total} texts ({percent}) hold personal data")
FOUND_VALUES = N_("{flagged} of {total} texts ({percent}) hold personal data: {found} value(s)")

class PiiOptions(CheckOptions):
    splits: list[str] | None = Field(None, description="splits to scan (default: every split of the data)")
    kinds: list[Kind] = Field(list(ALL_KINDS), description="kinds of personal data to look for")
    # Names given inline are part of the config, which results.json records; real
    # names belong in names_file, whose content is never copied into the outputs.
    names: list[str] = Field([], description="names to find (case-sensitive, whole words); recorded with the config, so prefer names_file for real names")
    names_file: str | None = Field(None, description="file of names to find, one per line, # comments (relative to the config); its content is not recorded")
    common_names: bool = Field(True, description="also flag ~430 bundled common given names (see harness.text.pii)")
    examples: int = Field(10, ge=0, le=200, description="masked example texts shown in the report")
    level: float = Field(0.95, gt=0, lt=1, description="confidence level of the intervals")

    @field_validator("kinds")
    @classmethod
    def _some_kinds(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("give at least one kind")
        return list(dict.fromkeys(value))


def load_names(path: Path) -> list[str]:
    """Names from a UTF-8 file, one per line; blank lines and ``#`` comments skipped."""
    if not path.is_file():
        raise ConfigError(f"names file not found: {path}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise ConfigError(f"names file {path} is not UTF-8 text") from None
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


@dataclass
class SplitScan:
    """What one split holds: texts with PII overall and per kind, values per kind."""

    name: str
    texts: int = 0
    with_pii: int = 0
    texts_by_kind: Counter = field(default_factory=Counter)
    values_by_kind: Counter = field(default_factory=Counter)


@dataclass
class PiiScan:
    """A scan of several splits; ``flagged`` keeps (split, row, matches) of texts with PII."""

    kinds: tuple[str, ...]
    splits: list[SplitScan] = field(default_factory=list)
    flagged: list[tuple[str, int, list[PiiMatch]]] = field(default_factory=list)

    @property
    def texts(self) -> int:
        return sum(s.texts for s in self.splits)

    @property
    def with_pii(self) -> int:
        return sum(s.with_pii for s in self.splits)

    def texts_by_kind(self) -> Counter:
        return sum((s.texts_by_kind for s in self.splits), Counter())

    def values_by_kind(self) -> Counter:
        return sum((s.values_by_kind for s in self.splits), Counter())


def scan_texts(
    splits: dict[str, tuple[str, ...]] | Any,
    kinds: tuple[str, ...] = ALL_KINDS,
    names: tuple[str, ...] = (),
    common_names: bool = True,
) -> PiiScan:
    """Run the detectors over every text of every split (mapping of split name -> texts)."""
    scan = PiiScan(kinds=tuple(kinds))
    wanted = frozenset(kinds)
    for split_name, texts in splits.items():
        part = SplitScan(split_name, texts=len(texts))
        for row, text in enumerate(texts):
            matches = find_pii(text, wanted, names, common_names)
            if not matches:
                continue
            part.with_pii += 1
            found = Counter(m.kind for m in matches)
            part.values_by_kind.update(found)
            part.texts_by_kind.update(found.keys())
            scan.flagged.append((split_name, row, matches))
        scan.splits.append(part)
    return scan


def _safe_mask(text: str, matches: list[PiiMatch]) -> str:
    """Masked text; any raw value still present (repeated elsewhere undetected) is masked too."""
    masked = mask_matches(text, matches)
    for m in matches:
        value = m.value(text)
        if len(value) >= 3 and value in masked:
            masked = masked.replace(value, PLACEHOLDERS[m.kind])
    return masked


def _rate(count: int, total: int) -> float | None:
    return count / total if total else None


class PiiCheck(Check):
    id = "privacy.pii"
    title = N_("Personal data in the texts")
    description = (
        "Share of training and evaluation texts holding personal data (names, e-mail, phone, medical record "
        "numbers, SSN, payment cards, IBAN, IP addresses, dates of birth), with masked examples."
    )
    primary_metric = "pii_rate"
    default_thresholds = {"pii_rate": Threshold(max=0.0)}
    regulations = PII_CLAUSES
    #: The detector knows English and mainland-Chinese formats (harness/text/pii.py); other languages' names,
    #: addresses and ID formats would be missed, so the scan cannot vouch for them.
    languages = ("en", "zh")
    Options = PiiOptions

    def run(self, ctx: "RunContext", options: PiiOptions) -> CheckResult:  # type: ignore[override]
        data = ctx.require_data()
        chosen = options.splits if options.splits is not None else list(data.splits)
        missing = [s for s in chosen if s not in data.splits]
        if missing:
            raise ConfigError(f"privacy.pii: no split named {', '.join(map(repr, missing))}; the data has {', '.join(data.splits)}")
        names = list(options.names)
        if options.names_file:
            path = Path(options.names_file)
            names += load_names(path if path.is_absolute() else ctx.base_dir / path)
        splits = {s: data.splits[s].texts for s in chosen if len(data.splits[s])}
        if not splits:
            return self.result(status="skipped", message=NO_TEXTS, message_id=NO_TEXTS)
        scan = scan_texts(splits, tuple(options.kinds), tuple(names), options.common_names)

        total, flagged = scan.texts, scan.with_pii
        metrics = [Metric("pii_rate", _rate(flagged, total), wilson_interval(flagged, total, options.level),
                          description=f"texts with any personal data, all scanned splits ({flagged} of {total})")]
        for part in scan.splits:
            metrics.append(Metric(f"pii_rate[{part.name}]", _rate(part.with_pii, part.texts),
                                  wilson_interval(part.with_pii, part.texts, options.level),
                                  description=f"{part.with_pii} of {part.texts} texts"))
        by_kind = scan.texts_by_kind()
        for kind in options.kinds:
            metrics.append(Metric(f"pii_rate[kind={kind}]", _rate(by_kind[kind], total),
                                  wilson_interval(by_kind[kind], total, options.level),
                                  description=f"texts with a {kind} ({by_kind[kind]} of {total})"))

        rng = ctx.rng(self.id)
        picked = sorted(rng.choice(len(scan.flagged), size=min(options.examples, len(scan.flagged)), replace=False).tolist()) if scan.flagged else []
        examples = []
        for index in picked:
            split_name, row, matches = scan.flagged[index]
            split = data.splits[split_name]
            examples.append({
                "split": split_name,
                "id": mask_text(str(split.ids[row]), names),
                "kinds": sorted({m.kind for m in matches}),
                "text": _safe_mask(split.texts[row], matches),
            })
        values = scan.values_by_kind()
        evidence = {
            "kinds": list(options.kinds),
            "splits": [
                {
                    "split": part.name,
                    "texts": part.texts,
                    "with_pii": part.with_pii,
                    "rate": _rate(part.with_pii, part.texts),
                    "interval": _interval_list(wilson_interval(part.with_pii, part.texts, options.level)),
                    "texts_by_kind": {k: part.texts_by_kind[k] for k in options.kinds},
                    "values_by_kind": {k: part.values_by_kind[k] for k in options.kinds},
                }
                for part in scan.splits
            ],
            "texts": total,
            "with_pii": flagged,
            "texts_by_kind": {k: by_kind[k] for k in options.kinds},
            "values_by_kind": {k: values[k] for k in options.kinds},
            "configured_names": len(names),
            "common_names": options.common_names,
            "examples": examples,
            "examples_note": "values are replaced by typed placeholders; raw values are never stored",
            "level": options.level,
        }
        found = ", ".join(f"{k} {values[k]}" for k in options.kinds if values[k])
        template = FOUND_VALUES if found else FOUND
        args = {"flagged": flagged, "total": total, "percent": f"{flagged / total:.1%}", **({"found": found} if found else {})}
        return self.result(metrics=metrics, evidence=evidence, message=template.format(**args), message_id=template, message_args=args)


def _interval_list(interval: Any) -> list[float] | None:
    return [interval.low, interval.high] if interval is not None else None


CHECKS: tuple[type[Check], ...] = (PiiCheck,)


def report_sections(result: "AuditResult") -> "list[ReportSection] | None":
    """Per-split and per-kind counts, and the masked examples."""
    from harness import ReportSection

    check = result.check(PiiCheck.id)
    if check is None or "splits" not in check.evidence:
        return None
    evidence = check.evidence
    return [ReportSection(
        title=N_("Personal data found"), template="harness_privacy/pii.html",
        context={"evidence": evidence, "kinds": evidence.get("kinds", []), "placeholders": PLACEHOLDERS},
        search_path=str(TEMPLATES), check=check.id,
    )]
