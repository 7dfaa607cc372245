"""Scene by scene in a real Chromium, against daphne and a huey worker (see
test_storyboard_browser.py): review pictures before clips with a re-roll inside the run,
then regenerate, re-roll and restore a take from a scene's row."""

from __future__ import annotations

import pytest

from generation.models import RunStatus, Take
from tests.conftest import wait_for
from tests.storyboard.test_storyboard_browser import (  # noqa: F401 - fixtures
    alice,
    browser,
    ended,
    expect,
    last_run,
    open_storyboard,
    page,
    server,
)

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def test_review_then_regenerate_reroll_and_restore_from_the_page(alice, make_project):  # noqa: F811
    project = make_project(["A lighthouse at dawn.", "Gulls over the pier.", "Waves roll in."])
    one, two, three = project.sentences.all()
    open_storyboard(alice, project)
    toolbar = alice.locator("#toolbar")

    # Generate All, stopping before clips.
    alice.get_by_label("Review pictures before clips").check()
    alice.get_by_text("Generate All ▾").click()
    alice.locator('.dropdown button[name="option"][value="all"]').click()
    expect(toolbar.locator(".stage-line")).to_have_text("Waiting for review: 3 pictures to look at")
    expect(toolbar.locator(".overall-line")).to_have_text("Overall: 6/9")
    expect(toolbar.locator(".review-scene img.thumb")).to_have_count(3)

    toolbar.locator(f"#review-{one.id} .approve").click()
    expect(toolbar.locator(".continue-review")).to_have_text("Make clips for approved scenes (1)")
    # A re-roll runs inside the run: the plan grows by one picture, then waits again.
    toolbar.locator(f"#review-{two.id} .reroll").click()
    expect(toolbar.locator(".overall-line")).to_have_text("Overall: 7/10")
    expect(toolbar.locator(".stage-line")).to_have_text("Waiting for review: 3 pictures to look at")
    toolbar.locator(f"#review-{two.id} .approve").click()
    expect(toolbar.locator(".continue-review")).to_have_text("Make clips for approved scenes (2)")
    toolbar.locator(".continue-review").click()

    expect(toolbar.locator(".run-summary")).to_have_text("Last run: all 9 done, 1 skipped.")
    expect(alice.locator("tr.scene video.thumb")).to_have_count(2)
    three_clip = alice.locator(f"#scene-{three.id}-video")
    expect(three_clip.locator(".badge.skipped")).to_have_text("skipped")
    expect(three_clip.locator(".asset-reason")).to_contain_text("not approved")
    assert last_run(project).status == RunStatus.SUCCEEDED

    # Regenerate one scene's picture from its row: one job, a new picture.
    row = alice.locator(f"#scene-{one.id}")
    first_src = row.locator("img.thumb").get_attribute("src")
    first_seed = one.seed
    row.locator(".scene-regenerate summary").click()
    row.get_by_role("button", name="Picture").click()
    expect(row.locator("img.thumb")).not_to_have_attribute("src", first_src or "")
    run = wait_for(lambda: ended(project))
    assert run.jobs.count() == 1 and run.label == "Scene 1: picture"
    expect(alice.locator(f"#scene-{one.id}-video .badge.stale")).to_be_visible()

    # Re-roll: a new seed, shown in the row once its picture is made.
    row.locator("form .reroll").click()
    wait_for(lambda: (r := last_run(project)).id != run.id and not r.is_active)
    one.refresh_from_db()
    assert one.seed != first_seed
    expect(row.locator(".seed")).to_have_text(f"seed {one.seed}")

    # Takes: the first picture comes back, with its seed.
    row.locator(".takes-link").click()
    first = Take.objects.filter(sentence=one, asset="image").last()
    assert first is not None and first.seed == first_seed
    expect(row.locator(".take-image")).to_have_count(3)
    row.locator(f'[data-take="{first.id}"] .restore').click()
    row = alice.locator(f"#scene-{one.id}")
    expect(row.locator(".seed")).to_have_text(f"seed {first_seed}")
    expect(row.locator("img.thumb")).to_have_attribute("src", first_src or "")
    # Its clip was made of that picture: it comes back too, up to date.
    expect(alice.locator(f"#scene-{one.id}-video .badge")).to_have_text("done")
