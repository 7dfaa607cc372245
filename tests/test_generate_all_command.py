"""`manage.py generate_all`: the same run from a terminal."""

import json
import os
import signal
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError

from generation.models import GenerationRun, JobStatus, Origin, RunStatus
from tests.conftest import ROOT, wait_for


def run_command(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("generate_all", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_it_runs_every_stage_inline_and_draws_a_bar_per_stage(make_project, media: Path):
    project = make_project(3)
    code, out, _ = run_command(str(project.id), "--inline")
    assert code == 0
    run = GenerationRun.objects.get()
    assert run.status == RunStatus.SUCCEEDED and run.origin == Origin.CLI
    assert "audio  [##############################] 3/3 (100%)" in out
    assert "videos [##############################] 3/3 (100%)" in out
    assert all(s.video_file for s in project.sentences.all())


def test_it_exits_1_and_names_the_failed_scenes(make_project):
    project = make_project(["Fine.", "Will FAIL."])
    code, out, err = run_command(str(project.id), "--inline", "--stages", "audio", "--json")
    assert code == 1
    assert "scene 2 audio: The model refused scene 2: it says FAIL." in err
    final = json.loads(out.strip().splitlines()[-1])
    assert (final["done"], final["failed"], final["status"]) == (1, 1, "failed")


def test_it_says_when_there_is_nothing_to_do(make_project):
    project = make_project(1)
    assert run_command(str(project.id), "--inline")[0] == 0
    code, out, _ = run_command(str(project.id), "--inline")
    assert code == 0 and "Nothing to generate" in out


def test_it_regenerates_clean_assets_with_no_skip_clean(make_project):
    project = make_project(2)
    run_command(str(project.id), "--inline", "--stages", "images")
    code, out, _ = run_command(str(project.id), "--inline", "--stages", "images", "--no-skip-clean")
    assert code == 0
    assert GenerationRun.objects.first().jobs.count() == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["abc"], "numeric id"),
        (["999999"], "does not exist"),
        (["{project}", "--stages", "sound"], "Unknown stage 'sound'"),
        (["{project}", "--stages", ","], "at least one stage"),
    ],
)
def test_it_exits_2_on_bad_arguments(project, args, message):
    args = [a.format(project=project.id) for a in args]
    with pytest.raises(CommandError, match=message) as e:
        call_command("generate_all", *args)
    assert e.value.returncode == 2


def test_it_refuses_a_second_run(project):
    from generation import runs

    runs.start_run(project, ["audio"])
    with pytest.raises(CommandError, match="already in progress") as e:
        call_command("generate_all", str(project.id))
    assert e.value.returncode == 2


def test_ctrl_c_cancels_the_run_and_keeps_finished_assets(
    worker, make_project, media: Path, transactional_db
):
    project = make_project(["Quick.", "SLOW here.", "Also SLOW."])
    env = {
        **worker.env,
        "PYTHONUNBUFFERED": "1",
    }
    cli = subprocess.Popen(
        [sys.executable, "manage.py", "generate_all", str(project.id), "--stages", "audio"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(lambda: project.sentences.filter(position=1).exclude(audio_file="").exists())
    wait_for(
        lambda: GenerationRun.objects.filter(
            jobs__status=JobStatus.RUNNING, jobs__step__gte=1
        ).exists()
    )
    cli.send_signal(signal.SIGINT)
    out, err = cli.communicate(timeout=30)
    assert cli.returncode == 130, err
    assert "Cancelling" in out
    run = GenerationRun.objects.get()
    assert run.status == RunStatus.CANCELLED
    assert project.sentences.get(position=1).audio_file
    assert not project.sentences.get(position=3).audio_file
    assert os.path.exists(media / project.sentences.get(position=1).audio_file.name)
    assert django_settings.DATABASES["default"]["NAME"] in worker.env["DATABASE_URL"]
