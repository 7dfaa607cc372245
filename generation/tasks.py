"""Huey tasks: each takes an id, loads the row, and calls the workflow in runs.py."""

import logging
import threading

from django.conf import settings
from django.db import close_old_connections
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task
from huey.storage import SqliteStorage

from exports import jobs as export_jobs
from generation import runs

log = logging.getLogger(__name__)


@db_task()
def run_job(job_id: int) -> None:
    runs.execute_job(job_id)


def enqueue_jobs(job_ids: list[int]) -> None:
    """Queue one task per job. A stage of a 1,000-scene run is 1,000 tasks; SqliteHuey
    would commit an exclusive transaction for each, so there they go in one."""
    tasks = [run_job.s(job_id) for job_id in job_ids]
    storage = HUEY.storage
    if HUEY.immediate or type(storage) is not SqliteStorage:
        for t in tasks:
            HUEY.enqueue(t)
        return
    rows = [(storage.name, storage.to_blob(HUEY.serialize_task(t)), t.priority or 0) for t in tasks]
    with storage.db(commit=True) as cursor:
        cursor.executemany("insert into task (queue, data, priority) values (?, ?, ?)", rows)


@db_periodic_task(crontab(minute="*"))
def reap_stale_jobs() -> None:
    # A backstop for consumers started without the reaper thread below.
    runs.reap_stale_jobs()
    export_jobs.reap_stale_exports()


_reaper_started = threading.Lock()


@HUEY.on_startup()
def start_reaper() -> None:
    """Reap every few seconds, not once a minute (huey's periodic granularity): a dead
    worker's job or export should be picked up again soon after its heartbeat goes stale."""
    if not _reaper_started.acquire(blocking=False):
        return

    def loop() -> None:
        stop = threading.Event()
        while not stop.wait(settings.REAPER_INTERVAL_SECONDS):
            try:
                close_old_connections()
                runs.reap_stale_jobs()
                export_jobs.reap_stale_exports()
            except Exception:  # noqa: BLE001 - the reaper must outlive a database hiccup
                log.exception("Reaper pass failed")

    threading.Thread(target=loop, name="storyboard-reaper", daemon=True).start()


@HUEY.task()
def noop() -> int:
    """Does nothing: the bare queue's own cost, which benchmarks compare the engine with."""
    return 1
