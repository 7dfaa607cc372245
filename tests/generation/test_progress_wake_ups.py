"""A worker's progress wake-ups: the first goes at once, a burst becomes one more."""

import threading
import time

import pytest

from generation import notify


class RecordingLayer:
    """Stands in for Redis: records when each wake-up was sent, to which group."""

    def __init__(self) -> None:
        self.sent: list[tuple[float, str]] = []
        self.lock = threading.Lock()

    async def group_send(self, group: str, message: dict) -> None:
        with self.lock:
            self.sent.append((time.monotonic(), group))


@pytest.fixture
def layer(monkeypatch):  # type: ignore[no-untyped-def]
    recording = RecordingLayer()
    monkeypatch.setattr(notify, "get_channel_layer", lambda: recording)
    return recording


def wait_for_sends(layer: RecordingLayer, count: int, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while len(layer.sent) < count and time.monotonic() < deadline:
        time.sleep(0.005)


def test_it_sends_the_first_wake_up_at_once(layer):
    sender = notify.Sender()
    woken = time.monotonic()
    sender.wake(7)
    wait_for_sends(layer, 1)

    assert [group for _, group in layer.sent] == ["project-7"]
    # No waiting for a burst that may never come: only the thread hop.
    assert layer.sent[0][0] - woken < notify.COALESCE_SECONDS


def test_it_merges_a_burst_into_one_more_wake_up(layer):
    sender = notify.Sender()
    sender.wake(7)
    wait_for_sends(layer, 1)
    for _ in range(50):
        sender.wake(7)
    wait_for_sends(layer, 2)
    time.sleep(3 * notify.COALESCE_SECONDS)

    assert len(layer.sent) == 2
    first, second = (at for at, _ in layer.sent)
    assert second - first >= notify.COALESCE_SECONDS * 0.9


def test_it_keeps_projects_apart(layer):
    sender = notify.Sender()
    sender.wake(1)
    sender.wake(2)
    wait_for_sends(layer, 2)

    assert sorted(group for _, group in layer.sent) == ["project-1", "project-2"]
