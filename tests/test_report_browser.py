"""The HTML report in a real headless Chromium, and its PDF print.

The browser tests drive Debian's chromium over the DevTools protocol
(``tests/cdp.py``): the smoke run's ``report.html`` must load from ``file://``
with no request other than the page itself (``data:`` URLs allowed), no
console message, no exception and no error in the browser log; a full-page
screenshot is written under the test's tmp dir; and the rendered text
(``document.body.innerText``, read over CDP, which the page's CSP does not
block) shows the verdict, every section heading and every check id. The
page's CSP is also checked to really stop a script.

The PDF tests run ``harness report RESULTS --pdf`` and read the PDF back with
``pdftotext`` (poppler-utils): the verdict and every ``<h2>`` title of the
HTML must be in it. Without chromium or pdftotext those tests are skipped
(``make test`` installs both); the error paths of ``--pdf`` (no chromium, a
chromium that fails) run everywhere with stand-in executables.
"""

from __future__ import annotations

import os
import shutil
import stat
import struct
import subprocess
import time
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from cdp import HeadlessChromium, find_chromium
from conftest import SmokeRun, offline_env, run_cli

CHROMIUM = find_chromium()
PDFTOTEXT = shutil.which("pdftotext")

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make chromium / make test installs Debian's)")
needs_pdftotext = pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext is not installed (poppler-utils; make chromium installs it)")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def normalize(text: str) -> str:
    """Compare rendered text loosely: NFKC (ligatures), one space for any whitespace run, casefolded
    (CSS ``text-transform`` changes the case innerText and the PDF show)."""
    return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()


def squash(text: str) -> str:
    """``normalize`` without any whitespace or hyphen: pdftotext re-flows lines and joins words
    hyphenated at a line break ("2026-11-28" split after "11-" comes back as "2026-1128")."""
    return "".join(ch for ch in normalize(text) if not ch.isspace() and ch not in "-\u2010\u2011\u00ad")


class _H2Titles(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.titles: list[str] = []
        self._depth = 0
        self._parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "h2":
            self._depth += 1
            self._parts = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2" and self._depth:
            self._depth -= 1
            title = " ".join("".join(self._parts).split())
            if title:
                self.titles.append(title)

    def handle_data(self, data: str) -> None:
        if self._depth:
            self._parts.append(data)


def h2_titles(html: str) -> list[str]:
    parser = _H2Titles()
    parser.feed(html)
    parser.close()
    return parser.titles


# -- the page in a browser, over CDP ------------------------------------------------------------


@dataclass
class Rendered:
    """What one headless Chromium saw of the smoke run's report."""

    url: str
    html: str
    seconds: float
    requests: list[dict[str, Any]]
    console: list[dict[str, Any]]
    exceptions: list[dict[str, Any]]
    log: list[dict[str, Any]]
    inner_text: str
    screenshot: Path
    css_size: tuple[int, int]
    csp: str | None
    csp_probe: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="module")
