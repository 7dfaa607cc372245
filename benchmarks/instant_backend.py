"""A backend that takes no time: what's left of a job is the engine's own cost.

Its assets are real (the engine verifies each before recording it): a second of silence,
a plain picture and a one-second clip of the project's size, each made once and then
written from memory.
"""

import functools
import io
import subprocess
import tempfile
import wave
from pathlib import Path

from PIL import Image

from generation.backends.base import GeneratedAsset, JobInput, StepCallback
from media.ffmpeg import clip_output_args, ffmpeg_exe

SECONDS = 1.0


class InstantBackend:
    def generate(self, job: JobInput, on_step: StepCallback) -> GeneratedAsset:
        on_step(0, 1)
        path = job.work_dir / {"audio": "a.wav", "images": "i.png", "videos": "v.mp4"}[job.stage]
        path.write_bytes(asset_bytes(job.stage, job.width, job.height, job.fps))
        on_step(1, 1)
        return GeneratedAsset(path, duration=SECONDS)


@functools.cache
def asset_bytes(stage: str, width: int, height: int, fps: int) -> bytes:
    buffer = io.BytesIO()
    if stage == "audio":
        with wave.open(buffer, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(8000)
            wav.writeframes(b"\0\0" * int(SECONDS * 8000))
        return buffer.getvalue()
    if stage == "images":
        Image.new("RGB", (width, height), (90, 120, 160)).save(buffer, format="PNG")
        return buffer.getvalue()
    clip = Path(tempfile.mkdtemp(prefix="instant-clip-")) / "clip.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
         "-f", "lavfi", "-i", f"color=c=gray:s={width}x{height}:r={fps}",
         "-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo",
         "-frames:v", str(round(SECONDS * fps)), "-t", f"{SECONDS:.6f}",
         *clip_output_args(width, height, fps), str(clip)],
        check=True,
    )  # fmt: skip
    return clip.read_bytes()


def make_backend(stage: str, preset: str) -> InstantBackend:
    return InstantBackend()
