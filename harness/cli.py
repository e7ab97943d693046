"""The ``harness`` command line (click).

Imports nothing heavy at module level: ``harness --help`` and ``harness
checks`` must start fast and never load torch or transformers. Every command
maps errors to the exit codes of DESIGN.md: 0 pass, 1 gate failed, 2 bad
input (one line, no traceback), 3 a check or plugin errored.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable

import click

from harness.errors import UsageError


def _fail_usage(message: str) -> None:
    flat = " ".join(message.split())  # one line, whatever the message held
    click.echo(f"harness: error: {flat}", err=True)
    sys.exit(2)


def _guard(function: Callable[[], int]) -> None:
    """Run a command body, turning harness errors into exit codes and one-line messages."""
    try:
        code = function()
    except UsageError as exc:
        _fail_usage(str(exc))
    except KeyboardInterrupt:
        click.echo("harness: interrupted; results.json keeps the checks finished so far (use --resume)", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug or an environment failure outside any check
        if os.environ.get("HARNESS_DEBUG"):
            raise
        click.echo(f"harness: internal error: {type(exc).__name__}: {exc} (set HARNESS_DEBUG=1 for the traceback)", err=True)
        sys.exit(3)
    sys.exit(code)


class HarnessGroup(click.Group):
    """Adds plugin commands (``harness_register_commands``) on first use, not at import."""

    _plugins_loaded = False

    def _load_plugin_commands(self) -> None:
        if HarnessGroup._plugins_loaded:
            return
        HarnessGroup._plugins_loaded = True
        from harness.plugins import get_host

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
def run(config: str | None, suite: str | None, output: str | None, seed: int | None, resume: bool, device: str | None,
        formats: tuple[str, ...], quiet: bool) -> None:
    """Run an audit. With no CONFIG: the default suite on the built-in model and data."""

    def body() -> int:
        from harness.config import load_config
        from harness.runner import Run, _apply_overrides

        parsed, source, base_dir = load_config(config)
        parsed = _apply_overrides(parsed, output=output, seed=seed, device=device, formats=formats or None)
        result = Run(parsed, source=source, base_dir=base_dir, suite=suite, resume=resume, quiet=quiet).execute()
        _print_summary(result, parsed.output.dir)
        return result.exit_code

    _guard(body)


def _print_summary(result: Any, folder: str) -> None:
    for check in result.checks:
        gated = "" if check.gated else " (not gated)"
        line = f"{check.status.upper():8} {check.id}{gated}"
        if check.message:
            line += f": {check.message}"
        click.echo(line)
    counts = ", ".join(f"{n} {s}" for s, n in result.counts.items() if n)
    click.echo(f"verdict: {result.verdict.upper()} ({counts}); outputs in {folder}")


@main.command()
@click.argument("results")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="HTML file to write (default: report.html beside RESULTS).")
@click.option("--pdf", "pdf", type=click.Path(dir_okay=False), help="Also print the report to this PDF with headless Chromium.")
def report(results: str, output: str | None, pdf: str | None) -> None:
    """Re-render the HTML report from a results.json alone (and optionally print it to PDF)."""

    def body() -> int:
        from pathlib import Path

        from harness.fileio import atomic_write_text
        from harness.plugins import get_host
        from harness.report import load_results, render_html

        path = Path(results)
        target = Path(output) if output else path.parent / "report.html"
        atomic_write_text(target, render_html(load_results(path), get_host()))
        click.echo(str(target))
        if pdf:
            from harness.pdf import print_pdf

            print_pdf(target, Path(pdf))
            click.echo(pdf)
        return 0

    _guard(body)


@main.command()
def plugins() -> None:
    """List loaded plugins, their versions and the checks each registers."""

    def body() -> int:
        from harness.plugins import get_host

        host = get_host()
        for info in host.plugin_infos():
            kind = "built-in" if info.builtin else "external"
            click.echo(f"{info.name} {info.version or '(no version)'} [{kind}, {info.source}]")
            for check_id in info.checks:
                click.echo(f"    {check_id}")
        for failure in host.failures:
            click.echo(f"{failure.name} FAILED to load ({failure.stage}): {failure.error}")
        return 3 if host.failures else 0

    _guard(body)


@main.command()
def checks() -> None:
    """List every check id with its default thresholds and a one-line description."""

    def body() -> int:
        from harness.plugins import get_host

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


if __name__ == "__main__":  # pragma: no cover
    main()
