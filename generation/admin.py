from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from generation import runs, webhooks
from generation.models import (
    UNFINISHED_JOB_STATUSES,
    GenerationJob,
    GenerationRun,
    JobStatus,
    Origin,
    Take,
    WebhookDelivery,
    Worker,
)
from projects.admin import SentenceAdmin
from projects.models import Sentence


class GenerationJobInline(admin.TabularInline):
    model = GenerationJob
    fields = ["position", "stage", "status", "attempts", "worker", "duration", "error"]
    readonly_fields = ["position", "stage", "status", "attempts", "worker", "duration", "error"]
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ["stage", "position"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(GenerationRun)
class GenerationRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "project",
        "status",
        "current_stage",
        "progress",
        "origin",
        "started_by",
        "created",
        "finished_at",
        "quoted",
        "took",
        "quote_off_by",
    ]
    list_filter = ["status", "origin"]
    search_fields = ["project__name"]
    readonly_fields = [
        "project",
        "stages",
        "skip_clean",
        "status",
        "current_stage",
        "origin",
        "started_by",
        "retry_of",
        "inline",
        "label",
        "review_before_clips",
        "reviewed_at",
        "created",
        "finished_at",
        "progress",
        "stop_after_running",
        "quoted",
        "took",
        "quote_off_by",
        "quote",
    ]
    inlines = [GenerationJobInline]
    actions = ["cancel_runs", "retry_failed_jobs"]
    list_select_related = ["project", "started_by"]

    # Runs change through their actions, never by editing a row: the page is read-only
    # and shows no Save buttons.
    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[GenerationRun]:
        # Counted in the list's one query, not one query per run shown.
        return (
            super()
            .get_queryset(request)
            .annotate(
                total_jobs=Count("jobs"),
                finished_jobs=Count("jobs", filter=~Q(jobs__status__in=UNFINISHED_JOB_STATUSES)),
                failed_jobs=Count("jobs", filter=Q(jobs__status=JobStatus.FAILED)),
            )
        )

    @admin.display(description="Progress")
    def progress(self, run: GenerationRun) -> str:
        total, finished = run.total_jobs, run.finished_jobs  # type: ignore[attr-defined]
        percent = round(100 * finished / total) if total else 100
        return f"{finished}/{total} ({percent}%), {run.failed_jobs} failed"  # type: ignore[attr-defined]

    @admin.display(description="Quote")
    def quoted(self, run: GenerationRun) -> str:
        return "" if run.quote_seconds is None else f"{run.quote_seconds:.1f} s"

    @admin.display(description="Took")
    def took(self, run: GenerationRun) -> str:
        actual = run.actual_seconds
        return "" if actual is None else f"{actual:.1f} s"

    @admin.display(description="Quote off by")
    def quote_off_by(self, run: GenerationRun) -> str:
        error = run.quote_error
        return "" if error is None else f"{100 * error:+.0f}%"

    @admin.action(description="Cancel selected runs (finished assets are kept)")
    def cancel_runs(self, request: HttpRequest, queryset: QuerySet[GenerationRun]) -> None:
        cancelled = sum(runs.cancel_run(run) for run in queryset)
        self.message_user(request, f"Cancelling {cancelled} run(s).")

    @admin.action(description="Retry the failed jobs of selected runs")
    def retry_failed_jobs(self, request: HttpRequest, queryset: QuerySet[GenerationRun]) -> None:
        for run in queryset:
            try:
                started = runs.retry_failed(run, origin=Origin.ADMIN, user=request.user)
            except runs.RunInProgress as e:
                self.message_user(
                    request,
                    f"{run.project}: run {e.run.id} is still in progress.",
                    messages.WARNING,
                )
                continue
            if started.run is None:
                self.message_user(request, f"Run {run.id} has nothing to retry.", messages.WARNING)
            else:
                self.message_user(
                    request,
                    f"Run {started.run.id} retries {started.total_jobs} job(s) of run {run.id}.",
                )


# Every field of a job, in model order, with the traceback in a fixed-width block.
JOB_FIELDS = [
    *("traceback_block" if f.name == "traceback" else f.name for f in GenerationJob._meta.fields),
    "duration",
]


