from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from projects.models import Project, Sentence
from projects.vocabulary import Asset, Stage
from work.models import Claimable, ClaimableQuerySet


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    # Pictures made, clips not yet: the creator approves or re-rolls each picture first.
    REVIEW = "review", "Waiting for review"
    CANCELLING = "cancelling", "Cancelling"
    CANCELLED = "cancelled", "Cancelled"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Finished with errors"


ACTIVE_RUN_STATUSES = [
    RunStatus.QUEUED,
    RunStatus.RUNNING,
    RunStatus.PAUSED,
    RunStatus.REVIEW,
    RunStatus.CANCELLING,
]


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
    # "Stop after the running jobs": cancelling, but what runs now may finish.
    stop_after_running = models.BooleanField(default=False)
    # Why the run paused itself (the same error on several jobs in a row).
    pause_reason = models.TextField(blank=True)
    # Stop at the barrier before clips until the creator has looked at the pictures.
    review_before_clips = models.BooleanField(default=False)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # What a scene-level run was asked for ("Scene 4: picture"); empty for a bulk run.
    label = models.CharField(max_length=200, blank=True)
    # What the creator was told before the click (generation/estimates.py): seconds in
    # all, and per stage {"jobs", "seconds", "perJob", "basis"}; kept to compare with
    # what the run really took.
    quote_seconds = models.FloatField(null=True, blank=True)
    quote = models.JSONField(default=dict, blank=True)
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

    @property
    def in_review(self) -> bool:
        return self.status == RunStatus.REVIEW

    @property
    def waits_for_review(self) -> bool:
        """Whether the clips stage must wait for the creator's go."""
        return self.review_before_clips and self.reviewed_at is None

    @property
    def actual_seconds(self) -> float | None:
        return (self.finished_at - self.created).total_seconds() if self.finished_at else None

    @property
    def quote_error(self) -> float | None:
        """How far the quote was off, as a fraction of what the run really took."""
        actual = self.actual_seconds
        if self.quote_seconds is None or not actual:
            return None
        return (self.quote_seconds - actual) / actual


class GenerationJobQuerySet(ClaimableQuerySet):
    def unfinished(self) -> GenerationJobQuerySet:
        return self.filter(status__in=UNFINISHED_JOB_STATUSES)

    def lost(self) -> GenerationJobQuerySet:
        """Queued jobs of runs on workers, queued (or last sent) more than JOB_STALE_AFTER
        ago: if the queue is empty, their task is gone."""
        cutoff = timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER)
        return self.filter(status=JobStatus.QUEUED, updated__lt=cutoff, run__inline=False)


