"""Generate a project's missing assets from the command line, following the run live.

Exit codes: 0 every job done, 1 some job failed, 2 bad arguments (or a run already
in progress), 130 cancelled with Ctrl-C. With --json, stdout carries only the final JSON and
progress goes to stderr, so a script can parse stdout whole.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from generation import runs, worker
from generation.models import GenerationRun, JobStatus, Origin, RunStatus
from generation.planner import PlanError, order_stages
from generation.progress import Progress, StageProgress, run_progress
from projects.models import Project
from projects.vocabulary import STAGE_ORDER

BAR_WIDTH = 30


def bad(message: str) -> CommandError:
    return CommandError(message, returncode=2)


def not_done(stage: StageProgress) -> list[str]:
    counts = (
        (stage.failed, JobStatus.FAILED),
        (stage.skipped, JobStatus.SKIPPED),
        (stage.cancelled, JobStatus.CANCELLED),
    )
    return [f"{n} {label}" for n, label in counts if n]


def bar_lines(progress: Progress) -> list[str]:
    lines = []
    for name, s in progress.stages.items():
        filled = int(BAR_WIDTH * s.finished / s.total) if s.total else BAR_WIDTH
        extra = "".join(f"  {e}" for e in not_done(s))
        marker = "▶" if name == progress.current_stage and s.finished < s.total else " "
        lines.append(
            f"{marker} {name:<7}[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] "
            f"{s.finished}/{s.total} ({s.percent}%){extra}"
        )
    lines.append(f"  overall {progress.finished}/{progress.total} ({progress.percent}%)")
    return lines


def progress_line(progress: Progress) -> str:
    """The whole run on one line, for logs: a redrawn block would repeat itself per poll."""
    parts = [f"overall {progress.finished}/{progress.total} ({progress.percent}%)"]
    for name, s in progress.stages.items():
        extra = ", ".join(not_done(s))
        parts.append(f"{name} {s.finished}/{s.total}" + (f" ({extra})" if extra else ""))
    return " · ".join(parts)


class Command(BaseCommand):
    help = "Generate every missing or out-of-date asset of a project, stage by stage."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", help="Project id")
        parser.add_argument(
            "--stages",
            default=",".join(STAGE_ORDER),
            help="Comma-separated stages to run (default: audio,images,videos)",
        )
        parser.add_argument(
            "--no-skip-clean",
            dest="skip_clean",
            action="store_false",
            help="Regenerate every scene of the chosen stages, even up-to-date ones",
        )
        parser.add_argument(
            "--inline", action="store_true", help="Run the jobs in this process, no worker needed"
        )
        parser.add_argument(
            "--review",
            action="store_true",
            help="Stop before clips until the pictures are approved (see `manage.py scene`)",
        )
        parser.add_argument("--json", action="store_true", help="Print the final progress as JSON")
        parser.add_argument("--poll", type=float, default=0.2, help="Seconds between updates")

    def say(self, message: str, options: dict[str, Any], ending: str | None = None) -> None:
        """Human-readable lines: on stderr with --json, so stdout stays parseable."""
        if options["json"]:
            self.stderr.write(message, style_func=lambda m: m, ending=ending)
        else:
            self.stdout.write(message, ending=ending)

    def handle(self, *args: Any, **options: Any) -> None:
        if not str(options["project"]).isdigit():
            raise bad(f"Project must be a numeric id, not {options['project']!r}.")
        project = Project.objects.filter(id=int(options["project"])).first()
        if project is None:
            raise bad(f"Project {options['project']} does not exist.")
        try:
            stages = order_stages(s.strip() for s in options["stages"].split(",") if s.strip())
        except PlanError as e:
            raise bad(str(e)) from None
        if options["review"] and options["inline"]:
            raise bad("--review needs a worker to make the clips later: leave out --inline.")
        try:
            started = runs.start_run(
                project,
                stages,
                options["skip_clean"],
                origin=Origin.CLI,
                inline=options["inline"],
                review_before_clips=options["review"],
            )
        except runs.RunInProgress as e:
            raise bad(f"Run {e.run.id} is already in progress for this project.") from None
        if started.run is None:
            self.say("Nothing to generate: every requested asset is up to date.", options)
            if options["json"]:
                self.stdout.write(json.dumps({"runId": None, "totalJobs": 0}))
            return
        run = started.run
        self.say(
            f"Run {run.id}: {started.total_jobs} jobs "
            + ", ".join(f"{k} {v}" for k, v in started.job_counts.items()),
            options,
        )
        try:
            self.follow(run, options)
        except KeyboardInterrupt:
            self.say("\nCancelling… finished assets are kept.", options)
            runs.cancel_run(run)
            if options["inline"]:
                worker.abandon_local_jobs(run)
            self.follow(run, options)
        run.refresh_from_db()
        progress = run_progress(run)
        if options["json"]:
            self.stdout.write(json.dumps(progress.as_json()))
        for job in run.jobs.filter(status=JobStatus.FAILED).order_by("position"):
            self.stderr.write(f"scene {job.position} {job.stage}: {job.error}")
        if run.status == RunStatus.CANCELLED:
            sys.exit(130)
        if run.status == RunStatus.FAILED:
            sys.exit(1)

    def follow(self, run: GenerationRun, options: dict[str, Any]) -> None:
        tty = (self.stderr if options["json"] else self.stdout).isatty()
        shown: list[str] = []
        while True:
            run.refresh_from_db()
            if options["inline"] and run.is_active:
                job_id = (
                    run.jobs.filter(status=JobStatus.QUEUED)
                    .order_by("-priority", "position", "id")
                    .values_list("id", flat=True)
                    .first()
                )
                if job_id is not None:
                    worker.execute_job(job_id)
                else:
                    runs.advance(run.id)
                run.refresh_from_db()
            progress = run_progress(run)
            lines = bar_lines(progress) if tty else [progress_line(progress)]
            if lines != shown:
                if tty and shown:
                    self.say(f"\x1b[{len(shown)}F\x1b[J", options, ending="")
                self.say("\n".join(lines), options)
                shown = lines
            if not run.is_active:
                return
            if run.status == RunStatus.REVIEW:
                self.say(
                    f"Waiting for review: `manage.py scene approve {run.project_id} SCENE`, "
                    f"then `manage.py scene continue {run.project_id}`.",
                    options,
                )
                return
            if run.status == RunStatus.PAUSED:
                self.stderr.write(
                    f"\n{run.pause_reason}\nFix the cause, then resume it from the page or "
                    f"POST /api/v1/projects/{run.project_id}/resume-generation."
                )
                sys.exit(1)
            if not options["inline"]:
                time.sleep(options["poll"])
