"""Orchestration overhead per job on the embedded default (SQLite + SqliteHuey).

A 1,000-scene, three-stage run with an instant backend goes through a real
`run_huey` consumer; the same consumer then drains as many bare no-op huey tasks.
Prints the engine's overhead per job (run wall time minus backend time, over jobs)
and its ratio to a bare task. Target: under 3 ms per job. Also prints how soon an
idle worker starts a new run.

    .venv/bin/python benchmarks/orchestration.py [--scenes 1000] [--repeats 3]
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
    parser.add_argument("--scenes", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    data = Path(tempfile.mkdtemp(prefix="storyboard-bench-"))
    os.environ.update(
        STORYBOARD_DATA_DIR=str(data),
        STORYBOARD_BACKEND_FACTORY="benchmarks.instant_backend.make_backend",
        LOG_LEVEL="WARNING",
    )
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storyboard_site.settings")
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from benchmarks.instant_backend import InstantBackend
    from generation import runs
    from generation.backends.base import JobInput
    from generation.tasks import noop
    from projects.models import Project

    call_command("migrate", verbosity=0)
    user = User.objects.create_user("bench")
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "run_huey", "--workers", "1"],
        cwd=ROOT,
        env=os.environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(2)  # consumer start-up is not part of either figure
        # What the backend itself costs per call, so it can be taken out.
        work = data / "probe"
        work.mkdir()
        probe = JobInput("images", 0, 1, "t", "p", "", "", "en", 64, 64, 24, "static", 0.5, 0, work)
        backend = InstantBackend()
        batches = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(200):
                backend.generate(probe, lambda d, t: None)
            batches.append((time.perf_counter() - start) / 200)
        # Noise on a shared machine only ever adds time: the fastest batch is the cost.
        backend_each = min(batches)

        overheads, bares = [], []
        for repeat in range(args.repeats):
            project = Project.objects.create(owner=user, name=f"bench {repeat}")
            project.add_sentences([f"Scene {i}." for i in range(args.scenes)])
            start = time.perf_counter()
            run = runs.start_run(project, ["audio", "images", "videos"]).run
            assert run is not None
            while True:
                run.refresh_from_db()
                if not run.is_active:
                    break
                time.sleep(0.1)
            wall = time.perf_counter() - start
            jobs = run.jobs.count()
            assert run.status == "succeeded", run.status
            overhead = (wall - jobs * backend_each) / jobs
            overheads.append(overhead)

            start = time.perf_counter()
            results = [noop() for _ in range(jobs)]
            results[-1].get(blocking=True, timeout=120)
            bare = (time.perf_counter() - start) / jobs
            bares.append(bare)
            print(
                f"repeat {repeat + 1}: {jobs} jobs in {wall:.2f} s; overhead "
                f"{overhead * 1000:.2f} ms/job; bare no-op task {bare * 1000:.2f} ms"
            )
        # An idle worker has backed off to its longest poll interval: how long until a
        # click's first job starts?
        pickups = []
        for repeat in range(5):
            time.sleep(2)
            project = Project.objects.create(owner=user, name=f"pickup {repeat}")
            project.add_sentences(["One scene."])
            run = runs.start_run(project, ["audio"]).run
            assert run is not None
            job = run.jobs.get()
            while job.started_at is None:
                time.sleep(0.005)
                job.refresh_from_db()
            pickups.append((job.started_at - run.created).total_seconds())
        overhead, bare = statistics.median(overheads), statistics.median(bares)
        print(f"backend time per call: {backend_each * 1000:.3f} ms")
        print(f"orchestration overhead per job (median): {overhead * 1000:.2f} ms (target < 3 ms)")
        print(f"bare no-op SqliteHuey task (median):     {bare * 1000:.2f} ms")
        print(f"ratio overhead / bare task:              {overhead / bare:.1f}x")
        print(f"jobs/s: {1 / overhead:.0f}")
        pickup = statistics.median(pickups) * 1000
        print(
            f"idle worker pickup, click to job start (median of 5): {pickup:.0f} ms (target ~50 ms)"
        )
    finally:
        worker.terminate()
        worker.wait()


if __name__ == "__main__":
    main()
