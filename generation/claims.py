"""Claimable work: what generation jobs and exports share.

Both are rows a worker claims by raising their attempt number (a conditional UPDATE), then
keeps alive with a heartbeat until it records how the attempt ended; the reaper hands the
row of a silent worker to a newer attempt. An attempt can be superseded without knowing it
(its worker frozen past JOB_STALE_AFTER, then resumed), so every write it makes is fenced
on its attempt number: once the row has moved on, nothing the old attempt says lands.

A claimable model has `id`, `status`, `attempts` and `heartbeat`, and names in
HELD_STATUSES the statuses in which an attempt still holds it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model, Q, QuerySet
from django.utils import timezone


def held(model: type[Model], pk: int, attempt: int) -> QuerySet[Any]:
    """The row, while attempt `attempt` still holds it: the filter of every fenced write."""
    statuses = model.HELD_STATUSES  # type: ignore[attr-defined]
    return model._default_manager.filter(id=pk, attempts=attempt, status__in=statuses)


def beat(model: type[Model], attempts: dict[int, int]) -> int:
    """Freshen the heartbeat of these rows (id -> attempt) that their attempts still hold."""
    if not attempts:
        return 0
    statuses = model.HELD_STATUSES  # type: ignore[attr-defined]
    which = Q()
    for pk, attempt in attempts.items():
        which |= Q(id=pk, attempts=attempt)
    return model._default_manager.filter(which, status__in=statuses).update(
        heartbeat=timezone.now()
    )
