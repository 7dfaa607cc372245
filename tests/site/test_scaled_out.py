"""Faults on the scaled-out stack: PostgreSQL, Redis (RedisHuey + channels_redis), several
worker processes and a web server, each really killed or restarted mid-run."""

import time
import urllib.request

import pytest

from tests.support.scaled import PageWatcher, final_json, free_port, kill, port_answers, wait_until

pytestmark = pytest.mark.worker

RUNNING_SLOW_JOB = (
    "select id, worker from generation_generationjob where status = 'running' and step >= 2"
)


def completions(stack) -> list[str]:  # type: ignore[no-untyped-def]
    """What the fake backend finished, without the process that did it."""
    log = stack.media / "calls.log"
    return [line.rsplit(" ", 1)[0] for line in log.read_text().splitlines()]


def test_it_finishes_when_one_of_two_workers_is_killed_mid_job(stack):
    project = stack.make_project(["One.", "Two is SLOW.", "Three.", "Four is SLOW.", "Five."])
    first, second = stack.worker(), stack.worker()
    cli = stack.generate(project, "--stages", "audio,images")
    job_id, worker = wait_until(lambda: stack.sql(RUNNING_SLOW_JOB))[0]
    victim = first if worker.endswith(f":{first.pid}") else second
    kill(victim)

    code, final = final_json(cli)

    assert code == 0, final
    assert (final["status"], final["done"], final["total"]) == ("succeeded", 10, 10)
    assert stack.sql("select attempts from generation_generationjob where id = %s", job_id) == [
        (2,)
    ]
    assert stack.sql("select count(*) from generation_generationjob where status = 'running'") == [
        (0,)
    ]
    done = completions(stack)
    assert len(done) == len(set(done)) == 10, "every asset made exactly once"
    files = stack.sql("select audio_file, image_file from projects_sentence")
    assert all((stack.media / a).is_file() and (stack.media / i).is_file() for a, i in files)


def test_it_finishes_when_redis_restarts_mid_run(stack):
    project = stack.make_project([f"Scene {i} is SLOW." for i in range(1, 4)] + ["Quick."])
    stack.worker()
    port = free_port()
    stack.web(port)
    wait_until(lambda: port_answers(port))
    with PageWatcher(port, project, stack.sessions(1)[0]) as page:
        cli = stack.generate(project, "--stages", "audio")
        wait_until(lambda: stack.sql(RUNNING_SLOW_JOB))
        wait_until(lambda: page.saw("Generating audio:"))
        # Redis keeps nothing on disk here: the queued tasks are gone with it.
        stack.redis.kill()
        time.sleep(1)
        stack.redis.start()

        code, final = final_json(cli, timeout=120)
        wait_until(lambda: page.saw("Last run: all 4 done."))

    assert code == 0, final
    assert (final["done"], final["total"]) == (4, 4)
    assert sorted(completions(stack)) == sorted(set(completions(stack)))
    # The page's socket stayed open through the restart and ended with the right totals.
    assert page.closes == 0


def test_the_run_goes_on_while_the_web_server_restarts(stack):
    project = stack.make_project([f"Scene {i} is SLOW." for i in range(1, 4)])
    key = stack.manage("create_api_token", "alice").stdout.strip()
    # The token opens the API; the page needs a session.
    (session,) = stack.sessions(1)
    stack.worker()
    port = free_port()
    web = stack.web(port)

    def get(path: str) -> str:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}",
            headers={"Authorization": f"Bearer {key}", "Cookie": f"sessionid={session}"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.read().decode()

    def answers() -> bool:
        try:
            get("/login/")
            return True
        except OSError:
            return False

    wait_until(answers)
    cli = stack.generate(project, "--stages", "audio")
    wait_until(lambda: '"status": "running"' in get(f"/api/v1/projects/{project}/generation"))
    kill(web)
    web = stack.web(port)
    wait_until(answers)
    assert "Generating audio:" in get(f"/projects/{project}/")

    code, final = final_json(cli)

    assert code == 0 and final["done"] == 3
    page = get(f"/projects/{project}/")
    assert "Last run: all 3 done." in page


def test_two_clicks_at_the_same_moment_start_exactly_one_run(stack):
    project = stack.make_project(["One.", "Two."])
    start_at = time.time() + 4
    code = (
        "import time\nfrom generation import runs\nfrom projects.models import Project\n"
        f"p = Project.objects.get(id={project})\ntime.sleep(max(0, {start_at} - time.time()))\n"
        "try:\n    print('started', runs.start_run(p, ['audio']).run.id)\n"
        "except runs.RunInProgress as e:\n    print('refused', e.run.id)\n"
    )
    clicks = [stack.spawn("manage.py", "shell", "--no-imports", "-c", code) for _ in range(2)]
    answers = sorted(c.communicate(timeout=60)[0].split()[0] for c in clicks)
    assert answers == ["refused", "started"]
    assert stack.sql("select count(*) from generation_generationrun") == [(1,)]
