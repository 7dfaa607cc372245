"""Rows ready for a worker, and who sends their huey tasks.

Domain code (a run moving to its next stage, the reaper, an export's start, a webhook's
delivery) never sends a huey task itself: it says which rows are ready, and the task module
of their app, connected to `ready` (from its app's ready()), sends them. So only the task
modules know huey's tasks, and imports flow one way: from the task module to the domain
code, never back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.dispatch import Signal

# sender: the model of the rows; ids: their ids; and what that kind's tasks need (a job's
# stage and whether it goes first, a delivery's delay).
ready = Signal()


def send(model: type[Model], ids: Iterable[int], **options: Any) -> None:
    """Send the rows' tasks now: call it once their change is committed (or outside any
    transaction), so a worker never reads a row that does not yet say it is queued."""
    ready.send(sender=model, ids=list(ids), **options)


def send_on_commit(model: type[Model], ids: Iterable[int], **options: Any) -> None:
    """Send the rows' tasks once the current transaction commits (at once outside one)."""
    ids = list(ids)
    transaction.on_commit(lambda: send(model, ids, **options))
