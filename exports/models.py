from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from generation import notify
from projects.models import Project
from work import claims
from work.models import Claimable, ClaimableQuerySet


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Rendering"
    CANCELLING = "cancelling", "Cancelling"
    CANCELLED = "cancelled", "Cancelled"
    SUCCEEDED = "succeeded", "Done"
    FAILED = "failed", "Failed"


ACTIVE_EXPORT_STATUSES = [ExportStatus.QUEUED, ExportStatus.RUNNING, ExportStatus.CANCELLING]


class ExportInProgress(Exception):
    def __init__(self, export: Export):
        super().__init__(f"Export {export.id} is still in progress for this project.")
        self.export = export


# What the page says of an export whose worker died, once no other attempt is left.
WORKER_DIED = "The worker exporting this film stopped responding; try again."


class ExportQuerySet(ClaimableQuerySet):
    def lost(self) -> ExportQuerySet:
        """Queued exports sent to the queue more than JOB_STALE_AFTER ago: if the queue is
        empty, their task is gone. A queued export's heartbeat is when it was last sent."""
        cutoff = timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER)
        return self.filter(status=ExportStatus.QUEUED, inline=False, created__lt=cutoff).filter(
            Q(heartbeat__isnull=True) | Q(heartbeat__lt=cutoff)
        )


class Export(Claimable):
    """One film rendered from a project: the row is the truth the page, API and CLI read."""

    project = models.ForeignKey(Project, models.CASCADE, related_name="exports")
    status = models.CharField(
        max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    captions = models.BooleanField(default=False)
    fades = models.BooleanField(default=False)
    standins = models.BooleanField(default=True)
    # Relative to MEDIA_ROOT; set only once the finished file has been renamed into place.
    file = models.CharField(max_length=300, blank=True)
    duration = models.FloatField(null=True, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    method = models.CharField(max_length=16, blank=True)
    error = models.TextField(blank=True)
    manifest = models.JSONField(default=dict, blank=True)
    inline = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ExportQuerySet.as_manager()
    # Claimable work (work.claims): while rendering (or stopping), the row belongs to its
    # latest attempt. A queued export's heartbeat is when it was last sent to the queue.
    WORK_KIND = "export"
    QUEUED = ExportStatus.QUEUED.value
    RUNNING = ExportStatus.RUNNING.value
    HELD_STATUSES = (ExportStatus.RUNNING.value, ExportStatus.CANCELLING.value)
    ACTIVE_STATUSES = tuple(s.value for s in ACTIVE_EXPORT_STATUSES)
    # It joins the project's clips as it goes: takes retention waits for it.
    READS_PROJECT_FILES = True

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            # Two clicks at the same moment: the database lets one in.
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(status__in=ACTIVE_EXPORT_STATUSES),
                name="one_active_export_per_project",
            )
        ]

    def __str__(self) -> str:
        return f"Export {self.id} of {self.project}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_EXPORT_STATUSES

    @property
    def percent(self) -> int:
        if not self.total_steps:
            return 0
        return min(100, int(100 * self.step / self.total_steps))

    @property
    def url(self) -> str:
        return f"{settings.MEDIA_URL}{self.file}" if self.file else ""

    @property
    def options(self) -> dict[str, bool]:
        return {"captions": self.captions, "fades": self.fades, "standins": self.standins}

    def as_json(self) -> dict:
        return {
            "exportId": self.id,
            "status": self.status,
            "options": self.options,
            "progress": {"step": self.step, "total": self.total_steps, "percent": self.percent},
            "file": self.url or None,
            # The same film for a script with an API token (media URLs need a session).
            "download": (
                reverse("api-export-file", args=[self.project_id, self.id]) if self.file else None
            ),
            "duration": self.duration,
            "size": self.size,
            "method": self.method or None,
            "error": self.error or None,
            "substituted": self.manifest.get("substituted", 0) if self.manifest else 0,
            "created": self.created.isoformat(),
            "finishedAt": self.finished_at.isoformat() if self.finished_at else None,
        }

    def claim(self) -> bool:
        """Take a queued export for this process; False if someone else has it or it was
        cancelled before it started."""
        claimed = claims.claim(Export, self.id)
        if claimed:
            self.refresh_from_db()
            notify.project_changed(self.project_id)
        return claimed

    def report(self, step: int, total: int) -> bool:
        """Record progress and a heartbeat; False when the export is no longer wanted:
        cancelled, or given up on by the reaper (a newer attempt may have it now)."""
        still_wanted = claims.report(Export, self.id, self.attempts, step, total)
        if still_wanted:
            self.step, self.total_steps = step, total
            notify.project_changed(self.project_id)
        return still_wanted

    def request_cancel(self) -> bool:
        """Stop the export: a queued one ends now, a running one at its next step, and its
        partial file is deleted. False if it had already ended."""
        now = timezone.now()
        with transaction.atomic():
            queued = Export.objects.filter(id=self.id, status=ExportStatus.QUEUED).update(
                status=ExportStatus.CANCELLED, cancel_requested=True, finished_at=now
            )
            running = Export.objects.filter(id=self.id, status=ExportStatus.RUNNING).update(
                status=ExportStatus.CANCELLING, cancel_requested=True
            )
        self.refresh_from_db()
        notify.project_changed(self.project_id)
        if queued:
            self.ended()
        return bool(queued or running)

    def finish(self, status: str, **fields: object) -> None:
        """Record how this attempt ended, unless a cancel decided first (then: cancelled) or
        the reaper gave up on the attempt (then: nothing). The caller deletes its file
        unless the row now names it."""
        now = timezone.now()
        # A cancel also wins over a film finished just as it came in: the creator's
        # decision stands.
        mine = claims.finish(
            Export, self.id, self.attempts, status=status, finished_at=now, **fields
        ) or claims.record_cancel(
            Export, self.id, self.attempts, now, status=ExportStatus.CANCELLED, finished_at=now
        )
        self.refresh_from_db()
        if mine:
            notify.project_changed(self.project_id)
            self.ended()

    def given_up(self, now: datetime) -> dict[str, object]:
        """What the reaper writes when this export's worker died (work.claims.reap): the
        cancel it was asked for, another try while attempts remain, else failed."""
        if self.cancel_requested:
            return {"status": ExportStatus.CANCELLED, "finished_at": now}
        if self.inline or self.attempts >= settings.JOB_MAX_ATTEMPTS:
            # An inline export's process was its only worker: no one would take it up.
            return {"status": ExportStatus.FAILED, "error": WORKER_DIED, "finished_at": now}
        return {"status": ExportStatus.QUEUED, "step": 0, "total_steps": 0, "heartbeat": now}

    def ended(self) -> None:
        """Tell the project's webhook, if it has one."""
        from generation import webhooks

        webhooks.export_ended(self)

    @property
    def elapsed(self) -> timedelta:
        return (self.finished_at or timezone.now()) - self.created
