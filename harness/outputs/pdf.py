"""Print the HTML report to PDF with headless Chromium.

The report is self-contained (no scripts, no network), so a plain
``chromium --headless --print-to-pdf`` of its ``file://`` URL is all it takes.
Chromium runs with a fresh throw-away profile and without any background
networking, under a timeout, and its whole process group is killed if it
overruns. The PDF is printed to a temporary file beside the target and then
``os.replace``-d over it, so a reader never sees half a PDF.

Chromium exits 0 even when the page fails to load or the PDF cannot be
written, so success is judged by the file it leaves: present, non-empty and
starting with ``%PDF``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from harness.errors import UsageError

#: Seconds Chromium may take to print one report.
TIMEOUT_S = 120.0

#: Headless, offline, no first-run or sync machinery; the profile dir is added per run.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-pdf-header-footer",
)

INSTALL_HINT = "chromium is needed for --pdf; install it (Debian: apt-get install chromium)"

# "[19213:19239:1128/231929.439562:ERROR:path/file.cc:266] message" -> "message"
_LOG_PREFIX = re.compile(r"^\[[^\]]*:(?:ERROR|FATAL|WARNING|INFO|VERBOSE\d*)(?::[^\]]*)?\]\s*")
# Lines every headless run prints in a container, which never explain a failure.
_NOISE = (
    "dbus",
    "Failed to connect to the bus",
    "org.freedesktop",
    "unexpected operator",  # Debian's wrapper script on some /proc/meminfo layouts
    "bytes written to file",
    "DevTools listening on",
    "Fontconfig",
    "gpu_init",
    "viz_main",
)


def find_chromium() -> str | None:
    """The Chromium (or Chrome) executable on PATH, if any."""
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _useful_line(stderr: str) -> str:
    """The first stderr line that says something about this run, without its log prefix."""
    lines = [_LOG_PREFIX.sub("", line).strip() for line in stderr.splitlines()]
    lines = [line for line in lines if line]
    for line in lines:
        if not any(noise in line for noise in _NOISE):
            return line
    return lines[-1] if lines else "no output"


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """End Chromium and the helper processes it started (its own process group)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.kill()
    except ProcessLookupError:
        pass


def print_pdf(html: Path, pdf: Path) -> None:
    """Print ``html`` to ``pdf`` with headless Chromium; raise ``UsageError`` on any failure."""
    chromium = find_chromium()
    if chromium is None:
        raise UsageError(f"cannot print {pdf}: {INSTALL_HINT}")
    html = Path(html).resolve()
    if not html.is_file():
        raise UsageError(f"cannot print {pdf}: {html} is not a file")
    pdf = Path(pdf).absolute()
    try:
        pdf.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{pdf.name}.", suffix=".tmp.pdf", dir=pdf.parent)
    except OSError as exc:
        raise UsageError(f"cannot write {pdf}: {exc.strerror or exc}") from None
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # Chromium writes the file itself; an empty leftover must not pass for its output
    try:
        with tempfile.TemporaryDirectory(prefix="harness-chromium-") as profile:
            argv = [chromium, *FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={tmp}", html.as_uri()]
            try:
                proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    start_new_session=True,
                )
            except OSError as exc:
                raise UsageError(f"cannot print {pdf}: cannot start {chromium}: {exc.strerror or exc}") from None
            try:
                out, err = proc.communicate(timeout=TIMEOUT_S)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                proc.communicate()
                raise UsageError(f"cannot print {pdf}: chromium did not finish within {TIMEOUT_S:.0f} s") from None
            finally:
                if proc.poll() is None:
                    _kill_group(proc)
                    proc.wait()
            # Helpers (zygote, GPU, renderer) may outlive the browser for a moment: end them
            # before the profile folder is removed.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        stderr = (err or b"").decode("utf-8", "replace") + (out or b"").decode("utf-8", "replace")
        if proc.returncode != 0:
            raise UsageError(f"cannot print {pdf}: chromium exited {proc.returncode}: {_useful_line(stderr)}")
        if not tmp.is_file() or tmp.stat().st_size == 0:
            raise UsageError(f"cannot print {pdf}: chromium wrote no PDF: {_useful_line(stderr)}")
        with tmp.open("rb") as handle:
            if handle.read(5) != b"%PDF-":
                raise UsageError(f"cannot print {pdf}: chromium's output is not a PDF: {_useful_line(stderr)}")
        try:
            os.replace(tmp, pdf)
        except OSError as exc:
            raise UsageError(f"cannot write {pdf}: {exc.strerror or exc}") from None
    finally:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
