"""The ``harness`` command line (click).

Imports nothing heavy at module level: ``harness --help`` and ``harness
checks`` must start fast and never load torch or transformers. Every command
maps errors to the exit codes the README lists: 0 pass, 1 gate failed or
undecided, 2 bad input (one line, no traceback), 3 a check or plugin errored
(through :func:`harness.cli.guard.run_command`).
"""

from __future__ import annotations

import os
from typing import Any

import click

from harness.cli.guard import run_command as _guard
from harness.errors import UsageError
from harness.text.i18n import DEFAULT_LANGUAGE, LANGUAGES


def run_language(result: Any) -> str:
    """The language a run wrote its outputs in: its config's ``output.language`` (left out when English), else en."""
    from collections.abc import Mapping

    config = result.provenance.get("config") if isinstance(result.provenance, Mapping) else None
    output = config.get("output") if isinstance(config, Mapping) else None
    language = output.get("language") if isinstance(output, Mapping) else None
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


class HarnessGroup(click.Group):
    """Adds plugin commands (``harness_register_commands``) on first use, not at import."""

    _plugins_loaded = False

    def _load_plugin_commands(self) -> None:
        if HarnessGroup._plugins_loaded:
            return
        HarnessGroup._plugins_loaded = True
        from harness.plugin.manager import get_host

        get_host().hook.harness_register_commands(cli=self)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is None:
            self._load_plugin_commands()
            command = super().get_command(ctx, name)
        return command


@click.group(cls=HarnessGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="audit-harness", prog_name="harness")
def main() -> None:
    """Audit a Hugging Face text classifier: accuracy, fairness, robustness, privacy.

    Exit codes: 0 every gated check passed, 1 a gated check failed, 2 bad input,
    3 a check or plugin errored (the audit is incomplete).
    """
    _quiet_library_loggers()


#: Loggers whose warnings say nothing about an audit: with torchao installed (extra "compression"),
#: transformers imports it whenever it builds a model, and torchao logs each optional CUDA kernel a
#: CPU build cannot load, and torch's pytree each of torchao's enums it no longer needs registered.
_QUIET_LOGGERS = ("torchao", "torch.utils._pytree")


def _quiet_library_loggers() -> None:
    import logging

    for name in _QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:  # a level the user set is kept
            logger.setLevel(logging.ERROR)


@main.command()
@click.argument("config", required=False)
@click.option("--suite", help="Suite name (a file in suites/) or path; overrides the config's suite.")
@click.option("--output", "-o", help="Output folder (default from config: audit-report).")
@click.option("--seed", type=int, help="Seed for splits, training and bootstrap (overrides the config).")
@click.option("--resume", is_flag=True, help="Keep checks already done in the output folder with the same inputs.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda", "mps"]), help="Where the model runs.")
@click.option("--format", "formats", multiple=True, type=click.Choice(["json", "html", "junit", "markdown"]),
              help="Output format (repeatable); replaces output.formats. results.json is always written.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the summary.")
@click.option("--verbose", "-v", is_flag=True,
              help="Print the traceback of every check that errored to stderr (also kept in results.json and the report).")
@click.option("--baseline", type=click.Path(dir_okay=False), help="A baseline results.json to compare this run with (see `harness compare`).")
@click.option("--force", is_flag=True, help="Compare with --baseline even if its schema version or evaluation data differ.")
@click.option("--fail-on", "fail_on", metavar="STATUSES",
              help="Comma-separated statuses of gated checks that fail the run (fail, error, warn); overrides gate.fail_on. Inconclusive and skipped gated checks follow gate.inconclusive / gate.skipped.")
@click.option("--engine", type=click.Choice(["local", "ray"]),
              help="Where shadow models and attack chunks run (overrides execution.engine); ray needs audit-harness[ray].")
@click.option("--address", metavar="ADDRESS",
              help="Ray cluster: local (start one for this run), auto (the one this machine joined), ray://HOST:PORT or HOST:PORT.")
