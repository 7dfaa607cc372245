"""The film is exactly as long as its scenes, and each narration stays with its scene."""

from pathlib import Path

import pytest

from media.ffmpeg import probe
from tests.support.exports import (
    FPS,
    ONSET,
    decode_audio,
    duration_of,
    inline_export,
    onsets,
    ready_project,
)

# Lengths that are not whole AAC frames, so priming and padding would add up if mishandled.
DURATIONS = [1.25, 1.0, 1.5, 0.75, 1.25, 1.0, 1.5, 1.0]


@pytest.mark.parametrize("options", [{}, {"captions": True}], ids=["stream-copy", "re-encode"])
def test_the_film_lasts_the_sum_of_its_scenes_and_the_narration_never_drifts(
    db, make_project, media: Path, options: dict
):
    project = ready_project(make_project, media, DURATIONS)
    export = inline_export(project, **options)
    film = media / export.file
    total = sum(DURATIONS)

    info = probe(film)
    assert info.video_codec == "h264" and info.audio_codec == "aac"
    # Within one frame per scene; in practice it is exact.
    assert abs(duration_of(film) - total) <= len(DURATIONS) / FPS
    assert abs((export.duration or 0) - total) <= len(DURATIONS) / FPS

    audio = decode_audio(film)
    assert abs(len(audio) / 48000 - total) <= len(DURATIONS) / FPS
    # Every scene's tone starts ONSET after its scene does: no gap, no drift at the joins.
    starts = [sum(DURATIONS[:i]) for i in range(len(DURATIONS))]
    heard = onsets(audio)
    assert len(heard) == len(DURATIONS), heard
    for expected, actual in zip(starts, heard, strict=True):
        assert abs(actual - (expected + ONSET)) <= 1 / FPS, (heard, starts)
