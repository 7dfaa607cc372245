"""The draft card: a storyboard card drawn with Pillow where a picture will go, for the draft
preset's pictures and the exporter's stand-ins, and how long one stays up with no narration.
"""

from __future__ import annotations

import colorsys
import functools
import random
import textwrap
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

WORDS_PER_SECOND = 2.6
MIN_SPEECH_SECONDS = 1.5

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


def draw_card(
    *,
    width: int,
    height: int,
    position: int,
    seed: int,
    text: str,
    image_prompt: str,
    style_prompt: str = "",
) -> Image.Image:
    """A card naming what the picture will show: a staged scene in colours of its own, the
    scene's number, its prompt (or sentence) and sentence, and the project's style."""
    sky, ground, accent = _palette(seed or position)
    image = Image.new("RGB", (width, height), sky)
    draw = ImageDraw.Draw(image)

    # A simple staged composition: sky gradient, horizon, a sun and two hills, so cards read as
    # "a picture goes here" and differ from scene to scene.
    horizon = int(height * 0.62)
    for y in range(horizon):
        shade = 1.0 - 0.25 * (1 - y / horizon)
        draw.line([(0, y), (width, y)], fill=tuple(int(c * shade) for c in sky))
    rng = random.Random(seed)
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
    badge = f"SCENE {position}"
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
    prompt = image_prompt.strip() or text.strip()
    available = height - margin - inner - panel_top
    title_font, title_lines, title_step = _fit_text(
        draw, prompt, text_width, int(available * 0.6), max(10, height // 16), bold=True
    )
    y = panel_top + pad * 2
    for line in title_lines:
        draw.text((inner, y), line, font=title_font, fill=(255, 255, 255))
        y += title_step
    if text.strip() and text.strip() != prompt:
        body_font, body_lines, body_step = _fit_text(
            draw,
            f"“{text.strip()}”",
            text_width,
            height - margin - pad - y,
            max(8, height // 26),
            bold=False,
        )
        for line in body_lines:
            draw.text((inner, y), line, font=body_font, fill=(210, 210, 220))
            y += body_step
    if style_prompt.strip():
        style_font = load_font(max(8, height // 34))
        style = textwrap.shorten(style_prompt.strip(), width=80, placeholder="…")
        draw.text(
            (width - margin - pad, margin + pad),
            style,
            font=style_font,
            fill=(30, 30, 40),
            anchor="ra",
        )
    return image


def reading_seconds(text: str) -> float:
    return max(MIN_SPEECH_SECONDS, len(text.split()) / WORDS_PER_SECOND)
