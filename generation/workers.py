"""Live workers, from their own heartbeats: who takes which stage, and what each runs.

Each huey consumer process keeps one Worker row fresh from a thread; a row silent for
WORKER_STALE_AFTER seconds is a worker that is gone (killed, or its machine is off).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from generation.models import GenerationJob, JobStatus, Worker
from projects.vocabulary import STAGE_ORDER, Stage
from work import claims

log = logging.getLogger(__name__)

# What a stage makes, in the words the page uses: "waiting for a worker that makes clips".
STAGE_NOUN: dict[str, str] = {
    Stage.AUDIO: "narration",
    Stage.IMAGES: "pictures",
    Stage.VIDEOS: "clips",
}

_lock = threading.Lock()
_threads = 0
_beating: threading.Event | None = None


def worker_name() -> str:
    return claims.WORKER_NAME


def register(stages: list[str]) -> None:
    """One more huey thread of this process is ready; the first one starts the beat."""
    global _threads, _beating
    with _lock:
        _threads += 1
        threads = _threads
        start = _beating is None
        if start:
            _beating = threading.Event()
    now = timezone.now()
    Worker.objects.update_or_create(
        name=worker_name(),
        defaults={"stages": list(stages), "threads": threads, "last_seen": now},
        create_defaults={"stages": list(stages), "threads": threads, "started": now},
    )
    if start:
        assert _beating is not None
        threading.Thread(
            target=beat, args=(_beating,), name="storyboard-worker-beat", daemon=True
        ).start()


def beat(stop: threading.Event) -> None:
    while not stop.wait(settings.WORKER_HEARTBEAT_SECONDS):
        try:
            close_old_connections()
            with _lock:
                threads = _threads
            now = timezone.now()
            Worker.objects.update_or_create(
                name=worker_name(),
                defaults={
                    "stages": list(settings.STORYBOARD_WORKER_STAGES),
                    "threads": max(threads, 1),
                    "last_seen": now,
                },
            )
            # Workers killed without a goodbye stay listed (as gone) for a day.
            Worker.objects.filter(last_seen__lt=now - timedelta(days=1)).delete()
        except Exception:  # noqa: BLE001 - try again next beat
            log.warning("Worker heartbeat failed", exc_info=True)


def retire() -> None:
    """A huey thread stopped; the last one takes the worker off the list."""
    global _threads, _beating
    with _lock:
        _threads = max(_threads - 1, 0)
        last = _threads == 0
        if last and _beating is not None:
            _beating.set()
            _beating = None
    try:
        if last:
            Worker.objects.filter(name=worker_name()).delete()
        else:
            Worker.objects.filter(name=worker_name()).update(threads=_threads)
    except Exception:  # noqa: BLE001 - going away anyway; its heartbeat goes stale
        log.warning("Could not take this worker off the list", exc_info=True)


@dataclass
class LiveWorker:
    name: str
    stages: list[str]
    threads: int
    running: list[GenerationJob] = field(default_factory=list)

    @property
    def makes(self) -> str:
        return ", ".join(STAGE_NOUN[s] for s in STAGE_ORDER if s in self.stages)


def live_workers(with_jobs: bool = True) -> list[LiveWorker]:
    """Live workers and the jobs each runs now."""
    rows = Worker.objects.live().order_by("name")
    found = [LiveWorker(w.name, list(w.stages), w.threads) for w in rows]
    if with_jobs and found:
        by_name = {w.name: w for w in found}
        running = GenerationJob.objects.filter(
            status=JobStatus.RUNNING, worker__in=list(by_name)
        ).select_related("run__project")
        for job in running:
            by_name[job.worker].running.append(job)
    return found


def waiting_for(stage: str, capacity: dict[str, int]) -> str:
    """The line a run shows when nothing alive can run its stage; "" when something can."""
    if capacity.get(stage, 0):
        return ""
    return f"Waiting for a worker that makes {STAGE_NOUN.get(stage, stage)}"
