"""Render a project's film from the command line and print where it was written.

Exit codes, as for generate_all: 0 the film was written, 1 the export failed, 2 bad arguments
(or an export already in progress, or scenes not ready with --no-standins), 130 cancelled
with Ctrl-C.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from exports import jobs
from exports.jobs import start_export
from exports.models import Export, ExportInProgress, ExportStatus
from projects.models import Project


def bad(message: str) -> CommandError:
    return CommandError(message, returncode=2)


class Command(BaseCommand):
    help = "Export a project's scenes as one MP4 film."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", help="Project id")
        parser.add_argument("--captions", action="store_true", help="Burn in the sentences")
        parser.add_argument("--fades", action="store_true", help="Fade through black between")
        parser.add_argument(
            "--no-standins",
            dest="standins",
            action="store_false",
            help="Refuse to export while a scene has no up-to-date clip",
        )
        parser.add_argument(
            "--inline", action="store_true", help="Render in this process, no worker needed"
        )
        parser.add_argument("--poll", type=float, default=0.2, help="Seconds between updates")

    def handle(self, *args: Any, **options: Any) -> None:
        if not str(options["project"]).isdigit():
            raise bad(f"Project must be a numeric id, not {options['project']!r}.")
        project = Project.objects.filter(id=int(options["project"])).first()
        if project is None:
            raise bad(f"Project {options['project']} does not exist.")
        if not project.sentences.exists():
            raise bad("This project has no scenes to export.")
        problems = jobs.scene_problems(project)
        if problems:
            positions = sorted(
                project.sentences.filter(id__in=problems).values_list("position", flat=True)
            )
            listed = ", ".join(map(str, positions))
            if not options["standins"]:
                raise bad(f"Scenes {listed} have no up-to-date clip: generate them first.")
            self.stderr.write(f"Scenes {listed} have no up-to-date clip: using stand-ins.")
        try:
            export = start_export(
                project,
                captions=options["captions"],
                fades=options["fades"],
                standins=options["standins"],
                inline=options["inline"],
            )
        except ExportInProgress as e:
            raise bad(f"Export {e.export.id} is already in progress for this project.") from None
        try:
            if options["inline"]:
                jobs.execute_export(export.id)
            else:
                self.follow(export, options["poll"])
        except KeyboardInterrupt:
            self.stderr.write("Cancelling… no partial file is kept.")
            export.request_cancel()
            if not options["inline"]:
                self.follow(export, options["poll"])
        export.refresh_from_db()
        if export.status == ExportStatus.SUCCEEDED:
            self.stdout.write(str(Path(settings.MEDIA_ROOT) / export.file))
            return
        if export.status == ExportStatus.CANCELLED or export.is_active:
            if export.is_active:  # interrupted inline: nothing else will finish it
                export.finish(ExportStatus.CANCELLED)
            sys.exit(130)
        self.stderr.write(f"Export failed: {export.error}")
        sys.exit(1)

    def follow(self, export: Export, poll: float) -> None:
        shown = -1
        while True:
            export.refresh_from_db()
            if export.percent != shown and self.stdout.isatty():
                self.stdout.write(f"\rExporting… {export.percent}%", ending="")
                shown = export.percent
            if not export.is_active:
                if shown >= 0:
                    self.stdout.write("")
                return
            time.sleep(poll)
