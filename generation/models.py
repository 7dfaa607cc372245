from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from generation.backends.base import AUDIO, IMAGES, VIDEOS
from projects.models import Project, Sentence


class Stage(models.TextChoices):
    AUDIO = AUDIO, "Audio"
    IMAGES = IMAGES, "Images"
    VIDEOS = VIDEOS, "Videos"


STAGE_ORDER = [Stage.AUDIO.value, Stage.IMAGES.value, Stage.VIDEOS.value]
# The scene asset each stage makes (see projects.dirty).
STAGE_ASSET = {AUDIO: "audio", IMAGES: "image", VIDEOS: "video"}


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    CANCELLING = "cancelling", "Cancelling"
    CANCELLED = "cancelled", "Cancelled"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Finished with errors"


ACTIVE_RUN_STATUSES = [RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.PAUSED, RunStatus.CANCELLING]


class Origin(models.TextChoices):
    PAGE = "page", "Storyboard page"
    API = "api", "HTTP API"
    CLI = "cli", "Command line"
    ADMIN = "admin", "Admin"


class JobStatus(models.TextChoices):
    PENDING = "pending", "Waiting for its stage"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    SKIPPED = "skipped", "Skipped"


UNFINISHED_JOB_STATUSES = [JobStatus.PENDING, JobStatus.QUEUED, JobStatus.RUNNING]


class GenerationRunQuerySet(models.QuerySet["GenerationRun"]):
    def active(self) -> GenerationRunQuerySet:
        return self.filter(status__in=ACTIVE_RUN_STATUSES)


class GenerationRun(models.Model):
    """One click of "Generate": every job it planned, and how far it got."""

    project = models.ForeignKey(Project, models.CASCADE, related_name="runs")
    stages = models.JSONField(default=list)
    skip_clean = models.BooleanField(default=True)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    current_stage = models.CharField(max_length=16, choices=Stage.choices, blank=True)
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.PAGE)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    retry_of = models.ForeignKey("self", models.SET_NULL, null=True, blank=True)
    # Jobs of an inline run are executed by the process that started it (CLI --inline),
    # not sent to huey.
    inline = models.BooleanField(default=False)
    # Why the run paused itself (the same error on several jobs in a row).
    pause_reason = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = GenerationRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        constraints = [
            # Two "Generate All" clicks at the same moment: the database lets one in.
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(status__in=ACTIVE_RUN_STATUSES),
                name="one_active_run_per_project",
            )
        ]

    def __str__(self) -> str:
        return f"Run {self.id} of {self.project}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_RUN_STATUSES

    @property
    def duration(self) -> timedelta | None:
        end = self.finished_at or timezone.now()
        return end - self.created


class GenerationJobQuerySet(models.QuerySet["GenerationJob"]):
    def unfinished(self) -> GenerationJobQuerySet:
        return self.filter(status__in=UNFINISHED_JOB_STATUSES)

    def stale(self, now: object = None) -> GenerationJobQuerySet:
        """Running jobs whose worker stopped sending heartbeats."""
        now = now or timezone.now()
        cutoff = now - timedelta(seconds=settings.JOB_STALE_AFTER)  # type: ignore[operator]
        return self.filter(status=JobStatus.RUNNING, heartbeat__lt=cutoff)


class GenerationJob(models.Model):
    """One asset of one scene in one run."""

    run = models.ForeignKey(GenerationRun, models.CASCADE, related_name="jobs")
    # A scene deleted mid-run leaves its job behind as a record, skipped.
    sentence = models.ForeignKey(
        Sentence, models.SET_NULL, null=True, blank=True, related_name="generation_jobs"
    )
    position = models.PositiveIntegerField(default=0)
    stage = models.CharField(max_length=16, choices=Stage.choices)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING)
    cancel_requested = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    worker = models.CharField(max_length=200, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    step = models.PositiveIntegerField(default=0)
    total_steps = models.PositiveIntegerField(default=0)
    # The scene's revision when the job read its inputs: if it moved on by the time the
    # asset is recorded, the asset is kept but the scene stays dirty.
    input_revision = models.PositiveIntegerField(null=True, blank=True)
    output_file = models.CharField(max_length=300, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(default=timezone.now)

    objects = GenerationJobQuerySet.as_manager()
    # While running, the row belongs to its latest attempt (see generation.claims).
    HELD_STATUSES = (JobStatus.RUNNING.value,)

    class Meta:
        ordering = ["run", "position", "id"]
        indexes = [
            models.Index(fields=["run", "stage", "status"]),
            models.Index(fields=["run", "status"]),
            models.Index(fields=["status", "heartbeat"]),
        ]

    def __str__(self) -> str:
        return f"{self.stage} for scene {self.position} (run {self.run_id})"

    @property
    def duration(self) -> timedelta | None:
        if self.started_at is None:
            return None
        return (self.finished_at or timezone.now()) - self.started_at

    @property
    def is_finished(self) -> bool:
        return self.status not in UNFINISHED_JOB_STATUSES
