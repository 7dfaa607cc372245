"""The storyboard as a creator sees it, in a real Chromium against a real daphne and
worker: the page is always what a reload would show, the option counts follow the
"Skip up-to-date" box, a phone gets a layout where nothing overlaps or scrolls sideways,
clips show their still, and the small things (toasts, favicon, settings messages, the
admin) behave. No test here sees a JavaScript error in the console.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User

from generation.models import GenerationJob, JobStatus
from projects.models import Project
from tests.support import CHROMIUM

if not CHROMIUM.exists():
    pytest.skip("Chromium is not installed at /usr/bin/chromium", allow_module_level=True)

from playwright.sync_api import Browser, ConsoleMessage, Page, expect  # noqa: E402
from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402

from tests.storyboard import test_storyboard_browser as base  # noqa: E402
from tests.storyboard.test_storyboard_browser import (  # noqa: E402
    TIMEOUT_MS,
    WATCH,
    choose,
    log_in,
    open_storyboard,
)

# The real browser and the real daphne + worker of the storyboard's other browser tests.
browser = base.browser
server = base.server

pytestmark = [pytest.mark.browser, pytest.mark.worker]

# The part of the page a run or an export changes, as a comparable outline: tags,
# attributes and text, less what differs between two renders of the same rows (the
# toolbar's render stamp, CSRF tokens, htmx's own bookkeeping).
OUTLINE = """
() => {
  const skip = new Set(["data-rendered", "hx-swap-oob"]);
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) {
      const text = node.textContent.replace(/\\s+/g, " ").trim();
      return text ? text : null;
    }
    if (node.nodeType !== Node.ELEMENT_NODE) return null;
    if (node.matches("input[name=csrfmiddlewaretoken]")) return "csrf";
    const attrs = [...node.attributes]
      .filter((a) => !skip.has(a.name))
      .map((a) => a.name === "class"
        ? `class=${a.value.split(/\\s+/).filter((c) => c && !c.startsWith("htmx-")).join(" ")}`
        : `${a.name}=${a.value}`)
      .sort();
    const children = [...node.childNodes].map(walk).filter((c) => c !== null);
    return [node.tagName.toLowerCase(), attrs, children];
  };
  return ["#toolbar", "#export-panel", "#scene-rows"].map((s) => walk(document.querySelector(s)));
}
"""

# Text that overlaps other text, and how far the page scrolls sideways. Each text line's
# box is clipped by its overflow-hiding ancestors (a pill's ellipsis), so only what is
# drawn counts.
LAYOUT = """
() => {
  const clipped = (el, r) => {
    let box = {left: r.left, right: r.right, top: r.top, bottom: r.bottom};
    for (let a = el; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== "visible") {
        const c = a.getBoundingClientRect();
        box = {left: Math.max(box.left, c.left), right: Math.min(box.right, c.right),
               top: Math.max(box.top, c.top), bottom: Math.min(box.bottom, c.bottom)};
      }
    }
    return box;
  };
  const lines = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!node.textContent.trim() || !el) continue;
    if (el.closest("#toasts, dialog, template, noscript")) continue;
    // A closed <details> keeps boxes for its content; checkVisibility knows it isn't drawn.
    if (!el.checkVisibility({contentVisibilityAuto: true, visibilityProperty: true})) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) {
      const box = clipped(el, r);
      if (box.right - box.left > 1 && box.bottom - box.top > 1) {
        lines.push({el, box, text: node.textContent.trim().slice(0, 30)});
      }
    }
  }
  const overlaps = [];
  for (let i = 0; i < lines.length; i++) {
    for (let j = i + 1; j < lines.length; j++) {
      const a = lines[i], b = lines[j];
      if (a.el === b.el) continue;
      const w = Math.min(a.box.right, b.box.right) - Math.max(a.box.left, b.box.left);
      const h = Math.min(a.box.bottom, b.box.bottom) - Math.max(a.box.top, b.box.top);
      if (w > 2 && h > 2) overlaps.push(`${a.text} / ${b.text}`);
    }
  }
  return {overlaps, sideways: document.documentElement.scrollWidth - innerWidth};
}
"""

# Pills that took more than one line (or have nothing to show).
WRAPPED_PILLS = """
() => [...document.querySelectorAll(".badge")]
  .filter((b) => b.offsetHeight > parseFloat(getComputedStyle(b).lineHeight) + 4)
  .map((b) => b.textContent.trim())
