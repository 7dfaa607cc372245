# ruff: noqa: F811 - the fixtures imported below are used by name
"""In a real Chromium against a real daphne and worker: the time left says "estimating…"
until there is data and nothing while paused; a scene is made next from its row; a run
and an export that end while the tab is in the background raise a browser notification."""

from __future__ import annotations

import pytest

from tests.support import CHROMIUM

if not CHROMIUM.exists():
    pytest.skip("Chromium is not installed at /usr/bin/chromium", allow_module_level=True)

from playwright.sync_api import Page, expect  # noqa: E402

from generation.models import RunStatus  # noqa: E402
from tests.conftest import wait_for  # noqa: E402
from tests.storyboard.test_storyboard_browser import (  # noqa: E402, F401 - fixtures used by name
    alice,
    browser,
    choose,
    ended,
    last_run,
    open_storyboard,
    page,
    server,
)

pytestmark = [pytest.mark.browser, pytest.mark.worker]

# The browser's notification centre is the edge: a stand-in records what would be shown,
# and the tab can be sent to the background.
NOTIFICATIONS = """
window.__notes = [];
window.__asked = 0;
window.__hidden = false;
Object.defineProperty(Document.prototype, 'hidden', {get() { return window.__hidden; }});
window.Notification = class {
  static permission = 'default';
  static requestPermission() {
    window.__asked += 1;
    window.Notification.permission = 'granted';
    return Promise.resolve('granted');
  }
  constructor(title, options) { window.__notes.push(options.body); }
};
"""


def test_time_left_estimates_then_stops_while_paused(alice: Page, make_project):
    project = make_project(
        ["One is SLOW.", "Two NOMODEL.", "Three NOMODEL.", "Four NOMODEL.", "Five."]
    )
    open_storyboard(alice, project)
    toolbar = alice.locator("#toolbar")
    choose(alice, "audio")
    # Nothing measured yet for this preset and size: no made-up countdown.
    expect(toolbar.locator(".eta")).to_have_text("estimating…")
    # Three identical failures pause the run: the countdown goes, it does not tick on.
    expect(toolbar.locator(".stage-line")).to_have_text("Paused")
    expect(toolbar.locator(".eta")).to_have_count(0)
    expect(toolbar).not_to_contain_text("left")
    assert last_run(project).status == RunStatus.PAUSED


def test_a_scene_is_made_next_from_its_row(alice: Page, make_project):
    project = make_project(["One is SLOW.", "Two.", "Three.", "Four."])
    open_storyboard(alice, project)
    expect(alice.locator("button.make-next")).to_have_count(4)
    expect(alice.locator("button.make-next").first).to_be_hidden()
    choose(alice, "images")
    four = alice.locator(f"#scene-{project.sentences.get(position=4).id}")
    expect(alice.locator("#toolbar .stage-line")).to_contain_text("Generating images")
    # Only while a run is in progress does a row offer to go next or be cancelled.
    four.get_by_role("button", name="Next").click()
    # (The toolbar's notice can be replaced at once by a newer live toolbar: the rows say it.)
    wait_for(lambda: last_run(project).jobs.filter(position=4, priority__gt=0).exists())
    run = wait_for(lambda: ended(project), timeout=30)
    order = list(run.jobs.order_by("started_at").values_list("position", flat=True))
    assert order == [1, 4, 2, 3]


def test_a_background_tab_is_notified_when_a_run_and_an_export_end(alice: Page, make_project):
    alice.add_init_script(NOTIFICATIONS)
    project = make_project(["A lighthouse at dawn.", "Gulls SLOW over the pier."])
    open_storyboard(alice, project)
    choose(alice, "all")
    # Asked once, on the click that started the run.
    assert alice.evaluate("window.__asked") == 1
    alice.evaluate("window.__hidden = true")
    expect(alice.locator("#toasts .toast.success")).to_be_visible()
    assert alice.evaluate("window.__notes") == ["All generation complete!"]

    alice.evaluate("window.__hidden = false")
    alice.locator(".export-form button[type=submit]").click()
    expect(alice.locator(".export-progress")).to_be_visible()
    alice.evaluate("window.__hidden = true")
    expect(alice.locator(".exports tr.export-succeeded")).to_have_count(1)
    wait_for(lambda: len(alice.evaluate("window.__notes")) == 2, timeout=10)
    assert alice.evaluate("window.__notes")[1] == "The film is ready to download."
