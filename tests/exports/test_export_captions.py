"""Captions are burned into the frames of their own scene."""

from pathlib import Path

import numpy as np

from tests.support.exports import HEIGHT, frame_at, inline_export, ready_project

DURATIONS = [1.0, 1.5]


def film(project, media: Path, **options) -> Path:  # type: ignore[no-untyped-def]
    return media / inline_export(project, **options).file


def test_captions_appear_in_the_frames_of_their_scene(db, make_project, media: Path):
    project = ready_project(make_project, media, DURATIONS)
    project.sentences.filter(position=1).update(text="First caption")
    project.sentences.filter(position=2).update(text="A rather different second line")
    plain = film(project, media)
    captioned = film(project, media, captions=True)

    bottom = slice(int(HEIGHT * 0.75), HEIGHT)
    top = slice(0, int(HEIGHT * 0.4))
    for seconds in (0.5, 1.0 + 0.75):
        a, b = frame_at(plain, seconds), frame_at(captioned, seconds)
        # The caption band is drawn at the bottom; the rest of the picture is untouched.
        assert np.abs(a[bottom] - b[bottom]).mean() > 10
        assert np.abs(a[top] - b[top]).mean() < 3
    # Each scene shows its own sentence: the caption areas of the two scenes differ.
    first, second = frame_at(captioned, 0.5), frame_at(captioned, 1.75)
    assert np.abs(first[bottom] - second[bottom]).mean() > 5
