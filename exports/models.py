from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from generation import claims, notify
from projects.models import Project


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


class ExportQuerySet(models.QuerySet["Export"]):
    def active(self) -> ExportQuerySet:
        return self.filter(status__in=ACTIVE_EXPORT_STATUSES)

    def stale(self, now: datetime | None = None) -> ExportQuerySet:
        """Running (or cancelling) exports whose worker stopped sending heartbeats."""
        cutoff = (now or timezone.now()) - timedelta(seconds=settings.JOB_STALE_AFTER)
        return self.filter(
            status__in=[ExportStatus.RUNNING, ExportStatus.CANCELLING], heartbeat__lt=cutoff
        )

    def lost(self) -> ExportQuerySet:
        """Queued exports sent to the queue more than JOB_STALE_AFTER ago: if the queue is
        empty, their task is gone. A queued export's heartbeat is when it was last sent."""
        cutoff = timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER)
        return self.filter(status=ExportStatus.QUEUED, inline=False, created__lt=cutoff).filter(
            Q(heartbeat__isnull=True) | Q(heartbeat__lt=cutoff)
        )


class Export(models.Model):
    """One film rendered from a project: the row is the truth the page, API and CLI read."""

    project = models.ForeignKey(Project, models.CASCADE, related_name="exports")
    status = models.CharField(
        max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    captions = models.BooleanField(default=False)
    fades = models.BooleanField(default=False)
    standins = models.BooleanField(default=True)
    step = models.PositiveIntegerField(default=0)
    total_steps = models.PositiveIntegerField(default=0)
    # Relative to MEDIA_ROOT; set only once the finished file has been renamed into place.
    file = models.CharField(max_length=300, blank=True)
    duration = models.FloatField(null=True, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    method = models.CharField(max_length=16, blank=True)
    error = models.TextField(blank=True)
    manifest = models.JSONField(default=dict, blank=True)
    inline = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)
    # Running: the worker's last sign of life. Queued again: when it was sent to the queue.
    heartbeat = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ExportQuerySet.as_manager()
    # While rendering (or stopping), the row belongs to its latest attempt (generation.claims).
    HELD_STATUSES = (ExportStatus.RUNNING.value, ExportStatus.CANCELLING.value)

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

    @classmethod
    def start(
        cls,
        project: Project,
        *,
        captions: bool = False,
        fades: bool = False,
        standins: bool = True,
        inline: bool = False,
    ) -> Export:
        """Queue an export. Raises ExportInProgress while another one of the project runs."""
        from exports import jobs

        # Also where no worker runs a reaper: a dead `export --inline` must not block for ever.
        jobs.reap_stale_exports(project)
        try:
            # The partial unique index settles the race a check-then-insert can't.
            with transaction.atomic():
                export = cls.objects.create(
                    project=project,
                    captions=captions,
                    fades=fades,
                    standins=standins,
                    inline=inline,
                )
        except IntegrityError:
            raise ExportInProgress(Export.objects.filter(project=project).active().get()) from None
        notify.project_changed(project.id)
        if not inline:
            from exports import tasks

            transaction.on_commit(lambda: tasks.run_export(export.id))
        return export

    def claim(self) -> bool:
        """Take a queued export for this process; False if someone else has it or it was
        cancelled before it started."""
        now = timezone.now()
        claimed = Export.objects.filter(id=self.id, status=ExportStatus.QUEUED).update(
            status=ExportStatus.RUNNING, attempts=F("attempts") + 1, heartbeat=now
        )
        if claimed:
            self.refresh_from_db()
            notify.project_changed(self.project_id)
        return bool(claimed)

    def report(self, step: int, total: int) -> bool:
        """Record progress and a heartbeat; False when the export is no longer wanted:
        cancelled, or given up on by the reaper (a newer attempt may have it now)."""
        still_wanted = (
            claims.held(Export, self.id, self.attempts)
            .filter(status=ExportStatus.RUNNING, cancel_requested=False)
            .update(step=step, total_steps=total, heartbeat=timezone.now())
        )
        if still_wanted:
            self.step, self.total_steps = step, total
            notify.project_changed(self.project_id)
        return bool(still_wanted)

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
        with transaction.atomic():
            current = claims.held(Export, self.id, self.attempts).select_for_update().first()
            mine = current is not None
            if current is not None:
                if current.cancel_requested:
                    # Also when the film was finished just as the cancel came in: the
                    # creator's decision stands.
                    status, fields = ExportStatus.CANCELLED, {}
                Export.objects.filter(id=self.id).update(status=status, finished_at=now, **fields)
        self.refresh_from_db()
        if mine:
            notify.project_changed(self.project_id)
            self.ended()

    def reap(self) -> bool:
        """Give up on the attempt of a dead worker: end the cancel it was asked for, queue
        another try while attempts remain, else fail. False when it beat again meanwhile
        or another reaper was first."""
        now = timezone.now()
        still_stale = Export.objects.stale(now).filter(
            id=self.id, heartbeat=self.heartbeat, attempts=self.attempts
        )
        fields: dict[str, object]
        if self.cancel_requested:
            fields = {"status": ExportStatus.CANCELLED, "finished_at": now}
        elif self.inline or self.attempts >= settings.JOB_MAX_ATTEMPTS:
            # An inline export's process was its only worker: no one would take it up.
            fields = {"status": ExportStatus.FAILED, "error": WORKER_DIED, "finished_at": now}
        else:
            fields = {"status": ExportStatus.QUEUED, "step": 0, "total_steps": 0, "heartbeat": now}
        if not still_stale.update(**fields):
            return False
        self.refresh_from_db()
        notify.project_changed(self.project_id)
        if self.status != ExportStatus.QUEUED:
            self.ended()
        if self.status == ExportStatus.QUEUED:
            from exports import tasks

            transaction.on_commit(lambda: tasks.run_export(self.id))
        return True

    def ended(self) -> None:
        """Tell the project's webhook, if it has one."""
        from generation import webhooks

        webhooks.export_ended(self)

    @property
    def elapsed(self) -> timedelta:
        return (self.finished_at or timezone.now()) - self.created
