"""Render one film from a project's scenes: stand-ins where needed, then a join.

Plain functions, no Django: the task resolves scenes from the database and hands them here.

The fast path is a stream copy. Every scene clip is encoded with `media.clip_output_args`, so
when all clips share codec, size, frame rate and audio format and no captions or fades are
asked for, the video packets are joined by ffmpeg's concat demuxer with `-c copy`. The audio
is copied too, but not by the demuxer: each AAC clip starts with an encoder priming frame and
ends padded to a whole frame, so a plain `-c copy` join plays ~30 ms of extra audio per scene
and the narration drifts behind the pictures (over a second by scene 50). Instead the clips'
AAC frames are spliced here, frame by frame, dropping each clip's priming frame and choosing
how many frames to keep so the audio position after every scene stays within half an AAC frame
(~11 ms) of the video's. The error never accumulates, and no sample is re-encoded.

Anything else (mixed clip formats, captions, fades) is re-encoded once with the same clip
settings, each scene trimmed to its exact length so the film is still the sum of its scenes.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import shutil
import subprocess
import textwrap
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from generation.backends.base import BackendError
from generation.backends.camera import CameraMoveBackend, clip_job
from generation.backends.draft import draw_card, load_font, reading_seconds
from generation.backends.media import (
    AUDIO_CHANNELS,
    AUDIO_SAMPLE_RATE,
    YUV_FILTER,
    FfmpegRun,
    MediaInfo,
    audio_duration,
    clip_output_args,
    ffmpeg_exe,
    parse_info,
    probe,
)

STREAM_COPY = "stream_copy"
REENCODE = "reencode"

# ffmpeg's AAC encoder primes every stream with one frame of this many samples.
AAC_FRAME = 1024
# Longest dip to black between scenes, and the audio fade that keeps joins click-free.
FADE_SECONDS = 0.4
AUDIO_FADE_SECONDS = 0.05

# progress(done, total); raises ExportCancelled when the export is no longer wanted.
Progress = Callable[[int, int], None]


class ExportCancelled(Exception):
    pass


class ExportError(Exception):
    """A failure with a message fit to show the creator as-is."""


@dataclass(frozen=True)
class Options:
    captions: bool = False
    fades: bool = False
    standins: bool = True


@dataclass(frozen=True)
class Scene:
    """One scene as the exporter needs it, resolved from the database by the caller."""

    position: int
    text: str
    # The scene's own clip, when it exists and is up to date; else a stand-in is made.
    clip: Path | None
    # Why there is no usable clip ("" when there is one).
    reason: str = ""
    image: Path | None = None
    audio: Path | None = None
    audio_duration: float | None = None
    image_prompt: str = ""
    camera_movement: str = "zoom_in"
    motion_strength: float = 0.5
    sentence_id: int = 0


@dataclass
class SceneReport:
    position: int
    sentence_id: int
    text: str
    source: str  # "clip" or "standin"
    standin: str = ""  # "camera" (image + camera move) or "card"
    audio: str = "narration"  # or "silence"
    reason: str = ""
    start: float = 0.0
    duration: float = 0.0


@dataclass
class Result:
    path: Path
    manifest_path: Path
    duration: float
    size: int
    method: str
    manifest: dict[str, Any] = field(default_factory=dict)


def needs_reencode(options: Options) -> bool:
    return options.captions or options.fades


def render_export(
    scenes: list[Scene],
    *,
    width: int,
    height: int,
    fps: int,
    options: Options,
    output: Path,
    work_dir: Path,
    progress: Progress,
    extra_manifest: dict[str, Any] | None = None,
) -> Result:
    """Write the film to `output` (and its manifest next to it), atomically.

    Nothing is left at `output` or beside it unless the whole export succeeded: the film is
    written to a temporary name and renamed into place, and a cancel kills ffmpeg and
    deletes the temporary file.
    """
    if not scenes:
        raise ExportError("This project has no scenes to export.")
    missing = [s for s in scenes if s.clip is None]
    if missing and not options.standins:
        listed = ", ".join(str(s.position) for s in missing)
        raise ExportError(
            f"No up-to-date clip for scene {listed}: generate it first, or export with stand-ins."
        )
    work_dir.mkdir(parents=True, exist_ok=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    temp = output.with_name(f".{output.stem}.partial{output.suffix}")
    try:
        # Steps: one per stand-in, one to inspect the clips, then the join.
        total = len(missing) + 2
        done = 0
        progress(done, total)
        clips: list[Path] = []
        reports: list[SceneReport] = []
        for scene in scenes:
            report = SceneReport(scene.position, scene.sentence_id, scene.text, "clip")
            if scene.clip is None:
                clip, report = make_standin(
                    scene, width, height, fps, work_dir, functools.partial(progress, done, total)
                )
                done += 1
                progress(done, total)
            else:
                clip = scene.clip
            clips.append(clip)
            reports.append(report)

        # The AAC frames are only wanted for a stream copy; extracting them while the clips
        # are open anyway costs next to nothing.
        extract = None if needs_reencode(options) else work_dir
        infos, audio_frames = inspect_clips(clips, extract)
        durations = [scene_seconds(info, fps) for info in infos]
        done += 1
        progress(done, total)
        start = 0.0
        for report, seconds in zip(reports, durations, strict=True):
            report.start, report.duration = round(start, 6), round(seconds, 6)
            start += seconds

        method, why = choose_method(infos, width, height, fps, options)
        if method == STREAM_COPY and audio_frames is None:
            method, why = REENCODE, "the clips' audio could not be copied"
        if method == STREAM_COPY and audio_frames is not None:
            try:
                join_by_copy(
                    clips, audio_frames, durations, temp, work_dir, lambda: progress(done, total)
                )
            except AudioTooShort as e:
                method, why = REENCODE, str(e)
        if method == REENCODE:

            def join_step(frames: int, of: int) -> None:
                progress(done * of + frames, total * of)

            join_by_reencode(
                clips, infos, durations, reports, temp, work_dir,
                width=width, height=height, fps=fps, options=options, progress=join_step,
            )  # fmt: skip
        progress(total, total)

        info = probe(temp)
        manifest = {
            **(extra_manifest or {}),
            "method": method,
            "methodReason": why,
            "options": asdict(options),
            "width": width,
            "height": height,
            "fps": fps,
            "duration": info.duration,
            "sceneSeconds": round(sum(durations), 6),
            "substituted": sum(1 for r in reports if r.source == "standin"),
            "scenes": [asdict(r) for r in reports],
        }
        manifest_path = output.with_suffix(".json")
        manifest_temp = manifest_path.with_name(f".{manifest_path.name}.partial")
        manifest_temp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
        os.replace(manifest_temp, manifest_path)
        os.replace(temp, output)
    except BaseException:
        temp.unlink(missing_ok=True)
        output.with_name(f".{output.with_suffix('.json').name}.partial").unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    return Result(
        path=output,
        manifest_path=manifest_path,
        duration=info.duration or sum(durations),
        size=output.stat().st_size,
        method=method,
        manifest=manifest,
    )


# Stand-ins -----------------------------------------------------------------


def make_standin(
    scene: Scene, width: int, height: int, fps: int, work_dir: Path, check: Callable[[], None]
) -> tuple[Path, SceneReport]:
    """The still with its camera move over the narration; a card when there is no still;
    silence as long as the sentence takes to read when there is no narration."""
    report = SceneReport(
        scene.position, scene.sentence_id, scene.text, "standin", reason=scene.reason
    )
    audio = scene.audio if scene.audio is not None and scene.audio.is_file() else None
    if audio is None:
        seconds = reading_seconds(scene.text)
        report.audio = "silence"
    else:
        seconds = scene.audio_duration or audio_duration(audio)
    job = clip_job(
        scene.image if scene.image is not None and scene.image.is_file() else None,
        audio,
        seconds,
        width=width,
        height=height,
        fps=fps,
        work_dir=work_dir,
        camera_movement=scene.camera_movement,
        motion_strength=scene.motion_strength,
        sentence_id=scene.sentence_id,
        position=scene.position,
        text=scene.text,
        image_prompt=scene.image_prompt,
        seed=scene.sentence_id or scene.position,
    )
    if job.image_path is None:
        card = work_dir / f"card-{scene.position}.png"
        draw_card(job).save(card, format="PNG")
        job = replace(job, image_path=card)
        report.standin = "card"
    else:
        report.standin = "camera"

    try:
        # The backend's step callback is only a cancel check here: a stand-in is one step
        # of the export's progress.
        asset = CameraMoveBackend().generate(job, lambda done, of: check())
    except BackendError as e:
        raise ExportError(f"Scene {scene.position}: could not make a stand-in ({e}).") from e
    return asset.path, report


# Inspecting clips ----------------------------------------------------------


def inspect_clips(
    paths: list[Path], work_dir: Path | None = None
) -> tuple[list[MediaInfo], list[list[bytes]] | None]:
    """Stream facts of every clip and, given a `work_dir`, each clip's AAC frames.

    Opening a clip costs ffmpeg ~15 ms whatever it then does (a process per clip would add
    ~30 ms more each), so the clips are opened in a few batches, one ffmpeg process per
    batch, run side by side on the machine's cores. Frames are None where a clip has no
    audio to extract.
    """
    workers = max(1, min(os.cpu_count() or 1, 4))
    size = min(200, max(8, math.ceil(len(paths) / workers)))  # far below the open-file limit
    batches = [(start, paths[start : start + size]) for start in range(0, len(paths), size)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda b: _inspect_batch(b[0], b[1], work_dir), batches))
    infos = [info for batch_infos, _ in results for info in batch_infos]
    frames: list[list[bytes]] | None = None
    if all(batch_frames is not None for _, batch_frames in results):
        frames = [f for _, batch_frames in results for f in batch_frames or []]
    for path, info in zip(paths, infos, strict=True):
        if info.duration is None or info.video_codec is None:
            raise ExportError(f"The clip {path.name} could not be read.")
    return infos, frames if work_dir is not None else None


def _inspect_batch(
    start: int, batch: list[Path], work_dir: Path | None
) -> tuple[list[MediaInfo], list[list[bytes]] | None]:
    inputs: list[str] = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y"]
    for path in batch:
        inputs += ["-i", str(path)]
    outputs: list[Path] = []
    command = list(inputs)
    if work_dir is not None:
        outputs = [work_dir / f"audio-{start + i}.aac" for i in range(len(batch))]
        for i, out in enumerate(outputs):
            command += ["-map", f"{i}:a:0", "-c", "copy", "-f", "adts", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if outputs and result.returncode != 0:
        # A clip without audio (or an unreadable one): inspect only.
        outputs = []
        result = subprocess.run(inputs, capture_output=True, text=True, check=False)
    text = re.split(r"^Output #", result.stderr, flags=re.MULTILINE)[0]
    chunks = re.split(r"^Input #\d+,", text, flags=re.MULTILINE)[1:]
    if len(chunks) == len(batch):
        infos = [parse_info(chunk) for chunk in chunks]
    else:
        # An unreadable file stops ffmpeg before it reports the rest: find which.
        infos = [probe(path) for path in batch]
    frames = [adts_frames(out.read_bytes()) for out in outputs] if outputs else None
    return infos, frames


def probe_many(paths: list[Path]) -> list[MediaInfo]:
    return inspect_clips(paths)[0]


def scene_seconds(info: MediaInfo, fps: int) -> float:
    """The scene's length in whole frames of the film (`ffmpeg -i` prints centiseconds)."""
    assert info.duration is not None
    return max(1, round(info.duration * fps)) / fps


