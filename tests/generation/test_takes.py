"""Takes through a real worker: every asset kept with what made it, restored with the
right dirty flags (its clip comes back with its picture), and retention that deletes
only old takes nothing references."""

from pathlib import Path

import pytest

from exports.models import Export, ExportStatus
from generation import runs, scenes, takes
from generation.models import GenerationRun, Take
from projects.models import Sentence
from tests.conftest import wait_for

pytestmark = pytest.mark.worker


def done(started) -> GenerationRun:  # type: ignore[no-untyped-def]
    run = started.run

    def finished() -> GenerationRun | None:
        run.refresh_from_db()
        return run if not run.is_active else None

    run = wait_for(finished)
    assert run.status == "succeeded", list(run.jobs.values_list("error", flat=True))
    return run


def current(scene: Sentence, asset: str) -> Take:
    scene.refresh_from_db()
    take = Take.objects.current(scene, asset)
    assert take is not None
    return take


def flags(scene: Sentence) -> tuple[bool, bool, bool]:
    scene.refresh_from_db()
    return scene.is_audio_dirty, scene.is_image_dirty, scene.is_video_dirty


def test_it_restores_a_picture_with_its_seed_and_the_clip_made_from_it(
    worker, make_project, media: Path
):
    project = make_project(2, style_prompt="ink")
    run = done(runs.start_run(project, ["audio", "images", "videos"]))
    scene = project.sentences.get(position=1)
    image1, clip1, audio1 = (
        current(scene, "image"),
        current(scene, "video"),
        current(scene, "audio"),
    )
    # What made each take is recorded with it.
    assert (image1.seed, image1.prompt, image1.style, image1.preset) == (
        scene.seed,
        scene.image_prompt,
        "ink",
        "draft",
    )
    assert (image1.width, image1.height, image1.run_id, image1.model) == (
        1280,
        720,
        run.id,
        "draft",
    )
    assert image1.job.stage == "images" and audio1.text == scene.text
    assert (clip1.image_take, clip1.audio_take) == (image1, audio1)
    picture1 = (media / image1.file).read_bytes()

    done(scenes.reroll(scene))
    image2 = current(scene, "image")
    assert image2.seed == scene.seed != image1.seed
    assert flags(scene) == (False, False, True)
    done(scenes.regenerate(scene, ["video"]))
    clip2 = current(scene, "video")
    assert clip2.image_take == image2

    # The first picture comes back byte for byte, with its seed, and so does its clip.
    stale = takes.restore(image1)
    scene.refresh_from_db()
    assert (media / scene.image_file.name).read_bytes() == picture1
    assert scene.image_file.name == image1.file and scene.seed == image1.seed
    assert scene.video_file.name == clip1.file
    assert stale == set() and flags(scene) == (False, False, False)

    takes.restore(image2)
    assert current(scene, "video") == clip2 and flags(scene) == (False, False, False)

    # A picture no clip was made of leaves the clip out of date.
    done(scenes.reroll(scene))
    image3 = current(scene, "image")
    takes.restore(image1)
    takes.restore(image3)
    assert flags(scene) == (False, False, True) and scene.video_file.name == clip1.file

    # A picture made from an older prompt is out of date once restored, and so its clip.
    scene.apply_edit(image_prompt="A different harbour")
    assert takes.restore(image2) == {"image", "video"}
    assert flags(scene) == (False, True, True)

    # Restoring a clip alone: up to date only with the picture and narration it was made of.
    scene.apply_edit(image_prompt=image1.prompt)
    assert takes.restore(image1) == set()
    assert takes.restore(clip2) == {"video"}
    assert takes.restore(clip1) == set() and flags(scene) == (False, False, False)
    # The other scene was never touched.
    other = project.sentences.get(position=2)
    assert Take.objects.filter(sentence=other).count() == 3


def test_it_deletes_only_old_takes_nothing_references(worker_factory, make_project, media):
    worker_factory(STORYBOARD_KEEP_TAKES="3").start()
    project = make_project(1)
    scene = project.sentences.get()
    done(runs.start_run(project, ["images"]))
    for _ in range(4):
        done(scenes.reroll(scene))
    # Five pictures made, three kept: the worker applied retention as it recorded them.
    kept = list(Take.objects.filter(sentence=scene, asset="image"))
    assert len(kept) == 3 and kept[0].is_current
    pictures = [p for p in (media / "projects").rglob("image-*") if p.is_file()]
    assert sorted(str(p.relative_to(media)) for p in pictures) == sorted(t.file for t in kept)

    oldest = kept[-1]
    takes.restore(oldest)
    with pytest.MonkeyPatch.context() as mp:
        from django.conf import settings

        mp.setattr(settings, "STORYBOARD_KEEP_TAKES", 1)
        # An export in progress reads the scenes' files as it goes: nothing is deleted.
        export = Export.objects.create(project=project, status=ExportStatus.RUNNING)
        assert takes.prune(scene.id, "image") == []
        export.status = ExportStatus.SUCCEEDED
        export.save()
        # Beyond the newest one, the current (restored) picture is kept, the other goes.
        assert takes.prune(scene.id, "image") == [kept[1].file]
    assert [t.id for t in Take.objects.filter(sentence=scene, asset="image")] == [
        kept[0].id,
        oldest.id,
    ]
    assert not (media / kept[1].file).exists() and (media / oldest.file).is_file()
