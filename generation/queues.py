"""A huey queue per generation stage, so a worker can be told which stages it takes.

Huey's own unit of routing is the queue (a storage name). Each stage's job tasks go to
their own queue (`<name>_audio`, `<name>_images`, `<name>_videos`); everything else
(exports, webhooks) stays on the main one. A worker reads the main queue and the queues of
the stages it serves (STORYBOARD_WORKER_STAGES, all by default): SQLite with one
`queue IN (...)` select, Redis with one BRPOP over several keys. The embedded default is
one worker reading every queue, as before.

Nothing here imports Django models: settings load this module to build HUEY.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from huey import RedisHuey, SqliteHuey
from huey.storage import RedisStorage, SqliteStorage

from projects.vocabulary import STAGE_ORDER

STAGES = tuple(STAGE_ORDER)


def stage_queue(name: str, stage: str) -> str:
    # No dots: RedisStorage strips everything but [A-Za-z0-9_] from a name.
    return f"{name}_{stage}"


class StageQueues:
    """What a storage needs to know: its main name, the stages this process serves."""

    name: str

    def _setup(self, stages: Sequence[str] | None) -> None:
        self.stages = tuple(s for s in STAGES if stages is None or s in stages)
        self.served = [self.name, *(stage_queue(self.name, s) for s in self.stages)]
        self.every_queue = [self.name, *(stage_queue(self.name, s) for s in STAGES)]

    def enqueue_stage(self, stage: str, items: Iterable[bytes], front: bool = False) -> None:
        raise NotImplementedError


class StageSqliteStorage(StageQueues, SqliteStorage):
    def __init__(self, name: str = "huey", stages: Sequence[str] | None = None, **kwargs: object):
        super().__init__(name=name, **kwargs)
        self._setup(stages)

    def _in(self, names: list[str]) -> str:
        return ", ".join("?" for _ in names)

    def enqueue_stage(self, stage: str, items: Iterable[bytes], front: bool = False) -> None:
        """Many tasks in one transaction (SqliteHuey would commit each); `front` puts them
        before everything else of the stage (huey's priority orders the select)."""
        queue = stage_queue(self.name, stage)
        rows = [(queue, self.to_blob(data), 1 if front else 0) for data in items]
        with self.db(commit=True) as cursor:
            cursor.executemany("insert into task (queue, data, priority) values (?, ?, ?)", rows)

    def dequeue(self) -> bytes | None:
        names = self.served
        marks = self._in(names)
        quick = f"select 1 from task where queue in ({marks}) limit 1"
        if not self.sql(quick, names, results=True):
            return None
        with self.db(commit=True) as curs:
            curs.execute(
                f"select id, data from task where queue in ({marks}) "
                "order by priority desc, id limit 1",
                names,
            )
            result = curs.fetchone()
            if result is not None:
                tid, data = result
                curs.execute("delete from task where id = ?", (tid,))
                if curs.rowcount == 1:
                    return data  # type: ignore[no-any-return]
        return None

    def queue_size(self) -> int:
        names = self.every_queue
        sql = f"select count(id) from task where queue in ({self._in(names)})"
        return int(self.sql(sql, names, results=True)[0][0])

    def enqueued_items(self, limit: int | None = None) -> list[bytes]:
        names = self.every_queue
        sql = f"select data from task where queue in ({self._in(names)}) order by priority desc, id"
        params: list[object] = list(names)
        if limit is not None:
            sql += " limit ?"
            params.append(limit)
        return [i for (i,) in self.sql(sql, params, results=True)]

    def flush_queue(self) -> None:
        names = self.every_queue
        self.sql(f"delete from task where queue in ({self._in(names)})", names, commit=True)


class StageRedisStorage(StageQueues, RedisStorage):
    def __init__(self, name: str = "huey", stages: Sequence[str] | None = None, **kwargs: object):
        super().__init__(name=name, **kwargs)
        self._setup(stages)
        self.served_keys = [f"huey.redis.{q}" for q in self.served]
        self.every_key = [f"huey.redis.{q}" for q in self.every_queue]

    def enqueue_stage(self, stage: str, items: Iterable[bytes], front: bool = False) -> None:
        # Workers pop from the right: the front of a list is its right end.
        key = f"huey.redis.{stage_queue(self.name, stage)}"
        items = list(items)
        if items:
            (self.conn.rpush if front else self.conn.lpush)(key, *items)

    def dequeue(self) -> bytes | None:
        if self.blocking:
            try:
                # BRPOP takes the first non-empty key in order: the main queue, then stages.
                return self.conn.brpop(self.served_keys, timeout=self.read_timeout)[1]  # type: ignore[no-any-return]
            except (TimeoutError, TypeError, IndexError):
                return None
        for key in self.served_keys:
            data = self.conn.rpop(key)
            if data is not None:
                return data  # type: ignore[no-any-return]
        return None

    def queue_size(self) -> int:
        return sum(int(self.conn.llen(key)) for key in self.every_key)

    def enqueued_items(self, limit: int | None = None) -> list[bytes]:
        items: list[bytes] = []
        for key in self.every_key:
            items.extend(self.conn.lrange(key, 0, -1)[::-1])
        return items[:limit] if limit else items

    def flush_queue(self) -> None:
        self.conn.delete(*self.every_key)


class StageSqliteHuey(SqliteHuey):
    storage_class = StageSqliteStorage


class StageRedisHuey(RedisHuey):
    storage_class = StageRedisStorage
