"""Scene by scene from the command line: regenerate, re-roll, takes, restore, and the
review of a run's pictures (approve, continue).

    manage.py scene regenerate PROJECT SCENE [--asset image ...] [--wait]
    manage.py scene reroll PROJECT SCENE [--wait]
    manage.py scene takes PROJECT SCENE [--json]
    manage.py scene restore PROJECT SCENE TAKE
    manage.py scene approve PROJECT SCENE [--no]
    manage.py scene continue PROJECT [--wait]

SCENE is the scene's number on the page (its position). Exit codes: 0 done, 1 the run
it waited for had failures, 2 bad arguments or refused (with the reason, one line).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from generation import scenes, takes
from generation.management.commands.generate_all import progress_line
from generation.models import GenerationRun, Origin, RunStatus, Take
from generation.progress import run_progress
from projects.models import Project, Sentence
from projects.vocabulary import Asset


def bad(message: str) -> CommandError:
    return CommandError(message, returncode=2)


class Command(BaseCommand):
    help = "Regenerate, re-roll, list or restore takes of one scene; approve and continue a review."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        for name, text in (
            ("regenerate", "Make one scene's narration, picture or clip again (default: all)"),
            ("reroll", "A new seed and a new picture for one scene"),
            ("takes", "List one scene's takes, newest first"),
            ("restore", "Make a take the scene's current asset again"),
            ("approve", "Approve a scene's picture for its clip (run waiting for review)"),
        ):
            sub = actions.add_parser(name, help=text)
            sub.add_argument("project", help="Project id")
            sub.add_argument("scene", help="Scene number (its position)")
            if name == "regenerate":
                sub.add_argument(
                    "--asset",
                    action="append",
                    choices=[*Asset.values, "all"],
                    help="Repeat for several; default all three, in order",
                )
            if name in ("regenerate", "reroll"):
                sub.add_argument("--wait", action="store_true", help="Follow the run to its end")
            if name == "takes":
                sub.add_argument("--json", action="store_true", help="Print them as JSON")
            if name == "restore":
                sub.add_argument("take", help="Take id (see `scene takes`)")
            if name == "approve":
                sub.add_argument("--no", action="store_true", help="Withdraw the approval")
        sub = actions.add_parser("continue", help="Make clips for the approved scenes")
        sub.add_argument("project", help="Project id")
        sub.add_argument("--wait", action="store_true", help="Follow the run to its end")

    def handle(self, *args: Any, **options: Any) -> None:
        project = self.project(options["project"])
        action = options["action"]
        try:
            if action == "continue":
                run = project.runs.active().first()
                if run is None:
                    raise scenes.SceneActionRefused("No run is waiting for review of its pictures.")
                scenes.continue_review(run)
                self.stdout.write(f"Run {run.id}: making clips for the approved scenes.")
                return self.wait(run, options)
            sentence = self.scene(project, options["scene"])
            if action in ("regenerate", "reroll"):
                if action == "reroll":
                    result = scenes.reroll(sentence, Origin.CLI)
                else:
                    assets = scenes.parse_assets(options["asset"] or "all")
                    result = scenes.regenerate(sentence, assets, Origin.CLI)
                self.started(result, sentence)
                if result.run is not None:
                    self.wait(result.run, options)
            elif action == "takes":
                self.list_takes(sentence, options["json"])
            elif action == "restore":
                self.restore(sentence, options["take"])
            elif action == "approve":
                scenes.approve(scenes.waiting_run(sentence), sentence, not options["no"])
                verb = "no longer approved" if options["no"] else "approved"
                self.stdout.write(f"Scene {sentence.position}: picture {verb}.")
        except (scenes.SceneActionRefused, takes.RestoreRefused, ValueError) as e:
            raise bad(str(e)) from None

    def project(self, value: str) -> Project:
        if not str(value).isdigit():
            raise bad(f"Project must be a numeric id, not {value!r}.")
        project = Project.objects.filter(id=int(value)).first()
        if project is None:
            raise bad(f"Project {value} does not exist.")
        return project

    def scene(self, project: Project, value: str) -> Sentence:
        sentence = (
            project.sentences.filter(position=int(value)).first() if value.isdigit() else None
        )
        if sentence is None:
            raise bad(f"Project {project.id} has no scene {value}.")
        sentence.project = project
        return sentence

    def started(self, result: scenes.SceneRun, sentence: Sentence) -> None:
        run = result.run
        assert run is not None
        counts = ", ".join(f"{k} {v}" for k, v in result.job_counts.items()) or "nothing new"
        where = "added to run in progress" if result.joined else "started"
        line = f"Run {run.id} {where}: {counts}"
        if run.label and not result.joined:
            line += f" ({run.label})"
        sentence.refresh_from_db()
        self.stdout.write(f"{line}. Scene {sentence.position} seed {sentence.seed}.")

    def wait(self, run: GenerationRun, options: dict[str, Any]) -> None:
        if not options.get("wait"):
            return
        shown = ""
        while True:
            run.refresh_from_db()
            line = progress_line(run_progress(run))
            if line != shown:
                self.stdout.write(line)
                shown = line
            if run.status == RunStatus.REVIEW:
                self.stdout.write(
                    f"Waiting for review: `manage.py scene approve {run.project_id} SCENE`, "
                    f"then `manage.py scene continue {run.project_id}`."
                )
                return
            if not run.is_active:
                break
            time.sleep(0.2)
        if run.status == RunStatus.FAILED:
            sys.exit(1)

    def list_takes(self, sentence: Sentence, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(takes.takes_json(sentence)))
            return
        for take in Take.objects.filter(sentence=sentence):
            take.sentence = sentence
            mark = "*" if take.is_current else " "
            seed = f" seed {take.seed}" if take.seed is not None else ""
            self.stdout.write(
                f"{mark} {take.id:>6} {take.asset:<5} {take.created:%Y-%m-%d %H:%M:%S}"
                f"{seed} {take.model or '?'} {take.file}"
            )

    def restore(self, sentence: Sentence, value: str) -> None:
        take = (
            Take.objects.filter(sentence=sentence, id=int(value)).first()
            if value.isdigit()
            else None
        )
        if take is None:
            raise bad(f"Scene {sentence.position} has no take {value}.")
        stale = takes.restore(take)
        after = ", ".join(sorted(stale)) + " out of date" if stale else "up to date"
        self.stdout.write(f"Scene {sentence.position}: take {take.id} restored ({after}).")