def clip_format(info: MediaInfo) -> tuple:
    return (
        info.video_codec,
        info.video_profile,
        info.pixel_format,
        info.width,
        info.height,
        info.fps,
        info.audio_codec,
        info.sample_rate,
        info.channels,
    )


def choose_method(
    infos: list[MediaInfo], width: int, height: int, fps: int, options: Options
) -> tuple[str, str]:
    """Stream copy when it gives the same film a re-encode would; else why not."""
    if options.captions:
        return REENCODE, "captions are burned in"
    if options.fades:
        return REENCODE, "fades between scenes"
    expected = clip_format(
        MediaInfo(
            duration=None,
            video_codec="h264",
            video_profile="High",
            pixel_format="yuv420p",
            width=width,
            height=height,
            fps=float(fps),
            audio_codec="aac",
            sample_rate=AUDIO_SAMPLE_RATE,
            channels="stereo" if AUDIO_CHANNELS == 2 else "mono",
        )
    )
    for number, info in enumerate(infos, start=1):
        if clip_format(info) != expected:
            return REENCODE, f"clip {number} differs in format ({describe(info)})"
    return STREAM_COPY, "every clip has the same format"


def describe(info: MediaInfo) -> str:
    return (
        f"{info.video_codec} {info.width}x{info.height} {info.fps:g} fps, "
        f"{info.audio_codec or 'no audio'} {info.sample_rate or ''}".strip()
        if info.fps
        else f"{info.video_codec} {info.width}x{info.height}"
    )


