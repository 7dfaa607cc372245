"""Small things the test modules share."""

import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FAKE_BACKEND = "tests.fake_backends.make_backend"


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.05):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"Timed out after {timeout}s waiting for {predicate}")
