"""Huey task: takes an export id, like generation's tasks take a job id."""

from huey.contrib.djhuey import db_task

from exports import jobs


@db_task()
def run_export(export_id: int) -> None:
    jobs.execute_export(export_id)
