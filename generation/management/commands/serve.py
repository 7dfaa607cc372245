"""Start the web server (daphne) and one huey worker together: the embedded default."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve the storyboard with daphne and run one generation worker beside it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-worker", action="store_true", help="Web server only (workers run elsewhere)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        processes: list[subprocess.Popen[bytes]] = []
        web = [
            sys.executable, "-m", "daphne", "-b", options["host"], "-p", str(options["port"]),
            "storyboard_site.asgi:application",
        ]  # fmt: skip
        processes.append(subprocess.Popen(web))
        if not options["no_worker"]:
            processes.append(subprocess.Popen([sys.executable, "manage.py", "run_huey"]))
        mode = "Redis" if settings.REDIS_URL else "embedded (SQLite + SqliteHuey)"
        self.stdout.write(
            f"Storyboard is running at http://{options['host']}:{options['port']}/ "
            f"[{mode}, {'no worker' if options['no_worker'] else 'one worker'}]. Ctrl-C stops it."
        )
        try:
            while all(p.poll() is None for p in processes):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for p in processes:
                if p.poll() is None:
                    p.send_signal(signal.SIGINT)
            for p in processes:
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
        failed = [p.args for p in processes if p.returncode not in (0, -2, 130, None)]
        if failed:
            sys.exit(1)
