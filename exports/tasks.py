"""Huey task: takes an export id, like generation's tasks take a job id."""

from django.dispatch import receiver
from huey.contrib.djhuey import db_task

from exports import jobs
from exports.models import Export
from work import queue


@db_task()
def run_export(export_id: int) -> None:
    jobs.execute_export(export_id)


@receiver(queue.ready, sender=Export, dispatch_uid="exports.tasks.send_exports")
def send_exports(sender: object, ids: list[int], **_: object) -> None:
    for export_id in ids:
        run_export(export_id)
