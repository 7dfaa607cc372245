"""Wake-ups for open storyboard pages.

A message says only "this project's generation state changed"; the consumer re-reads
the rows and renders the truth, so a lost, merged or repeated message costs nothing.
That is what lets a worker coalesce them: a burst of job changes in one project becomes
one message, sent from one long-lived event loop (async_to_sync per call would start a
thread each time, which cost more than the job itself with a fast backend).
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from typing import TYPE_CHECKING

from channels.layers import get_channel_layer
from django.db import transaction

if TYPE_CHECKING:
    from generation.models import GenerationJob, GenerationRun

log = logging.getLogger(__name__)

# One wake-up per project at most this often: the first goes at once, later ones in the
# interval are merged into one at its end. Pages are re-rendered no more often (see
# consumers.ROUND_SECONDS), and each send costs the worker a Redis script.
COALESCE_SECONDS = 0.04


def project_group(project_id: int) -> str:
    return f"project-{project_id}"


class Sender:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiting: set[int] = set()
        self._last_sent: dict[int, float] = {}

    def wake(self, project_id: int) -> None:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                threading.Thread(
                    target=self._loop.run_forever, name="storyboard-wakeups", daemon=True
                ).start()
            if project_id in self._waiting:
                return
            self._waiting.add(project_id)
            loop = self._loop
        loop.call_soon_threadsafe(lambda: loop.create_task(self._send(project_id)))

    async def _send(self, project_id: int) -> None:
        loop = asyncio.get_running_loop()
        wait = self._last_sent.get(project_id, -math.inf) + COALESCE_SECONDS - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        with self._lock:
            self._waiting.discard(project_id)
        self._last_sent[project_id] = loop.time()
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            await layer.group_send(project_group(project_id), {"type": "generation.changed"})
        except Exception:  # noqa: BLE001 - a page not updating must never fail a job
            log.warning("Could not send a progress wake-up", exc_info=True)


sender = Sender()


def project_changed(project_id: int) -> None:
    transaction.on_commit(lambda: sender.wake(project_id))


def run_changed(run: GenerationRun) -> None:
    project_changed(run.project_id)


def job_changed(job: GenerationJob) -> None:
    project_changed(job.run.project_id)
