"""Media a test writes for itself: a tone, a test image, and an on_step that records."""

from __future__ import annotations

import math
import wave
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from generation.backends.base import JobCancelled


def write_tone(path: Path, seconds: float, sample_rate: int = 22050) -> Path:
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    samples = (np.sin(2 * math.pi * 440 * t) * 0.3 * 32767).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(samples.tobytes())
    return path


def write_test_image(path: Path, width: int, height: int) -> Path:
    """A grid with a red disc in the middle: moves are easy to see and to measure."""
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    step = max(4, width // 16)
    for x in range(0, width, step):
        draw.line([(x, 0), (x, height)], fill=(128, 128, 128))
    for y in range(0, height, step):
        draw.line([(0, y), (width, y)], fill=(128, 128, 128))
    r = min(width, height) // 6
    draw.ellipse([width // 2 - r, height // 2 - r, width // 2 + r, height // 2 + r], fill="red")
    image.save(path)
    return path


class StepRecorder:
    """An on_step that records calls and, like the engine's, can raise JobCancelled."""

    def __init__(self, *, cancel_at_done: int | None = None, cancel_at_call: int | None = None):
        self.calls: list[tuple[int, int]] = []
        self.cancel_at_done = cancel_at_done
        self.cancel_at_call = cancel_at_call

    def __call__(self, done: int, total: int) -> None:
        self.calls.append((done, total))
        if self.cancel_at_done is not None and done >= self.cancel_at_done:
            raise JobCancelled()
        if self.cancel_at_call is not None and len(self.calls) >= self.cancel_at_call:
            raise JobCancelled()
