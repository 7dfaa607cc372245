"""The storyboard socket: only the owner connects, and it always sends the truth."""

from collections.abc import Awaitable, Callable
from urllib.parse import quote

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from generation import reaper, runs, worker
from generation.models import GenerationJob, JobStatus
from storyboard.consumers import ProjectConsumer

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


def communicator(user, project, query: str = "") -> WebsocketCommunicator:  # type: ignore[no-untyped-def]
    c = WebsocketCommunicator(ProjectConsumer.as_asgi(), f"/ws/projects/{project.id}/?{query}")
    c.scope["user"] = user
    c.scope["url_route"] = {"kwargs": {"project_id": project.id}}
    return c


def run_async(scenario: Callable[[], Awaitable[None]]) -> None:
    async_to_sync(scenario)()


def page_query(run=None, active: bool = False) -> str:  # type: ignore[no-untyped-def]
    run_id = run.id if run else ""
    return f"run={run_id}&active={int(active)}&since={quote(timezone.now().isoformat())}"


def test_it_refuses_another_users_socket(make_project, other_user):
    project = make_project(2)

    async def scenario() -> None:
        connected, code = await communicator(other_user, project).connect()
        assert not connected
        assert code == 4403

    run_async(scenario)


def test_it_refuses_an_anonymous_socket(project):
    async def scenario() -> None:
        connected, _ = await communicator(AnonymousUser(), project).connect()
        assert not connected

    run_async(scenario)


def test_it_sends_the_current_state_on_connect(user, make_project):
    project = make_project(50)
    run = runs.start_run(project, ["images"]).run
    ids = list(run.jobs.order_by("position").values_list("id", flat=True))
    GenerationJob.objects.filter(id__in=ids[:15]).update(status=JobStatus.SUCCEEDED)

    async def scenario() -> None:
        c = communicator(user, project)
        connected, _ = await c.connect()
        assert connected
        html = await c.receive_from(5)
        assert '<section id="toolbar" class="toolbar" hx-swap-oob="true"' in html
        assert "Generating images: 15/50 (30%)" in html
        assert "Overall: 15/50" in html
        await c.disconnect()

    run_async(scenario)


def test_it_pushes_row_and_progress_changes_made_by_another_process(user, make_project, settings):
    settings.LIVE_POLL_SECONDS = 0.05
    project = make_project(3)
    run = runs.start_run(project, ["audio"]).run
    job = run.jobs.get(position=2)

    async def scenario() -> None:
        c = communicator(user, project, page_query(run, active=True))
        await c.connect()
        await c.receive_from(5)  # the state on connect
        # As a worker would: no wake-up reaches this process; the poll sees the rows.
        await db(worker.execute_job)(job.id)
        html = await c.receive_from(5)
        cell = f'<td id="scene-{job.sentence_id}-audio" class="asset audio state-done"'
        assert f'{cell} hx-swap-oob="true">' in html
        assert "<audio controls" in html
        assert "Generating audio: 1/3 (33%)" in html
        # Rows that did not change are not sent again.
        assert html.count('-audio" class="asset audio') == 1
        await c.disconnect()

    run_async(scenario)


def test_it_toasts_once_when_the_run_it_watched_finishes(user, make_project, settings):
    settings.LIVE_POLL_SECONDS = 0.05
    project = make_project(["Fine.", "Will FAIL."])
    run = runs.start_run(project, ["audio"]).run
    job_ids = list(run.jobs.values_list("id", flat=True))

    async def scenario() -> None:
        c = communicator(user, project, page_query(run, active=True))
        await c.connect()
        await c.receive_from(5)
        for job_id in job_ids:
            await db(worker.execute_job)(job_id)
        messages = []
        while not any("toast" in m for m in messages):
            messages.append(await c.receive_from(5))
        html = messages[-1]
        assert "Completed with 1 failure." in html
        assert 'id="error-summary"' in html
        assert "Scene 2</a> · audio · failed: The model refused scene 2: it says FAIL." in html
        assert "Retry failed" in html
        # Later updates don't repeat it.
        await db(reaper.reap_stale_jobs)()
        assert await c.receive_nothing(0.3)
        await c.disconnect()

    run_async(scenario)


def test_it_does_not_toast_a_run_that_ended_before_the_page_opened(user, make_project):
    project = make_project(1)
    run = runs.start_run(project, ["audio"]).run
    worker.execute_job(run.jobs.get().id)

    async def scenario() -> None:
        c = communicator(user, project, page_query(run, active=False))
        await c.connect()
        html = await c.receive_from(5)
        assert "Last run: all 1 done." in html
        assert "toast" not in html
        await c.disconnect()

    run_async(scenario)


def test_it_wakes_on_a_group_message(user, make_project, settings):
    settings.LIVE_POLL_SECONDS = 60  # only the wake-up can deliver this in time
    project = make_project(1)

    async def scenario() -> None:
        c = communicator(user, project, page_query())
        await c.connect()
        await c.receive_from(5)
        await db(runs.start_run)(project, ["audio"])
        await get_channel_layer().group_send(
            f"project-{project.id}", {"type": "generation.changed"}
        )
        html = await c.receive_from(5)
        assert "Generating audio: 0/1 (0%)" in html
        await c.disconnect()

    run_async(scenario)


def test_it_splits_a_large_catch_up_into_messages_the_server_accepts(user, make_project):
    project = make_project(400)
    run = runs.start_run(project, ["audio"]).run
    opened = page_query(run, active=True)
    # The page was opened, then the computer slept while every job ran.
    for job_id in run.jobs.values_list("id", flat=True):
        worker.execute_job(job_id)

    async def scenario() -> None:
        c = communicator(user, project, opened)
        await c.connect()
        messages = []
        while not any("All generation complete!" in m for m in messages):
            messages.append(await c.receive_from(10))
        assert len(messages) > 1
        assert all(len(m.encode()) <= 300 * 1024 for m in messages)
        rows = sum(m.count('-audio" class="asset audio') for m in messages)
        assert rows == 400
        await c.disconnect()

    run_async(scenario)