def run(config: str | None, suite: str | None, output: str | None, seed: int | None, resume: bool, device: str | None,
        formats: tuple[str, ...], quiet: bool, verbose: bool, baseline: str | None, force: bool, fail_on: str | None,
        engine: str | None, address: str | None) -> None:
    """Run an audit. With no CONFIG: the default suite on the built-in model and data."""

    def body() -> int:
        from harness.config.settings import load_config
        from harness.run.runner import Run, _apply_overrides

        statuses = None if fail_on is None else _parse_fail_on(fail_on)
        parsed, source, base_dir = load_config(config)
        parsed = _apply_overrides(parsed, output=output, seed=seed, device=device, formats=formats or None, fail_on=statuses,
                                  engine=engine, address=address)
        result = Run(parsed, source=source, base_dir=base_dir, suite=suite, resume=resume, quiet=quiet,
                     baseline=baseline, force=force).execute()
        if verbose or os.environ.get("HARNESS_DEBUG"):
            _print_tracebacks(result)
        _print_summary(result, parsed.output.dir)
        return result.exit_code

    _guard(body)


def _parse_fail_on(text: str) -> list[str]:
    """``--fail-on fail,warn`` -> ["fail", "warn"]; "none" fails on nothing."""
    from harness.config.settings import GATE_STATUSES

    statuses = [part.strip() for part in text.split(",") if part.strip()]
    if statuses == ["none"]:
        return []
    unknown = [s for s in statuses if s not in GATE_STATUSES]
    if unknown or not statuses:
        shown = repr(unknown[0]) if unknown else "(empty)"
        raise UsageError(f"--fail-on: unknown status {shown}; expected a comma-separated list of {', '.join(GATE_STATUSES)} (or none)")
    return list(dict.fromkeys(statuses))


def _parse_tolerances(items: tuple[str, ...]) -> dict[str, float]:
    tolerances: dict[str, float] = {}
    for item in items:
        pattern, sep, value = item.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = -1.0
        if not sep or not pattern.strip() or not number >= 0:
            raise UsageError(f"--tolerance {item!r}: expected PATTERN=VALUE with VALUE a number >= 0, e.g. accuracy.accuracy=0.01")
        tolerances[pattern.strip()] = number
    return tolerances


def _print_tracebacks(result: Any) -> None:
    """The kept traceback of each errored check, on stderr (``harness run -v``)."""
    for check in result.checks:
        if check.error and check.error.get("traceback"):
            click.echo(f"harness: {check.id} raised:\n{check.error['traceback']}", err=True)


def _print_summary(result: Any, folder: str) -> None:
    for check in result.checks:
        gated = "" if check.gated else " (not gated)"
        line = f"{check.status.upper():12} {check.id}{gated}"
        if check.message:
            line += f": {check.message}"
        click.echo(line)
    gated: dict[str, int] = {}
    for check in result.checks:
        if check.gated:
            gated[check.status] = gated.get(check.status, 0) + 1
    counts = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in gated.items()) or "no gated checks"
    coverage = result.coverage
    if coverage.informational:  # informational findings are counted apart from gate outcomes
        counts += f"; {coverage.informational} informational, {coverage.informational_findings} with findings"
    if result.comparison is not None:
        from harness.outputs.comparison import summary_sentence

        click.echo(f"comparison with the baseline: {summary_sentence(result.comparison)}")
    click.echo(f"coverage: {result.coverage.line}")
    click.echo(f"verdict: {result.verdict.upper()} ({counts}); outputs in {folder}")


@main.command()
@click.argument("results")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="HTML file to write (default: report.html beside RESULTS).")
@click.option("--pdf", "pdf", type=click.Path(dir_okay=False), help="Also print the report to this PDF with headless Chromium.")
@click.option("--language", type=click.Choice(LANGUAGES),
              help="Language of the report (default: the run's output.language, else en).")
def report(results: str, output: str | None, pdf: str | None, language: str | None) -> None:
    """Re-render the HTML report from a results.json alone (and optionally print it to PDF)."""

    def body() -> int:
        from pathlib import Path

        from harness.fileio import atomic_write_text
        from harness.plugin.manager import get_host
        from harness.outputs.html import render_html
        from harness.results.io import load_results

        path = Path(results)
        target = Path(output) if output else path.parent / "report.html"
        loaded = load_results(path)
        atomic_write_text(target, render_html(loaded, get_host(), language=language or run_language(loaded)))
        click.echo(str(target))
        if pdf:
            from harness.outputs.pdf import print_pdf

            print_pdf(target, Path(pdf))
            click.echo(pdf)
        return 0

    _guard(body)


