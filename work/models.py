"""The fields and filters every claimable row has (generation jobs, exports)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone


class ClaimableQuerySet(models.QuerySet[Any]):
    def active(self) -> ClaimableQuerySet:
        """Not yet ended: queued, running, or stopping."""
        return self.filter(status__in=self.model.ACTIVE_STATUSES)

    def held(self, pk: int, attempt: int) -> ClaimableQuerySet:
        """The row, while attempt `attempt` still holds it: the filter of every fenced write."""
        return self.filter(id=pk, attempts=attempt, status__in=self.model.HELD_STATUSES)

    def stale(self, now: datetime | None = None) -> ClaimableQuerySet:
        """Held rows whose worker stopped sending heartbeats."""
        cutoff = (now or timezone.now()) - timedelta(seconds=settings.JOB_STALE_AFTER)
        return self.filter(status__in=self.model.HELD_STATUSES, heartbeat__lt=cutoff)


class Claimable(models.Model):
    """A row a worker claims by raising its attempt number (see work.claims).

    The concrete model declares `status` with its own choices, and says which of them
    mean what to the shared code below."""

    status = models.CharField(max_length=16)
    attempts = models.PositiveIntegerField(default=0)
    # The process running the latest attempt (work.claims.WORKER_NAME).
    worker = models.CharField(max_length=200, blank=True)
    # Running: the worker's last sign of life.
    heartbeat = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    step = models.PositiveIntegerField(default=0)
    total_steps = models.PositiveIntegerField(default=0)

    # Its attempt's temporary files are in MEDIA_ROOT/.work/<WORK_KIND>-<id>-<attempt>/.
    WORK_KIND: ClassVar[str]
    QUEUED: ClassVar[str]
    RUNNING: ClassVar[str]
    # While in these, the row belongs to its latest attempt.
    HELD_STATUSES: ClassVar[tuple[str, ...]]
    ACTIVE_STATUSES: ClassVar[tuple[str, ...]]
    # Columns that take the time of a claim, and of every later write of the attempt.
    CLAIM_STAMPS: ClassVar[tuple[str, ...]] = ()
    WRITE_STAMPS: ClassVar[tuple[str, ...]] = ()
    # Whether an active row reads its project's files as it goes (and needs a `project`).
    READS_PROJECT_FILES: ClassVar[bool] = False

    class Meta:
        abstract = True
