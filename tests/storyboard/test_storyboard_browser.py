"""The live storyboard in a real headless Chromium, against a real daphne and a real huey
worker, both separate processes on the test database (the embedded default: SQLite,
SqliteHuey, no Redis). Everything asserted is what the creator sees on the page.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from urllib.error import URLError
from urllib.request import urlopen

import pytest

from generation.models import GenerationRun, RunStatus
from generation.progress import run_progress
from projects.models import Project, Sentence
from tests.conftest import ROOT, Worker, wait_for
from tests.support import CHROMIUM, CHROMIUM_ARGS

if not CHROMIUM.exists():
    pytest.skip(
        "Chromium is not installed at /usr/bin/chromium (apt-get install chromium)",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.worker]

# Every wait is bounded: a run of the fast test backend ends in a second or two, and a
# "SLOW" job takes 3 s.
TIMEOUT_MS = 30_000
expect.set_options(timeout=TIMEOUT_MS)
FULL = re.compile(r"width: 100(\.0+)?%")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daphne:
    """The web server as its own process, with the worker's environment (same test DB,
    media folder and queue), so wake-ups can't take a shortcut through shared memory."""

    def __init__(self, env: dict[str, str]):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port)]
            + ["storyboard_site.asgi:application"],
            cwd=ROOT,
            env=env,
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        def up() -> bool:
            assert self.process.poll() is None, "daphne exited"
            try:
                with urlopen(f"{self.url}/login/", timeout=1) as r:
                    return r.status == 200
            except (URLError, ConnectionError, TimeoutError):
                return False

        wait_for(up, timeout=timeout, interval=0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def server(worker_factory, monkeypatch) -> Iterator[str]:  # type: ignore[no-untyped-def]
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test
    # makes between browser steps are still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    worker: Worker = worker_factory()
    web = Daphne(worker.env)
    worker.start()
    try:
        web.wait_ready()
        yield web.url
    finally:
        web.stop()


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    p = context.new_page()
    yield p
    context.close()


def log_in(page: Page, username: str, password: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".site-header")).to_contain_text(username)


def open_storyboard(page: Page, project: Project) -> None:
    page.goto(f"/projects/{project.id}/")
    expect(page.get_by_role("heading", name=project.name)).to_be_visible()
    # The socket is open once the consumer has sent the current state: wait for it, so
    # nothing a test starts can happen before the page listens.
    expect(page.locator("#live")).to_have_attribute("data-socket", "open")


def choose(page: Page, option: str) -> None:
    """Open the "Generate All ▾" dropdown and pick one of its options."""
    page.get_by_text("Generate All ▾").click()
    page.locator(f'.dropdown button[name="option"][value="{option}"]').click()


def last_run(project: Project) -> GenerationRun:
    run = project.runs.first()
    assert run is not None
    return run


def ended(project: Project) -> GenerationRun | None:
    run = last_run(project)
    return run if not run.is_active else None


