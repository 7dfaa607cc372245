"""ffmpeg plumbing shared by the video backends and the exporter.

Every scene clip is encoded with exactly the parameters in `clip_output_args`, so the exporter
can join clips by copying their packets (`media/mp4.py`: a tenth of a second for a whole
film) instead of re-encoding them. Anything that changes a clip's codec parameters belongs
here.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import re
import signal
import subprocess
import sys
import tempfile
import wave
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

AUDIO_SAMPLE_RATE = 48000
AUDIO_CHANNELS = 2
AUDIO_BITRATE = "160k"
X264_PRESET = "veryfast"
X264_CRF = 20
# Seconds of video for a scene that has no narration yet.
DEFAULT_CLIP_SECONDS = 3.0

# on_step(done, total): steps done so far; it may raise to stop the work (a cancel).
StepCallback = Callable[[int, int], None]

# RGB -> BT.709 limited-range 4:2:0, tagged as such, so browsers and the exporter agree on colours.
YUV_FILTER = "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p"

# (level, max macroblocks per frame, max macroblocks per second) from the H.264 spec, table A-1.
_H264_LEVELS = (
    ("3.1", 3600, 108000),
    ("4.1", 8192, 245760),
    ("4.2", 8704, 522240),
    ("5.1", 36864, 983040),
    ("5.2", 36864, 2073600),
    ("6.2", 139264, 16711680),
)


class MediaError(Exception):
    """A failure with a message fit to show the creator as-is (one line)."""


@functools.cache
def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def h264_level(width: int, height: int, fps: int) -> str:
    """The lowest level that fits, so every clip of one project gets the same one."""
    macroblocks = ((width + 15) // 16) * ((height + 15) // 16)
    for level, max_frame, max_rate in _H264_LEVELS:
        if macroblocks <= max_frame and macroblocks * fps <= max_rate:
            return level
    return _H264_LEVELS[-1][0]


def clip_video_args(width: int, height: int, fps: int) -> list[str]:
    return [
        "-c:v", "libx264",
        "-preset", X264_PRESET,
        "-crf", str(X264_CRF),
        "-profile:v", "high",
        "-level:v", h264_level(width, height, fps),
        "-pix_fmt", "yuv420p",
        "-r", str(fps),
        # A keyframe every two seconds keeps seeking in the browser snappy.
        "-g", str(2 * fps),
        "-colorspace", "bt709",
        "-color_primaries", "bt709",
        "-color_trc", "bt709",
        "-color_range", "tv",
    ]  # fmt: skip


def clip_audio_args() -> list[str]:
    return [
        "-c:a", "aac",
        "-b:a", AUDIO_BITRATE,
        "-ar", str(AUDIO_SAMPLE_RATE),
        "-ac", str(AUDIO_CHANNELS),
    ]  # fmt: skip


def clip_output_args(width: int, height: int, fps: int) -> list[str]:
    """Codec and container arguments of every scene clip (see the module docstring)."""
    return [
        *clip_video_args(width, height, fps),
        *clip_audio_args(),
        # A fixed track timescale keeps timestamps identical across clips for `-c copy` joins.
        "-video_track_timescale", "90000",
        "-movflags", "+faststart",
        "-f", "mp4",
    ]  # fmt: skip


def check_video_size(width: int, height: int) -> None:
    if width < 2 or height < 2 or width % 2 or height % 2:
        raise MediaError(
            f"Video size {width}x{height} is not supported: width and height must be even."
        )


def clip_frame_count(duration: float, fps: int) -> int:
    return max(1, round(duration * fps))


def audio_input_args(audio_path: Path | None, seconds: float) -> list[str]:
    """The second ffmpeg input: the narration, or silence so every clip has the same streams."""
    if audio_path is None:
        return [
            "-f", "lavfi",
            "-t", f"{seconds:.6f}",
            "-i", f"anullsrc=r={AUDIO_SAMPLE_RATE}:cl=stereo",
        ]  # fmt: skip
    return ["-i", str(audio_path)]


def audio_filter_args(seconds: float) -> list[str]:
    # Pad short narration with silence and cut long one, so audio and video end together.
    return ["-af", f"aresample={AUDIO_SAMPLE_RATE},apad", "-t", f"{seconds:.6f}"]


def new_temp_path(work_dir: Path, prefix: str, suffix: str) -> Path:
    work_dir.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=work_dir, prefix=prefix, suffix=suffix)
    os.close(handle)
    return Path(name)


@contextlib.contextmanager
def removed_on_error(path: Path) -> Iterator[Path]:
    """Delete `path` if the block raises (cancel included), then let the exception through."""
    try:
        yield path
    except BaseException:
        path.unlink(missing_ok=True)
        raise


PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def child_options() -> dict[str, Any]:
    """Popen arguments that make a child (ffmpeg, espeak-ng) die with the worker that
    started it: killed -9 or out of memory, a worker runs no clean-up, and its encoder
    would go on for seconds beside the retry, writing into a folder that is being reaped.

    Linux's parent-death signal is kept across exec. It fires when the thread that started
    the child ends, so a child must be waited for by the thread that starts it."""
    if _libc is None:
        return {}
    parent = os.getpid()
    prctl = _libc.prctl

    def die_with_parent() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the worker died before the line above took effect
            os._exit(1)

    return {"preexec_fn": die_with_parent}


def run_child(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[Any]:
    """subprocess.run for the encoders and voices a job starts (see child_options)."""
    return subprocess.run(command, **child_options(), **kwargs)


class FfmpegRun:
    """One ffmpeg process, killed on any exception so a cancel never leaves it running."""

    def __init__(self, args: list[str], *, pipe_stdin: bool, read_progress: bool) -> None:
        self._stderr = tempfile.TemporaryFile()
        command = [ffmpeg_exe(), "-hide_banner", "-y"]
        if not pipe_stdin:
            command.append("-nostdin")
        if read_progress:
            command += ["-nostats", "-stats_period", "0.1", "-progress", "pipe:1"]
        self.process = subprocess.Popen(
            command + args,
            **child_options(),
            stdin=subprocess.PIPE if pipe_stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE if read_progress else subprocess.DEVNULL,
            stderr=self._stderr,
        )

    def __enter__(self) -> FfmpegRun:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self._stderr.close()

    def write(self, data: bytes) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(data)
        except BrokenPipeError:
            self.finish()  # ffmpeg died: report its own error rather than a broken pipe.
            raise MediaError("Video encoder stopped unexpectedly.") from None

    def progress(self) -> Iterator[int]:
        """Frames done so far, as ffmpeg reports them (about ten times a second)."""
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            line = raw.decode("ascii", "replace").strip()
            if line.startswith("frame="):
                with contextlib.suppress(ValueError):
                    yield int(line.partition("=")[2])

    def finish(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self.process.stdin.close()
        if self.process.wait() != 0:
            self._stderr.seek(0)
            lines = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
            detail = lines[-1] if lines else f"exit status {self.process.returncode}"
            raise MediaError(f"Video encoding failed: {detail}")


def encode_frames(
    frames: Iterable[bytes],
    *,
    frame_size: tuple[int, int],
    count: int,
    fps: int,
    width: int,
    height: int,
    audio_path: Path | None,
    output: Path,
    on_step: StepCallback,
    batch: int = 8,
) -> None:
    """Encode `count` raw RGB frames of `frame_size`, scaled to cover width x height, with audio."""
    seconds = count / fps
    src_w, src_h = frame_size
    video_filter = (
        f"scale={width}:{height}:force_original_aspect_ratio=increase:flags=lanczos,"
        f"crop={width}:{height},setsar=1,{YUV_FILTER}"
    )
    args = [
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{src_w}x{src_h}",
        "-framerate", str(fps), "-i", "pipe:0",
        *audio_input_args(audio_path, seconds),
        "-map", "0:v:0", "-map", "1:a:0",
        "-vf", video_filter,
        *audio_filter_args(seconds),
        "-frames:v", str(count),
        *clip_output_args(width, height, fps),
        str(output),
    ]  # fmt: skip
    on_step(0, count)
    with FfmpegRun(args, pipe_stdin=True, read_progress=False) as run:
        done = 0
        for frame in frames:
            run.write(frame)
            done += 1
            if done % batch == 0 and done < count:
                on_step(done, count)
        run.finish()
    on_step(count, count)


@dataclass(frozen=True)
class MediaInfo:
    duration: float | None
    video_codec: str | None = None
    video_profile: str | None = None
    pixel_format: str | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    audio_codec: str | None = None
    sample_rate: int | None = None
    channels: str | None = None


_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO = re.compile(
    r"Video: (?P<codec>\w+)(?: \((?P<profile>[^)]*)\))?.*?, (?P<pix>\w+)(?:\([^)]*\))?, "
    r"(?P<w>\d+)x(?P<h>\d+)"
)
_FPS = re.compile(r"(\d+(?:\.\d+)?) fps")
_AUDIO = re.compile(r"Audio: (?P<codec>\w+).*?, (?P<rate>\d+) Hz, (?P<layout>[\w.()]+)")


def probe(path: Path) -> MediaInfo:
    """Stream facts read from `ffmpeg -i` (imageio-ffmpeg ships no ffprobe)."""
    result = run_child(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    return parse_info(result.stderr)


def parse_info(text: str) -> MediaInfo:
    """Stream facts of one input from `ffmpeg -i` output (the exporter probes many at once)."""
    duration = None
    if match := _DURATION.search(text):
        hours, minutes, seconds = match.groups()
        duration = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    info: dict[str, object] = {"duration": duration}
    for line in text.splitlines():
        if "Video:" in line and (video := _VIDEO.search(line)):
            fps = _FPS.search(line)
            info.update(
                video_codec=video["codec"],
                video_profile=video["profile"],
                pixel_format=video["pix"],
                width=int(video["w"]),
                height=int(video["h"]),
                fps=float(fps.group(1)) if fps else None,
            )
        elif "Audio:" in line and (audio := _AUDIO.search(line)):
            info.update(
                audio_codec=audio["codec"],
                sample_rate=int(audio["rate"]),
                channels=audio["layout"],
            )
    return MediaInfo(**info)  # type: ignore[arg-type]


def audio_duration(path: Path) -> float:
    """Seconds of audio in `path`: exact for WAV, from the container header otherwise."""
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes() / float(wav.getframerate())
    except (wave.Error, EOFError):
        pass
    info = probe(path)
    if info.duration is None:
        raise MediaError(f"Could not read the narration audio ({path.name}).")
    return info.duration
