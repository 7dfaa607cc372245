from __future__ import annotations

import wave

import pytest

from generation.backends.base import BackendError, SystemicBackendError
from generation.backends.registry import get_backend, load_count
from generation.backends.speech import CoquiSpeechBackend, split_chunks
from projects.vocabulary import Stage


def test_wav_at_the_model_rate_with_its_duration(studio, make_job, steps) -> None:
    job = make_job(stage=Stage.AUDIO, text="Hello there. The keeper climbed the stairs!")
    asset = get_backend(Stage.AUDIO, "studio").generate(job, steps)
    with wave.open(str(asset.path)) as wav:
        assert wav.getframerate() == 16000 and wav.getnchannels() == 1
        seconds = wav.getnframes() / wav.getframerate()
    assert seconds > 0 and asset.duration == pytest.approx(seconds)
    assert asset.path.parent == job.work_dir
    assert steps.calls == [(0, 2), (1, 2), (2, 2)]  # one step per sentence


def test_model_loads_once(studio, make_job, steps) -> None:
    before = load_count("speech")
    get_backend(Stage.AUDIO, "studio").generate(make_job(stage=Stage.AUDIO), steps)
    get_backend(Stage.AUDIO, "studio").generate(make_job(stage=Stage.AUDIO, text="Again."), steps)
    assert load_count("speech") == before + 1


def test_voice_picks_the_speaker_and_unknown_voices_fall_back(
    tiny_vits_speakers, make_job, steps
) -> None:
    backend = CoquiSpeechBackend(str(tiny_vits_speakers), device="cpu")
    bob = backend.generate(make_job(stage=Stage.AUDIO, voice="bob"), steps)
    anyone = backend.generate(make_job(stage=Stage.AUDIO, voice="nobody", language="xx"), steps)
    assert bob.duration and anyone.duration


def test_missing_folder_names_the_setting(studio, make_job, steps, tmp_path) -> None:
    studio.STORYBOARD_TTS_MODEL = str(tmp_path / "nothing-here")
    with pytest.raises(SystemicBackendError, match="STORYBOARD_TTS_MODEL"):
        get_backend(Stage.AUDIO, "studio").generate(make_job(stage=Stage.AUDIO), steps)


def test_model_name_not_downloaded_offline(studio, make_job, steps) -> None:
    studio.STORYBOARD_TTS_MODEL = "tts_models/xx/nowhere/vits"
    with pytest.raises(SystemicBackendError, match="download_models"):
        get_backend(Stage.AUDIO, "studio").generate(make_job(stage=Stage.AUDIO), steps)


def test_empty_text_is_a_job_error(studio, make_job, steps) -> None:
    with pytest.raises(BackendError):
        get_backend(Stage.AUDIO, "studio").generate(make_job(stage=Stage.AUDIO, text="  "), steps)


def test_split_chunks() -> None:
    assert split_chunks("One. Two!  Three") == ["One.", "Two!", "Three"]
