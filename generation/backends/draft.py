"""The draft preset: a watchable animatic in seconds on any CPU, with no model weights.

Images are storyboard cards drawn with Pillow; narration comes from espeak-ng when it is
installed, else a silent track as long as the sentence takes to read, so timing still works.
"""

from __future__ import annotations

import colorsys
import functools
import io
import logging
import random
import shutil
import subprocess
import textwrap
import wave
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from . import neural_voice
from .base import GeneratedAsset, JobInput, StepCallback
from .config import setting
from .media import new_temp_path, removed_on_error, run_child

logger = logging.getLogger(__name__)

WORDS_PER_SECOND = 2.6
MIN_SPEECH_SECONDS = 1.5
SILENT_SAMPLE_RATE = 22050
ESPEAK_TIMEOUT_SECONDS = 60

_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/Library/Fonts")

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@functools.cache
def _font_file(bold: bool) -> str | None:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in _FONT_DIRS:
        if (Path(folder) / name).is_file():
            return str(Path(folder) / name)
    return None


def load_font(size: int, *, bold: bool = False) -> Font:
    path = _font_file(bold)
    if path is not None:
        return ImageFont.truetype(path, size)
    # Pillow's bundled font scales too (Pillow >= 10.1), so cards look alike without DejaVu.
    return ImageFont.load_default(size)


def reading_seconds(text: str) -> float:
    return max(MIN_SPEECH_SECONDS, len(text.split()) / WORDS_PER_SECOND)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: Font, max_width: int) -> list[str]:
    """Greedy word wrap by measured width (character counts lie for proportional fonts)."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}".strip()
            if draw.textlength(candidate, font=font) <= max_width or not line:
                line = candidate
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return [line for line in lines if line]


def _fit_text(
    draw: ImageDraw.ImageDraw, text: str, max_width: int, max_height: int, size: int, *, bold: bool
) -> tuple[Font, list[str], int]:
    """The largest font size (down to a floor) at which `text` fits the box; clipped below it."""
    floor = max(8, size // 3)
    while True:
        font = load_font(size, bold=bold)
        lines = _wrap(draw, text, font, max_width)
        line_height = int(size * 1.25)
        if len(lines) * line_height <= max_height or size <= floor:
            break
        size = max(floor, int(size * 0.85))
    max_lines = max(1, max_height // line_height)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = textwrap.shorten(
            lines[-1] + " …", width=max(4, len(lines[-1])), placeholder="…"
        )
    return font, lines, line_height


def _palette(seed: int) -> tuple[tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]]:
    """A calm sky, a darker ground and an accent, varied per scene but never garish."""
    rng = random.Random(seed)
    hue = rng.random()

    def rgb(h: float, lightness: float, saturation: float) -> tuple[int, int, int]:
        r, g, b = colorsys.hls_to_rgb(h % 1.0, lightness, saturation)
        return int(r * 255), int(g * 255), int(b * 255)

    return rgb(hue, 0.80, 0.35), rgb(hue + 0.08, 0.45, 0.30), rgb(hue + 0.5, 0.60, 0.55)


def draw_card(job: JobInput) -> Image.Image:
    width, height = job.width, job.height
    sky, ground, accent = _palette(job.seed or job.position)
    image = Image.new("RGB", (width, height), sky)
    draw = ImageDraw.Draw(image)

    # A simple staged composition: sky gradient, horizon, a sun and two hills, so cards read as
    # "a picture goes here" and differ from scene to scene.
    horizon = int(height * 0.62)
    for y in range(horizon):
        shade = 1.0 - 0.25 * (1 - y / horizon)
        draw.line([(0, y), (width, y)], fill=tuple(int(c * shade) for c in sky))
    rng = random.Random(job.seed)
    sun_x = int(width * rng.uniform(0.15, 0.85))
    sun_r = int(min(width, height) * 0.08)
    draw.ellipse(
        [sun_x - sun_r, horizon * 0.35 - sun_r, sun_x + sun_r, horizon * 0.35 + sun_r], fill=accent
    )
    for offset, scale in ((-0.2, 0.9), (0.45, 1.2)):
        cx = width * (0.5 + offset)
        draw.ellipse(
            [cx - width * 0.5 * scale, horizon - height * 0.12 * scale,
             cx + width * 0.5 * scale, horizon + height * 0.5 * scale],
            fill=tuple(min(255, int(c * 1.15)) for c in ground),
        )  # fmt: skip
    draw.rectangle([0, horizon + height * 0.06, width, height], fill=ground)

    margin = max(4, int(min(width, height) * 0.05))
    # A translucent panel keeps the text legible over any palette.
    panel = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    panel_draw = ImageDraw.Draw(panel)
    panel_top = int(height * 0.52)
    panel_draw.rounded_rectangle(
        [margin, panel_top, width - margin, height - margin],
        radius=margin // 2,
        fill=(15, 15, 20, 170),
    )
    image = Image.alpha_composite(image.convert("RGBA"), panel).convert("RGB")
    draw = ImageDraw.Draw(image)

    badge_font = load_font(max(8, height // 18), bold=True)
    badge = f"SCENE {job.position}"
    box = draw.textbbox((0, 0), badge, font=badge_font)
    pad = max(2, margin // 3)
    draw.rounded_rectangle(
        [margin, margin, margin + box[2] + 2 * pad, margin + box[3] + 2 * pad],
        radius=pad,
        fill=(15, 15, 20),
    )
    draw.text((margin + pad, margin + pad), badge, font=badge_font, fill=(255, 255, 255))

    inner = margin + pad * 2
    text_width = width - 2 * inner
    prompt = job.image_prompt.strip() or job.text.strip()
    available = height - margin - inner - panel_top
    title_font, title_lines, title_step = _fit_text(
        draw, prompt, text_width, int(available * 0.6), max(10, height // 16), bold=True
    )
    y = panel_top + pad * 2
    for line in title_lines:
        draw.text((inner, y), line, font=title_font, fill=(255, 255, 255))
        y += title_step
    if job.text.strip() and job.text.strip() != prompt:
        body_font, body_lines, body_step = _fit_text(
            draw,
            f"“{job.text.strip()}”",
            text_width,
            height - margin - pad - y,
            max(8, height // 26),
            bold=False,
        )
        for line in body_lines:
            draw.text((inner, y), line, font=body_font, fill=(210, 210, 220))
            y += body_step
    if job.style_prompt.strip():
        style_font = load_font(max(8, height // 34))
        style = textwrap.shorten(job.style_prompt.strip(), width=80, placeholder="…")
        draw.text(
            (width - margin - pad, margin + pad),
            style,
            font=style_font,
            fill=(30, 30, 40),
            anchor="ra",
        )
    return image


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
