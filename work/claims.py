"""Claimable work: the one way generation jobs and exports are claimed, kept alive, reported
on, finished and reaped, and where their attempts keep their temporary files.

A worker claims a queued row by raising its attempt number (a conditional UPDATE), keeps it
alive with a heartbeat until it records how the attempt ended, and the reaper hands the row
of a silent worker to a newer attempt. An attempt can be superseded without knowing it (its
worker frozen past JOB_STALE_AFTER, then resumed), so every write it makes is fenced on its
attempt number: once the row has moved on, nothing the old attempt says lands.

The writes of a job's own path through a worker (claim, step report, success) are written
out in SQL, built once per model: through the ORM, building them cost a worker more CPU than
PostgreSQL spent running them (~0.4 ms each on a shared core, against ~0.07 ms), and with a
fast backend that was a third of its time.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from django.apps import apps
from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import Field, Q, QuerySet
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from work.models import Claimable, ClaimableQuerySet

log = logging.getLogger(__name__)

WORKER_NAME = f"{socket.gethostname()}:{os.getpid()}"


def claimable_models() -> list[type[Claimable]]:
    return [m for m in apps.get_models() if issubclass(m, Claimable)]


def db_now() -> Any:
    return connection.ops.adapt_datetimefield_value(timezone.now())


def held(model: type[Claimable], pk: int, attempt: int) -> QuerySet[Any]:
    """The row, while attempt `attempt` still holds it: the filter of every fenced write."""
    return model._default_manager.held(pk, attempt)  # type: ignore[attr-defined,no-any-return]


# Only the attempt that still holds the row may change it: not after a cancel, nor once the
# reaper has handed the row to a newer attempt (held(), written out, for a running row).
STILL_WANTED = "id = %s AND status = %s AND attempts = %s AND NOT cancel_requested"


@functools.cache
def claim_sql(model: type[Claimable]) -> str:
    stamps = "".join(f", {column} = %s" for column in model.CLAIM_STAMPS)
    return (
        f"UPDATE {model._meta.db_table} SET status = %s, attempts = attempts + 1, worker = %s,"
        f" heartbeat = %s, step = 0, total_steps = 0{stamps} WHERE id = %s AND status = %s"
    )


@functools.cache
def report_sql(model: type[Claimable]) -> str:
    stamps = "".join(f", {column} = %s" for column in model.WRITE_STAMPS)
    return (
        f"UPDATE {model._meta.db_table} SET step = %s, total_steps = %s, heartbeat = %s{stamps}"
        f" WHERE {STILL_WANTED}"
    )


@functools.cache
def finish_sql(model: type[Claimable], columns: tuple[str, ...]) -> str:
    sets = ", ".join(f"{column} = %s" for column in columns + model.WRITE_STAMPS)
    return f"UPDATE {model._meta.db_table} SET {sets} WHERE {STILL_WANTED}"


def claim(model: type[Claimable], pk: int) -> bool:
    """Take a queued row for this worker as a new attempt; False if someone else has it or
    it was cancelled before it started."""
    now = db_now()
    params = [model.RUNNING, WORKER_NAME, now, *[now] * len(model.CLAIM_STAMPS), pk, model.QUEUED]
    with connection.cursor() as cursor:
        cursor.execute(claim_sql(model), params)
        return cursor.rowcount == 1


def report(model: type[Claimable], pk: int, attempt: int, done: int, total: int) -> bool:
    """Record step progress and a heartbeat; False when the row is no longer wanted:
    cancelled, or given up on by the reaper (a newer attempt may have it now).

    Called for every denoising step or frame batch: one prepared UPDATE that both reports
    and finds out."""
    now = db_now()
    params = [done, total, now, *[now] * len(model.WRITE_STAMPS), pk, model.RUNNING, attempt]
    with connection.cursor() as cursor:
        cursor.execute(report_sql(model), params)
        return cursor.rowcount == 1


def finish(model: type[Claimable], pk: int, attempt: int, **values: Any) -> bool:
    """Record how the attempt ended (its status and what it made), unless it no longer holds
    the row or a cancel was asked for: then False, and nothing is written."""
    now = db_now()
    fields = [cast("Field[Any, Any]", model._meta.get_field(name)) for name in values]
    params = [
        *(f.get_db_prep_save(v, connection) for f, v in zip(fields, values.values(), strict=True)),
        *[now] * len(model.WRITE_STAMPS),
        pk,
        model.RUNNING,
        attempt,
    ]
    with connection.cursor() as cursor:
        cursor.execute(finish_sql(model, tuple(f.column for f in fields)), params)
        return cursor.rowcount == 1


def record_cancel(
    model: type[Claimable], pk: int, attempt: int, now: datetime, **values: Any
) -> bool:
    """The cancel that was asked for, recorded by the attempt that stopped for it; False
    for an attempt told to stop for another reason (superseded: nothing to record)."""
    stamps = {column: now for column in model.WRITE_STAMPS}
    return bool(held(model, pk, attempt).filter(cancel_requested=True).update(**values, **stamps))


def record_end(model: type[Claimable], pk: int, attempt: int, now: datetime, **values: Any) -> bool:
    """How the attempt ended, whatever was asked meanwhile, unless it no longer holds the
    row (the reaper decided first, and may have handed it to a newer attempt)."""
    stamps = {column: now for column in model.WRITE_STAMPS}
    return bool(held(model, pk, attempt).update(**values, **stamps))


# The heartbeat -----------------------------------------------------------------


def beat(model: type[Claimable], attempts: dict[int, int]) -> int:
    """Freshen the heartbeat of these rows (id -> attempt) that their attempts still hold."""
    if not attempts:
        return 0
    which = Q()
    for pk, attempt in attempts.items():
        which |= Q(id=pk, attempts=attempt)
    return model._default_manager.filter(which, status__in=model.HELD_STATUSES).update(
        heartbeat=timezone.now()
    )


class Heartbeats:
    """One thread per worker process keeps the heartbeat of every row it works on fresh,
    also while the work is busy between steps (loading a model, ffmpeg opening hundreds of
    clips before its first progress line), so the reaper only takes rows whose worker
    really died. A row added is beaten within JOB_HEARTBEAT_SECONDS, then every as often."""

    def __init__(self) -> None:
        # (model, id) -> the attempt this process runs: a beat only counts for that attempt.
        self._rows: dict[tuple[type[Claimable], int], int] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._due: float | None = None
        self._thread: threading.Thread | None = None

    def add(self, model: type[Claimable], pk: int, attempt: int) -> None:
        with self._lock:
            self._rows[(model, pk)] = attempt
            if self._due is None:
                self._due = time.monotonic() + settings.JOB_HEARTBEAT_SECONDS
                self._wake.set()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._beat, name="storyboard-heartbeat", daemon=True
                )
                self._thread.start()

    def discard(self, model: type[Claimable], pk: int) -> None:
        with self._lock:
            self._rows.pop((model, pk), None)

    @contextmanager
    def keeping(self, model: type[Claimable], pk: int, attempt: int) -> Iterator[None]:
        self.add(model, pk, attempt)
        try:
            yield
        finally:
            self.discard(model, pk)

    def _beat(self) -> None:
        while True:
            with self._lock:
                due = self._due
            wait = settings.JOB_HEARTBEAT_SECONDS if due is None else due - time.monotonic()
            if wait > 0:
                self._wake.wait(wait)
                self._wake.clear()
                continue
            with self._lock:
                rows = dict(self._rows)
                self._due = time.monotonic() + settings.JOB_HEARTBEAT_SECONDS if rows else None
            by_model: dict[type[Claimable], dict[int, int]] = {}
            for (model, pk), attempt in rows.items():
                by_model.setdefault(model, {})[pk] = attempt
            for model, attempts in by_model.items():
                try:
                    beat(model, attempts)
                except Exception:  # noqa: BLE001 - try again next beat
                    log.warning("Heartbeat failed", exc_info=True)
                    close_old_connections()


heartbeats = Heartbeats()


# The reaper --------------------------------------------------------------------

Reaper = Callable[[], int]
REAPERS: list[Reaper] = []


def add_reaper(reaper: Reaper) -> None:
    """Each kind of claimable work adds its reaper (from its app's ready()); every worker
    runs them all."""
    if reaper not in REAPERS:
        REAPERS.append(reaper)


def reap_all() -> int:
    return sum(reaper() for reaper in REAPERS)


def reap(rows: ClaimableQuerySet) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Give up on the attempts of dead workers among `rows`: each writes what its model's
    `given_up(now)` says (another go, or the end with the reason), unless its worker beat
    again meanwhile or another reaper was first. Yields each row given up on, with what
    was written; its work folder is gone by then.

    Huey delivers at most once: a task being run when its worker was killed is gone from
    the queue, so without this its row would stay running for ever."""
    model = rows.model
    for row in rows.stale():
        now = timezone.now()
        still_stale = model._default_manager.stale(now).filter(
            id=row.id, heartbeat=row.heartbeat, attempts=row.attempts
        )
        changes = {**row.given_up(now), **{column: now for column in model.WRITE_STAMPS}}
        if still_stale.update(**changes):
            # The attempt given up on is over: what it left (a partial clip, a whole one an
            # orphaned encoder finished) can go. A newer attempt works in its own folder.
            remove_work_dir(model.WORK_KIND, row.id, row.attempts)
            yield row, changes


def lost(rows: ClaimableQuerySet, touch: str) -> list[Any]:
    """Queued rows whose task is gone: Redis restarted without persistence, or a queue file
    was lost. Only when the queue is empty can a long-queued row have no task; a task sent
    twice is harmless, since only one claim of a row can succeed. They are touched (`touch`
    set to now) so the next pass doesn't send them again while they wait."""
    if not rows.exists() or HUEY.pending_count() > 0:
        return []
    found = list(rows)
    rows.model._default_manager.filter(id__in=[row.id for row in found]).update(
        **{touch: timezone.now()}
    )
    return found


def project_files_in_use(project_id: int) -> bool:
    """Whether active work of a kind that reads a project's files as it goes (an export
    joining its clips) has that project: then none of its files may be deleted."""
    return any(
        model._default_manager.active().filter(project_id=project_id).exists()  # type: ignore[attr-defined]
        for model in claimable_models()
        if model.READS_PROJECT_FILES
    )


# Work folders ----------------------------------------------------------------

WORK_DIR = re.compile(r"(?P<kind>[a-z]+)-(?P<id>\d+)-(?P<attempt>\d+)")


def work_root() -> Path:
    return Path(settings.MEDIA_ROOT) / ".work"


def work_dir(kind: str, pk: int, attempt: int) -> Path:
    """Where one attempt keeps its temporary files: its own, so attempts never share one."""
    return work_root() / f"{kind}-{pk}-{attempt}"


def remove_work_dir(kind: str, pk: int, attempt: int) -> None:
    shutil.rmtree(work_dir(kind, pk, attempt), ignore_errors=True)


def sweep_work_dirs(kinds: dict[str, type[Claimable]] | None = None) -> list[str]:
    """Remove every work folder that belongs to no live attempt (its worker was killed,
    and no reaper removed it, or an orphaned encoder wrote into it afterwards). `kinds`:
    the work kinds to sweep, by default every claimable model's.

    The folders are listed before the rows are read: a folder is made only after its
    attempt's claim, so one seen here whose attempt does not hold its row is dead."""
    if kinds is None:
        kinds = {model.WORK_KIND: model for model in claimable_models()}
    root = work_root()
    try:
        names = [p.name for p in root.iterdir() if p.is_dir()]
    except FileNotFoundError:
        return []
    found: dict[str, list[tuple[str, int, int]]] = {}
    for name in names:
        match = WORK_DIR.fullmatch(name)
        if match and match["kind"] in kinds:
            found.setdefault(match["kind"], []).append(
                (name, int(match["id"]), int(match["attempt"]))
            )
    removed = []
    for kind, folders in found.items():
        model = kinds[kind]
        live = set(
            model._default_manager.filter(
                pk__in=[pk for _, pk, _ in folders], status__in=model.HELD_STATUSES
            ).values_list("pk", "attempts")
        )
        for name, pk, attempt in folders:
            if (pk, attempt) not in live:
                shutil.rmtree(root / name, ignore_errors=True)
                removed.append(name)
    return removed
