"""`manage.py scene` and `generate_all --review` through a real worker: review with a
re-roll, continue, list and restore takes, regenerate; refusals exit 2 with one line."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from generation.models import GenerationRun, JobStatus, RunStatus, Take

pytestmark = pytest.mark.worker


def run_command(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_it_reviews_rerolls_continues_and_restores_from_the_command_line(worker, make_project):
    project = make_project(2)
    one, two = project.sentences.all()
    p = str(project.id)

    out = run_command("generate_all", p, "--review")
    assert f"Waiting for review: `manage.py scene approve {p} SCENE`" in out
    run = GenerationRun.objects.get()
    assert run.status == RunStatus.REVIEW

    assert run_command("scene", "approve", p, "1") == "Scene 1: picture approved.\n"
    out = run_command("scene", "reroll", p, "2", "--wait")
    assert f"Run {run.id} added to run in progress: images 1." in out
    assert "Waiting for review" in out
    run_command("scene", "approve", p, "2")
    out = run_command("scene", "continue", p, "--wait")
    assert "overall 7/7 (100%) · audio 2/2 · images 3/3 · videos 2/2" in out
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.jobs.filter(stage="videos", status=JobStatus.SUCCEEDED).count() == 2

    listing = run_command("scene", "takes", p, "2").splitlines()
    assert len(listing) == 4 and sum(line.startswith("*") for line in listing) == 3
    first_picture = Take.objects.filter(sentence=two, asset="image").last()
    assert first_picture is not None
    out = run_command("scene", "restore", p, "2", str(first_picture.id))
    # That picture never got a clip: the clip is out of date.
    assert out == f"Scene 2: take {first_picture.id} restored (video out of date).\n"

    out = run_command("scene", "regenerate", p, "1", "--asset", "image", "--wait")
    assert "started: images 1 (Scene 1: picture)." in out and "overall 1/1 (100%)" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["approve", "{p}", "9"], "has no scene 9"),
        (["approve", "{p}", "1"], "No run is waiting for review"),
        (["restore", "{p}", "1", "77"], "Scene 1 has no take 77"),
        (["continue", "{p}"], "No run is waiting for review"),
        (["regenerate", "{p}", "1", "--asset", "video"], "No picture to animate"),
        (["takes", "nope", "1"], "numeric id"),
    ],
)
def test_it_refuses_with_one_line_and_exit_code_2(project, args, message):
    args = [a.replace("{p}", str(project.id)) for a in args]
    with pytest.raises(CommandError, match=message) as caught:
        run_command("scene", *args)
    assert caught.value.returncode == 2