@main.command()
@click.option("--all", "show_all", is_flag=True, help="Also list entry points the HARNESS_* switches kept out.")
@click.option("--hooks", "show_hooks", is_flag=True, help="Also list the hooks each plugin implements.")
def plugins(show_all: bool, show_hooks: bool) -> None:
    """List loaded plugins (built-in and external), versions, source and the checks each registers."""

    def body() -> int:
        from harness.plugin.manager import get_host

        host = get_host()
        for info in host.plugin_infos():
            kind = "built-in" if info.builtin else "external"
            click.echo(f"{info.name} {info.version or '(no version)'} [{kind}, {info.source}]")
            for check_id in info.checks:
                click.echo(f"    {check_id}")
            if show_hooks:
                click.echo(f"    hooks: {', '.join(info.hooks) or 'none'}")
        if show_all:
            for name, version, source, why in host.disabled:
                click.echo(f"{name} {version or '(no version)'} [disabled by {why}, {source}]")
        for failure in host.failures:
            click.echo(f"{failure.name} FAILED to load ({failure.stage}): {failure.error}")
        return 3 if host.failures else 0

    _guard(body)


@main.group()
def plugin() -> None:
    """Write your own plugin: ``harness plugin new NAME``."""


@plugin.command("new")
@click.argument("name")
@click.option("--dir", "parent", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Folder to create the package folder (harness-NAME) in.")
@click.option("--force", is_flag=True, help="Write into an existing, non-empty package folder.")
def plugin_new(name: str, parent: str, force: bool) -> None:
    """Create a pip-installable plugin package with one check, a report partial and tests."""

    def body() -> int:
        from pathlib import Path

        from harness.cli.scaffold import PluginNames, create_plugin

        target = create_plugin(name, Path(parent), force=force)
        names = PluginNames.from_name(name)
        click.echo(str(target))
        click.echo(f"next: pip install -e {target} && harness checks | grep {names.slug} && (cd {target} && pytest)")
        return 0

    _guard(body)


@main.group()
def docs() -> None:
    """Generate documentation from the code."""


@docs.command("hooks")
@click.option("--output", "-o", type=click.Path(dir_okay=False),
              help="Markdown file to write; an existing file keeps everything outside the reference markers.")
def docs_hooks(output: str | None) -> None:
    """The hook reference, from the docstrings in harness/plugin/hookspecs.py (stdout, or into --output)."""

    def body() -> int:
        from pathlib import Path

        from harness.cli.docs import render_reference, write_reference

        if output is None:
            click.echo(render_reference(), nl=False)
        else:
            click.echo(str(write_reference(Path(output))))
        return 0

    _guard(body)


@main.command()
@click.argument("baseline_results")
@click.argument("candidate_results")
@click.option("--tolerance", "tolerances", multiple=True, metavar="PATTERN=VALUE",
              help="Absolute tolerance for metrics matching PATTERN (check id or check.metric glob); repeatable.")
@click.option("--no-regression", "no_regression", multiple=True, metavar="PATTERN",
              help="Metrics that may not regress (glob over check id or check.metric); repeatable. "
                   "Default: the candidate's gate.no_regression, else every metric of a gated check.")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), help="Significance level (default 0.05).")
@click.option("--config", "config", type=click.Path(dir_okay=False), help="Take the gate policy from this audit config.")
@click.option("--force", is_flag=True, help="Compare even if schema versions or evaluation data differ.")
@click.option("--output", "-o", type=click.Path(file_okay=False), help="Write comparison.json, comparison.md and comparison-junit.xml here.")
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON instead of Markdown.")
def compare(baseline_results: str, candidate_results: str, tolerances: tuple[str, ...], no_regression: tuple[str, ...],
            alpha: float | None, config: str | None, force: bool, output: str | None, as_json: bool) -> None:
    """Compare CANDIDATE_RESULTS with BASELINE_RESULTS per check and metric, beyond noise.

    Exit codes: 0 no significant regression beyond tolerance, 1 a regression,
    2 bad input (missing or foreign file, different schema or data without --force).
    """

    def body() -> int:
        from pathlib import Path

        from harness.compare.engine import compare_runs, read_run
        from harness.fileio import atomic_write_text, dump_json
        from harness.outputs.junit import render_comparison_junit
        from harness.outputs.markdown import render_comparison_markdown

        overrides = {"tolerance": _parse_tolerances(tolerances), "no_regression": list(no_regression), "alpha": alpha}
        baseline = read_run(Path(baseline_results))
        candidate = read_run(Path(candidate_results))
        gate_policy: Any = None  # None: the gate the candidate recorded
        if config:
            from harness.config.settings import load_config

            gate_policy = load_config(config)[0].gate
        result = compare_runs(baseline, candidate, gate=gate_policy, overrides=overrides, force=force,
                              baseline_path=baseline_results, candidate_path=candidate_results)
        if output:
            folder = Path(output)
            atomic_write_text(folder / "comparison.json", dump_json(result.to_dict()))
            atomic_write_text(folder / "comparison.md", render_comparison_markdown(result))
            atomic_write_text(folder / "comparison-junit.xml", render_comparison_junit(result))
        click.echo(dump_json(result.to_dict()) if as_json else render_comparison_markdown(result), nl=False)
        return result.exit_code

    _guard(body)