# Stream copy ---------------------------------------------------------------


class AudioTooShort(Exception):
    pass


def concat_list(paths: list[Path], durations: list[float]) -> str:
    lines = ["ffconcat version 1.0"]
    for path, seconds in zip(paths, durations, strict=True):
        quoted = str(path.resolve()).replace("'", "'\\''")
        # An explicit duration: each clip starts exactly where the previous one's frames end.
        lines += [f"file '{quoted}'", f"duration {seconds:.6f}"]
    return "\n".join(lines) + "\n"


def adts_frames(data: bytes) -> list[bytes]:
    frames = []
    i = 0
    while i + 7 <= len(data):
        if data[i] != 0xFF or data[i + 1] & 0xF0 != 0xF0:
            raise ExportError("The clips' audio could not be read as AAC frames.")
        length = ((data[i + 3] & 0x03) << 11) | (data[i + 4] << 3) | (data[i + 5] >> 5)
        if length < 7:
            raise ExportError("The clips' audio could not be read as AAC frames.")
        frames.append(data[i : i + length])
        i += length
    return frames


def splice_audio(per_clip: list[list[bytes]], durations: list[float]) -> bytes:
    """One AAC stream as long as the scenes together, from each clip's own frames.

    Each clip's first frame is the encoder's priming (silence before the narration starts);
    after it, keep as many frames as bring the audio to the nearest frame boundary of the
    end of this scene. So every scene's narration starts within half a frame of its
    pictures, however many scenes come before it.
    """
    kept: list[bytes] = []
    elapsed = 0.0
    for number, (frames, seconds) in enumerate(zip(per_clip, durations, strict=True), start=1):
        elapsed += seconds
        wanted = round(elapsed * AUDIO_SAMPLE_RATE / AAC_FRAME) - len(kept)
        body = frames[1:]
        if wanted > len(body):
            raise AudioTooShort(f"clip {number}'s audio is shorter than its video")
        kept += body[: max(wanted, 0)]
    return b"".join(kept)


