"""Stream copy when the clips match; one re-encode when they don't, or for captions/fades."""

from pathlib import Path

from exports.render import REENCODE, STREAM_COPY
from media.ffmpeg import probe
from tests.support.exports import FPS, duration_of, inline_export, make_clip, ready_project

DURATIONS = [1.0, 1.5, 1.25]


def test_matching_clips_are_joined_by_stream_copy(db, make_project, media: Path):
    project = ready_project(make_project, media, DURATIONS)
    export = inline_export(project)
    assert export.method == STREAM_COPY
    manifest = (media / export.file).with_suffix(".json")
    assert '"method": "stream_copy"' in manifest.read_text()
    assert export.manifest["method"] == STREAM_COPY and export.manifest["substituted"] == 0


def test_captions_and_fades_are_re_encoded_once_keeping_the_length(db, make_project, media: Path):
    project = ready_project(make_project, media, DURATIONS)
    export = inline_export(project, captions=True, fades=True)
    assert export.method == REENCODE
    assert export.manifest["methodReason"] == "captions are burned in"
    info = probe(media / export.file)
    assert (info.width, info.height, info.fps) == (160, 90, 12.0)
    assert abs(duration_of(media / export.file) - sum(DURATIONS)) <= len(DURATIONS) / FPS


def test_a_clip_of_another_size_is_re_encoded_to_the_film_size(db, make_project, media: Path):
    project = ready_project(make_project, media, DURATIONS)
    odd = project.sentences.get(position=2)
    image = media / odd.image_file.name
    audio = media / odd.audio_file.name
    odd.video_file.name = make_clip(
        media, odd.video_file.name.replace("video", "odd"), image, audio, 1.5, width=96, height=96
    )
    odd.save()
    export = inline_export(project)
    assert export.method == REENCODE
    assert "clip 2 differs" in export.manifest["methodReason"]
    info = probe(media / export.file)
    assert (info.width, info.height) == (160, 90)
    assert abs(duration_of(media / export.file) - sum(DURATIONS)) <= len(DURATIONS) / FPS
