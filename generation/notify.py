"""Wake-ups for open storyboard pages.

A message says only "this project's generation state changed"; the consumer re-reads
the rows and renders the truth, so a lost or repeated message costs nothing.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

if TYPE_CHECKING:
    from generation.models import GenerationJob, GenerationRun

log = logging.getLogger(__name__)


def project_group(project_id: int) -> str:
    return f"project-{project_id}"


def send(project_id: int, message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(project_group(project_id), message)
    except Exception:  # noqa: BLE001 - a page not updating must never fail a job
        log.warning("Could not send a progress wake-up", exc_info=True)


def run_changed(run: GenerationRun) -> None:
    message = {"type": "generation.changed", "run": run.id}
    transaction.on_commit(lambda: send(run.project_id, message))


def job_changed(job: GenerationJob, step: tuple[int, int] | None = None) -> None:
    message = {"type": "generation.changed", "run": job.run_id, "job": job.id}
    project_id = job.run.project_id
    transaction.on_commit(lambda: send(project_id, message))
