"""How far the time quote is from what runs really take.

Runs of several sizes, one after another, each a fresh project of the same preset and
size, through real `run_huey` consumers on the embedded default (SQLite + SqliteHuey),
with a backend whose jobs take a set time per stage with ±30% spread
(benchmarks/paced_backend.py). The first run has no history (the preset's defaults);
later ones are quoted from the runs before them. Prints quote, actual and error per run,
then the mean absolute error of the runs quoted from history.

    .venv/bin/python benchmarks/quotes.py [--sizes 5,10,20,50,100] [--workers 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5,10,20,50,100")
    parser.add_argument("--workers", type=int, default=1, help="consumer processes")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    data = Path(tempfile.mkdtemp(prefix="storyboard-quotes-"))
    os.environ.update(
        STORYBOARD_DATA_DIR=str(data),
        STORYBOARD_BACKEND_FACTORY="benchmarks.paced_backend.make_backend",
        LOG_LEVEL="WARNING",
        WORKER_HEARTBEAT_SECONDS="1",
    )
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storyboard_site.settings")
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from benchmarks import paced_backend
    from generation import runs
    from generation.models import Worker
    from projects.models import Project

    call_command("migrate", verbosity=0)
    user = User.objects.create_user("bench")
    workers = [
        subprocess.Popen(
            [sys.executable, "manage.py", "run_huey", "--workers", "1"],
            cwd=ROOT,
            env=os.environ,
        )
        for _ in range(args.workers)
    ]
    try:
        deadline = time.monotonic() + 60
        while Worker.objects.live().count() < args.workers and time.monotonic() < deadline:
            time.sleep(0.2)
        print(f"{args.workers} worker(s), job times {paced_backend.SECONDS} ±30%")
        print(f"{'scenes':>6} {'jobs':>5} {'basis':>8} {'quote s':>8} {'actual s':>9} {'error':>7}")
        errors = []
        for n, scenes in enumerate(sizes):
            project = Project.objects.create(owner=user, name=f"quotes {n}")
            project.add_sentences([f"Scene {i} of run {n}." for i in range(scenes)])
            run = runs.start_run(project, ["audio", "images", "videos"]).run
            assert run is not None
            while True:
                run.refresh_from_db()
                if not run.is_active:
                    break
                time.sleep(0.05)
            basis = ",".join(sorted({q["basis"] for q in run.quote.values()}))
            error = run.quote_error
            assert error is not None
            if basis == "history":
                errors.append(abs(error))
            print(
                f"{scenes:>6} {3 * scenes:>5} {basis:>8} {run.quote_seconds:>8.2f} "
                f"{run.actual_seconds:>9.2f} {100 * error:>+6.1f}%"
            )
        if errors:
            print(
                f"mean absolute error of the runs quoted from history: "
                f"{100 * statistics.mean(errors):.1f}% (worst {100 * max(errors):.1f}%)"
            )
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(10)


if __name__ == "__main__":
    main()
