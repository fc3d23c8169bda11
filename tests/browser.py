"""Shared helpers for the tests that drive a real browser.

``chromium()`` starts the browser, ``serve()`` a loopback HTTP server for a
folder, and ``OfflineWatch`` blocks and records every request a page makes to
another host, along with console errors and failed requests.

The browser is Debian's ``chromium`` package (``/usr/bin/chromium``), driven
through Playwright's Python API.  Playwright's own browser downloads are never
used, so nothing is fetched at test time.  ``.ci/run`` installs chromium; on a
developer machine without it the browser tests are skipped, but on CI (where
the ``CI`` environment variable is set) a missing browser is a failure, so the
browser tests can never silently stop running there.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Flags for a headless browser in a container: no setuid sandbox (we are often
# root), no GPU, and no background traffic to Google's services.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
]


def missing(message: str) -> NoReturn:
    """Skip the test for lack of a tool, except on CI (``$CI`` set), where that is a failure."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def chromium_path() -> str:
    """Return the system Chromium, or skip (locally) / fail (on CI) without one."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    missing("Chromium is not installed (Debian: apt-get install chromium); .ci/run installs it")


def free_port() -> int:
    """A TCP port on the loopback interface that nobody is listening on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium ``Browser`` (Playwright), closed on exit."""
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - part of the dev extra
        missing("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def artifacts_dir() -> Path:
    """Where browser tests leave screenshots: ``$COURSE_TEST_ARTIFACTS`` or ``test-artifacts/``."""
    path = Path(os.environ.get("COURSE_TEST_ARTIFACTS", ROOT / "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def is_blank_png(png_path: Path) -> bool:
    """True when a screenshot is one flat colour (nothing rendered)."""
    import matplotlib.image

    pixels = matplotlib.image.imread(png_path)
    return float(pixels[..., :3].std()) < 1e-3


# TeX in markdown: $$x$$ and $x$ (not "$ make", "costs $5 and $6" or anything in `code`).
_TEX = re.compile(r"\$\$.+?\$\$|(?<![\\$\w])\$(?=\S)[^$\n]+?(?<=\S)\$(?!\w)", re.DOTALL)
_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)


def tex_formulas(markdown: str) -> int:
    """How many formulas MathJax should typeset in a markdown text (one per $...$ or $$...$$)."""
    return len(_TEX.findall(_CODE.sub("", markdown)))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # no access log on stderr
        pass


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` over HTTP on 127.0.0.1 from a thread; yields the base URL (ending in /)."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


class OfflineWatch:
    """Block every request of a page to a host other than loopback, and record what went wrong.

    ``blocked`` lists the URLs the page tried to reach on other hosts; ``errors``
    the console errors, uncaught exceptions, failed requests and HTTP errors.
    ``take()`` returns both and starts afresh (call it after each page).
    """

    def __init__(self, page) -> None:
        self.blocked: list[str] = []
        self.errors: list[str] = []
        page.route("**/*", self._route)
        page.on("console", self._console)
        page.on("pageerror", self._uncaught)
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _route(self, route) -> None:
        url = urlsplit(route.request.url)
        if url.scheme in ("http", "https") and url.hostname not in LOOPBACK_HOSTS:
            self.blocked.append(route.request.url)
            route.abort("blockedbyclient")
        else:
            route.continue_()

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"console error: {message.text}")

    def _uncaught(self, error) -> None:
        self.errors.append(f"uncaught exception: {error}")

    def _failed(self, request) -> None:
        # ERR_ABORTED is a request the page cancelled itself, e.g. an <img> whose src
        # JupyterLab's Markdown renderer rewrote while it loaded; a missing resource
        # answers 404 instead, which _response records.
        if request.failure == "net::ERR_ABORTED":
            return
        if request.url not in self.blocked:
            self.errors.append(f"request failed ({request.failure}): {request.url}")

    def _response(self, response) -> None:
        if response.status >= 400:
            self.errors.append(f"HTTP {response.status}: {response.url}")

    def take(self) -> tuple[list[str], list[str]]:
        found = self.blocked[:], self.errors[:]
        self.blocked.clear()
        self.errors.clear()
        return found
