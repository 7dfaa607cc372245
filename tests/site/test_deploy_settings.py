"""Start-up settings: a secret key made once per data folder on the embedded default, none
taken for granted when scaled out, and HTTPS settings that leave `check --deploy` silent
with the production environment the README documents."""

import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

SHIPPED_DEFAULT = "storyboard-embedded-insecure-key-change-me"


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL")
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**clean, "STORYBOARD_DATA_DIR": str(tmp_path / "data"), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def key_of(tmp_path: Path, **env: str) -> str:
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    result = run(["-c", code], tmp_path, DJANGO_SETTINGS_MODULE="storyboard_site.settings", **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_embedded_default_makes_its_key_once_readable_by_its_owner_only(tmp_path: Path):
    first = key_of(tmp_path)
    key_file = tmp_path / "data" / "secret_key"
    assert key_file.read_text().strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first) >= 50 and first != SHIPPED_DEFAULT
    # The worker (a SQLite DATABASE_URL is still the embedded default) reads the same key.
    db = tmp_path / "data" / "db.sqlite3"
    assert key_of(tmp_path, DATABASE_URL=f"sqlite:///{db}") == first
    # Another data folder, another key.
    assert key_of(tmp_path / "other") != first


@pytest.mark.parametrize(
    "env",
    [
        {"REDIS_URL": "redis://127.0.0.1:1/0"},
        {"DATABASE_URL": "postgres://storyboard:pw@127.0.0.1:1/storyboard"},
        {"REDIS_URL": "redis://127.0.0.1:1/0", "SECRET_KEY": SHIPPED_DEFAULT},
    ],
)
def test_scaled_out_it_refuses_to_start_without_a_secret_key(tmp_path: Path, env: dict[str, str]):
    for args in (["manage.py", "check"], ["-c", "import storyboard_site.asgi"]):
        result = run(args, tmp_path, DJANGO_SETTINGS_MODULE="storyboard_site.settings", **env)
        assert result.returncode != 0
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("SECRET_KEY is not set"), result.stderr
    assert not (tmp_path / "data" / "secret_key").exists()


def documented_production_environment() -> dict[str, str]:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("### Production over HTTPS", 1)[1].split("\n\n")[2]
    env = dict(line.strip().split("=", 1) for line in block.splitlines())
    assert env.keys() >= {"SECRET_KEY", "ALLOWED_HOSTS", "HTTPS"}
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    return env


def test_check_deploy_is_clean_with_the_documented_production_environment(tmp_path: Path):
    scaled = {
        "DATABASE_URL": "postgres://storyboard:pw@127.0.0.1:1/storyboard",
        "REDIS_URL": "redis://127.0.0.1:1/0",
    }
    production = {**documented_production_environment(), **scaled}
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, **production
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    # Without the HTTPS settings it does warn: the check above could fail.
    production.pop("HTTPS")
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, **production
    )
    assert result.returncode != 0 and "security.W012" in result.stdout + result.stderr


def test_behind_an_https_proxy_it_redirects_plain_http_and_keeps_cookies_secure(tmp_path: Path):
    code = """
import django; django.setup()
from django.test import Client
c = Client()
plain = c.get("/login/", HTTP_X_FORWARDED_PROTO="http")
secure = c.get("/login/", HTTP_X_FORWARDED_PROTO="https")
print(plain.status_code, plain["Location"])
hsts = secure["Strict-Transport-Security"]
print(secure.status_code, hsts, secure.cookies["csrftoken"]["secure"])
"""
    result = run(
        ["-c", code], tmp_path, DJANGO_SETTINGS_MODULE="storyboard_site.settings", HTTPS="true",
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto", ALLOWED_HOSTS="testserver",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    plain, secure = result.stdout.strip().splitlines()
    assert plain == "301 https://testserver/login/"
    assert secure == "200 max-age=31536000 True"
