"""Check a finished asset before the engine records it: it decodes, and its length or size
is what the job meant to make.

A writer that misses a short write (a child process on a full disk, a model that stopped
early, a truncated copy) leaves a file that looks fine by its size alone; recorded, it
would mark the scene done and replace the good asset it had. These checks read the file
back the way a player would open it, cheaply enough to run on every job:

- narration: a WAV's every sample is read (its header must not promise more than the file
  holds); other formats are probed with ffmpeg. Its length must be what the backend made.
- picture: every PNG chunk's checksum up to the end marker (Pillow's verify), other formats
  fully decoded; its size must be the project's.
- clip: the MP4's top-level boxes must tile the file, its movie header and video track must
  be there, the track as long as the scene's narration (within a frame) and the project's size.
"""

from __future__ import annotations

import struct
import wave
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from media.ffmpeg import DEFAULT_CLIP_SECONDS, probe
from projects.vocabulary import Stage

from .base import BackendError, GeneratedAsset, JobInput

# Narration length may differ from what the backend reports by rounding only.
AUDIO_TOLERANCE_SECONDS = 0.02


def verify_asset(job: JobInput, asset: GeneratedAsset) -> None:
    """Raise BackendError, with a reason fit for the creator, unless the file is whole and
    what `job` meant to make."""
    path = asset.path
    try:
        if path.stat().st_size == 0:
            raise BackendError(f"The new {_what(job.stage)} is an empty file.")
        if job.stage == Stage.AUDIO:
            _verify_audio(path, asset.duration)
        elif job.stage == Stage.IMAGES:
            _verify_image(path, job.width, job.height)
        elif job.stage == Stage.VIDEOS:
            expected = job.audio_duration or asset.duration or DEFAULT_CLIP_SECONDS
            _verify_clip(path, expected, job.width, job.height, job.fps)
    except FileNotFoundError:
        raise BackendError(f"The new {_what(job.stage)} was not written.") from None


def _what(stage: str) -> str:
    what: dict[str, str] = {Stage.AUDIO: "narration", Stage.IMAGES: "picture", Stage.VIDEOS: "clip"}
    return what.get(stage, "asset")


def _verify_audio(path: Path, expected: float | None) -> None:
    if path.suffix.lower() == ".wav":
        try:
            with wave.open(str(path), "rb") as wav:
                frame_bytes = wav.getsampwidth() * wav.getnchannels()
                promised, rate = wav.getnframes(), wav.getframerate()
                read = 0
                while chunk := wav.readframes(65536):
                    read += len(chunk)
        except (wave.Error, EOFError) as e:
            raise BackendError(f"The new narration does not decode ({e}).") from None
        if read < promised * frame_bytes:
            raise BackendError(
                f"The new narration is cut short: {read // frame_bytes / rate:.2f} s of the "
                f"{promised / rate:.2f} s its header promises. Was the disk full?"
            )
        measured = promised / rate
    else:
        info = probe(path)
        if info.duration is None or info.audio_codec is None:
            raise BackendError("The new narration does not decode.")
        measured = info.duration
    if measured <= 0:
        raise BackendError("The new narration is silent: it has no samples.")
    if expected is not None and abs(measured - expected) > AUDIO_TOLERANCE_SECONDS:
        raise BackendError(
            f"The new narration is {measured:.2f} s long, but the voice made {expected:.2f} s."
            " Was the disk full?"
        )


def _verify_image(path: Path, width: int, height: int) -> None:
    try:
        with Image.open(path) as image:
            size, kind = image.size, image.format
            if kind == "PNG":
                image.verify()  # every chunk's CRC, through IEND; no pixel decoding
            else:
                image.load()
    except (OSError, SyntaxError, UnidentifiedImageError, ValueError) as e:
        raise BackendError(f"The new picture does not decode ({e}).") from None
    if size != (width, height):
        raise BackendError(
            f"The new picture is {size[0]}x{size[1]}, but the project is {width}x{height}."
        )


def _verify_clip(path: Path, expected: float, width: int, height: int, fps: int) -> None:
    clip = read_clip(path)
    if clip is None:
        raise BackendError("The new clip does not decode: it is not a whole MP4 file.")
    seconds, size = clip
    if size != (width, height):
        raise BackendError(
            f"The new clip is {size[0]}x{size[1]}, but the project is {width}x{height}."
        )
    if abs(seconds - expected) > 1.0 / fps + 1e-6:
        raise BackendError(
            f"The new clip is {seconds:.2f} s long, but its scene needs {expected:.2f} s."
        )


def read_clip(path: Path) -> tuple[float, tuple[int, int]] | None:
    """(video track seconds, (width, height)) of a whole MP4, or None if it is not one:
    a box reaching past the end of the file (cut short), no movie header, no video track."""
    size = path.stat().st_size
    moov: bytes | None = None
    has_media = False
    with open(path, "rb") as f:
        position = 0
        while position < size:
            f.seek(position)
            header = f.read(16)
            if len(header) < 8:
                return None
            length, kind = struct.unpack(">I4s", header[:8])
            if length == 1:
                if len(header) < 16:
                    return None
                length = struct.unpack(">Q", header[8:16])[0]
            elif length == 0:
                length = size - position
            if length < 8 or position + length > size:
                return None
            if kind == b"moov":
                f.seek(position)
                moov = f.read(length)
            elif kind == b"mdat":
                has_media = True
            position += length
    if moov is None or not has_media:
        return None
    return _video_track(moov)


def _children(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    found: list[tuple[bytes, int, int]] = []
    while start + 8 <= end:
        length, kind = struct.unpack(">I4s", data[start : start + 8])
        if length < 8 or start + length > end:
            return found
        found.append((kind, start + 8, start + length))
        start += length
    return found


def _video_track(moov: bytes) -> tuple[float, tuple[int, int]] | None:
    for kind, body, end in _children(moov, 8, len(moov)):
        if kind != b"trak":
            continue
        boxes = {k: (b, e) for k, b, e in _children(moov, body, end)}
        if b"tkhd" not in boxes or b"mdia" not in boxes:
            continue
        media = {k: (b, e) for k, b, e in _children(moov, *boxes[b"mdia"])}
        if b"hdlr" not in media or b"mdhd" not in media:
            continue
        hdlr = media[b"hdlr"][0]
        if moov[hdlr + 8 : hdlr + 12] != b"vide":
            continue
        mdhd = media[b"mdhd"][0]
        if moov[mdhd] == 1:
            timescale, duration = struct.unpack(">IQ", moov[mdhd + 20 : mdhd + 32])
        else:
            timescale, duration = struct.unpack(">II", moov[mdhd + 12 : mdhd + 20])
        tkhd_end = boxes[b"tkhd"][1]
        # Width and height close the track header, as 16.16 fixed-point numbers.
        width, height = struct.unpack(">II", moov[tkhd_end - 8 : tkhd_end])
        if not timescale:
            return None
        return duration / timescale, (width >> 16, height >> 16)
    return None
