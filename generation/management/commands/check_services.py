"""Which mode is this (embedded or scaled out), and does each service answer?"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from huey.contrib.djhuey import HUEY


class Command(BaseCommand):
    help = "Report the active mode and whether the database, queue, channel layer and media answer."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet", action="store_true", help="Only the exit code")

    def handle(self, *args: Any, **options: Any) -> None:
        mode = "scaled out" if settings.REDIS_URL else "embedded"
        checks = [
            ("database", self.database),
            ("queue", self.queue),
            ("channel layer", self.channel_layer),
            ("media", self.media),
        ]
        failed = 0
        if not options["quiet"]:
            self.stdout.write(f"mode: {mode}")
        for name, check in checks:
            try:
                detail = check()
                ok = True
            except Exception as e:  # noqa: BLE001 - report any failure as one line
                detail, ok = f"{type(e).__name__}: {e}".splitlines()[0], False
                failed += 1
            if not options["quiet"]:
                self.stdout.write(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
        if failed:
            raise SystemExit(1)

    def database(self) -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return f"{connection.vendor} {connection.settings_dict['NAME']}"

    def queue(self) -> str:
        pending = HUEY.pending_count()
        kind = next(c.__name__ for c in type(HUEY).__mro__ if c.__module__ == "huey.api")
        return f"{kind} '{HUEY.name}' (a queue per stage), {pending} task(s) waiting"

    def channel_layer(self) -> str:
        from asgiref.sync import async_to_sync
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        assert layer is not None
        async_to_sync(layer.group_send)("storyboard-check", {"type": "check"})
        kind = type(layer).__name__
        if not settings.REDIS_URL:
            kind += " (workers reach pages by the page polling the database)"
        return kind

    def media(self) -> str:
        root = settings.MEDIA_ROOT
        root.mkdir(parents=True, exist_ok=True)
        probe = root / ".check-services"
        probe.write_bytes(b"ok")
        probe.unlink()
        return f"{root} is writable"
