"""Screenshots of the live storyboard for the README, taken in headless Chromium (1280 px
wide, and 375 px for a phone) against a real daphne and worker, with a stand-in backend
that draws real PNG thumbnails in no time. "FAIL" in a scene fails its picture; "SLOW"
makes its picture take ten steps of 0.4 s, so a run can be caught mid-way.

    .venv/bin/python benchmarks/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.live_latency import CHROMIUM, CHROMIUM_ARGS, Stack, log_in  # noqa: E402

SCENES = [
    "The lighthouse keeper wakes before dawn.",
    "Fog rolls in over the harbour.",
    "A fishing boat leaves the pier.",
    "Gulls circle above the nets.",
    "SLOW The storm reaches the coast.",
    "SLOW Waves break over the sea wall.",
    "SLOW The lamp turns through the night.",
    "SLOW Morning: the boat comes home.",
]
FAILING = [
    "A quiet street at noon.",
    "The clock tower will FAIL to render.",
    "Children run to the fountain.",
    "A cat sleeps in the shade.",
    "The market stalls FAIL to open.",
    "Evening lights come on.",
]


class PictureBackend:
    """Real files that pass the engine's checks: a gradient picture per scene at the
    project's size, the test backend's silent narration and grey clip."""

    def __init__(self, stage: str):
        self.stage = stage

    def generate(self, job, on_step):  # type: ignore[no-untyped-def]
        from PIL import Image, ImageDraw

        from generation.backends.base import BackendError, GeneratedAsset
        from tests.support.fake_backends import AUDIO_SECONDS, write_real

        steps, delay = (10, 0.4) if "SLOW" in job.text and self.stage == "images" else (2, 0.0)
        for step in range(steps):
            on_step(step, steps)
            time.sleep(delay)
        if "FAIL" in job.text and self.stage == "images":
            raise BackendError(f"The model refused scene {job.position}: out of memory at 512x512.")
        on_step(steps, steps)
        if self.stage != "images":
            path = job.work_dir / ("a.wav" if self.stage == "audio" else "v.mp4")
            write_real(self.stage, job, path)
            return GeneratedAsset(path, duration=AUDIO_SECONDS if self.stage == "audio" else None)
        hue = (job.position * 47) % 255
        image = Image.new("RGB", (256, 144))
        draw = ImageDraw.Draw(image)
        for y in range(144):
            draw.line([(0, y), (256, y)], fill=(hue, 90 + y // 2, 200 - y))
        draw.ellipse((150, 20, 200, 70), fill=(255, 230, 150))
        draw.polygon([(0, 144), (90, 80), (180, 144)], fill=(40, 60, 80))
        path = job.work_dir / "i.png"
        image.resize((job.width, job.height), Image.Resampling.BICUBIC).save(path)
        return GeneratedAsset(path)


def shoot(page, path: Path) -> None:  # type: ignore[no-untyped-def]
    """Once every thumbnail in view has loaded (they are lazy)."""
    page.wait_for_function(
        """[...document.querySelectorAll('img.thumb')].every(i => {
            const r = i.getBoundingClientRect();
            const inView = r.bottom > 0 && r.top < innerHeight;
            return !inView || (i.complete && i.naturalWidth);
        })"""
    )
    page.screenshot(path=path)


def make_backend(stage: str, preset: str) -> PictureBackend:
    return PictureBackend(stage)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    stack = Stack("benchmarks.screenshots.make_backend")
    from django.contrib.auth.models import User

    from projects.models import Project

    user = User.objects.create_user("maya", password="maya-password")
    stack.start()
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(
                base_url=stack.url, viewport={"width": 1280, "height": 760}
            )
            page = context.new_page()
            log_in(page, "maya", "maya-password")

            harbour = Project.objects.create(
                owner=user, width=640, height=360, name="The Lighthouse"
            )
            harbour.add_sentences(SCENES)
            page.goto(f"/projects/{harbour.id}/")
            page.get_by_text("Generate All ▾").click()
            expect(page.locator("#toolbar .dropdown .menu")).to_be_visible()
            shoot(page, args.out / "toolbar.png")

            page.locator('#toolbar .dropdown button[value="all"]').click()
            expect(page.locator(".stage-line")).to_have_text("Generating images: 4/8 (50%)")
            expect(page.locator("tr.scene .badge.running")).to_contain_text("running 4/10")
            shoot(page, args.out / "run-in-progress.png")

            page.get_by_role("button", name="Cancel", exact=True).click()
            expect(page.locator("#cancel-dialog")).to_be_visible()
            shoot(page, args.out / "cancel-dialog.png")
            page.get_by_role("button", name="Cancel generation").click()
            expect(page.locator(".run-summary.cancelled")).to_be_visible()
            expect(page.locator("#toasts .toast")).to_be_visible()
            shoot(page, args.out / "cancelled.png")

            town = Project.objects.create(owner=user, width=640, height=360, name="Noon in Town")
            town.add_sentences(FAILING)
            page.goto(f"/projects/{town.id}/")
            page.get_by_text("Generate All ▾").click()
            page.locator('#toolbar .dropdown button[value="all"]').click()
            expect(page.locator("#error-summary")).to_be_visible()
            expect(page.locator("#toasts .toast.warning")).to_be_visible()
            shoot(page, args.out / "error-summary.png")

            # A finished storyboard: every clip shows its still.
            done = Project.objects.create(
                owner=user, width=640, height=360, name="The Lighthouse, finished"
            )
            done.add_sentences([t.replace("SLOW ", "") for t in SCENES])
            page.goto(f"/projects/{done.id}/")
            page.get_by_text("Generate All ▾").click()
            page.locator('#toolbar .dropdown button[value="all"]').click()
            expect(page.locator(".run-summary")).to_have_text("Last run: all 24 done.")
            page.locator("#toasts .toast").evaluate_all("ts => ts.forEach(t => t.remove())")
            shoot(page, args.out / "storyboard.png")

            phone = browser.new_context(
                base_url=stack.url, viewport={"width": 375, "height": 740}, device_scale_factor=2
            )
            page = phone.new_page()
            log_in(page, "maya", "maya-password")
            storm = Project.objects.create(owner=user, width=640, height=360, name="The Storm")
            storm.add_sentences(SCENES)
            page.goto(f"/projects/{storm.id}/")
            page.get_by_text("Generate All ▾").click()
            page.locator('#toolbar .dropdown button[value="all"]').click()
            expect(page.locator(".stage-line")).to_have_text("Generating images: 4/8 (50%)")
            expect(page.locator("tr.scene .badge.running")).to_contain_text("running 4/10")
            shoot(page, args.out / "phone-run.png")
            page.goto(f"/projects/{done.id}/")
            page.locator(f"#scene-{done.sentences.get(position=2).id}").scroll_into_view_if_needed()
            shoot(page, args.out / "phone-storyboard.png")
            browser.close()
    finally:
        stack.stop()
    names = ["toolbar", "run-in-progress", "cancel-dialog", "cancelled", "error-summary"]
    for name in [*names, "storyboard", "phone-run", "phone-storyboard"]:
        print(args.out / f"{name}.png")


if __name__ == "__main__":
    main()
