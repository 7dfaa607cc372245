"""Image to video as a camera move over the still (Ken Burns), rendered by ffmpeg on the CPU.

The still is fitted to the clip size once, in Python; ffmpeg then loops that one frame and moves
a crop window over it with its `perspective` filter, evaluated per frame. Unlike `zoompan`, which
rounds the window to whole pixels (the familiar Ken Burns jitter), `perspective` samples at
1/256 pixel, so slow moves glide; and no frame crosses the pipe but the first, so it is as fast
as ffmpeg's own zoompan.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

from media.ffmpeg import (
    DEFAULT_CLIP_SECONDS,
    YUV_FILTER,
    FfmpegRun,
    MediaError,
    StepCallback,
    audio_duration,
    audio_filter_args,
    audio_input_args,
    check_video_size,
    clip_frame_count,
    clip_output_args,
    new_temp_path,
    removed_on_error,
)

logger = logging.getLogger(__name__)

MOVEMENTS = ("static", "zoom_in", "zoom_out", "pan_left", "pan_right", "pan_up", "pan_down")
# At motion_strength 1: how far a zoom goes, and how much a pan zooms in to have room to travel.
MAX_ZOOM = 1.35
PAN_ZOOM = 1.25


@dataclass(frozen=True)
class Window:
    """The visible part of the still: centre as a fraction of the frame, and magnification."""

    cx: float = 0.5
    cy: float = 0.5
    zoom: float = 1.0


def camera_path(movement: str, strength: float) -> tuple[Window, Window]:
    """Start and end window of a move; strength 0 is a still shot, 1 the widest move."""
    strength = min(max(strength, 0.0), 1.0)
    zoom = 1.0 + (MAX_ZOOM - 1.0) * strength
    pan_zoom = 1.0 + (PAN_ZOOM - 1.0) * strength
    # The centre can travel as far as the zoomed-in window still covers the frame.
    slack = (1.0 - 1.0 / pan_zoom) / 2.0
    wide, close = Window(zoom=1.0), Window(zoom=zoom)
    if movement == "zoom_in":
        return wide, close
    if movement == "zoom_out":
        return close, wide
    if movement in ("pan_left", "pan_right"):
        left, right = Window(0.5 - slack, 0.5, pan_zoom), Window(0.5 + slack, 0.5, pan_zoom)
        return (right, left) if movement == "pan_left" else (left, right)
    if movement in ("pan_up", "pan_down"):
        top, bottom = Window(0.5, 0.5 - slack, pan_zoom), Window(0.5, 0.5 + slack, pan_zoom)
        return (bottom, top) if movement == "pan_up" else (top, bottom)
    if movement != "static":
        logger.warning("Unknown camera movement %r: rendering a still shot.", movement)
    return wide, wide


def perspective_filter(start: Window, end: Window, width: int, height: int, frames: int) -> str:
    """An ffmpeg `perspective` filter moving the window from `start` to `end` over `frames`."""
    # Ease in and out so consecutive scenes don't start or stop with a jolt; interpolate the
    # zoom geometrically so zooming looks uniform in speed.
    progress = f"min(in/{max(frames - 1, 1)},1)"
    ease = f"(0.5-0.5*cos(PI*{progress}))"
    zoom = f"({start.zoom!r}*pow({end.zoom / start.zoom!r},{ease}))"
    cx = f"({start.cx * width!r}+{(end.cx - start.cx) * width!r}*{ease})"
    cy = f"({start.cy * height!r}+{(end.cy - start.cy) * height!r}*{ease})"
    half_w, half_h = f"({width / 2!r}/{zoom})", f"({height / 2!r}/{zoom})"
    left, right = f"{cx}-{half_w}", f"{cx}+{half_w}"
    top, bottom = f"{cy}-{half_h}", f"{cy}+{half_h}"
    corners = {
        "x0": left, "y0": top,
        "x1": right, "y1": top,
        "x2": left, "y2": bottom,
        "x3": right, "y3": bottom,
    }  # fmt: skip
    options = ":".join(f"{name}='{expr}'" for name, expr in corners.items())
    return f"perspective={options}:interpolation=linear:sense=source:eval=frame"


def fit_image(path: Path, width: int, height: int) -> Image.Image:
    """The still cropped to the clip's aspect and scaled once, with a good filter."""
    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, ValueError) as error:
        raise MediaError(f"The scene image could not be read ({path.name}).") from error
    if image.size == (width, height):
        return image
    return ImageOps.fit(image, (width, height), method=Image.Resampling.LANCZOS)


def clip_seconds(audio: Path | None, audio_seconds: float | None) -> float:
    """A clip lasts as long as its narration (`audio_seconds` when known), or a default."""
    if audio_seconds:
        return audio_seconds
    if audio is not None:
        return audio_duration(audio)
    return DEFAULT_CLIP_SECONDS


def render_clip(
    image: Path,
    audio: Path | None,
    *,
    audio_seconds: float | None,
    width: int,
    height: int,
    fps: int,
    camera_movement: str,
    motion_strength: float,
    work_dir: Path,
    on_step: StepCallback,
) -> tuple[Path, float]:
    """The still with the camera move over the narration (silence without one): a new file
    in `work_dir`, and its length in seconds."""
    check_video_size(width, height)
    frames = clip_frame_count(clip_seconds(audio, audio_seconds), fps)
    seconds = frames / fps
    still = fit_image(image, width, height)

    start, end = camera_path(camera_movement, motion_strength)
    # Convert to YUV before looping: one colour conversion per clip, not one per frame.
    video_filter = f"{YUV_FILTER},loop=loop={frames - 1}:size=1:start=0,setpts=N/({fps}*TB)"
    if start != end:
        video_filter += "," + perspective_filter(start, end, width, height, frames)

    output = new_temp_path(work_dir, "video-", ".mp4")
    args = [
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
        "-framerate", str(fps), "-i", "pipe:0",
        *audio_input_args(audio, seconds),
        "-map", "0:v:0", "-map", "1:a:0",
        "-vf", video_filter,
        *audio_filter_args(seconds),
        "-frames:v", str(frames),
        *clip_output_args(width, height, fps),
        str(output),
    ]  # fmt: skip
    with removed_on_error(output):
        on_step(0, frames)
        with FfmpegRun(args, pipe_stdin=True, read_progress=True) as run:
            run.write(still.tobytes())
            assert run.process.stdin is not None
            run.process.stdin.close()
            for done in run.progress():
                if done < frames:
                    on_step(done, frames)
            run.finish()
        on_step(frames, frames)
    return output, seconds
