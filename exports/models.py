from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.utils import timezone

from generation import notify
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


class ExportQuerySet(models.QuerySet["Export"]):
    def active(self) -> ExportQuerySet:
        return self.filter(status__in=ACTIVE_EXPORT_STATUSES)


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
    heartbeat = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ExportQuerySet.as_manager()

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
        reap_stale(project)
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
        """Record progress and a heartbeat; False when the export is no longer wanted."""
        still_wanted = Export.objects.filter(
            id=self.id, status=ExportStatus.RUNNING, cancel_requested=False
        ).update(step=step, total_steps=total, heartbeat=timezone.now())
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
        return bool(queued or running)

    def finish(self, status: str, **fields: object) -> None:
        """Record how the export ended, unless a cancel decided first (then: cancelled)."""
        now = timezone.now()
        with transaction.atomic():
            current = Export.objects.select_for_update().get(id=self.id)
            if current.cancel_requested:
                # Also when the film was finished just as the cancel came in: the creator's
                # decision stands (the caller deletes the file).
                status, fields = ExportStatus.CANCELLED, {}
            Export.objects.filter(id=self.id).update(status=status, finished_at=now, **fields)
        self.refresh_from_db()
        notify.project_changed(self.project_id)

    @property
    def elapsed(self) -> timedelta:
        return (self.finished_at or timezone.now()) - self.created


def reap_stale(project: Project) -> None:
    """A running export whose worker died (no heartbeat for JOB_STALE_AFTER) would block
    every later export of the project: fail it, so a new one can start."""
    cutoff = timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER)  # type: ignore[misc]
    Export.objects.filter(project=project).filter(
        status__in=[ExportStatus.RUNNING, ExportStatus.CANCELLING], heartbeat__lt=cutoff
    ).update(
        status=ExportStatus.FAILED,
        error="The worker rendering this export stopped responding.",
        finished_at=timezone.now(),
    )
