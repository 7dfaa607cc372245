"""Small things the test modules share."""

import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FAKE_BACKEND = "tests.support.fake_backends.make_backend"

# Debian's Chromium, as root, on a machine whose network reaches only package registries
# (see shared/ENVIRONMENT.md): without these flags it keeps dialling Google's hosts.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.05):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"Timed out after {timeout}s waiting for {predicate}")
