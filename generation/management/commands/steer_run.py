"""Steer a project's running generation from the command line, as the page and API do.

Exit codes: 0 done, 2 bad arguments, 3 no run in progress (or the scene has nothing
left to do in it).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from generation import runs
from generation.progress import run_progress
from projects.models import Project


class Command(BaseCommand):
    help = (
        "Steer the running generation of a project: stop after the running jobs, cancel "
        "one scene's jobs, or make a scene next."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", help="Project id")
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument(
            "--stop-after-running",
            action="store_true",
            help="Let the running jobs finish (their assets are kept); start nothing new",
        )
        action.add_argument(
            "--cancel-scene", type=int, metavar="N", help="Cancel scene N's jobs (1 = first)"
        )
        action.add_argument(
            "--next-scene", type=int, metavar="N", help="Run scene N's jobs before the others"
        )
        parser.add_argument("--json", action="store_true", help="Print the effect as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if not str(options["project"]).isdigit():
            raise CommandError(f"Project must be a numeric id, not {options['project']!r}.", 2)
        project = Project.objects.filter(id=int(options["project"])).first()
        if project is None:
            raise CommandError(f"Project {options['project']} does not exist.", returncode=2)
        run = project.runs.active().first()
        if run is None:
            raise CommandError("No generation run is in progress for this project.", returncode=3)
        scene_number = options["cancel_scene"] or options["next_scene"]
        if options["stop_after_running"]:
            steered = runs.stop_after_running(run)
            if steered is None:
                raise CommandError("The run has already ended.", returncode=3)
            line = (
                f"Stopping after {steered.stopping} running job(s); "
                f"{steered.cancelled} waiting job(s) cancelled."
            )
        else:
            sentence = project.sentences.filter(position=scene_number).first()
            if sentence is None:
                raise CommandError(f"Scene {scene_number} does not exist.", returncode=2)
            if options["cancel_scene"]:
                steered = runs.cancel_scene(run, sentence)
                line = f"Scene {scene_number}: {steered.cancelled} job(s) cancelled."
                count = steered.cancelled
            else:
                steered = runs.make_next(run, sentence)
                line = f"Scene {scene_number}: {steered.moved} job(s) moved to the front."
                count = steered.moved
            if not count:
                raise CommandError(
                    f"Scene {scene_number} has nothing left to do in run {run.id}.", returncode=3
                )
        run.refresh_from_db()
        if options["json"]:
            payload = {**steered.as_json(), "progress": run_progress(run).as_json()}
            self.stdout.write(json.dumps(payload))
        else:
            progress = run_progress(run)
            self.stdout.write(
                f"{line} Run {run.id}: {progress.finished}/{progress.total} finished, "
                f"{progress.cancelled} cancelled."
            )