@admin.register(GenerationJob)
class GenerationJobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "run",
        "project",
        "position",
        "stage",
        "status",
        "attempts",
        "worker",
        "duration",
        "short_error",
    ]
    list_filter = ["status", "stage", "run__project", "run"]
    search_fields = ["error", "traceback"]
    fields = tuple(JOB_FIELDS)
    readonly_fields = tuple(JOB_FIELDS)
    list_select_related = ["run__project"]
    actions = ["retry_failed"]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="Traceback")
    def traceback_block(self, job: GenerationJob) -> str:
        if not job.traceback:
            return "-"
        return format_html(
            '<pre class="traceback" style="white-space: pre-wrap; margin: 0">{}</pre>',
            job.traceback,
        )

    @admin.display(description="Project", ordering="run__project__name")
    def project(self, job: GenerationJob) -> str:
        return str(job.run.project)

    @admin.display(description="Error")
    def short_error(self, job: GenerationJob) -> str:
        return job.error[:120]

    @admin.action(description="Retry selected failed jobs in a new run")
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[GenerationJob]) -> None:
        failed = queryset.filter(status=JobStatus.FAILED, sentence__isnull=False).select_related(
            "run__project"
        )
        by_project: dict[int, list[GenerationJob]] = {}
        for job in failed:
            by_project.setdefault(job.run.project_id, []).append(job)
        for jobs in by_project.values():
            project = jobs[0].run.project
            only = {(j.sentence_id, j.stage) for j in jobs if j.sentence_id}
            stages = sorted({j.stage for j in jobs})
            try:
                started = runs.start_run(
                    project,
                    stages,
                    skip_clean=False,
                    origin=Origin.ADMIN,
                    user=request.user,
                    only=only,
                )  # type: ignore[arg-type]
            except runs.RunInProgress as e:
                self.message_user(
                    request, f"{project}: run {e.run.id} is still in progress.", messages.WARNING
                )
                continue
            self.message_user(request, f"{project}: retrying {started.total_jobs} job(s).")
        if not by_project:
            self.message_user(request, "None of the selected jobs failed.", messages.WARNING)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.display(description="Takes (newest first; * current)")
def scene_takes(admin_view: SentenceAdmin, sentence: Sentence) -> str:
    """A scene's takes with what made them, on its admin page: read-only records, shown
    as a table rather than an inline so the scene's change form posts as before."""
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td><a href='{}'>{}</a></td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                "*" if take.file == getattr(sentence, f"{take.asset}_file").name else "",
                reverse("admin:generation_take_change", args=[take.id]),
                take.id,
                take.get_asset_display(),
                "" if take.seed is None else take.seed,
                take.preset,
                take.model,
                take.run_id or "",
                take.created.strftime("%Y-%m-%d %H:%M:%S"),
                take.file,
            )
            for take in Take.objects.filter(sentence=sentence)
        ),
    )
    if not rows:
        return "No takes yet."
    head = mark_safe(
        "<table><tr><th></th><th>Take</th><th>Asset</th><th>Seed</th><th>Preset</th>"
        "<th>Model</th><th>Run</th><th>Made</th><th>File</th></tr>"
    )
    return format_html("{}{}</table>", head, rows)


# The scene's admin lives in projects, which doesn't know about generation: its takes
# are added from here.
setattr(SentenceAdmin, "takes", scene_takes)  # noqa: B010
SentenceAdmin.readonly_fields = (*SentenceAdmin.readonly_fields, "takes")


@admin.register(Take)
class TakeAdmin(admin.ModelAdmin):
    list_display = ["id", "sentence", "asset", "seed", "preset", "model", "run", "created"]
    list_filter = ["asset", "preset"]
    search_fields = ["prompt", "text", "sentence__project__name"]
    readonly_fields = [f.name for f in Take._meta.fields]
    list_select_related = ["sentence"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Worker)
class WorkerAdmin(admin.ModelAdmin):
    """Workers as their heartbeats tell it: read-only, a row per consumer process."""

    list_display = ["name", "stages", "threads", "is_live", "running", "started", "last_seen"]
    readonly_fields = ["name", "stages", "threads", "started", "last_seen", "is_live", "running"]
    ordering = ["-last_seen"]

    @admin.display(description="Live", boolean=True)
    def is_live(self, worker: Worker) -> bool:
        return Worker.objects.live().filter(id=worker.id).exists()

    @admin.display(description="Running")
    def running(self, worker: Worker) -> str:
        jobs = GenerationJob.objects.filter(worker=worker.name, status=JobStatus.RUNNING)
        return ", ".join(str(job) for job in jobs.select_related("run__project")) or "idle"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log of project webhooks: what was sent, each try and its answer."""

    list_display = ["id", "project", "event", "url", "status", "attempts", "response_status"]
    list_filter = ["status", "event", "project"]
    search_fields = ["url", "last_error"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    list_select_related = ["project"]
    actions = ["send_again"]

    @admin.action(description="Send the selected deliveries again")
    def send_again(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        for delivery in queryset:
            again = WebhookDelivery.objects.create(
                project=delivery.project,
                event=delivery.event,
                url=delivery.project.webhook_url or delivery.url,
                payload=delivery.payload,
            )
            webhooks.send_later(again.id)
        self.message_user(request, f"Sending {queryset.count()} delivery(ies) again.")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