class GenerationJob(Claimable):
    """One asset of one scene in one run."""

    run = models.ForeignKey(GenerationRun, models.CASCADE, related_name="jobs")
    # A scene deleted mid-run leaves its job behind as a record, skipped.
    sentence = models.ForeignKey(
        Sentence, models.SET_NULL, null=True, blank=True, related_name="generation_jobs"
    )
    position = models.PositiveIntegerField(default=0)
    stage = models.CharField(max_length=16, choices=Stage.choices)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING)
    # A clip of a review run: the creator approved its picture.
    approved = models.BooleanField(default=False)
    # "Make this scene next": higher goes first within its stage.
    priority = models.IntegerField(default=0)
    error = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    # The scene's revision when the job read its inputs: if it moved on by the time the
    # asset is recorded, the asset is kept but the scene stays dirty.
    input_revision = models.PositiveIntegerField(null=True, blank=True)
    output_file = models.CharField(max_length=300, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(default=timezone.now)

    objects = GenerationJobQuerySet.as_manager()
    # Claimable work (work.claims): while running, the row belongs to its latest attempt.
    WORK_KIND = "job"
    QUEUED = JobStatus.QUEUED.value
    RUNNING = JobStatus.RUNNING.value
    HELD_STATUSES = (JobStatus.RUNNING.value,)
    ACTIVE_STATUSES = tuple(s.value for s in UNFINISHED_JOB_STATUSES)
    CLAIM_STAMPS = ("started_at", "updated")
    WRITE_STAMPS = ("updated",)

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

    def given_up(self, now: datetime) -> dict[str, object]:
        """What the reaper writes when this job's worker died (work.claims.reap): the cancel
        it was asked for, another go while tries remain (waiting while its run is paused),
        else failed with the reason."""
        if self.cancel_requested:
            return {"status": JobStatus.CANCELLED, "finished_at": now}
        if self.attempts >= settings.JOB_MAX_ATTEMPTS:
            return {
                "status": JobStatus.FAILED,
                "error": (
                    f"The worker running this job stopped responding {self.attempts} times "
                    "(killed or out of memory?). Giving up."
                ),
                "finished_at": now,
            }
        if self.run.status == RunStatus.PAUSED:
            return {"status": JobStatus.PENDING, "worker": ""}
        return {"status": JobStatus.QUEUED, "worker": ""}


class TakeQuerySet(models.QuerySet["Take"]):
    def of(self, sentence: Sentence, asset: str) -> TakeQuerySet:
        return self.filter(sentence=sentence, asset=asset)

    def current(self, sentence: Sentence, asset: str) -> Take | None:
        """The take the scene shows now: the one whose file is the scene's."""
        name = getattr(sentence, f"{asset}_file").name
        return self.of(sentence, asset).filter(file=name).first() if name else None


class Take(models.Model):
    """One asset a job made, kept with what made it (never overwritten by the next one).

    The scene points at its current take through its file field: restoring a take
    puts its file back there. Retention deletes old takes nothing points at."""

    sentence = models.ForeignKey(Sentence, models.CASCADE, related_name="takes")
    asset = models.CharField(max_length=8, choices=Asset.choices)
    # Relative to MEDIA_ROOT.
    file = models.CharField(max_length=300)
    duration = models.FloatField(null=True, blank=True)
    preset = models.CharField(max_length=16)
    model = models.CharField(max_length=300, blank=True)
    seed = models.BigIntegerField(null=True, blank=True)
    text = models.TextField(blank=True)
    prompt = models.TextField(blank=True)
    style = models.CharField(max_length=500, blank=True)
    voice = models.CharField(max_length=100, blank=True)
    language = models.CharField(max_length=16, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    fps = models.PositiveIntegerField(null=True, blank=True)
    camera_movement = models.CharField(max_length=16, blank=True)
    motion_strength = models.FloatField(null=True, blank=True)
    # A clip is made from one picture and one narration.
    image_take = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="clips_of_image"
    )
    audio_take = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="clips_of_audio"
    )
    run = models.ForeignKey(GenerationRun, models.SET_NULL, null=True, blank=True, related_name="+")
    job = models.ForeignKey(GenerationJob, models.SET_NULL, null=True, blank=True, related_name="+")
    created = models.DateTimeField(default=timezone.now)

    objects = TakeQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["sentence", "asset", "created"])]

    def __str__(self) -> str:
        return f"{self.get_asset_display()} take {self.id} of scene {self.sentence_id}"

    @property
    def is_current(self) -> bool:
        return getattr(self.sentence, f"{self.asset}_file").name == self.file


class WorkerQuerySet(models.QuerySet["Worker"]):
    def live(self) -> WorkerQuerySet:
        cutoff = timezone.now() - timedelta(seconds=settings.WORKER_STALE_AFTER)
        return self.filter(last_seen__gte=cutoff)


class Worker(models.Model):
    """A huey consumer process, as its own heartbeat tells it: which stages it takes."""

    name = models.CharField(max_length=200, unique=True)
    stages = models.JSONField(default=list)
    # Huey worker threads in the process: jobs it can run at once.
    threads = models.PositiveIntegerField(default=1)
    started = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)

    objects = WorkerQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def serves(self, stage: str) -> bool:
        return stage in self.stages


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Sending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Gave up"


class WebhookDelivery(models.Model):
    """One call of a project's webhook: what was sent, and how each try went."""

    project = models.ForeignKey(Project, models.CASCADE, related_name="webhook_deliveries")
    event = models.CharField(max_length=40)
    url = models.URLField(max_length=500)
    payload = models.JSONField(default=dict)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # Each try, one line: when, what came back.
    log = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event} to {self.url}"

    def record_try(self, ok: bool, status: int | None, error: str, final: bool) -> None:
        now = timezone.now()
        self.attempts += 1
        self.response_status = status
        self.last_error = "" if ok else error
        line = f"{now:%Y-%m-%d %H:%M:%S} try {self.attempts}: " + (
            f"HTTP {status}" if status is not None else error
        )
        self.log = f"{self.log}{line}\n"
        if ok:
            self.status, self.delivered_at = DeliveryStatus.DELIVERED, now
        elif final:
            self.status = DeliveryStatus.FAILED
        self.save()