def join_by_copy(
    clips: list[Path],
    audio_frames: list[list[bytes]],
    durations: list[float],
    output: Path,
    work_dir: Path,
    check: Callable[[], None],
) -> None:
    check()
    audio = work_dir / "film.aac"
    audio.write_bytes(splice_audio(audio_frames, durations))
    playlist = work_dir / "clips.ffconcat"
    playlist.write_text(concat_list(clips, durations))
    # The demuxer starts each clip at its earliest packet, the audio priming, which would
    # put every picture one AAC frame after its (spliced, priming-free) narration.
    priming = AAC_FRAME / AUDIO_SAMPLE_RATE
    args = [
        "-itsoffset", f"-{priming:.9f}",
        "-f", "concat", "-safe", "0", "-i", str(playlist),
        "-i", str(audio),
        "-map", "0:v:0", "-map", "1:a:0",
        "-c", "copy",
        "-movflags", "+faststart",
        "-f", "mp4", str(output),
    ]  # fmt: skip
    with FfmpegRun(args, pipe_stdin=False, read_progress=True) as run:
        for _ in run.progress():
            check()
        run.finish()


# Re-encode -----------------------------------------------------------------


def caption_image(text: str, width: int, height: int) -> Image.Image:
    """The sentence as a subtitle: white text on a dark band at the bottom, transparent
    elsewhere. Drawn with Pillow so no font has to be shipped or known to ffmpeg."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    text = " ".join(text.split())
    if not text:
        return image
    draw = ImageDraw.Draw(image)
    size = max(8, height // 18)
    font = load_font(size)
    margin = max(4, width // 20)
    chars = max(8, int((width - 2 * margin) / (size * 0.55)))
    lines = textwrap.wrap(text, width=chars)[:3]
    line_height = int(size * 1.3)
    pad = max(2, size // 3)
    top = height - margin // 2 - len(lines) * line_height - 2 * pad
    draw.rectangle([0, top, width, height], fill=(0, 0, 0, 150))
    y = top + pad
    for line in lines:
        draw.text((width / 2, y), line, font=font, fill=(255, 255, 255, 255), anchor="ma")
        y += line_height
    return image


def caption_track(
    reports: list[SceneReport], durations: list[float], width: int, height: int, work_dir: Path
) -> Path:
    """A concat playlist of caption images, each shown for its scene's length."""
    lines = ["ffconcat version 1.0"]
    last = ""
    for i, (report, seconds) in enumerate(zip(reports, durations, strict=True)):
        path = work_dir / f"caption-{i}.png"
        caption_image(report.text, width, height).save(path)
        last = f"file '{path.resolve()}'"
        lines += [last, f"duration {seconds:.6f}"]
    # The concat demuxer drops the last image's duration unless the file is repeated.
    lines.append(last)
    playlist = work_dir / "captions.ffconcat"
    playlist.write_text("\n".join(lines) + "\n")
    return playlist


