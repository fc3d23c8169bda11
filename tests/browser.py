"""Shared helpers for the tests that drive a real browser.

The browser is Debian's ``chromium`` package (``/usr/bin/chromium``), driven
through Playwright's Python API.  Playwright's own browser downloads are never
used, so nothing is fetched at test time.  ``.ci/run`` installs chromium; on a
developer machine without it the browser tests are skipped, but on CI (where
the ``CI`` environment variable is set) a missing browser is a failure, so the
browser tests can never silently stop running there.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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


def chromium_path() -> str:
    """Return the system Chromium, or skip (locally) / fail (on CI) without one."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    message = "Chromium is not installed (Debian: apt-get install chromium); .ci/run installs it"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


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
        if os.environ.get("CI"):
            pytest.fail("playwright is not installed; it is part of the dev extra")
        pytest.skip("playwright is not installed (pip install -e '.[dev]')")
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
