"""Huey tasks: each takes an id, loads the row, and calls the worker side of the workflow."""

import logging
import threading

from django.conf import settings
from django.db import close_old_connections
from django.dispatch import receiver
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from generation import webhooks, worker, workers
from generation.models import GenerationJob, WebhookDelivery
from generation.queues import StageQueues
from work import claims, queue

log = logging.getLogger(__name__)


@db_task()
def run_job(job_id: int) -> None:
    worker.execute_job(job_id)


@receiver(queue.ready, sender=GenerationJob, dispatch_uid="generation.tasks.send_jobs")
def send_jobs(sender: object, ids: list[int], stage: str, front: bool = False, **_: object) -> None:
    enqueue_jobs(stage, ids, front=front)


def enqueue_jobs(stage: str, job_ids: list[int], front: bool = False) -> None:
    """Queue one task per job on its stage's queue, where only workers of that stage look.

    A stage of a 1,000-scene run is 1,000 tasks; SqliteHuey would commit an exclusive
    transaction for each, so they go in one. `front`: before the stage's other tasks."""
    tasks = [run_job.s(job_id) for job_id in job_ids]
    storage = HUEY.storage
    if HUEY.immediate or not isinstance(storage, StageQueues):
        for t in tasks:
            HUEY.enqueue(t)
        return
    storage.enqueue_stage(stage, [HUEY.serialize_task(t) for t in tasks], front=front)


@db_periodic_task(crontab(minute="*"))
def reap_stale_jobs() -> None:
    # A backstop for consumers started without the reaper thread below.
    claims.reap_all()


_reaper_started = threading.Lock()


def sweep_work_dirs() -> None:
    """Folders of attempts that are over: a worker killed where no reaper with this code
    saw it die, or an encoder that outlived its worker and wrote after the reaper's
    clean-up. Only folders of no live attempt go, so a worker on another machine sharing
    the media folder keeps its own."""
    swept = claims.sweep_work_dirs()
    if swept:
        log.warning("Removed %d work folders of attempts that are over", len(swept))


@HUEY.on_startup()
def start_reaper() -> None:
    """Sweep dead attempts' work folders once, then reap every few seconds, not once a
    minute (huey's periodic granularity): a dead worker's job or export should be picked
    up again soon after its heartbeat goes stale."""
    if not _reaper_started.acquire(blocking=False):
        return
    try:
        close_old_connections()
        sweep_work_dirs()
    except Exception:  # noqa: BLE001 - a worker must start even if its sweep fails
        log.exception("Sweeping work folders failed")

    def loop() -> None:
        stop = threading.Event()
        while not stop.wait(settings.REAPER_INTERVAL_SECONDS):
            try:
                close_old_connections()
                claims.reap_all()
            except Exception:  # noqa: BLE001 - the reaper must outlive a database hiccup
                log.exception("Reaper pass failed")

    threading.Thread(target=loop, name="storyboard-reaper", daemon=True).start()


@HUEY.on_startup()
def announce_worker() -> None:
    # Called once per worker thread: each adds one to what this process can run at once.
    workers.register(settings.STORYBOARD_WORKER_STAGES)


@HUEY.on_shutdown()
def retire_worker() -> None:
    workers.retire()


@HUEY.task()
def noop() -> int:
    """Does nothing: the bare queue's own cost, which benchmarks compare the engine with."""
    return 1


@db_task()
def deliver_webhook(delivery_id: int) -> None:
    webhooks.deliver(delivery_id)


@receiver(queue.ready, sender=WebhookDelivery, dispatch_uid="generation.tasks.send_deliveries")
def send_deliveries(sender: object, ids: list[int], delay: float = 0, **_: object) -> None:
    for delivery_id in ids:
        if delay:
            deliver_webhook.schedule(args=(delivery_id,), delay=delay)
        else:
            deliver_webhook(delivery_id)
