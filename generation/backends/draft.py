"""The draft preset: a watchable animatic in seconds on any CPU, with no model weights.

Images are storyboard cards drawn with Pillow (`media.card`); narration comes from espeak-ng
when it is installed, else a silent track as long as the sentence takes to read, so timing
still works.
"""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
import wave
from pathlib import Path

from PIL import Image

from media import card
from media.card import reading_seconds
from media.ffmpeg import new_temp_path, removed_on_error, run_child

from . import neural_voice
from .base import GeneratedAsset, JobInput, StepCallback
from .config import setting

logger = logging.getLogger(__name__)

SILENT_SAMPLE_RATE = 22050
ESPEAK_TIMEOUT_SECONDS = 60


def draw_card(job: JobInput) -> Image.Image:
    """The job's scene as a card."""
    return card.draw_card(
        width=job.width,
        height=job.height,
        position=job.position,
        seed=job.seed,
        text=job.text,
        image_prompt=job.image_prompt,
        style_prompt=job.style_prompt,
    )


class StoryboardCardBackend:
    """Draft images: a card naming what the picture will show."""

    def generate(self, job: JobInput, on_step: StepCallback) -> GeneratedAsset:
        on_step(0, 1)
        output = new_temp_path(job.work_dir, "image-", ".png")
        with removed_on_error(output):
            draw_card(job).save(output, format="PNG")
            on_step(1, 1)
        return GeneratedAsset(path=output)


def write_silence(path: Path, seconds: float) -> float:
    frames = round(seconds * SILENT_SAMPLE_RATE)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SILENT_SAMPLE_RATE)
        wav.writeframes(b"\0\0" * frames)
    return frames / SILENT_SAMPLE_RATE


class DraftSpeechBackend:
    """Draft narration: the project's neural voice if it chose one (opt-in, see neural_voice)
    and it is installed; else espeak-ng if installed; else silence timed to the reading length."""

    def __init__(self, espeak: str | None = None) -> None:
        self.espeak = espeak if espeak is not None else shutil.which("espeak-ng")

    def generate(self, job: JobInput, on_step: StepCallback) -> GeneratedAsset:
        voice = neural_voice.usable(job.voice or str(setting("STORYBOARD_DRAFT_VOICE")))
        if voice is not None and job.text.strip():
            return self._speak_neural(voice, job, on_step)
        on_step(0, 1)
        output = new_temp_path(job.work_dir, "audio-", ".wav")
        with removed_on_error(output):
            text = job.text.strip()
            speech = self._speak(text, job) if self.espeak and text else None
            if speech is None:
                duration = write_silence(output, reading_seconds(text))
            else:
                duration = write_pcm_wav(output, *speech)
            on_step(1, 1)
        # What was made, not what the file says: the engine checks the file against it.
        return GeneratedAsset(path=output, duration=duration)

    def _speak_neural(
        self, voice: neural_voice.NeuralVoice, job: JobInput, on_step: StepCallback
    ) -> GeneratedAsset:
        from .speech import write_wav

        synth = neural_voice.load(voice)  # once per worker
        samples = synth.synthesize(job.text, on_step)
        output = new_temp_path(job.work_dir, "audio-", ".wav")
        with removed_on_error(output):
            write_wav(output, samples, synth.sample_rate)
        # What was made, not what the file says: the engine checks the file against it.
        return GeneratedAsset(path=output, duration=len(samples) / synth.sample_rate)

    def _speak(self, text: str, job: JobInput) -> tuple[wave._wave_params, bytes] | None:
        """espeak-ng's speech as (WAV parameters, samples), read from its stdout so that
        writing the file is Python's job: a full disk then raises, where `espeak-ng -w`
        writes short and exits 0."""
        assert self.espeak is not None
        # The project's voice may name a model speaker espeak doesn't know: then try the
        # language alone, then espeak's default voice.
        voices = [v for v in dict.fromkeys([job.voice, job.language]) if v] + [""]
        for voice in voices:
            command = [self.espeak, "--stdout"] + (["-v", voice] if voice else [])
            try:
                # Text on stdin: a sentence starting with "-" must not read as an option.
                result = run_child(
                    command,
                    input=text.encode("utf-8"),
                    capture_output=True,
                    timeout=ESPEAK_TIMEOUT_SECONDS,
                    check=False,
                )
            except (OSError, subprocess.TimeoutExpired) as error:
                logger.warning("espeak-ng failed (%s); using a silent narration track.", error)
                return None
            if result.returncode == 0 and (speech := read_streamed_wav(result.stdout)):
                return speech
        logger.warning("espeak-ng could not speak this text; using a silent narration track.")
        return None


def read_streamed_wav(data: bytes) -> tuple[wave._wave_params, bytes] | None:
    """Parameters and samples of a WAV written to a pipe: its header cannot know the length
    (espeak-ng puts a huge placeholder there), so the samples are whatever follows it."""
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            params = wav.getparams()
            samples = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError):
        return None
    frame = params.sampwidth * params.nchannels
    samples = samples[: len(samples) - len(samples) % frame]
    return (params, samples) if samples else None


def write_pcm_wav(path: Path, params: wave._wave_params, samples: bytes) -> float:
    """Write the samples as a WAV; returns its length in seconds. Raises on a short write."""
    with open(path, "wb") as f, wave.open(f, "wb") as wav:
        wav.setnchannels(params.nchannels)
        wav.setsampwidth(params.sampwidth)
        wav.setframerate(params.framerate)
        wav.writeframes(samples)
    return len(samples) / (params.sampwidth * params.nchannels) / params.framerate


def check_espeak() -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        return "espeak-ng not installed: draft narration will be silent (apt install espeak-ng)"
    return f"espeak-ng at {path}"