"""


class Console:
    """Every JavaScript error a page logs (an uncaught exception, a failed request)."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        # (path, status) a test expects: bad input is answered 400 on purpose, and the
        # browser logs any 4xx response as an error.
        self.expected: set[tuple[str, int]] = set()

    def watch(self, page: Page) -> Page:
        page.on("console", self.message)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        return page

    def message(self, message: ConsoleMessage) -> None:
        url = message.location.get("url", "")
        if message.type == "error" and not any(
            url.endswith(path) and f"status of {status} " in message.text
            for path, status in self.expected
        ):
            self.errors.append(f"{message.text} ({url})")


@pytest.fixture
def console() -> Iterator[Console]:
    watched = Console()
    yield watched
    assert watched.errors == [], "JavaScript console errors"


def open_page(
    browser: Browser, server: str, console: Console, width: int = 1280, height: int = 900
) -> Page:
    context = browser.new_context(base_url=server, viewport={"width": width, "height": height})
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(WATCH)
    page = console.watch(context.new_page())
    log_in(page, "alice", "password-alice")
    return page


def assert_laid_out(page: Page, where: str) -> None:
    # From the top: further down, the sticky toolbar covers what scrolls under it.
    page.evaluate("window.scrollTo(0, 0)")
    layout = page.evaluate(LAYOUT)
    assert layout["sideways"] <= 0, f"{where}: the page scrolls {layout['sideways']} px sideways"
    assert layout["overlaps"] == [], f"{where}: text drawn over other text"
    assert page.evaluate(WRAPPED_PILLS) == [], f"{where}: a status pill wraps"


def assert_like_a_reload(page: Page, project: Project) -> None:
    """The live page's toolbar, export panel and scenes equal a fresh load's."""
    fresh = page.context.new_page()
    open_storyboard(fresh, project)
    expected = fresh.evaluate(OUTLINE)
    fresh.close()
    # Let the socket deliver what the fresh page already read.
    same = f"(expected) => JSON.stringify(({OUTLINE})()) === JSON.stringify(expected)"
    try:
        page.wait_for_function(same, arg=expected, timeout=10_000)
    except PlaywrightTimeout:
        pass  # the assertion below shows the difference
    assert page.evaluate(OUTLINE) == expected


@pytest.fixture
def alice_page(browser: Browser, server: str, user: User, console: Console) -> Page:
    return open_page(browser, server, console)


def test_the_page_is_what_a_reload_shows_after_runs_and_an_export(alice_page: Page, make_project):
    page = alice_page
    project = make_project(["A fox in the snow.", "The fox jumps."])
    open_storyboard(page, project)
    toolbar, panel = page.locator("#toolbar"), page.locator("#export-panel")
    expect(panel.locator(".export-problems summary")).to_have_text(
        "2 scenes without an up-to-date clip"
    )

    choose(page, "all")
    expect(toolbar.locator(".run-summary")).to_have_text("Last run: all 6 done.")
    # The panel followed the run: nothing left to stand in for.
    expect(panel.locator(".export-problems")).to_have_count(0)
    expect(panel.get_by_role("button", name="Export", exact=True)).to_be_visible()
    assert_like_a_reload(page, project)

    # The counts follow the box: with it unticked every option remakes everything.
    menu = toolbar.locator(".dropdown .menu")
    page.get_by_text("Generate All ▾").click()
    for option in ("all", "audio", "images", "videos"):
        expect(menu.locator(f'[value="{option}"] .option-detail')).to_contain_text(
            "nothing to make", use_inner_text=True
        )
    page.get_by_label("Skip up-to-date assets").uncheck()
    expect(menu.locator('[value="all"] .option-detail')).to_have_text(
        "Audio → Images → Videos · 6 to make", use_inner_text=True
    )
    expect(menu.locator('[value="videos"] .option-detail')).to_have_text(
        "2 to make", use_inner_text=True
    )
    page.get_by_label("Skip up-to-date assets").check()
    expect(menu.locator('[value="videos"] .option-detail')).to_contain_text(
        "nothing to make", use_inner_text=True
    )

    # New pictures leave both clips out of date: the panel says so at once.
    page.get_by_label("Skip up-to-date assets").uncheck()
    menu.locator('[value="images"]').click()
    expect(toolbar.locator(".run-summary")).to_have_text("Last run: all 2 done.")
    expect(toolbar.locator("#pending-counts")).to_have_text("2 videos pending")
    expect(panel.locator(".export-problems summary")).to_have_text(
        "2 scenes without an up-to-date clip"
    )
    expect(panel.get_by_role("button", name="Export with stand-ins")).to_be_visible()
    expect(page.locator("td.asset.video .badge.stale")).to_have_count(2)
    assert_like_a_reload(page, project)

    # An export, start to end.
    panel.get_by_role("button", name="Export with stand-ins").click()
    expect(panel.locator("table.exports tr.export")).to_have_count(1)
    assert_like_a_reload(page, project)