def join_by_reencode(
    clips: list[Path],
    infos: list[MediaInfo],
    durations: list[float],
    reports: list[SceneReport],
    output: Path,
    work_dir: Path,
    *,
    width: int,
    height: int,
    fps: int,
    options: Options,
    progress: Callable[[int, int], None],
) -> None:
    args: list[str] = []
    for clip in clips:
        args += ["-i", str(clip)]
    graph: list[str] = []
    pads: list[str] = []
    for i, (info, seconds) in enumerate(zip(infos, durations, strict=True)):
        # Every scene becomes exactly `seconds` of the film's size, rate and audio format,
        # whatever its clip was, so they can be concatenated and the sum holds.
        video = (
            f"[{i}:v:0]scale={width}:{height}:force_original_aspect_ratio=increase,"
            f"crop={width}:{height},setsar=1,fps={fps},{YUV_FILTER},"
            f"tpad=stop_mode=clone:stop_duration={seconds:.6f},"
            f"trim=duration={seconds:.6f},setpts=PTS-STARTPTS"
        )
        if info.audio_codec:
            audio = f"[{i}:a:0]aresample={AUDIO_SAMPLE_RATE},aformat=channel_layouts=stereo"
        else:
            audio = f"anullsrc=r={AUDIO_SAMPLE_RATE}:cl=stereo"
        audio += f",apad,atrim=duration={seconds:.6f},asetpts=PTS-STARTPTS"
        if options.fades:
            fade = min(FADE_SECONDS, seconds / 4)
            video += f",fade=t=in:st=0:d={fade:.3f},fade=t=out:st={seconds - fade:.6f}:d={fade:.3f}"
            afade = min(AUDIO_FADE_SECONDS, seconds / 4)
            audio += (
                f",afade=t=in:st=0:d={afade:.3f},afade=t=out:st={seconds - afade:.6f}:d={afade:.3f}"
            )
        graph += [f"{video}[v{i}]", f"{audio}[a{i}]"]
        pads.append(f"[v{i}][a{i}]")
    graph.append(f"{''.join(pads)}concat=n={len(clips)}:v=1:a=1[joined][aout]")
    if options.captions:
        playlist = caption_track(reports, durations, width, height, work_dir)
        args += ["-f", "concat", "-safe", "0", "-i", str(playlist)]
        graph.append(f"[{len(clips)}:v:0]format=rgba[captions]")
        graph.append(f"[joined][captions]overlay=0:0:eof_action=repeat,{YUV_FILTER}[vout]")
    else:
        graph.append("[joined]null[vout]")
    script = work_dir / "graph.txt"
    script.write_text(";\n".join(graph))
    frames = sum(round(s * fps) for s in durations)
    args += [
        "-/filter_complex", str(script),
        "-map", "[vout]", "-map", "[aout]",
        "-frames:v", str(frames),
        *clip_output_args(width, height, fps),
        str(output),
    ]  # fmt: skip
    progress(0, frames)
    with FfmpegRun(args, pipe_stdin=False, read_progress=True) as run:
        for done in run.progress():
            progress(min(done, frames), frames)
        run.finish()
