from __future__ import annotations

import shutil
import wave

import numpy as np
import pytest
from PIL import Image

from generation.backends import draft
from generation.backends.camera import CameraMoveBackend
from generation.backends.registry import get_backend
from media.card import WORDS_PER_SECOND
from media.ffmpeg import probe
from projects.vocabulary import Stage


def test_draft_preset_makes_a_card_a_wav_and_a_clip(make_job, steps, monkeypatch) -> None:
    monkeypatch.setattr(draft.shutil, "which", lambda name: None)  # no espeak-ng: silence
    audio = get_backend(Stage.AUDIO, "draft").generate(make_job(stage=Stage.AUDIO), steps)
    with wave.open(str(audio.path)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
    words = len(make_job().text.split())
    assert audio.duration == pytest.approx(seconds)
    assert seconds == pytest.approx(max(1.5, words / WORDS_PER_SECOND), abs=0.01)

    image = get_backend(Stage.IMAGES, "draft").generate(
        make_job(stage=Stage.IMAGES, width=320, height=180), steps
    )
    with Image.open(image.path) as card:
        assert card.format == "PNG" and card.size == (320, 180)
        pixels = np.asarray(card.convert("L"))
    assert pixels.std() > 10  # drawn, not blank

    video_backend = get_backend(Stage.VIDEOS, "draft")
    assert isinstance(video_backend, CameraMoveBackend)
    clip = video_backend.generate(
        make_job(
            width=320,
            height=180,
            image_path=image.path,
            audio_path=audio.path,
            audio_duration=audio.duration,
        ),
        steps,
    )
    info = probe(clip.path)
    assert info.duration == pytest.approx(seconds, abs=1 / 24)
    assert info.audio_codec == "aac"


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_draft_narration_speaks_with_espeak(make_job, steps) -> None:
    asset = draft.DraftSpeechBackend().generate(make_job(stage=Stage.AUDIO, voice="nobody"), steps)
    with wave.open(str(asset.path)) as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    assert asset.duration and asset.duration > 0.5
    assert np.abs(samples).max() > 1000  # real speech, not the silent fallback


def test_long_text_still_fits_a_tiny_card(make_job) -> None:
    card = draft.draw_card(make_job(width=64, height=64, image_prompt="word " * 200))
    assert card.size == (64, 64)
