"""The planner decides every job of a run before anything runs."""

import pytest

from generation.planner import NO_AUDIO, NO_IMAGE, PlanError, order_stages, plan
from projects.models import Sentence


def clean(sentence: Sentence, **fields: object) -> Sentence:
    values = {
        "audio_file": "a.wav",
        "image_file": "i.png",
        "video_file": "v.mp4",
        "is_audio_dirty": False,
        "is_image_dirty": False,
        "is_video_dirty": False,
        **fields,
    }
    Sentence.objects.filter(id=sentence.id).update(**values)
    sentence.refresh_from_db()
    return sentence


def pairs(jobs):  # type: ignore[no-untyped-def]
    return [(j.sentence.position, j.stage, j.skip_reason) for j in jobs]


def test_it_orders_stages_audio_images_videos():
    assert order_stages(["videos", "audio", "images"]) == ["audio", "images", "videos"]


def test_it_rejects_unknown_and_empty_stages():
    with pytest.raises(PlanError, match="Unknown stage 'image'"):
        order_stages(["image"])
    with pytest.raises(PlanError, match="at least one"):
        order_stages([])


def test_it_plans_every_stage_for_new_scenes(project):
    jobs = plan(project.sentences.all(), ["audio", "images", "videos"])
    assert pairs(jobs) == [
        (1, "audio", ""), (2, "audio", ""), (3, "audio", ""),
        (1, "images", ""), (2, "images", ""), (3, "images", ""),
        (1, "videos", ""), (2, "videos", ""), (3, "videos", ""),
    ]  # fmt: skip


def test_it_skips_clean_scenes_by_default(project):
    first, second, third = project.sentences.all()
    clean(first)
    clean(second, is_image_dirty=True)
    clean(third, video_file="")
    jobs = plan(project.sentences.all(), ["audio", "images", "videos"])
    # The second scene's clip is planned because its picture will be remade.
    assert pairs(jobs) == [(2, "images", ""), (2, "videos", ""), (3, "videos", "")]


def test_it_regenerates_everything_without_skip_clean(project):
    for s in project.sentences.all():
        clean(s)
    jobs = plan(project.sentences.all(), ["images"], skip_clean=False)
    assert pairs(jobs) == [(1, "images", ""), (2, "images", ""), (3, "images", "")]


def test_it_plans_a_clip_for_a_scene_whose_first_image_is_made_in_this_run(project):
    first = project.sentences.first()
    clean(first, image_file="", is_image_dirty=True, is_video_dirty=True, video_file="")
    jobs = plan([first], ["images", "videos"])
    assert pairs(jobs) == [(1, "images", ""), (1, "videos", "")]


def test_it_plans_a_clip_when_only_the_narration_is_remade(project):
    first = clean(project.sentences.first(), is_audio_dirty=True)
    assert pairs(plan([first], ["audio", "videos"])) == [(1, "audio", ""), (1, "videos", "")]


def test_it_marks_a_clip_without_any_picture_as_skipped(project):
    first = clean(project.sentences.first(), image_file="", is_video_dirty=True)
    assert pairs(plan([first], ["videos"])) == [(1, "videos", NO_IMAGE)]


def test_it_marks_a_clip_without_any_narration_as_skipped(project):
    first = clean(project.sentences.first(), audio_file="", is_video_dirty=True)
    assert pairs(plan([first], ["videos"])) == [(1, "videos", NO_AUDIO)]


def test_it_limits_a_retry_to_the_given_jobs(project):
    for s in project.sentences.all():
        clean(s, is_image_dirty=True)
    second = project.sentences.get(position=2)
    jobs = plan(project.sentences.all(), ["images", "videos"], only={(second.id, "images")})
    # The clip follows its new picture even though only the image was asked for.
    assert pairs(jobs) == [(2, "images", ""), (2, "videos", "")]
