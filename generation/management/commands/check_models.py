"""Check that everything a preset needs is installed and loads, one line per item.

Exit code 0 when all load, 1 when any fails. Loading is real (models go to the configured
device), so on a fresh machine this is also the quickest way to see what is missing.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from generation.backends.base import BackendError
from generation.backends.config import setting
from generation.backends.registry import PRESETS, requirements


class Command(BaseCommand):
    help = "Check that the models and tools a preset needs are present and load."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--preset",
            choices=PRESETS,
            help="Preset to check (default: STORYBOARD_PRESET).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        preset = options["preset"] or str(setting("STORYBOARD_PRESET"))
        failed = 0
        items = requirements(preset)
        for item in items:
            try:
                detail = item.check()
            except BackendError as error:
                failed += 1
                self.stdout.write(self.style.ERROR(f"FAIL {item.label}: {error}"))
            else:
                self.stdout.write(self.style.SUCCESS(f"ok   {item.label}: {detail}"))
        if failed:
            raise CommandError(f"{failed} of {len(items)} checks failed.", returncode=1)