@main.command()
def checks() -> None:
    """List every check id with its default thresholds and a one-line description."""

    def body() -> int:
        from harness.plugin.manager import get_host

        host = get_host()
        for check_id in host.registry.ids():
            registered = host.registry.get(check_id)
            assert registered is not None
            cls = registered.check_class
            thresholds = ", ".join(f"{metric} {bound.describe()}" for metric, bound in sorted(cls.default_thresholds.items())) or "no default threshold"
            summary = (cls.description or cls.title).strip().splitlines()[0]
            click.echo(f"{check_id}  [{thresholds}]  ({registered.plugin})")
            click.echo(f"    {summary}")
        for failure in host.failures:
            click.echo(f"plugin {failure.name} failed to load ({failure.stage}): {failure.error}", err=True)
        return 3 if host.failures else 0

    _guard(body)


@main.command()
@click.option("--output", "-o", "key_file", required=True, type=click.Path(dir_okay=False), help="Private key file to write (mode 0600); the public key goes to KEY.pub.")
@click.option("--force", is_flag=True, help="Overwrite existing key files.")
def keygen(key_file: str, force: bool) -> None:
    """Make an Ed25519 key pair for signing results (harness sign)."""

    def body() -> int:
        from pathlib import Path

        from harness.integrity.signing import generate_keypair, short_fingerprint

        private, public, fingerprint = generate_keypair(Path(key_file), force=force)
        click.echo(f"wrote {private} (private, keep it secret) and {public}; fingerprint {short_fingerprint(fingerprint)} ({fingerprint})")
        return 0

    _guard(body)


@main.command()
@click.argument("results")
@click.option("--key", "key_file", required=True, help="Ed25519 private key (from harness keygen, or an OpenSSH ed25519 key).")
def sign(results: str, key_file: str) -> None:
    """Sign a results.json (and the report it lists) in place with an Ed25519 key."""

    def body() -> int:
        from pathlib import Path

        from harness.integrity.signing import short_fingerprint, sign_results
        from harness.outputs.html import render_html
        from harness.plugin.manager import get_host

        outcome = sign_results(Path(results), Path(key_file),
                               render_report=lambda result: render_html(result, get_host(), language=run_language(result)))
        replaced = f"; replaced the signature by {short_fingerprint(outcome.replaced)}" if outcome.replaced else ""
        shown = "; report.html re-rendered with the signer" if outcome.report_rendered else ""
        click.echo(f"signed {results} with key {short_fingerprint(outcome.fingerprint)} ({outcome.files} output files listed{shown}{replaced})")
        return 0

    _guard(body)


@main.command()
@click.argument("paths", nargs=-1, metavar="RESULTS | [DATA...]")
@click.option("--pubkey", help="Require a signature by this public key (PEM from harness keygen, OpenSSH, or base64).")
@click.option("--attestation", type=click.Path(dir_okay=False),
              help="Verify this in-toto attestation (harness attest) instead of a results.json; needs --pubkey.")
@click.option("--model-dir", "model_dir", type=click.Path(file_okay=False),
              help="With --attestation: check that this model folder's files are the attested ones.")
