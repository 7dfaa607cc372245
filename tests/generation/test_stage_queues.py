"""A huey queue per stage, on both storages: a worker reads only its stages' queues (and
the main one), "front" jumps its stage's line, and the queue's size and flush cover all."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from generation.queues import StageQueues, StageRedisStorage, StageSqliteStorage
from tests.support.scaled import Redis


@pytest.fixture(params=["sqlite", "redis"])
def make_storage(request, tmp_path: Path) -> Iterator:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        db = str(tmp_path / "queue.sqlite3")
        yield lambda stages: StageSqliteStorage(name="sb", stages=stages, filename=db)
        return
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    redis = Redis(tmp_path)
    redis.start()
    try:
        yield lambda stages: StageRedisStorage(
            name="sb", stages=stages, url=redis.url, blocking=False
        )
    finally:
        redis.kill()


def drain(storage: StageQueues) -> list[bytes]:
    got = []
    while (data := storage.dequeue()) is not None:  # type: ignore[attr-defined]
        got.append(bytes(data))
    return got


def test_it_gives_each_worker_only_its_stages(make_storage):
    web = make_storage(None)
    narration = make_storage(["audio"])
    pictures = make_storage(["images", "videos"])
    web.enqueue_stage("audio", [b"a1", b"a2"])
    web.enqueue_stage("images", [b"i1"])
    web.enqueue_stage("videos", [b"v1"])
    web.enqueue(b"export")
    assert web.queue_size() == 5
    # The main queue (exports, webhooks) is everyone's.
    assert sorted(drain(narration)) == [b"a1", b"a2", b"export"]
    assert sorted(drain(pictures)) == [b"i1", b"v1"]
    assert web.queue_size() == 0


def test_it_puts_a_task_at_the_front_of_its_stage(make_storage):
    storage = make_storage(None)
    storage.enqueue_stage("images", [b"i1", b"i2", b"i3"])
    storage.enqueue_stage("images", [b"i3-next"], front=True)
    assert drain(storage)[0] == b"i3-next"
    storage.enqueue_stage("audio", [b"a"])
    storage.enqueue_stage("videos", [b"v"])
    storage.flush_queue()
    assert storage.queue_size() == 0
