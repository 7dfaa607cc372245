"""Scaled-out load test, loopback only: PostgreSQL, a private Redis (RedisHuey +
channels_redis), daphne, 2 workers, and N WebSocket clients watching one run.

A 1,000-scene, three-stage run with an instant backend. Prints jobs/s, overhead per job
(wall time over jobs, 2 workers), wake-up latency (a job's commit to a client being sent
the progress that includes it; median and p95 over every job and client), whether every
client ended with the exact final totals, and, in the same run, bare no-op RedisHuey
tasks drained by the same 2 workers.

    .venv/bin/python benchmarks/load.py [--scenes 1000] [--clients 50]
    .venv/bin/python benchmarks/load.py --scenes 200 --stages audio --clients 1 \
        --workers 1 --job-seconds 0.05      # the live-latency case, with Redis

Targets: every client exact, p95 under 100 ms, overhead per job under 5 ms.
Needs PostgreSQL at STORYBOARD_TEST_POSTGRES (default postgresql://root@127.0.0.1/postgres)
and redis-server on PATH. Bounded: gives up after --timeout seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.scaled import Stack, final_json, free_port, port_answers, wait_until  # noqa: E402

OVERALL = re.compile(r"Overall: (\d+)/(\d+)")
DONE = re.compile(r"Last run: all (\d+) done")

NOOPS = """
import time
from generation.tasks import noop
start = time.perf_counter()
results = [noop() for _ in range({n})]
results[-1].get(blocking=True, timeout=300)
print(time.perf_counter() - start)
"""


async def watch(port: int, project: int, session: str, seen: list, timeout: float) -> int | None:
    """Record (time, finished) for every update; return the final total shown."""
    url = f"ws://127.0.0.1:{port}/ws/projects/{project}/"
    headers = {"Cookie": f"sessionid={session}", "Origin": f"http://127.0.0.1:{port}"}
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(url, headers=headers) as ws:
            deadline = time.time() + timeout
            while time.time() < deadline:
                msg = await ws.receive(timeout=deadline - time.time())
                if msg.type != aiohttp.WSMsgType.TEXT:
                    raise ConnectionError(f"socket ended: {msg.type.name} {msg.data!r}")
                now = time.time()
                if m := OVERALL.search(msg.data):
                    seen.append((now, int(m[1])))
                elif m := DONE.search(msg.data):
                    seen.append((now, int(m[1])))
                    return int(m[1])
    raise TimeoutError(f"no final state within {timeout} s; last seen {seen[-1:] or 'nothing'}")


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system) the processes used so far, from /proc."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "postgres":
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--stages", default="audio,images,videos")
    parser.add_argument(
        "--job-seconds", type=float, default=0.0, help="Backend time per job (default instant)"
    )
    args = parser.parse_args()

    commits = Path(tempfile.mkdtemp()) / "commits.txt"
    folder = Path(tempfile.mkdtemp(prefix="storyboard-load-"))
    print(f"logs: {folder}/web.log, {folder}/workers.log")
    with Stack(folder) as stack:
        stack.env.update(
            STORYBOARD_BACKEND_FACTORY="benchmarks.live_backend.make_backend",
            LIVE_BENCH_JOB_SECONDS=str(args.job_seconds),
            LIVE_BENCH_COMMITS=str(commits),
            # The deployed defaults, not the fault tests' quick heartbeats and reaper.
            JOB_HEARTBEAT_SECONDS="2",
            JOB_STALE_AFTER="30",
            REAPER_INTERVAL_SECONDS="10",
            LIVE_POLL_SECONDS="2",
        )
        project = stack.make_project([f"Scene {i}." for i in range(1, args.scenes + 1)])
        sessions = stack.sessions(args.clients)
        port = free_port()
        web = stack.web(port)
        workers = [stack.worker() for _ in range(args.workers)]
        wait_until(lambda: port_answers(port), timeout=60)
        time.sleep(2)  # the workers start too; not part of any figure

        assert stack.redis.process is not None
        groups = {
            "workers": [w.pid for w in workers],
            "web server": [web.pid],
            "PostgreSQL": [],
            "Redis": [stack.redis.process.pid],
            "clients (this process)": [os.getpid()],
            "generate_all CLI": [],
        }
        cpu: dict[str, float] = {}

        async def run() -> tuple[list[list], list, float]:
            seen: list[list] = [[] for _ in sessions]
            watchers = [
                asyncio.create_task(watch(port, project, s, seen[i], args.timeout))
                for i, s in enumerate(sessions)
            ]
            await asyncio.sleep(2)  # every client connected and sent the idle state
            groups["PostgreSQL"] = postgres_pids()
            cpu.update({name: -cpu_seconds(pids) for name, pids in groups.items()})
            cli = stack.generate(project, "--stages", args.stages)
            groups["generate_all CLI"] = [cli.pid]
            finished = asyncio.create_task(asyncio.to_thread(final_json, cli, args.timeout))
            # The CLI's own start-up (imports) comes before the run and isn't counted.
            while not stack.sql("select 1 from generation_generationrun"):
                await asyncio.sleep(0.05)
            started = cpu_seconds([cli.pid])
            while not finished.done():
                # Read while it runs: once it exits, its time is gone.
                cpu["generate_all CLI"] = (cpu_seconds([cli.pid]) or started) - started
                await asyncio.sleep(0.2)
            groups["PostgreSQL"] = postgres_pids()  # connections made during the run
            for name, pids in groups.items():
                if name != "generate_all CLI":
                    cpu[name] += cpu_seconds(pids)
            code, final = await finished
            assert code == 0, final
            # From the run's creation to its end, as the rows say: not the CLI's start-up.
            ((wall,),) = stack.sql(
                "select extract(epoch from finished_at - created)::float"
                " from generation_generationrun where id = %s",
                final["runId"],
            )
            totals = await asyncio.gather(*watchers, return_exceptions=True)
            for t in totals:
                if isinstance(t, BaseException):
                    print(f"client failed: {type(t).__name__}: {t}")
            return seen, totals, wall

        seen, totals, wall = asyncio.run(run())
        jobs = len(args.stages.split(",")) * args.scenes
        bare = float(stack.python(NOOPS.format(n=jobs))) / jobs
        for worker in workers:
            worker.terminate()

    commit_times = sorted(float(line.split()[1]) for line in commits.read_text().splitlines())
    latencies = []
    for client in seen:
        for k, commit in enumerate(commit_times, start=1):
            shown = next((t for t, finished in client if finished >= k), None)
            if shown is not None:
                latencies.append(max(0.0, shown - commit))
    latencies.sort()
    exact = sum(1 for t in totals if t == jobs)
    p95 = latencies[int(0.95 * (len(latencies) - 1))] * 1000
    print(
        f"{jobs} jobs of {args.job_seconds * 1000:.0f} ms, {args.workers} worker(s), "
        f"{len(sessions)} WebSocket clients (PostgreSQL + Redis)"
    )
    print(f"run wall time: {wall:.2f} s; jobs/s: {jobs / wall:.0f}")
    overhead = (wall / jobs - args.job_seconds / args.workers) * 1000
    print(f"overhead per job (run time / jobs, minus backend time): {overhead:.2f} ms (< 5 ms)")
    print(f"bare no-op RedisHuey task, same workers: {bare * 1000:.2f} ms "
          f"({1 / bare:.0f} tasks/s); jobs/s / tasks/s = {(jobs / wall) * bare:.2f}")  # fmt: skip
    print(
        f"wake-up latency: median {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {p95:.0f} ms over {len(latencies)} (job, client) pairs (target p95 < 100 ms)"
    )
    print("CPU per job, by process (seconds of CPU over the run / jobs):")
    for name, seconds in sorted(cpu.items(), key=lambda item: -item[1]):
        print(f"  {name:24s} {seconds / jobs * 1000:6.2f} ms")
    used = sum(cpu.values())
    print(
        f"  {'all together':24s} {used / jobs * 1000:6.2f} ms: {used / wall:.2f} of this machine's"
        f" {os.cpu_count()} cores busy for the whole run"
    )
    print(f"clients with the exact final totals ({jobs}/{jobs}): {exact}/{len(sessions)}")


if __name__ == "__main__":
    main()
