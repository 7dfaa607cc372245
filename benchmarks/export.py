"""Export speed: our stream-copy export vs a full re-encode vs a plain `ffmpeg -f concat -c copy`.

Makes N scene clips once with the real camera backend (a photo-like still, a narration of
tones so joins can be checked), then, in the same run, times:
  - ours: exports.render.render_export with matching clips: a stream copy written in Python
    by media.mp4 (no ffmpeg process; AAC frames spliced so the narration does not drift),
    reading the clips, manifest and reading the output's duration included;
  - re-encode: the same scenes through our re-encode path (what captions or fades cost);
  - plain: `ffmpeg -f concat -safe 0 -i list -c copy` of the same files.
and prints each output's duration and audio length against the sum of the scene lengths,
and the largest sample-to-sample jump of its audio at the joins against inside the scenes
(a click at a join would stand out).

    .venv/bin/python benchmarks/export.py --scenes 50 --seconds 5 --runs 7 --reencode-runs 1 \
        --clips-dir /tmp/export-clips
"""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from exports import join, render  # noqa: E402
from media.camera import render_clip  # noqa: E402
from media.ffmpeg import ffmpeg_exe, probe  # noqa: E402


def make_still(path: Path, width: int, height: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (height // 16, width // 16, 3), dtype=np.uint8)
    image = Image.fromarray(base).resize((width, height), Image.Resampling.BICUBIC)
    grain = rng.normal(0, 8, (height, width, 3))
    pixels = np.clip(np.asarray(image.filter(ImageFilter.GaussianBlur(3))) + grain, 0, 255)
    Image.fromarray(pixels.astype(np.uint8)).save(path)
    return path


def make_narration(path: Path, seconds: float, onset: float = 0.3, rate: int = 22050) -> Path:
    """Silence, then a tone: the tone's start in the film shows where each scene's audio is."""
    t = np.arange(round(seconds * rate)) / rate
    samples = np.sin(2 * math.pi * 330 * t) * 0.4 * 32767
    samples[t < onset] = 0
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())
    return path


def make_clips(folder: Path, count: int, seconds: float, width: int, height: int, fps: int):  # type: ignore[no-untyped-def]
    clips = []
    for i in range(count):
        still = make_still(folder / f"still-{i}.png", width, height, i)
        audio = make_narration(folder / f"narration-{i}.wav", seconds)
        made, _ = render_clip(
            still, audio, audio_seconds=seconds, width=width, height=height, fps=fps,
            camera_movement=["zoom_in", "pan_left", "zoom_out", "pan_up"][i % 4],
            motion_strength=0.6, work_dir=folder, on_step=lambda done, total: None,
        )  # fmt: skip
        clip = folder / f"clip-{i:03d}.mp4"
        made.rename(clip)
        clips.append(clip)
    return clips


def decoded_audio(path: Path) -> np.ndarray:
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:a:0", "-f", "s16le",
         "-ac", "1", "-ar", "48000", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768


def join_jumps(audio: np.ndarray, joins: list[float], window: float = 0.015) -> tuple[float, float]:
    """Largest sample-to-sample jump within `window` s of a join, and anywhere else."""
    jumps = np.abs(np.diff(audio))
    near = np.zeros(len(jumps), dtype=bool)
    for seconds in joins:
        at = round(seconds * 48000)
        near[max(0, at - round(window * 48000)) : at + round(window * 48000)] = True
    return float(jumps[near].max()), float(jumps[~near].max())


def timed(fn: Callable[[], object], runs: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", type=int, default=24)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reencode-runs", type=int, default=1)
    parser.add_argument(
        "--clips-dir", type=Path, help="Keep the clips here and reuse them on the next run"
    )
    args = parser.parse_args()
    width, height = map(int, args.size.split("x"))
    fps = args.fps

    with tempfile.TemporaryDirectory(prefix="export-bench-") as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        cache = args.clips_dir
        if cache:
            cache.mkdir(parents=True, exist_ok=True)
        cached = sorted(cache.glob("clip-*.mp4")) if cache else []
        if cache and len(cached) == args.scenes:
            clips = cached
        else:
            clips = make_clips(cache or folder, args.scenes, args.seconds, width, height, fps)
        made = time.perf_counter() - start
        size_mb = sum(c.stat().st_size for c in clips) / 1e6
        print(
            f"{args.scenes} clips of {args.seconds:g} s at {width}x{height} {fps} fps made "
            f"in {made:.1f} s ({size_mb:.1f} MB)",
            flush=True,
        )
        scenes = [
            render.Scene(position=i + 1, text=f"Scene {i + 1}", clip=c) for i, c in enumerate(clips)
        ]
        expected = sum(round(args.seconds * fps) / fps for _ in clips)

        def ours() -> render.Result:
            return render.render_export(
                scenes, width=width, height=height, fps=fps, options=render.Options(),
                output=folder / "ours.mp4", work_dir=folder / "work-ours",
                progress=lambda done, total: None,
            )  # fmt: skip

        playlist = folder / "plain.txt"
        playlist.write_text("".join(f"file '{c}'\n" for c in clips))

        def plain() -> None:
            subprocess.run(
                [ffmpeg_exe(), "-v", "error", "-y", "-f", "concat", "-safe", "0",
                 "-i", str(playlist), "-c", "copy", str(folder / "plain.mp4")],
                check=True,
            )  # fmt: skip

        def reencode() -> None:
            work = folder / "work-reencode"
            work.mkdir(exist_ok=True)
            infos = render.inspect_clips(clips)
            durations = [join.scene_seconds(info, fps) for info in infos]
            join.join_by_reencode(
                clips, infos, durations, folder / "reencode.mp4", work,
                width=width, height=height, fps=fps, captions=None, fades=False,
                progress=lambda done, total: None,
            )  # fmt: skip

        ours()  # warm the page cache and imports once, untimed, for all three alike
        plain()
        ours_s, ours_all = timed(ours, args.runs)
        plain_s, plain_all = timed(plain, args.runs)
        re_s, re_all = timed(reencode, args.reencode_runs)
        method, why, _ = render.choose_method(clips, width, height, fps, render.Options())
        print(f"method chosen for matching clips: {method} ({why})")
        print(f"ours (stream copy): median {ours_s:.3f} s, runs {[round(t, 3) for t in ours_all]}")
        print(f"plain -c copy: median {plain_s:.3f} s, runs {[round(t, 3) for t in plain_all]}")
        print(f"full re-encode: median {re_s:.1f} s  runs {[round(t, 1) for t in re_all]}")
        print(f"speed-up vs re-encode: {re_s / ours_s:.0f}x; ours / plain: {ours_s / plain_s:.2f}x")
        print(f"sum of scene durations: {expected:.3f} s")
        joins = [i * round(args.seconds * fps) / fps for i in range(1, len(clips))]
        for name in ("ours", "plain", "reencode"):
            path = folder / f"{name}.mp4"
            info = probe(path)
            audio = decoded_audio(path)
            seconds = len(audio) / 48000
            at_joins, inside = join_jumps(audio, joins)
            print(
                f"  {name:9s} duration {info.duration:.3f} s, audio {seconds:.3f} s "
                f"(audio - scenes: {seconds - expected:+.3f} s); largest jump at joins "
                f"{at_joins:.3f}, inside scenes {inside:.3f}"
            )


if __name__ == "__main__":
    main()
