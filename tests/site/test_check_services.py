"""`manage.py check_services` says which mode is active and whether each service answers."""

import subprocess
import sys

import pytest
from django.core.management import call_command

from tests.support import ROOT


def test_it_reports_the_embedded_mode(db, capsys):
    call_command("check_services")
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "mode: embedded"
    assert "ok   database: sqlite" in out
    assert "ok   queue: SqliteHuey" in out
    assert "ok   media:" in out


def test_it_fails_when_redis_does_not_answer(tmp_path):
    env = {
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "SECRET_KEY": "a-test-key-for-a-scaled-out-process-of-fifty-characters",
        "STORYBOARD_DATA_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check_services"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert "mode: scaled out" in result.stdout
    assert "FAIL queue: ConnectionError" in result.stdout


def test_it_reports_the_scaled_out_mode(stack):
    result = stack.manage("check_services")
    assert "mode: scaled out" in result.stdout
    assert "ok   database: postgresql" in result.stdout
    assert "ok   queue: RedisHuey" in result.stdout
    assert "ok   channel layer: RedisChannelLayer" in result.stdout


pytestmark = pytest.mark.filterwarnings("ignore")
