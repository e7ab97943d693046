"""The regulation clauses checks can declare as the evidence they provide.

Checks name clauses by identifier in their ``regulations`` attribute; the
report looks up a one-line paraphrase here (each checked against the
regulation's text) so a reviewer sees what each clause asks without leaving
the offline file. PIPL is the Personal Information Protection Law of the
People's Republic of China (2021); "China GenAI Measures" the Interim Measures
for the Management of Generative Artificial Intelligence Services (2023).
Paraphrases orient; they are not legal text. An identifier not listed here is
still shown, without a paraphrase. Each paraphrase is a catalog msgid (``N_``):
a report in another language shows it translated; identifiers stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.text.i18n import N_


@dataclass(frozen=True)
class Clause:
    framework: str
    clause: str
    gist: str

    @property
    def id(self) -> str:
        return f"{self.framework} {self.clause}"


_CLAUSES: tuple[Clause, ...] = (
    Clause("EU AI Act", "Art. 9(6)-(8)", N_("Risk management: testing against prior defined metrics and thresholds before placing on the market.")),
    Clause("EU AI Act", "Art. 10(2)(f)-(g)", N_("Data governance: examine data for possible biases; measures to detect, prevent and mitigate them.")),
    Clause("EU AI Act", "Art. 10(5)", N_("Special categories of personal data processed strictly for bias detection, with safeguards.")),
    Clause("EU AI Act", "Art. 11 + Annex IV", N_("Technical documentation: description, data, metrics, testing logs.")),
    Clause("EU AI Act", "Art. 12", N_("Record-keeping: automatic logs over the system's lifetime.")),
    Clause("EU AI Act", "Art. 13(3)(b)(ii)", N_("Instructions for use state the tested levels of accuracy, robustness and cybersecurity.")),
    Clause("EU AI Act", "Art. 13(1)", N_("Transparency: designed so that deployers can interpret the system's output and use it appropriately.")),
    Clause("EU AI Act", "Art. 15(1)", N_("Appropriate levels of accuracy, robustness and cybersecurity.")),
    Clause("EU AI Act", "Art. 15(3)", N_("Levels of accuracy and the relevant accuracy metrics are declared.")),
    Clause("EU AI Act", "Art. 15(4)", N_("Resilience to errors, faults and inconsistencies.")),
    Clause("EU AI Act", "Art. 15(5)", N_("Resilience to AI-specific attacks: poisoning, adversarial examples, confidentiality attacks.")),
    Clause("EU AI Act", "Art. 43(4)", N_("A substantially modified high-risk AI system undergoes a new conformity assessment.")),
    Clause("NIST AI RMF", "MEASURE 1.1", N_("Approaches and metrics selected; what cannot be measured is documented.")),
    Clause("NIST AI RMF", "MEASURE 2.1", N_("Test sets, metrics and tools used during TEVV are documented.")),
    Clause("NIST AI RMF", "MEASURE 2.3", N_("Performance or assurance criteria are measured and demonstrated.")),
    Clause("NIST AI RMF", "MEASURE 2.5", N_("Validity and reliability demonstrated; limits of generalisability documented.")),
    Clause("NIST AI RMF", "MEASURE 2.7", N_("Security and resilience evaluated and documented.")),
    Clause("NIST AI RMF", "MEASURE 2.9", N_("The model is explained, validated and documented; its output is interpreted within its context.")),
    Clause("NIST AI RMF", "MEASURE 2.10", N_("Privacy risk examined and documented.")),
    Clause("NIST AI RMF", "MEASURE 2.11", N_("Fairness and bias evaluated; results documented.")),
    Clause("ISO/IEC 42001", "A.6.2.4", N_("AI system verification and validation.")),
    Clause("ISO/IEC 42001", "A.7", N_("Data for AI systems: quality and provenance.")),
    Clause("GDPR", "Art. 5(1)(c)", N_("Data minimisation: personal data adequate, relevant and limited to what is necessary.")),
    Clause("GDPR", "Art. 25", N_("Data protection by design (e.g. DP training, anonymisation).")),
    Clause("GDPR", "Art. 32", N_("Security of processing, e.g. pseudonymisation of personal data.")),
    Clause("GDPR", "Art. 35", N_("Data protection impact assessment.")),
    # China. Each gist checked against the article's text (Chinese and English translations).
    Clause("PIPL", "Art. 24", N_("Automated decision-making: transparent, with fair and just results; no unreasonable differential treatment of individuals.")),
    Clause("PIPL", "Art. 28", N_("Sensitive personal information (health, financial accounts, biometrics, under-14s...): only with a specific purpose, sufficient necessity and strict protection.")),
    Clause("PIPL", "Art. 51", N_("Security measures, including technical measures such as encryption and de-identification.")),
    Clause("PIPL", "Art. 55", N_("A personal information protection impact assessment in advance, e.g. for sensitive data or automated decision-making.")),
    Clause("PIPL", "Art. 56", N_("The assessment covers lawfulness and necessity, the impact on individuals' rights and security risks, and whether the protection measures fit the risk.")),
    Clause("China GenAI Measures", "Art. 4(2)", N_("Effective measures against discrimination by ethnicity, belief, country, region, sex, age, occupation, health... in algorithm design, training data and service.")),
)

CATALOG: dict[str, Clause] = {clause.id: clause for clause in _CLAUSES}
FRAMEWORKS: tuple[str, ...] = tuple(dict.fromkeys(clause.framework for clause in _CLAUSES))


def describe(identifier: str) -> Clause:
    """The catalogued clause, or one with an empty gist for an identifier we do not know."""
    known = CATALOG.get(identifier)
    if known is not None:
        return known
    framework = next((f for f in FRAMEWORKS if identifier.startswith(f + " ")), "")
    return Clause(framework or "Other", identifier.removeprefix(framework).strip() if framework else identifier, "")
