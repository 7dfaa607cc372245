"""Scenes with real clips for the export tests: the camera backend at 160x90, 12 fps."""

from __future__ import annotations

import math
import subprocess
import wave
from pathlib import Path

import numpy as np

from exports import jobs
from exports.jobs import start_export
from exports.models import Export, ExportStatus
from generation.backends.camera import CameraMoveBackend, clip_job
from media.ffmpeg import ffmpeg_exe, probe
from projects.models import Project
from tests.support.media_files import write_test_image

WIDTH, HEIGHT, FPS = 160, 90, 12
# Each scene's narration is silent for this long, then a tone: where the tone starts in the
# film shows whether the narration is still in step with its scene.
ONSET = 0.3


def write_narration(path: Path, seconds: float, sample_rate: int = 22050) -> Path:
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    samples = np.sin(2 * math.pi * 440 * t) * 0.4 * 32767
    samples[t < ONSET] = 0
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(samples.astype("<i2").tobytes())
    return path


def make_clip(
    media: Path, relative: str, image: Path, audio: Path | None, seconds: float, **size: int
) -> str:
    job = clip_job(
        image,
        audio,
        seconds,
        width=size.get("width", WIDTH),
        height=size.get("height", HEIGHT),
        fps=size.get("fps", FPS),
        work_dir=media / ".work" / "clips",
    )
    asset = CameraMoveBackend().generate(job, lambda done, total: None)
    (media / relative).parent.mkdir(parents=True, exist_ok=True)
    asset.path.rename(media / relative)
    return relative


def ready_project(
    make_project, media: Path, durations: list[float], *, clips: list[bool] | None = None
) -> Project:
    """A project whose scenes have narration, a picture and (unless `clips` says not) an
    up-to-date clip."""
    texts = [f"Scene {i + 1}: the keeper climbs the stairs." for i in range(len(durations))]
    project = make_project(texts, width=WIDTH, height=HEIGHT, fps=FPS)
    for i, (scene, seconds) in enumerate(zip(project.sentences.all(), durations, strict=True)):
        folder = f"projects/{project.id}/scenes/{scene.id}"
        (media / folder).mkdir(parents=True, exist_ok=True)
        image = write_test_image(media / folder / "image.png", 320, 180)
        audio = write_narration(media / folder / "audio.wav", seconds)
        scene.image_file.name = f"{folder}/image.png"
        scene.audio_file.name = f"{folder}/audio.wav"
        scene.audio_duration = seconds
        scene.is_audio_dirty = scene.is_image_dirty = False
        if clips is None or clips[i]:
            scene.video_file.name = make_clip(media, f"{folder}/video.mp4", image, audio, seconds)
            scene.is_video_dirty = False
        scene.save()
    return project


def decode_audio(path: Path, rate: int = 48000) -> np.ndarray:
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:a:0", "-f", "s16le",
         "-ac", "1", "-ar", str(rate), "-"],
        capture_output=True,
        check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768


def frame_at(path: Path, seconds: float) -> np.ndarray:
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-ss", f"{seconds:.3f}", "-i", str(path),
         "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True,
        check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, dtype=np.uint8).reshape(HEIGHT, WIDTH, 3).astype(np.int16)


def onsets(audio: np.ndarray, rate: int = 48000, threshold: float = 0.05) -> list[float]:
    """Times where sound starts after at least 0.2 s of silence."""
    loud = np.abs(audio) > threshold
    rises = np.flatnonzero(~loud[:-1] & loud[1:]) + 1
    gap = int(0.2 * rate)
    return [i / rate for i in rises if not loud[max(0, i - gap) : i].any()]


def duration_of(path: Path) -> float:
    seconds = probe(path).duration
    assert seconds is not None, f"{path} has no duration"
    return seconds


def inline_export(project: Project, **options: object) -> Export:
    """Export the project in this process (as `manage.py export --inline` does) and check
    that it succeeded."""
    export = start_export(project, inline=True, **options)
    jobs.execute_export(export.id)
    export.refresh_from_db()
    assert export.status == ExportStatus.SUCCEEDED, export.error
    return export
