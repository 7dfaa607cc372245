"""Ken Burns clip speed: our camera backend vs ffmpeg's zoompan vs moviepy's usual recipe.

All three render the same 5 s 1280x720 24 fps zoom-in with the same narration track and the
same x264/AAC settings (media.ffmpeg.clip_output_args), so only the way frames are made differs.

    .venv/bin/python benchmarks/camera_move.py --runs 3
"""

from __future__ import annotations

import argparse
import gc
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generation.backends.draft import write_silence  # noqa: E402
from media.camera import MAX_ZOOM, render_clip  # noqa: E402
from media.ffmpeg import (  # noqa: E402
    X264_CRF,
    X264_PRESET,
    YUV_FILTER,
    audio_filter_args,
    clip_output_args,
    ffmpeg_exe,
)

WIDTH, HEIGHT, FPS, SECONDS = 1280, 720, 24, 5.0
FRAMES = round(SECONDS * FPS)


def make_inputs(folder: Path) -> tuple[Path, Path]:
    """A photo-like still (smooth shapes plus fine grain) and a narration-length WAV."""
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (HEIGHT // 16, WIDTH // 16, 3), dtype=np.uint8)
    image = Image.fromarray(base).resize((WIDTH, HEIGHT), Image.Resampling.BICUBIC)
    grain = rng.normal(0, 8, (HEIGHT, WIDTH, 3))
    pixels = np.clip(np.asarray(image.filter(ImageFilter.GaussianBlur(3))) + grain, 0, 255)
    still = folder / "still.png"
    Image.fromarray(pixels.astype(np.uint8)).save(still)
    audio = folder / "narration.wav"
    write_silence(audio, SECONDS)
    return still, audio


def ours(still: Path, audio: Path, out: Path) -> None:
    clip, _ = render_clip(
        still, audio, audio_seconds=SECONDS, width=WIDTH, height=HEIGHT, fps=FPS,
        camera_movement="zoom_in", motion_strength=1.0, work_dir=out.parent,
        on_step=lambda done, total: None,
    )  # fmt: skip
    clip.replace(out)


def zoompan(still: Path, audio: Path, out: Path) -> None:
    zoom = f"1+{MAX_ZOOM - 1}*on/{FRAMES - 1}"
    video_filter = (
        f"zoompan=z='{zoom}':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)'"
        f":d={FRAMES}:s={WIDTH}x{HEIGHT}:fps={FPS},{YUV_FILTER}"
    )
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-i", str(still), "-i", str(audio),
         "-map", "0:v", "-map", "1:a", "-vf", video_filter, *audio_filter_args(SECONDS),
         "-frames:v", str(FRAMES), *clip_output_args(WIDTH, HEIGHT, FPS), str(out)],
        check=True,
    )  # fmt: skip


def moviepy_recipe(still: Path, audio: Path, out: Path) -> None:
    from moviepy import AudioFileClip, CompositeVideoClip, ImageClip

    clip = (
        ImageClip(str(still))
        .with_duration(SECONDS)
        .resized(lambda t: 1 + (MAX_ZOOM - 1) * t / SECONDS)
        .with_position("center")
    )
    narration = AudioFileClip(str(audio))
    video = CompositeVideoClip([clip], size=(WIDTH, HEIGHT)).with_audio(narration)
    video.write_videofile(
        str(out),
        fps=FPS,
        codec="libx264",
        preset=X264_PRESET,
        audio_codec="aac",
        audio_fps=48000,
        ffmpeg_params=["-crf", str(X264_CRF), "-pix_fmt", "yuv420p"],
        logger=None,
    )
    # Close the readers, or their ffmpeg processes linger and slow whatever runs next.
    for opened in (video, narration, clip):
        opened.close()


def timed(render: Callable[[Path, Path, Path], None], still: Path, audio: Path, out: Path) -> float:
    start = time.perf_counter()
    render(still, audio, out)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    renderers = {"ours (perspective)": ours, "ffmpeg zoompan": zoompan, "moviepy": moviepy_recipe}
    times: dict[str, list[float]] = {name: [] for name in renderers}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        still, audio = make_inputs(folder)
        # Interleave the renderers, rotating the order, so background load on a shared machine
        # hits them alike and none always runs right after another.
        names = list(renderers)
        for run in range(args.runs):
            for name in names[run % len(names) :] + names[: run % len(names)]:
                gc.collect()
                times[name].append(timed(renderers[name], still, audio, folder / "out.mp4"))
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"{SECONDS:g} s {WIDTH}x{HEIGHT} {FPS} fps zoom-in, x264 {X264_PRESET} crf {X264_CRF}")
    for name, values in times.items():
        runs = ", ".join(f"{value:.2f}" for value in values)
        print(f"  {name:20s} median {medians[name]:.2f} s  (runs: {runs})")
    ours_time = medians["ours (perspective)"]
    print(f"  ours / zoompan   = {ours_time / medians['ffmpeg zoompan']:.2f}  (target <= 1.2)")
    print(f"  moviepy / ours   = {medians['moviepy'] / ours_time:.2f}  (target >= 3)")


if __name__ == "__main__":
    main()