def test_a_phone_gets_stacked_progress_and_scene_cards_with_posters(
    browser: Browser, server: str, user: User, console: Console, make_project
):
    project = make_project(
        [
            "The lighthouse keeper climbs the long spiral staircase before the first light "
            "of a grey winter morning, counting every one of its hundred and twelve steps.",
            "Fog rolls in.",
            "A boat leaves the pier.",
            "SLOW The lamp turns through the night.",
        ]
    )
    page = open_page(browser, server, console, width=375, height=740)
    open_storyboard(page, project)
    toolbar = page.locator("#toolbar")
    assert_laid_out(page, "375 px, before a run")
    assert page.locator("tr.scene").first.evaluate("r => getComputedStyle(r).display") == "grid"
    page.get_by_text("Generate All ▾").click()
    menu = toolbar.locator(".dropdown .menu").bounding_box()
    assert menu and menu["x"] >= 0 and menu["x"] + menu["width"] <= 375
    page.get_by_text("Generate All ▾").click()

    choose(page, "all")
    expect(toolbar.locator(".stage-line")).to_have_text("Generating audio: 3/4 (75%)")
    expect(page.locator(".badge.running")).to_have_count(1)
    assert_laid_out(page, "375 px, during a run")
    progress = toolbar.locator(".bulk-progress").bounding_box()
    assert progress and progress["width"] >= 300, "the progress takes the toolbar's width"
    for bar in toolbar.locator(".stage .bar").all():
        box = bar.bounding_box()
        assert box and box["width"] >= 100, "every stage bar is drawn"

    expect(toolbar.locator(".run-summary")).to_have_text("Last run: all 12 done.", timeout=60_000)
    # Every finished clip shows its scene's still until it plays.
    videos = page.locator("td.asset.video video")
    expect(videos).to_have_count(4)
    for scene in project.sentences.all():
        row = page.locator(f"#scene-{scene.id}")
        still = row.locator("td.asset.image img").get_attribute("src")
        expect(row.locator("td.asset.video video")).to_have_attribute("poster", still or "")
    expect(page.locator(".badge.done")).to_have_count(12)
    # Its play button plays it, with the controls from then on.
    videos.first.locator("xpath=..").get_by_role("button").click()
    expect(videos.first).to_have_attribute("controls", "")
    assert_laid_out(page, "375 px, after the run")

    page.set_viewport_size({"width": 1280, "height": 900})
    assert page.locator("tr.scene").first.evaluate("r => getComputedStyle(r).display") == (
        "table-row"
    )
    assert_laid_out(page, "1280 px, after the run")

    # Cancel on a phone: the dialog fits, the run stops.
    page.set_viewport_size({"width": 375, "height": 740})
    page.get_by_label("Skip up-to-date assets").uncheck()
    choose(page, "audio")
    expect(toolbar.locator(".stage-line")).to_have_text("Generating audio: 3/4 (75%)")
    toolbar.get_by_role("button", name="Cancel", exact=True).click()
    dialog = page.locator("#cancel-dialog")
    box = dialog.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 375
    dialog.get_by_role("button", name="Cancel generation").click()
    expect(toolbar.locator(".run-summary.cancelled")).to_be_visible()
    assert_laid_out(page, "375 px, cancelled")


