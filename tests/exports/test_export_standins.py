"""Scenes without an up-to-date clip get a stand-in, reported in the manifest."""

import json
from pathlib import Path

import pytest

from exports import jobs
from exports.jobs import start_export
from exports.models import ExportStatus
from media.card import reading_seconds
from tests.support.exports import FPS, ONSET, decode_audio, duration_of, onsets, ready_project


def test_a_scene_without_a_clip_gets_its_still_with_a_camera_move(db, make_project, media: Path):
    durations = [1.0, 1.5, 1.0]
    project = ready_project(make_project, media, durations, clips=[True, False, True])
    # A scene whose clip is out of date is stood in for too.
    project.sentences.filter(position=3).update(is_video_dirty=True)
    export = start_export(project, inline=True)
    jobs.execute_export(export.id)
    export.refresh_from_db()
    assert export.status == ExportStatus.SUCCEEDED, export.error

    manifest = json.loads((media / export.file).with_suffix(".json").read_text())
    assert manifest == export.manifest
    assert manifest["substituted"] == 2
    scenes = manifest["scenes"]
    assert [s["source"] for s in scenes] == ["clip", "standin", "standin"]
    assert scenes[1]["standin"] == "camera" and scenes[1]["reason"] == "missing"
    assert scenes[2]["reason"] == "dirty" and scenes[2]["audio"] == "narration"
    # Stand-ins are made with the clip settings, so the film is still a stream copy.
    assert manifest["method"] == "stream_copy"
    film = media / export.file
    assert abs(duration_of(film) - sum(durations)) <= len(durations) / FPS
    # The stand-in carries its scene's narration, in step.
    assert onsets(decode_audio(film))[1] == pytest.approx(1.0 + ONSET, abs=1 / FPS)


def test_a_scene_with_nothing_yet_gets_a_card_and_silence_of_its_reading_length(
    db, make_project, media: Path
):
    project = ready_project(make_project, media, [1.0])
    (bare,) = project.add_sentences(["Nothing has been generated for this one yet."])
    export = start_export(project, inline=True)
    jobs.execute_export(export.id)
    export.refresh_from_db()
    assert export.status == ExportStatus.SUCCEEDED, export.error
    scene = export.manifest["scenes"][1]
    assert (scene["standin"], scene["audio"], scene["reason"]) == ("card", "silence", "missing")
    seconds = round(reading_seconds(bare.text) * FPS) / FPS
    assert scene["duration"] == pytest.approx(seconds)
    assert abs((export.duration or 0) - (1.0 + seconds)) <= 2 / FPS


def test_without_stand_ins_an_unready_scene_fails_the_export(db, make_project, media: Path):
    project = ready_project(make_project, media, [1.0, 1.0], clips=[True, False])
    export = start_export(project, inline=True, standins=False)
    jobs.execute_export(export.id)
    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED
    assert "No up-to-date clip for scene 2" in export.error
    assert not (media / f"projects/{project.id}/exports").exists() or not any(
        (media / f"projects/{project.id}/exports").iterdir()
    )
