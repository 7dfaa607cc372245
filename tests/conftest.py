from __future__ import annotations

import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.test import Client
from huey.contrib.djhuey import HUEY

from generation.queues import StageSqliteStorage
from projects.models import Project
from tests.support import FAKE_BACKEND, ROOT, wait_for
from tests.support.scaled import Stack, postgres_available

__all__ = ["FAKE_BACKEND", "ROOT", "wait_for"]


@pytest.fixture(scope="session", autouse=True)
def private_queue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Tests never share a huey queue with a developer's running worker."""
    path = tmp_path_factory.mktemp("huey") / "queue.sqlite3"
    original = HUEY.storage
    HUEY.storage = StageSqliteStorage(name=HUEY.name, filename=str(path))
    yield path
    HUEY.storage = original


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    settings.STORYBOARD_BACKEND_FACTORY = FAKE_BACKEND
    return settings.MEDIA_ROOT


@pytest.fixture
def user(db) -> User:  # type: ignore[no-untyped-def]
    return User.objects.create_user("alice", "alice@example.com", "password-alice")


@pytest.fixture
def other_user(db) -> User:  # type: ignore[no-untyped-def]
    return User.objects.create_user("bob", "bob@example.com", "password-bob")


@pytest.fixture
def client(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def make_project(user: User):  # type: ignore[no-untyped-def]
    def make(texts: list[str] | int = 3, owner: User | None = None, **fields: object) -> Project:
        if isinstance(texts, int):
            texts = [f"Scene number {i + 1} happens here." for i in range(texts)]
        fields.setdefault("name", "Test film")
        project = Project.objects.create(owner=owner or user, **fields)
        project.add_sentences(texts)
        return project

    return make


@pytest.fixture
def project(make_project) -> Project:  # type: ignore[no-untyped-def]
    return make_project(3)


class Worker:
    """A real `manage.py run_huey` consumer process on the test database and queue."""

    def __init__(self, media: Path, queue: Path, max_file_size: int | None = None, **env: str):
        self.max_file_size = max_file_size
        db = django_settings.DATABASES["default"]["NAME"]
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{db}",
            "MEDIA_ROOT": str(media),
            "HUEY_SQLITE": str(queue),
            "STORYBOARD_BACKEND_FACTORY": FAKE_BACKEND,
            "JOB_HEARTBEAT_SECONDS": "0.3",
            "JOB_STALE_AFTER": "2",
            "REAPER_INTERVAL_SECONDS": "1",
            "WORKER_HEARTBEAT_SECONDS": "0.5",
            "LOG_LEVEL": "WARNING",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "run_huey", "--workers", "1"],
            cwd=ROOT,
            env=self.env,
            preexec_fn=self._limits,
        )
        return self

    def _limits(self) -> None:
        if self.max_file_size:
            # A disk that fills up: writes past this size fail with EFBIG (Python
            # ignores SIGXFSZ), as they would with ENOSPC.
            resource.setrlimit(resource.RLIMIT_FSIZE, (self.max_file_size, self.max_file_size))

    @property
    def name(self) -> str:
        assert self.process is not None
        return f"{socket.gethostname()}:{self.process.pid}"

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def worker_factory(media: Path, private_queue: Path, transactional_db):  # type: ignore[no-untyped-def]
    workers: list[Worker] = []

    def make(max_file_size: int | None = None, **env: str) -> Worker:
        w = Worker(media, private_queue, max_file_size, **env)
        workers.append(w)
        return w

    yield make
    for w in workers:
        w.stop()
    # A task left in the shared queue must not leak into the next test.
    HUEY.flush()


@pytest.fixture
def worker(worker_factory) -> Worker:  # type: ignore[no-untyped-def]
    return worker_factory().start()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    """PostgreSQL + a private Redis + real processes: see tests/scaled.py."""
    if not postgres_available():
        pytest.skip("PostgreSQL is not answering (set STORYBOARD_TEST_POSTGRES)")
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    with Stack(tmp_path) as s:
        yield s
