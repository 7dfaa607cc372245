"""Two "Generate All" clicks at the same moment, from two processes, on the embedded
default (SQLite): exactly one run starts, the other is told which run is going."""

import subprocess
import sys
import time

import pytest
from django.conf import settings

from generation.models import GenerationRun
from tests.support import ROOT


@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_the_same_moment_start_exactly_one_run(make_project, media):
    project = make_project(3)
    start_at = time.time() + 4
    code = (
        "import time\nfrom generation import runs\nfrom projects.models import Project\n"
        f"p = Project.objects.get(id={project.id})\n"
        f"time.sleep(max(0, {start_at} - time.time()))\n"
        "try:\n    print('started', runs.start_run(p, ['audio']).run.id)\n"
        "except runs.RunInProgress as e:\n    print('refused', e.run.id)\n"
    )
    env = {
        "DATABASE_URL": f"sqlite:///{settings.DATABASES['default']['NAME']}",
        "MEDIA_ROOT": str(media),
        # Their tasks go to a queue of their own, not a developer's.
        "STORYBOARD_DATA_DIR": str(media.parent / "clicks-data"),
        "PATH": "/usr/bin:/bin",
    }
    clicks = [
        subprocess.Popen(
            [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for _ in range(2)
    ]
    outcomes = [c.communicate(timeout=60) for c in clicks]
    answers = sorted(out.split()[0] for out, _ in outcomes if out)
    assert answers == ["refused", "started"], outcomes
    assert GenerationRun.objects.count() == 1
    started = next(out for out, _ in outcomes if out.startswith("started"))
    refused = next(out for out, _ in outcomes if out.startswith("refused"))
    assert started.split()[1] == refused.split()[1]
