"""Running a command body the way every ``harness`` command does: errors become exit codes.

Public (``harness.run_command``): a plugin's own command (``harness_register_commands``)
calls it so its errors read like the core's:

- a :class:`harness.UsageError` (or ``ConfigError``, ``DataError``...) prints
  ``harness: error: <message>`` on one line and exits 2;
- Ctrl-C exits 130 with a note that results.json keeps what finished; a closed
  pipe (``harness checks | head``) exits 141 quietly;
- anything else is a bug or an environment failure: one line naming the
  exception and exit 3; with ``HARNESS_DEBUG=1`` the traceback is raised instead.

The body returns the exit code (0 pass, 1 gate failed).
"""

from __future__ import annotations

import os
import sys
from typing import Callable, NoReturn

import click

from harness.errors import UsageError


def fail_usage(message: str) -> NoReturn:
    """Print ``harness: error: <message>`` as one line on stderr and exit 2."""
    flat = " ".join(message.split())  # one line, whatever the message held
    click.echo(f"harness: error: {flat}", err=True)
    sys.exit(2)


def run_command(body: Callable[[], int]) -> NoReturn:
    """Run ``body`` and exit with its code, turning harness errors into exit codes and one-line messages."""
    try:
        code = body()
    except UsageError as exc:
        fail_usage(str(exc))
    except KeyboardInterrupt:
        click.echo("harness: interrupted; results.json keeps the checks finished so far (use --resume)", err=True)
        sys.exit(130)
    except BrokenPipeError:  # the reader went away (`harness checks | head`): stop quietly, as a shell tool does
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(141)
    except Exception as exc:  # a bug or an environment failure outside any check
        if os.environ.get("HARNESS_DEBUG"):
            raise
        click.echo(f"harness: internal error: {type(exc).__name__}: {exc} (set HARNESS_DEBUG=1 for the traceback)", err=True)
        sys.exit(3)
    sys.exit(code)