def test_toasts_favicon_settings_messages_the_problem_list_and_the_admin(
    alice_page: Page, console: Console, user: User, make_project
):
    page = alice_page
    project = make_project(["Harbour.", "A boat.", "Night.", "Gulls.", "Rain.", "Sun."])
    open_storyboard(page, project)
    icon = page.locator('link[rel="icon"]').get_attribute("href")
    assert icon and page.request.get(icon).ok and page.request.get("/favicon.ico").ok

    # Six scenes without clips fold into one line: the storyboard stays in view.
    problems = page.locator("#export-panel .export-problems")
    expect(problems.locator("summary")).to_have_text("6 scenes without an up-to-date clip")
    expect(problems.locator("li").first).to_be_hidden()
    first_scene = page.locator("tr.scene").first.bounding_box()
    assert first_scene and first_scene["y"] < 400

    # An odd width is refused beside its field, and nothing is saved.
    page.get_by_text("Project settings").click()
    console.expected.add((f"/projects/{project.id}/settings/", 400))
    page.get_by_label("Width").fill("1281")
    page.get_by_role("button", name="Save settings").click()
    width = page.locator(".field.invalid", has=page.get_by_label("Width"))
    expect(width.locator(".field-error")).to_have_text(
        "Must be even (the video encoder halves it for colour): try 1280 or 1282."
    )
    field, message = page.get_by_label("Width").bounding_box(), width.locator(".field-error")
    below = message.bounding_box()
    assert field and below and 0 <= below["y"] - (field["y"] + field["height"]) < 24
    project.refresh_from_db()
    assert project.width == 1280
    open_storyboard(page, project)

    # A success toast leaves by itself. "Nothing to generate" moves nothing.
    toolbar = page.locator("#toolbar")
    choose(page, "audio")
    success = page.locator("#toasts .toast.success")
    expect(success).to_be_visible()
    expect(toolbar.locator(".run-summary")).to_have_text("Last run: all 6 done.")
    generate = page.get_by_text("Generate All ▾")
    before = generate.bounding_box()
    choose(page, "audio")
    expect(toolbar.locator(".notice")).to_have_text(
        "Nothing to generate: everything is up to date."
    )
    assert generate.bounding_box() == before
    expect(success).to_have_count(0, timeout=10_000)

    # A warning stays until dismissed, while the creator reads the admin.
    project.sentences.filter(position=2).update(text="The boat will FAIL here.")
    choose(page, "images")
    warning = page.locator("#toasts .toast.warning")
    expect(warning).to_contain_text("Completed with 1 failure.")
    User.objects.filter(id=user.id).update(is_staff=True, is_superuser=True)
    admin = console.watch(page.context.new_page())
    job = GenerationJob.objects.get(status=JobStatus.FAILED)
    admin.goto(f"/admin/generation/generationjob/{job.id}/change/")
    traceback = admin.locator("pre.traceback")
    expect(traceback).to_contain_text('Traceback (most recent call last):\n  File "')
    assert "monospace" in traceback.evaluate("e => getComputedStyle(e).fontFamily")
    expect(admin.locator('[name="_save"], [name="_continue"]')).to_have_count(0)
    admin.goto(f"/admin/generation/generationrun/{job.run_id}/change/")
    expect(admin.get_by_text("Finished with errors")).to_be_visible()
    expect(admin.locator('[name="_save"], [name="_continue"]')).to_have_count(0)
    admin.close()
    page.wait_for_timeout(7_000)
    expect(warning).to_be_visible()
    warning.get_by_role("button", name="Dismiss").click()
    expect(warning).to_have_count(0)