def verify(paths: tuple[str, ...], pubkey: str | None, attestation: str | None, model_dir: str | None) -> None:
    """Check a results.json and every output file it lists against its manifest and signature.

    With --attestation FILE --pubkey KEY: check the attestation's signature and
    statement, and with --model-dir DIR and DATA paths (one data file, or
    SPLIT=FILE per split file) that the model and data at hand are the attested ones.

    Exit 0: intact (and validly signed, if signed); 1: something changed or the
    signature does not hold (the message says what); 2: bad input.
    """

    def body() -> int:
        from pathlib import Path

        from harness.integrity.signing import VerificationError, short_fingerprint, verify_results

        if attestation is not None:
            return _verify_attestation(attestation, pubkey, model_dir, paths)
        if model_dir is not None:
            raise UsageError("--model-dir goes with --attestation (a results.json lists its own files)")
        if len(paths) != 1:
            raise UsageError("harness verify: give one results.json (or --attestation FILE with optional data paths)")
        results = paths[0]
        try:
            outcome = verify_results(Path(results), Path(pubkey) if pubkey else None)
        except VerificationError as exc:
            click.echo(f"harness: verification FAILED: {exc}", err=True)
            return 1
        files = f"{outcome.files} file{'s' if outcome.files != 1 else ''} intact"
        if outcome.signed and outcome.fingerprint:
            click.echo(f"verified: signed by {short_fingerprint(outcome.fingerprint)}, results body and {files}")
        else:
            click.echo(f"verified: not signed; results body and {files} (they match the manifest, but without a signature anyone could have rewritten both)")
        return 0

    _guard(body)


def _verify_attestation(attestation: str, pubkey: str | None, model_dir: str | None, data_paths: tuple[str, ...]) -> int:
    from pathlib import Path

    from harness.integrity.attestation import verify_attestation
    from harness.integrity.signing import VerificationError, short_fingerprint

    if not pubkey:
        raise UsageError("--attestation needs --pubkey KEY: an attestation is only worth the key that signed it")
    try:
        checks = verify_attestation(Path(attestation), Path(pubkey), model_dir=Path(model_dir) if model_dir else None, data_paths=data_paths)
    except VerificationError as exc:
        click.echo(f"harness: attestation verification FAILED: {exc}", err=True)
        return 1
    for check in checks:
        against = []
        if check.model_files_checked:
            against.append(f"{check.model_files_checked} model files in {model_dir}")
        if check.data_splits_checked:
            against.append(f"{check.data_splits_checked} data splits of {', '.join(data_paths)}")
        matched = f"; matches {' and '.join(against)}" if against else "; subjects not compared with files (give --model-dir and data paths)"
        click.echo(f"verified: attestation signed by {short_fingerprint(check.fingerprint)}, verdict {str(check.verdict).upper()}, "
                   f"{check.subjects} subjects{matched}")
    return 0


@main.command()
@click.argument("results")
@click.option("--key", "key_file", required=True, help="Ed25519 private key (the one harness sign uses).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Attestation file to write (default: audit.intoto.jsonl beside RESULTS).")
@click.option("--model-dir", "model_dir", type=click.Path(file_okay=False),
              help="The audited model's folder, when the results folder holds no saved model (its weights must be the audited ones).")
def attest(results: str, key_file: str, output: str | None, model_dir: str | None) -> None:
    """Sign an in-toto attestation (DSSE envelope) of a results.json: model files and data splits as subjects.

    Needs the optional extra audit-harness[attest].
    """

    def body() -> int:
        from pathlib import Path

        from harness.integrity.attestation import attest_results
        from harness.integrity.signing import short_fingerprint

        outcome = attest_results(Path(results), Path(key_file), Path(output) if output else None, Path(model_dir) if model_dir else None)
        click.echo(f"wrote {outcome.path}: in-toto Statement v1 in a DSSE envelope signed by {short_fingerprint(outcome.fingerprint)}; "
                   f"subjects: {outcome.model_files} model files ({outcome.model_source}) and {outcome.data_splits} data splits")
        return 0

    _guard(body)


@main.group()
def export() -> None:
    """Publish the evidence where teams keep it: export model-card writes a Hugging Face model card."""


@export.command("model-card")
@click.argument("results")
@click.option("--model-dir", "model_dir", type=click.Path(file_okay=False), help="Write or update DIR/README.md, the card beside the weights.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write or update this card file instead.")
def export_model_card(results: str, model_dir: str | None, output: str | None) -> None:
    """Write or update a Hugging Face model card: model-index metrics and an Audit section; the card's other sections stay."""

    def body() -> int:
        from pathlib import Path

        from harness.outputs.model_card import export_model_card as export_card

        outcome = export_card(Path(results), model_dir=Path(model_dir) if model_dir else None, output=Path(output) if output else None)
        click.echo(f"{'updated' if outcome.updated else 'wrote'} {outcome.path}: {outcome.metrics} model-index metrics and the Audit section")
        return 0

    _guard(body)


if __name__ == "__main__":  # pragma: no cover
    main()
