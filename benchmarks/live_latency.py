"""Live-update latency on the embedded default: from a job's completion being committed
to the progress text changing in the browser.

A 200-scene, one-stage (audio) run with ~50 ms jobs goes through a real `run_huey`
worker and a real daphne (both separate processes, SQLite + SqliteHuey, no Redis), watched
by N headless Chromium tabs. The worker records the time right after each job's commit
(benchmarks/live_backend.py); each tab records, with a MutationObserver, when
`.overall-line` first showed each finished count. Job k's latency is the first time a tab
showed at least k finished, minus the commit time of the k-th job (one worker thread
finishes jobs one at a time). Both clocks are this machine's wall clock.

    .venv/bin/python benchmarks/live_latency.py [--tabs 1] [--scenes 200] [--repeats 3]
    .venv/bin/python benchmarks/live_latency.py --tabs 20 --repeats 1

Target: p95 under 250 ms (embedded default); with --tabs, every tab reaches 100% with
the right totals.
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
from typing import Any
from urllib.error import URLError
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.support.scaled import free_port  # noqa: E402


class Stack:
    """A fresh data folder (SQLite DB, huey queue, media), daphne and one worker."""

    def __init__(self, backend: str, **env: str):
        self.data = Path(tempfile.mkdtemp(prefix="storyboard-live-"))
        os.environ.update(
            STORYBOARD_DATA_DIR=str(self.data),
            STORYBOARD_BACKEND_FACTORY=backend,
            LOG_LEVEL="WARNING",
            **env,
        )
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storyboard_site.settings")
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> Stack:
        quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        web = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port)]
        self.processes.append(
            subprocess.Popen([*web, "storyboard_site.asgi:application"], cwd=ROOT, **quiet)
        )
        worker = [sys.executable, "manage.py", "run_huey", "--workers", "1"]
        self.processes.append(subprocess.Popen(worker, cwd=ROOT, **quiet))
        deadline = time.monotonic() + 30
        while True:
            try:
                with urlopen(f"{self.url}/login/", timeout=1):
                    break
            except (URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        return self

    def stop(self) -> None:
        for p in self.processes:
            p.terminate()
        for p in self.processes:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def log_in(page: Any, username: str, password: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")


# Per tab: the first time (epoch ms) each finished count was shown, and every total seen.
OBSERVE = """
window.__shown = {};
window.__totals = [];
window.__socket = false;
document.addEventListener('htmx:wsBeforeMessage', () => { window.__socket = true; });
new MutationObserver(() => {
  const now = performance.timeOrigin + performance.now();
  const line = document.querySelector('.overall-line');
  let m = line && line.textContent.match(/Overall: (\\d+)\\/(\\d+)/);
  if (!m) {
    const summary = document.querySelector('.run-summary');
    m = summary && summary.textContent.match(/Last run: all ((\\d+)) done/);
  }
  if (!m) return;
  const count = Number(m[1]);
  window.__totals.push(Number(m[2]));
  if (!(count in window.__shown)) window.__shown[count] = now;
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def one_run(stack: Stack, context: Any, scenes: int, tabs: int, commits: Path) -> dict:
    from django.contrib.auth.models import User

    from projects.models import Project

    user = User.objects.get(username="bench")
    project = Project.objects.create(owner=user, name=f"Latency {time.time():.0f}")
    project.add_sentences([f"Scene {i} of the benchmark." for i in range(1, scenes + 1)])
    commits.write_text("")

    pages = [context.new_page() for _ in range(tabs)]
    for page in pages:
        page.goto(f"/projects/{project.id}/")
        page.wait_for_function("window.__socket === true", timeout=30_000)
    started = time.monotonic()
    first = pages[0]
    first.get_by_text("Generate All ▾").click()
    first.locator('.generate-form .dropdown button[value="audio"]').click()
    summary = f"Last run: all {scenes} done."
    for page in pages:
        page.locator(".run-summary").filter(has_text=summary).wait_for(timeout=300_000)
    wall = time.monotonic() - started

    committed = [float(line.split()[1]) for line in commits.read_text().splitlines()]
    assert len(committed) == scenes, f"{len(committed)} commits recorded, expected {scenes}"
    committed.sort()
    latencies: list[float] = []
    complete = 0
    for page in pages:
        shown = {int(k): v / 1000 for k, v in page.evaluate("window.__shown").items()}
        totals = set(page.evaluate("window.__totals"))
        if max(shown) == scenes and totals == {scenes}:
            complete += 1
        for k, t in enumerate(committed, start=1):
            first_shown = min(v for c, v in shown.items() if c >= k)
            latencies.append((first_shown - t) * 1000)
        page.close()
    return {"latencies": latencies, "complete": complete, "wall": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tabs", type=int, default=1)
    parser.add_argument("--scenes", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--job-seconds", type=float, default=0.05)
    args = parser.parse_args()

    commits = Path(tempfile.mkdtemp(prefix="storyboard-commits-")) / "commits.log"
    stack = Stack(
        "benchmarks.live_backend.make_backend",
        LIVE_BENCH_COMMITS=str(commits),
        LIVE_BENCH_JOB_SECONDS=str(args.job_seconds),
    )
    from django.contrib.auth.models import User

    User.objects.create_user("bench", password="bench-password")
    stack.start()
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # ORM calls beside Playwright's loop
    from playwright.sync_api import sync_playwright

    print(
        f"{args.scenes} jobs (audio, {args.job_seconds * 1000:.0f} ms each), one worker, "
        f"daphne, {args.tabs} tab(s), LIVE_POLL_SECONDS default (0.1 s), no Redis"
    )
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(
                base_url=stack.url, viewport={"width": 1280, "height": 900}
            )
            context.add_init_script(OBSERVE)
            log_in(context.new_page(), "bench", "bench-password")
            medians = []
            for i in range(args.repeats):
                r = one_run(stack, context, args.scenes, args.tabs, commits)
                lat = r["latencies"]
                medians.append(statistics.median(lat))
                print(
                    f"run {i + 1}: median {statistics.median(lat):.0f} ms, "
                    f"p95 {percentile(lat, 95):.0f} ms, max {max(lat):.0f} ms over {len(lat)} "
                    f"(job, tab) pairs; {r['complete']}/{args.tabs} tabs reached "
                    f"{args.scenes}/{args.scenes}; run took {r['wall']:.1f} s"
                )
                if r["complete"] != args.tabs:
                    sys.exit("Not every tab reached 100% with the right totals.")
            browser.close()
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
