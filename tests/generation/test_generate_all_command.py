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


def test_it_runs_every_stage_inline_and_logs_one_line_per_change(make_project, media: Path):
    project = make_project(3)
    code, out, _ = run_command(str(project.id), "--inline")
    assert code == 0
    run = GenerationRun.objects.get()
    assert run.status == RunStatus.SUCCEEDED and run.origin == Origin.CLI
    lines = out.splitlines()
    assert lines[0] == f"Run {run.id}: 9 jobs audio 3, images 3, videos 3"
    assert lines[-1] == "overall 9/9 (100%) · audio 3/3 · images 3/3 · videos 3/3"
    # Not a terminal, so no redrawn bar blocks: one line per job finished at most.
    assert len(lines) <= 1 + 10 and not any("[" in line for line in lines)
    assert all(s.video_file for s in project.sentences.all())


def test_it_draws_a_bar_per_stage_on_a_terminal(make_project):
    project = make_project(2)
    out = StringIO()
    out.isatty = lambda: True  # type: ignore[method-assign]
    call_command("generate_all", str(project.id), "--inline", "--stages", "audio", stdout=out)
    assert "audio  [##############################] 2/2 (100%)" in out.getvalue()
    assert "\x1b[" in out.getvalue()  # the block is redrawn in place


def test_json_leaves_stdout_to_the_json_alone(make_project):
    project = make_project(2)
    code, out, err = run_command(str(project.id), "--inline", "--json")
    assert code == 0
    final = json.loads(out)
    assert (final["done"], final["total"], final["status"]) == (6, 6, "succeeded")
    assert "Run " in err and "overall 6/6 (100%)" in err
    _, out, err = run_command(str(project.id), "--inline", "--json")
    assert json.loads(out) == {"runId": None, "totalJobs": 0}
    assert "Nothing to generate" in err


def test_it_exits_1_and_names_the_failed_scenes(make_project):
    project = make_project(["Fine.", "Will FAIL."])
    code, out, err = run_command(str(project.id), "--inline", "--stages", "audio", "--json")
    assert code == 1
    assert "scene 2 audio: The model refused scene 2: it says FAIL." in err
    final = json.loads(out)
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
        # As on a terminal: a test run started in the background inherits SIGINT ignored,
        # and Python then never turns Ctrl-C into KeyboardInterrupt.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
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


@pytest.mark.parametrize(
    "args", [["generate_all", "1"], ["export", "1"], ["seed_demo"], ["create_api_token", "demo"]]
)
def test_it_says_in_one_line_when_the_database_was_never_migrated(tmp_path: Path, args):
    env = {**os.environ, "STORYBOARD_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "not set up" in done.stderr and "manage.py migrate" in done.stderr
