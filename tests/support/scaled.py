"""A scaled-out stack for fault tests: a fresh PostgreSQL database, a private Redis
server this test can kill and restart, and real worker / web processes, all on loopback.
PostgreSQL is the machine's (each test makes and drops its own database); Redis is
started here so restarting it never disturbs anything else."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import aiohttp
import psycopg

from tests.support import FAKE_BACKEND, ROOT, wait_for

PG = os.environ.get("STORYBOARD_TEST_POSTGRES", "postgresql://root@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_available() -> bool:
    try:
        psycopg.connect(PG, connect_timeout=2).close()
        return True
    except psycopg.Error:
        return False


class Redis:
    def __init__(self, folder: Path):
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(self._answers, timeout=10)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()


class Stack:
    def __init__(self, tmp: Path):
        self.name = f"storyboard_test_{uuid.uuid4().hex[:10]}"
        self.redis = Redis(tmp)
        self.media = tmp / "stack-media"
        self.media.mkdir()
        self.processes: list[subprocess.Popen[str]] = []
        self.env = {
            **os.environ,
            "DATABASE_URL": PG.rsplit("/", 1)[0] + f"/{self.name}",
            "REDIS_URL": self.redis.url,
            # Scaled out, every process needs the same key (file names are derived from it).
            "SECRET_KEY": f"stack-{self.name}-" + "k" * 40,
            "STORYBOARD_DATA_DIR": str(tmp / "data"),
            "MEDIA_ROOT": str(self.media),
            "STORYBOARD_BACKEND_FACTORY": FAKE_BACKEND,
            "JOB_HEARTBEAT_SECONDS": "0.3",
            "JOB_STALE_AFTER": "2",
            "REAPER_INTERVAL_SECONDS": "1",
            "LIVE_POLL_SECONDS": "2",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }

    def __enter__(self) -> Stack:
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        self.redis.start()
        self.manage("migrate", "--no-input", "-v", "0")
        return self

    def __exit__(self, *exc: object) -> None:
        for p in self.processes:
            if p.poll() is None:
                p.kill()
                p.wait()
        if self.redis.process and self.redis.process.poll() is None:
            self.redis.kill()
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT, env=self.env, capture_output=True, text=True, check=check, timeout=120,
        )  # fmt: skip

    def spawn(self, *args: str, log: str | None = None) -> subprocess.Popen[str]:
        """A process whose output is read at its end, or, for a server (`log`), written to
        a file: an unread pipe would block it once full."""
        if log is not None:
            out = open(self.media.parent / log, "a")  # noqa: SIM115 - lives as long as it
            p = subprocess.Popen(
                [sys.executable, *args], cwd=ROOT, env=self.env, stdout=out, stderr=out, text=True
            )
        else:
            p = subprocess.Popen(
                [sys.executable, *args], cwd=ROOT, env=self.env,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
        self.processes.append(p)
        return p

    def worker(self) -> subprocess.Popen[str]:
        return self.spawn("manage.py", "run_huey", "--workers", "1", log="workers.log")

    def web(self, port: int) -> subprocess.Popen[str]:
        args = ["-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
        return self.spawn(*args, "storyboard_site.asgi:application", log="web.log")

    def python(self, code: str) -> str:
        return self.manage("shell", "--no-imports", "-c", code).stdout.strip()

    def make_project(self, texts: list[str]) -> int:
        code = (
            "from django.contrib.auth.models import User; from projects.models import Project;"
            "u, _ = User.objects.get_or_create(username='alice');"
            "p = Project.objects.create(owner=u, name='Scaled');"
            f"p.add_sentences({texts!r}); print(p.id)"
        )
        return int(self.python(code))

    def sessions(self, count: int, username: str = "alice") -> list[str]:
        """Session keys of `count` logged-in browsers, for WebSocket clients."""
        return self.python(SESSIONS.format(n=count, username=username)).split()

    def sql(self, query: str, *params: object) -> list[tuple]:
        with psycopg.connect(self.env["DATABASE_URL"], autocommit=True) as conn:
            return conn.execute(query, params).fetchall()  # type: ignore[arg-type]

    def generate(self, project_id: int, *args: str) -> subprocess.Popen[str]:
        return self.spawn("manage.py", "generate_all", str(project_id), "--json", *args)


SESSIONS = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
user = User.objects.get(username="{username}")
for _ in range({n}):
    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.create()
    print(s.session_key)
"""


def port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def final_json(cli: subprocess.Popen[str], timeout: float = 90) -> tuple[int, dict]:
    out, err = cli.communicate(timeout=timeout)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    assert lines, f"no JSON from generate_all: {out}\n{err}"
    return cli.returncode, json.loads(lines[-1])


def kill(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()


def wait_until(predicate, timeout: float = 30):  # type: ignore[no-untyped-def]
    return wait_for(predicate, timeout=timeout, interval=0.1)


class PageWatcher:
    """A logged-in storyboard page's socket, read in a thread: every message it was sent,
    and how many times the server closed it."""

    def __init__(self, port: int, project_id: int, session: str):
        self.url = f"ws://127.0.0.1:{port}/ws/projects/{project_id}/"
        self.headers = {"Cookie": f"sessionid={session}", "Origin": f"http://127.0.0.1:{port}"}
        self.messages: list[str] = []
        self.closes = 0
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._read()), daemon=True)

    def __enter__(self) -> PageWatcher:
        self._thread.start()
        assert self.connected.wait(30), "the page's socket never opened"
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def saw(self, text: str) -> bool:
        return any(text in m for m in self.messages)

    async def _read(self) -> None:
        async with aiohttp.ClientSession() as http:
            while not self._stop.is_set():
                try:
                    async with http.ws_connect(self.url, headers=self.headers) as ws:
                        self.connected.set()
                        while not self._stop.is_set():
                            try:
                                msg = await ws.receive(timeout=0.5)
                            except TimeoutError:
                                continue
                            if msg.type == aiohttp.WSMsgType.TEXT:
                                self.messages.append(msg.data)
                            else:
                                self.closes += 1
                                break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.5)
