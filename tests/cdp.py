"""A tiny Chrome DevTools Protocol client for the browser tests.

``HeadlessChromium`` starts Debian's chromium headless and offline with a fresh
profile and ``--remote-debugging-port=0``, reads the ``DevTools listening on
ws://...`` line from its stderr, opens a page target over the browser's
websocket (flat sessions) and records every event it receives, so a test can
navigate, wait for ``Page.loadEventFired`` and then look at what happened.

Every wait has a deadline and the browser's whole process group is killed on
exit, so a broken chromium fails the test instead of hanging it.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import websocket  # websocket-client

#: Offline, headless, no first-run or sync machinery (the profile is added per start).
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
)

_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


class CdpError(RuntimeError):
    """A CDP command failed, timed out or the browser went away."""


class HeadlessChromium:
    """One headless chromium with one page, driven over CDP. Use as a context manager."""

    def __init__(self, executable: str, *, window: tuple[int, int] = (1280, 900), timeout: float = 30.0) -> None:
        self.executable = executable
        self.window = window
        self.timeout = timeout
        self.events: list[dict[str, Any]] = []
        self.stderr_lines: list[str] = []
        self._proc: subprocess.Popen[str] | None = None
        self._profile: tempfile.TemporaryDirectory[str] | None = None
        self._ws: websocket.WebSocket | None = None
        self._next_id = 0
        self._session: str | None = None
        self._ws_url: str | None = None
        self._ws_found = threading.Event()

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> HeadlessChromium:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        self._profile = tempfile.TemporaryDirectory(prefix="cdp-profile-")
        width, height = self.window
        argv = [
            self.executable,
            *FLAGS,
            f"--user-data-dir={self._profile.name}",
            f"--window-size={width},{height}",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "about:blank",
        ]
        self._proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=True,  # its own process group: close() ends the helpers too
        )
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        if not self._ws_found.wait(self.timeout) or self._ws_url is None:
            raise CdpError(f"chromium printed no 'DevTools listening on' line within {self.timeout:.0f} s: {self.stderr_tail()}")
        self._ws = websocket.create_connection(self._ws_url, timeout=self.timeout, suppress_origin=True)
        target = self.send("Target.createTarget", {"url": "about:blank"}, browser=True)["targetId"]
        self._session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True}, browser=True)["sessionId"]

    def close(self) -> None:
        if self._ws is not None:
            try:
                self._ws.close(timeout=2)
            except Exception:
                pass
            self._ws = None
        if self._proc is not None:
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self._proc.kill()
            except ProcessLookupError:
                pass
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            self._proc = None
        if self._profile is not None:
            self._profile.cleanup()
            self._profile = None

    def _drain_stderr(self) -> None:
        proc = self._proc
        assert proc is not None and proc.stderr is not None
        for line in proc.stderr:
            self.stderr_lines.append(line.rstrip("\n"))
            if self._ws_url is None:
                found = _LISTENING.search(line)
                if found:
                    self._ws_url = found.group(1)
                    self._ws_found.set()
        self._ws_found.set()  # chromium exited: stop waiting for the line

    def stderr_tail(self, lines: int = 15) -> str:
        useful = [line for line in self.stderr_lines if "dbus" not in line and "org.freedesktop" not in line]
        return "\n".join(useful[-lines:]) or "(no stderr)"

    # -- protocol ----------------------------------------------------------------------------

    def _receive(self, deadline: float) -> dict[str, Any]:
        assert self._ws is not None
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        self._ws.settimeout(remaining)
        try:
            raw = self._ws.recv()
        except websocket.WebSocketTimeoutException:
            raise TimeoutError from None
        except (websocket.WebSocketConnectionClosedException, OSError) as exc:
            raise CdpError(f"the DevTools connection closed: {exc}; {self.stderr_tail()}") from None
        message = json.loads(raw)
        if "method" in message:
            self.events.append(message)
        return message

    def send(self, method: str, params: dict[str, Any] | None = None, *, browser: bool = False, timeout: float | None = None) -> dict[str, Any]:
        """Send one command (to the page session unless ``browser``) and return its result."""
        if self._ws is None:
            raise CdpError("not connected")
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if not browser:
            message["sessionId"] = self._session
        self._ws.send(json.dumps(message))
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            try:
                reply = self._receive(deadline)
            except TimeoutError:
                raise CdpError(f"{method}: no reply within {timeout or self.timeout:.0f} s") from None
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise CdpError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def wait_for(self, method: str, *, timeout: float | None = None) -> dict[str, Any]:
        """Wait for the next event ``method`` that was not seen before this call; return its params."""
        seen = len(self.events)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            for event in self.events[seen:]:
                if event["method"] == method:
                    return event.get("params", {})
            seen = len(self.events)
            try:
                self._receive(deadline)
            except TimeoutError:
                raise CdpError(f"no {method} event within {timeout or self.timeout:.0f} s") from None

    def settle(self, seconds: float) -> None:
        """Keep recording events for ``seconds`` (late console messages, stray requests)."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                self._receive(deadline)
            except TimeoutError:
                return

    def of(self, method: str, since: int = 0) -> list[dict[str, Any]]:
        """The params of every recorded ``method`` event (from index ``since``)."""
        return [event.get("params", {}) for event in self.events[since:] if event["method"] == method]

    # -- page helpers ------------------------------------------------------------------------

    def open(self, url: str, *, timeout: float | None = None) -> None:
        """Enable the domains the tests watch, navigate to ``url`` and wait for its load event."""
        for domain in ("Network", "Log", "Runtime", "Page"):
            self.send(f"{domain}.enable")
        self.events.clear()
        started = self.send("Page.navigate", {"url": url})
        if started.get("errorText"):
            raise CdpError(f"navigation to {url} failed: {started['errorText']}")
        self.wait_for("Page.loadEventFired", timeout=timeout)

    def evaluate(self, expression: str) -> Any:
        """Evaluate ``expression`` in the page (CDP evaluation is not subject to the page's CSP)."""
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise CdpError(f"evaluating {expression!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path, *, max_height: int = 16_000) -> tuple[int, int]:
        """Write a full-page PNG to ``path``; return its CSS size (width, height)."""
        metrics = self.send("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        width, height = int(size["width"]), min(int(size["height"]), max_height)
        shot = self.send(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True, "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}},
            timeout=max(self.timeout, 60),
        )
        path.write_bytes(base64.b64decode(shot["data"]))
        return width, height