# Marks the page once the socket has delivered its first message, and records every
# text the stage and overall lines showed, so a test can check what the creator saw go by.
WATCH = """
document.addEventListener('htmx:wsBeforeMessage', () => {
  const live = document.getElementById('live');
  if (live) live.dataset.socket = 'open';
});
window.__seen = [];
new MutationObserver(() => {
  for (const sel of ['.stage-line', '.overall-line', '.run-summary']) {
    const el = document.querySelector(sel);
    const text = el && el.textContent.trim();
    if (text && window.__seen[window.__seen.length - 1] !== text) window.__seen.push(text);
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


@pytest.fixture
def alice(page: Page, user) -> Iterator[Page]:  # type: ignore[no-untyped-def]
    # The Content-Security-Policy forbids inline script: anything the page still ran
    # inline (a handler, a script block) would be refused and reported on the console.
    refused: list[str] = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.add_init_script(WATCH)
    log_in(page, "alice", "password-alice")
    yield page
    assert refused == []


def seen(page: Page) -> list[str]:
    return page.evaluate("window.__seen")


def test_generate_all_advances_stage_by_stage_to_thumbnails_and_the_success_toast(
    alice: Page, make_project
):
    # The slow last scene holds each stage at 2/3 long enough to see it.
    project = make_project(["A lighthouse at dawn.", "Gulls over the pier.", "SLOW waves."])
    open_storyboard(alice, project)
    toolbar = alice.locator("#toolbar")
    # The menu is closed: its text, both counts (each 9), is all there is to read.
    expect(toolbar.locator('.dropdown [value="all"]')).to_contain_text("9 to make")

    choose(alice, "all")

    expect(toolbar.locator(".stage-line")).to_have_text("Generating audio: 2/3 (67%)")
    expect(toolbar.locator(".stage-line")).to_have_text("Generating images: 2/3 (67%)")
    # The finished stage's bar is full while the next one runs.
    audio = toolbar.locator(".stage-audio")
    expect(audio.locator(".stage-count")).to_have_text("3/3")
    expect(audio.locator(".fill.done")).to_have_attribute("style", FULL)
    expect(toolbar.locator(".overall-line")).to_have_text("Overall: 5/9")
    expect(toolbar.locator(".stage-line")).to_have_text("Generating videos: 2/3 (67%)")
    expect(toolbar.locator(".stage-images .fill.done")).to_have_attribute("style", FULL)
    expect(toolbar.locator(".overall-line")).to_have_text("Overall: 8/9")
    # The slow scene's row shows its step progress while it runs.
    slow_row = alice.locator(f"#scene-{project.sentences.get(position=3).id}")
    expect(slow_row.locator(".badge.running")).to_contain_text("running")

    expect(toolbar.locator(".run-summary")).to_have_text("Last run: all 9 done.")
    expect(alice.locator("#toasts .toast.success span")).to_have_text("All generation complete!")
    expect(alice.locator("tr.scene img.thumb")).to_have_count(3)
    expect(alice.locator("tr.scene video.thumb")).to_have_count(3)
    expect(alice.locator("tr.scene audio")).to_have_count(3)
    expect(toolbar.locator("#pending-counts")).to_have_text("All 3 scenes up to date")

    # What went by on the way: the overall count only ever grew.
    overall = [int(t.split()[1].split("/")[0]) for t in seen(alice) if t.startswith("Overall")]
    assert overall == sorted(overall) and {5, 8} <= set(overall)
    assert last_run(project).status == RunStatus.SUCCEEDED

    # The rows came over the socket, rendered once for every tab without a CSRF token of
    # their own; their forms still work.
    slow_row.get_by_title("Move up").click()
    expect(alice.locator("tr.scene td.text").nth(1)).to_have_text("SLOW waves.")
    assert [s.text for s in project.sentences.all()][1] == "SLOW waves."


def test_each_single_stage_option_and_counts_that_follow_an_edit(alice: Page, make_project):
    project = make_project(["A fox in the snow.", "The fox jumps."])
    open_storyboard(alice, project)
    toolbar = alice.locator("#toolbar")
    menu = toolbar.locator(".dropdown .menu")
    expect(menu.locator('[value="audio"]')).to_contain_text("2 to make")

    for option, rows in (
        ("audio", "tr.scene audio"),
        ("images", "tr.scene img.thumb"),
        ("videos", "tr.scene video.thumb"),
    ):
        runs_before = project.runs.count()
        choose(alice, option)
        wait_for(lambda n=runs_before: project.runs.count() == n + 1, timeout=10)
        expect(toolbar.locator(".run-summary")).to_have_text("Last run: all 2 done.")
        expect(alice.locator(rows)).to_have_count(2)
        # One success toast per run, dismissible.
        toast = alice.locator("#toasts .toast.success")
        expect(toast.locator("span")).to_have_text("All generation complete!")
        toast.get_by_role("button", name="Dismiss").click()
        expect(toast).to_have_count(0)
        assert last_run(project).stages == [option]
        assert last_run(project).status == RunStatus.SUCCEEDED

    expect(toolbar.locator("#pending-counts")).to_have_text("All 2 scenes up to date")
    alice.get_by_text("Generate All ▾").click()
    expect(menu.locator('[value="all"]')).to_contain_text("nothing to make", use_inner_text=True)

    # Edit scene 2's picture prompt in place: the counts follow without a reload.
    scene = project.sentences.get(position=2)
    row = alice.locator(f"#scene-{scene.id}")
    row.get_by_role("link", name="Edit").click()
    row.get_by_label("Image prompt").fill("A red fox leaping over a frozen creek")
    row.get_by_role("button", name="Save").click()
    expect(row.locator(".prompt")).to_have_text("A red fox leaping over a frozen creek")
    pending = toolbar.locator("#pending-counts span")
    expect(pending).to_have_text(["1 image pending", "1 video pending"])
    alice.get_by_text("Generate All ▾").click()
    expect(menu.locator('[value="all"]')).to_contain_text("2 to make", use_inner_text=True)
    expect(menu.locator('[value="images"]')).to_contain_text("1 to make", use_inner_text=True)
    expect(menu.locator('[value="audio"]')).to_contain_text("nothing to make", use_inner_text=True)
    assert alice.evaluate("performance.getEntriesByType('navigation').length") == 1


def test_a_failed_scene_shows_the_warning_and_summary_and_retry_failed_succeeds(
    alice: Page, make_project
):
    project = make_project(["A quiet harbour.", "The boat will FAIL here.", "Night falls."])
    failing = project.sentences.get(position=2)
    open_storyboard(alice, project)
    toolbar = alice.locator("#toolbar")

    choose(alice, "images")

    warning = alice.locator("#toasts .toast.warning")
    expect(warning).to_contain_text("Completed with 1 failure.")
    summary = alice.locator("#error-summary")
    expect(summary).to_contain_text("1 failed in the last run")
    expect(summary.locator("li")).to_have_count(1)
    expect(summary.locator("li")).to_contain_text(
        "Scene 2 · images · failed: The model refused scene 2: it says FAIL."
    )
    expect(summary.get_by_role("link", name="Scene 2")).to_have_attribute(
        "href", f"#scene-{failing.id}"
    )
    row = alice.locator(f"#scene-{failing.id}")
    expect(row.locator(".badge.failed")).to_have_text("failed")
    expect(row.locator(".asset-reason")).to_contain_text("The model refused scene 2")
    expect(alice.locator("tr.scene img.thumb")).to_have_count(2)

    # Fix the scene through the page, then retry what failed.
    row.get_by_role("link", name="Edit").click()
    row.get_by_label("Text").fill("The boat sails on.")
    row.get_by_role("button", name="Save").click()
    expect(row.locator(".text")).to_have_text("The boat sails on.")
    summary.get_by_role("button", name="Retry failed").click()

    expect(alice.locator("#toasts .toast.success span")).to_have_text("All generation complete!")
    expect(toolbar.locator(".run-summary")).to_have_text("Last run: all 1 done.")
    expect(alice.locator("#error-summary")).to_have_count(0)
    expect(alice.locator("tr.scene img.thumb")).to_have_count(3)
    retry = last_run(project)
    assert retry.retry_of_id is not None and retry.status == RunStatus.SUCCEEDED
    assert list(retry.jobs.values_list("position", "stage")) == [(2, "images")]


def test_cancel_asks_first_then_keeps_finished_assets(alice: Page, make_project):
    project = make_project(["One.", "Two.", "SLOW three.", "SLOW four.", "SLOW five.", "SLOW six."])
    open_storyboard(alice, project)
    toolbar = alice.locator("#toolbar")

    choose(alice, "images")
    expect(toolbar.locator(".stage-line")).to_have_text("Generating images: 2/6 (33%)")
    dialog = alice.locator("#cancel-dialog")
    expect(dialog).to_be_hidden()
    toolbar.get_by_role("button", name="Cancel", exact=True).click()
    expect(dialog).to_be_visible()
    expect(dialog.locator("p")).to_have_text(
        "Already generated assets will be kept. Remaining jobs will be cancelled."
    )
    # Live updates go on underneath (the running job's step changes); the dialog stays.
    badge = alice.locator(f"#scene-{project.sentences.get(position=3).id} .badge.running")
    step = badge.text_content()
    expect(badge).not_to_have_text(step or "")
    expect(dialog).to_be_visible()
    # Changing one's mind keeps the run going.
    dialog.get_by_role("button", name="Keep generating").click()
    expect(dialog).to_be_hidden()
    assert last_run(project).status == RunStatus.RUNNING

    toolbar.get_by_role("button", name="Cancel", exact=True).click()
    dialog.get_by_role("button", name="Cancel generation").click()

    expect(toolbar.locator(".run-summary.cancelled")).to_have_text(
        "Cancelled: 2 of 6 done. Finished assets were kept."
    )
    expect(alice.locator("#toasts .toast.neutral span")).to_have_text("Cancelled: 2 of 6 done.")
    expect(alice.locator("tr.scene img.thumb")).to_have_count(2)
    expect(alice.locator("tr.scene .badge.cancelled")).to_have_count(4)
    run = last_run(project)
    assert run.status == RunStatus.CANCELLED
    kept = Sentence.objects.filter(project=project).exclude(image_file="")
    assert sorted(kept.values_list("position", flat=True)) == [1, 2]


def test_a_reload_mid_run_shows_the_numbers_in_the_database(alice: Page, make_project):
    project = make_project(["Fast one.", "SLOW two.", "SLOW three.", "SLOW four."])
    open_storyboard(alice, project)
    toolbar = alice.locator("#toolbar")
    choose(alice, "audio")
    expect(toolbar.locator(".stage-line")).to_have_text("Generating audio: 1/4 (25%)")

    alice.reload()

    # A slow job takes 3 s: read the truth, and the reloaded page must show exactly it.
    progress = run_progress(last_run(project))
    assert progress.finished >= 1 and progress.total == 4
    expect(toolbar.locator(".stage-line")).to_have_text(progress.stage_line)
    expect(toolbar.locator(".overall-line")).to_have_text(f"Overall: {progress.finished}/4")
    # ...and it keeps following the run live after the reload.
    expect(toolbar.locator(".stage-line")).to_have_text(
        f"Generating audio: {progress.finished + 1}/4 ({(progress.finished + 1) * 25}%)"
    )
    toolbar.get_by_role("button", name="Cancel", exact=True).click()
    alice.locator("#cancel-dialog").get_by_role("button", name="Cancel generation").click()
    expect(toolbar.locator(".run-summary")).to_contain_text("Cancelled:")
    wait_for(lambda: ended(project), timeout=10)


OPEN_SOCKET = """
(url) => new Promise((resolve) => {
  const ws = new WebSocket(url);
  let opened = false;
  const timer = setTimeout(() => resolve({opened, closed: false}), 5000);
  ws.onopen = () => { opened = true; };
  ws.onmessage = (e) => { clearTimeout(timer); ws.close(); resolve({opened, message: e.data}); };
  ws.onclose = (e) => { clearTimeout(timer); resolve({opened, closed: true, code: e.code}); };
})
"""


def test_another_user_can_neither_open_the_page_nor_its_socket(
    browser: Browser, server: str, user, other_user, make_project
):
    project = make_project(2)
    socket_url = f"{server.replace('http', 'ws')}/ws/projects/{project.id}/"
    results = {}
    for name in ("bob", "alice"):
        context = browser.new_context(base_url=server)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        log_in(page, name, f"password-{name}")
        response = page.goto(f"/projects/{project.id}/")
        assert response is not None
        results[name] = (response.status, page.evaluate(OPEN_SOCKET, socket_url))
        context.close()

    status, bob = results["bob"]
    assert status == 404
    assert bob["opened"] is False and bob["closed"] is True
    # The owner, same browser, same page, same call: connected and sent the state.
    status, alice = results["alice"]
    assert status == 200
    assert alice["opened"] is True and 'id="toolbar"' in alice["message"]


def test_an_older_toolbar_never_replaces_a_newer_one(alice: Page, make_project):
    # A fast run can end while its Generate request is in flight: the socket shows it
    # finished, then the response (rendered earlier) arrives. The page keeps the newer one.
    project = make_project(["One."])
    open_storyboard(alice, project)
    toolbar = alice.locator("#toolbar")
    rendered = int(toolbar.get_attribute("data-rendered") or 0)
    assert rendered > 0

    def push(stamp: int, text: str) -> None:
        alice.evaluate(
            """([stamp, text]) => document.body.dispatchEvent(new CustomEvent(
                "htmx:wsBeforeMessage", {bubbles: true, cancelable: true, detail: {message:
                  `<section id="toolbar" data-rendered="${stamp}" hx-swap-oob="true">`
                  + `${text}</section>`}}))""",
            [stamp, text],
        )

    push(rendered - 1, "read before the page")
    expect(toolbar).not_to_contain_text("read before the page")
    push(rendered + 1, "read after the page")
    expect(toolbar).to_have_text("read after the page")

    decisions = alice.evaluate(
        """(stamp) => [stamp - 1, stamp + 1].map((s) => {
            const detail = {target: document.getElementById("toolbar"), shouldSwap: true,
                serverResponse: `<section id="toolbar" data-rendered="${s}">response</section>`};
            const event = new CustomEvent("htmx:beforeSwap", {bubbles: true, detail});
            document.body.dispatchEvent(event);
            return detail.shouldSwap;
        })""",
        rendered + 1,
    )
    assert decisions == [False, True], "an older response is not swapped in; a newer one is"