def rendered(smoke_run: SmokeRun, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (make chromium / make test installs Debian's)")
    page = smoke_run.output / "report.html"
    folder = tmp_path_factory.mktemp("browser")
    started = time.monotonic()
    with HeadlessChromium(CHROMIUM, window=(1280, 900), timeout=30) as browser:
        browser.open(page.as_uri(), timeout=60)
        browser.settle(0.5)  # late console messages or stray requests after the load event
        recorded = len(browser.events)
        events = browser.events[:recorded]
        inner_text = browser.evaluate("document.body.innerText")
        csp = browser.evaluate(
            "(document.querySelector('meta[http-equiv=\"Content-Security-Policy\" i]') || {}).content || null"
        )
        shot = folder / "report.png"
        css_size = browser.screenshot(shot)
        # Last, and outside what the other checks look at: a script added to the page must not run.
        probe_from = len(browser.events)
        ran = browser.evaluate(
            "(() => { const s = document.createElement('script');"
            " s.textContent = 'document.documentElement.dataset.cspProbe = \"ran\"';"
            " document.body.appendChild(s); return document.documentElement.dataset.cspProbe || null; })()"
        )
        browser.settle(0.3)
        probe_log = [e["entry"] for e in browser.of("Log.entryAdded", probe_from)]
        probe_console = browser.of("Runtime.consoleAPICalled", probe_from)
    seconds = time.monotonic() - started

    def of(method: str) -> list[dict[str, Any]]:
        return [e.get("params", {}) for e in events if e["method"] == method]

    return Rendered(
        url=page.as_uri(),
        html=page.read_text(encoding="utf-8"),
        seconds=seconds,
        requests=of("Network.requestWillBeSent"),
        console=of("Runtime.consoleAPICalled"),
        exceptions=of("Runtime.exceptionThrown"),
        log=[e["entry"] for e in of("Log.entryAdded")],
        inner_text=inner_text or "",
        screenshot=shot,
        css_size=css_size,
        csp=csp,
        csp_probe={"ran": ran, "log": probe_log, "console": probe_console},
    )


@needs_chromium
def test_report_loads_nothing_but_itself(rendered: Rendered) -> None:
    urls = [r["request"]["url"] for r in rendered.requests]
    assert rendered.url in urls, f"the page's own request was not seen: {urls}"
    others = [u for u in urls if u != rendered.url and not u.startswith("data:")]
    assert others == [], f"the report made requests besides itself: {others}"


@needs_chromium
def test_report_has_no_console_message_exception_or_log_error(rendered: Rendered) -> None:
    # The page has no script, so any console call at all would be a bug.
    console = [(c.get("type"), [a.get("value", a.get("description")) for a in c.get("args", [])]) for c in rendered.console]
    assert console == [], f"console messages: {console}"
    exceptions = [e.get("exceptionDetails", {}).get("text") for e in rendered.exceptions]
    assert exceptions == [], f"exceptions: {exceptions}"
    errors = [(e.get("source"), e.get("text"), e.get("url")) for e in rendered.log if e.get("level") == "error"]
    assert errors == [], f"browser log errors: {errors}"


@needs_chromium
def test_report_text_shows_verdict_sections_and_check_ids(rendered: Rendered, smoke_run: SmokeRun) -> None:
    text = normalize(rendered.inner_text)
    assert "verdict:" in text, rendered.inner_text[:2000]
    verdict = smoke_run.results["verdict"]
    assert normalize(f"Verdict: {verdict}") in text, rendered.inner_text[:2000]
    assert verdict == "pass", "the smoke run is expected to pass"
    assert "accuracy.accuracy" in text
    for check in smoke_run.results["checks"]:
        assert check["id"] in text, f"check id {check['id']} is not shown on the page"
    titles = h2_titles(rendered.html)
    assert titles, "the report has no <h2> sections"
    assert any("provenance" in t.lower() for t in titles), f"no provenance section among {titles}"
    missing = [t for t in titles if normalize(t) not in text]
    assert missing == [], f"section titles not rendered: {missing}"


@needs_chromium
def test_report_csp_is_in_force_and_blocks_scripts(rendered: Rendered) -> None:
    assert rendered.csp, "the page has no Content-Security-Policy meta tag"
    assert "script-src 'none'" in rendered.csp or "default-src 'none'" in rendered.csp, rendered.csp
    # Runtime.evaluate itself ran (that is how the probe was added), but the page's own script did not.
    assert rendered.csp_probe["ran"] is None, "a script inserted into the page ran despite the CSP"
    violations = [e.get("text", "") for e in rendered.csp_probe["log"] + rendered.csp_probe["console"] if isinstance(e, dict)]
    assert any("Content Security Policy" in v for v in violations), f"no CSP violation reported: {violations}"


@needs_chromium
def test_report_full_page_screenshot(rendered: Rendered) -> None:
    data = rendered.screenshot.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    css_width, css_height = rendered.css_size
    assert (width, height) == (css_width, css_height), f"PNG {width}x{height}, page {css_width}x{css_height}"
    assert width >= 600 and height > 900, f"not a full-page shot: {width}x{height}"
    assert 20_000 < len(data) < 40_000_000, f"{len(data)} bytes"


# -- the PDF --------------------------------------------------------------------------------------


@needs_chromium
@needs_pdftotext
def test_report_prints_to_pdf_with_every_section(smoke_run: SmokeRun, tmp_path: Path) -> None:
    html, pdf = tmp_path / "x.html", tmp_path / "x.pdf"
    started = time.monotonic()
    cli = run_cli("report", str(smoke_run.output / "results.json"), "-o", str(html), "--pdf", str(pdf), cwd=tmp_path, timeout=240)
    seconds = time.monotonic() - started
    assert cli.returncode == 0, cli.stderr + cli.stdout
    assert cli.stdout.split() == [str(html), str(pdf)]
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.html", "x.pdf"], "a temporary file was left behind"
    done = subprocess.run([PDFTOTEXT, "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    text = squash(done.stdout)
    verdict = smoke_run.results["verdict"]
    assert squash(f"Verdict: {verdict}") in text, done.stdout[:2000]
    titles = h2_titles(html.read_text(encoding="utf-8"))
    assert titles, "the report has no <h2> sections"
    missing = [t for t in titles if squash(t) not in text]
    assert missing == [], f"sections missing from the PDF: {missing}\n--- PDF text ---\n{done.stdout[:3000]}"
    assert seconds < 120, f"harness report --pdf took {seconds:.0f} s"


def _stand_in(folder: Path, name: str, script: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n" + script, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def test_pdf_without_chromium_is_a_usage_error(smoke_run: SmokeRun, tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    cli = run_cli(
        "report", str(smoke_run.output / "results.json"), "-o", str(tmp_path / "x.html"), "--pdf", str(tmp_path / "x.pdf"),
        cwd=tmp_path, env=offline_env(PATH=str(empty)),
    )
    assert cli.returncode == 2, cli.stderr + cli.stdout
    lines = cli.stderr.strip().splitlines()
    assert len(lines) == 1 and "chromium is needed for --pdf" in lines[0] and "apt-get install chromium" in lines[0], cli.stderr
    assert "Traceback" not in cli.stderr
    assert not (tmp_path / "x.pdf").exists()


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        (
            "echo '[1:2:0101/000000.1:ERROR:dbus/bus.cc:405] Failed to connect to the bus: nope' >&2\n"
            "echo '[1:2:0101/000000.2:ERROR:headless_command_handler.cc:266] Failed to write file x: Permission denied (13)' >&2\n"
            "exit 0\n",
            "chromium wrote no PDF: Failed to write file x: Permission denied (13)",
        ),
        ("echo 'chromium: cannot open display' >&2\nexit 1\n", "chromium exited 1: chromium: cannot open display"),
        ("for a; do case $a in --print-to-pdf=*) : > \"${a#--print-to-pdf=}\";; esac; done\n", "chromium wrote no PDF"),
        ("for a; do case $a in --print-to-pdf=*) echo hello > \"${a#--print-to-pdf=}\";; esac; done\n", "not a PDF"),
    ],
    ids=["no-file", "exit-1", "empty-file", "not-a-pdf"],
)
def test_pdf_chromium_failures_are_usage_errors(script: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.errors import UsageError
    from harness.outputs.pdf import print_pdf

    _stand_in(tmp_path / "bin", "chromium", script)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin")
    html = tmp_path / "page.html"
    html.write_text("<!doctype html><title>t</title><p>hi</p>", encoding="utf-8")
    target = tmp_path / "out" / "x.pdf"
    target.parent.mkdir()
    target.write_bytes(b"%PDF-old")
    with pytest.raises(UsageError) as caught:
        print_pdf(html, target)
    message = str(caught.value)
    assert expected in message and "\n" not in message, message
    assert target.read_bytes() == b"%PDF-old", "a failed print replaced the old PDF"
    assert [p.name for p in target.parent.iterdir()] == ["x.pdf"], "a temporary file was left behind"


@needs_chromium
def test_print_pdf_directly_writes_a_pdf(tmp_path: Path) -> None:
    from harness.outputs.pdf import print_pdf

    html = tmp_path / "page.html"
    html.write_text("<!doctype html><meta charset=utf-8><title>t</title><h2>Only section</h2><p>Verdict: PASS</p>", encoding="utf-8")
    target = tmp_path / "deep" / "x.pdf"
    print_pdf(html, target)
    assert target.read_bytes()[:5] == b"%PDF-"
    assert [p.name for p in target.parent.iterdir()] == ["x.pdf"]
    if PDFTOTEXT:
        text = subprocess.run([PDFTOTEXT, "-enc", "UTF-8", str(target), "-"], capture_output=True, text=True, timeout=60).stdout
        assert "Only section" in text and "Verdict: PASS" in text


def test_pdf_hung_chromium_is_killed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import harness.outputs.pdf
    from harness.errors import UsageError

    marker = tmp_path / "child.pid"
    # A "chromium" whose helper process hangs: the whole process group must go.
    _stand_in(tmp_path / "bin", "chromium", f"sleep 300 &\necho $! > {marker}\nwait\n")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin")
    monkeypatch.setattr(harness.outputs.pdf, "TIMEOUT_S", 1.0)
    html = tmp_path / "page.html"
    html.write_text("<p>hi</p>", encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(UsageError, match="did not finish within 1 s"):
        harness.outputs.pdf.print_pdf(html, tmp_path / "x.pdf")
    assert time.monotonic() - started < 30
    child = int(marker.read_text())
    for _ in range(50):
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        if Path(f"/proc/{child}/stat").exists() and Path(f"/proc/{child}/stat").read_text().split(")")[-1].split()[0] == "Z":
            break  # killed, waiting to be reaped by its new parent
        time.sleep(0.1)
    else:
        os.kill(child, 9)
        pytest.fail("the hung chromium's child process was left running")
    assert not (tmp_path / "x.pdf").exists()
