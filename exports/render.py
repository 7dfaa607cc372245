"""Render one film from a project's scenes: stand-ins where needed, then a join.

Plain functions, no Django: the task resolves scenes from the database and hands them here.

The fast path is a stream copy, done in Python by `media.mp4` with no ffmpeg process at
all. Every scene clip is encoded with `media.ffmpeg.clip_output_args`, so when all clips share
codec parameters, size, frame rate and audio format and no captions or fades are asked for,
the film is one MP4 whose tables point at the clips' own packets, copied in order. Each
clip's pictures start where the previous clip's frames end (its B-frame delay is carried by
the edit list). The audio is copied too, but not clip after clip: each AAC clip starts with
an encoder priming frame and ends padded to a whole frame, so a plain join plays ~30 ms of
extra audio per scene and the narration drifts behind the pictures (over a second by scene
50). Instead the clips' AAC frames are spliced, frame by frame, dropping each clip's priming
frame (the first clip's stays as the decoder's pre-roll, skipped by the edit list) and choosing
how many frames to keep so the audio position after every scene stays within half an AAC frame
(~11 ms) of the video's. The error never accumulates, and no sample is re-encoded.

Anything else (mixed clip formats, clips that are not plain MP4, captions, fades) is
re-encoded once by ffmpeg with the same clip settings, each scene trimmed to its exact length
so the film is still the sum of its scenes.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import shutil
import textwrap
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from media import mp4
from media.camera import render_clip
from media.card import draw_card, load_font, reading_seconds
from media.ffmpeg import (
    AUDIO_CHANNELS,
    AUDIO_SAMPLE_RATE,
    YUV_FILTER,
    FfmpegRun,
    MediaError,
    MediaInfo,
    audio_duration,
    clip_output_args,
    ffmpeg_exe,
    parse_info,
    probe,
    run_child,
)

STREAM_COPY = "stream_copy"
REENCODE = "reencode"

# ffmpeg's AAC encoder primes every stream with one frame of this many samples.
AAC_FRAME = 1024
# What every clip is (`clip_output_args`): H.264 High profile, AAC (MPEG-4 audio in esds).
H264_HIGH = 100
MPEG4_AUDIO = 0x40
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
    written to a temporary name and renamed into place, and a cancel stops the join (killing
    ffmpeg if it is re-encoding) and deletes the temporary file.
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
        # Steps: one per stand-in, one to read the clips, then the join.
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

        method, why, movies = choose_method(clips, width, height, fps, options)
        audio_samples: list[range] = []
        if method == STREAM_COPY:
            durations = [copy_seconds(movie, fps) for movie in movies]
            try:
                audio_samples = splice_audio(movies, durations)
            except AudioTooShort as e:
                method, why = REENCODE, str(e)
        infos: list[MediaInfo] = []
        if method == REENCODE:
            infos = inspect_clips(clips)
            durations = [scene_seconds(info, fps) for info in infos]
        done += 1
        progress(done, total)
        start = 0.0
        for report, seconds in zip(reports, durations, strict=True):
            report.start, report.duration = round(start, 6), round(seconds, 6)
            start += seconds

        if method == STREAM_COPY:
            # The first clip's priming frame is kept as the decoder's pre-roll; the film's
            # audio edit skips it.
            mp4.write_joined(temp, movies, audio_samples, AAC_FRAME, lambda: progress(done, total))
            film_seconds: float | None = round(mp4.read_movie(temp).seconds, 6)
        else:

            def join_step(frames: int, of: int) -> None:
                progress(done * of + frames, total * of)

            join_by_reencode(
                clips, infos, durations, reports, temp, work_dir,
                width=width, height=height, fps=fps, options=options, progress=join_step,
            )  # fmt: skip
            film_seconds = probe(temp).duration
        progress(total, total)

        manifest = {
            **(extra_manifest or {}),
            "method": method,
            "methodReason": why,
            "options": asdict(options),
            "width": width,
            "height": height,
            "fps": fps,
            "duration": film_seconds,
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
        duration=film_seconds or sum(durations),
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
    image = scene.image if scene.image is not None and scene.image.is_file() else None
    if image is None:
        image = work_dir / f"card-{scene.position}.png"
        draw_card(
            width=width,
            height=height,
            position=scene.position,
            seed=scene.sentence_id or scene.position,
            text=scene.text,
            image_prompt=scene.image_prompt,
        ).save(image, format="PNG")
        report.standin = "card"
    else:
        report.standin = "camera"

    try:
        # The clip's step callback is only a cancel check here: a stand-in is one step
        # of the export's progress.
        clip, _ = render_clip(
            image,
            audio,
            audio_seconds=seconds,
            width=width,
            height=height,
            fps=fps,
            camera_movement=scene.camera_movement,
            motion_strength=scene.motion_strength,
            work_dir=work_dir,
            on_step=lambda done, of: check(),
        )
    except MediaError as e:
        raise ExportError(f"Scene {scene.position}: could not make a stand-in ({e}).") from e
    return clip, report


# Choosing the method ------------------------------------------------------


def choose_method(
    clips: list[Path], width: int, height: int, fps: int, options: Options
) -> tuple[str, str, list[mp4.Movie]]:
    """Stream copy when it gives the same film a re-encode would; else why not. For a stream
    copy, also the clips as read for the join."""
    if options.captions:
        return REENCODE, "captions are burned in", []
    if options.fades:
        return REENCODE, "fades between scenes", []
    movies = []
    for number, clip in enumerate(clips, start=1):
        try:
            movies.append(mp4.read_movie(clip))
        except mp4.Mp4Error as e:
            return REENCODE, f"clip {number} cannot be stream-copied ({e})", []
    why = copy_mismatch(movies, width, height, fps)
    if why:
        return REENCODE, why, []
    return STREAM_COPY, "every clip has the same format", movies


def copy_mismatch(movies: list[mp4.Movie], width: int, height: int, fps: int) -> str:
    """Why these clips cannot share the film's tracks as they are; "" when they can.

    Whole sample entries are not compared: their btrt and esds carry each clip's bitrate.
    """
    first: tuple[mp4.Track, mp4.Track] | None = None
    for number, movie in enumerate(movies, start=1):
        video, audio = movie.video, movie.audio
        if video is None or audio is None or len(movie.tracks) != 2:
            return f"clip {number} does not have exactly one video and one audio track"
        if not film_format(video, audio, width, height, fps):
            described = f"{mp4.describe(video)}, {mp4.describe(audio)}"
            return f"clip {number} differs in format ({described})"
        if audio.timescale != AUDIO_SAMPLE_RATE or set(audio.durations[:-1]) - {AAC_FRAME}:
            return f"clip {number}'s audio is not stored in whole AAC frames"
        if audio.media_start != AAC_FRAME:
            return f"clip {number}'s audio does not start with one priming frame"
        if video.media_start is None:
            return f"clip {number}'s video has an edit list a stream copy cannot keep"
        if first is None:
            first = video, audio
        if video.timescale != first[0].timescale:
            return f"clip {number}'s video timescale differs from clip 1's"
        if video.format != first[0].format:
            return f"clip {number}'s H.264 parameter sets differ from clip 1's"
        if audio.format != first[1].format:
            return f"clip {number}'s AAC configuration differs from clip 1's"
    return ""


def film_format(video: mp4.Track, audio: mp4.Track, width: int, height: int, fps: int) -> bool:
    """Whether a clip is what `clip_output_args` makes for this film (what a re-encode gives)."""
    v, a = video.format, audio.format
    return (
        isinstance(v, mp4.VideoFormat)
        and (v.codec, v.profile, v.pixel_format) == ("avc1", H264_HIGH, "yuv420p")
        and (v.width, v.height) == (width, height)
        and video.timescale % fps == 0
        and set(video.durations) == {video.timescale // fps}
        and isinstance(a, mp4.AudioFormat)
        and (a.codec, a.object_type) == ("mp4a", MPEG4_AUDIO)
        and (a.sample_rate, a.channels) == (AUDIO_SAMPLE_RATE, AUDIO_CHANNELS)
    )


def copy_seconds(movie: mp4.Movie, fps: int) -> float:
    """The scene's length: its clip's frames (every one 1/fps long, as checked)."""
    assert movie.video is not None
    return len(movie.video.sizes) / fps


# Stream copy ---------------------------------------------------------------


class AudioTooShort(Exception):
    pass


def splice_audio(movies: list[mp4.Movie], durations: list[float]) -> list[range]:
    """Which AAC frames of each clip make one stream as long as the scenes together.

    Each clip's first frame is the encoder's priming (silence before the narration starts);
    after it, keep as many frames as bring the audio to the nearest frame boundary of the
    end of this scene. So every scene's narration starts within half a frame of its
    pictures, however many scenes come before it. The first clip keeps its priming frame
    too, for the decoder to start from; the film's edit list skips it.
    """
    ranges: list[range] = []
    kept = 0
    elapsed = 0.0
    for number, (movie, seconds) in enumerate(zip(movies, durations, strict=True), start=1):
        assert movie.audio is not None
        elapsed += seconds
        frames = elapsed * AUDIO_SAMPLE_RATE / AAC_FRAME
        wanted = max(round(frames) - kept, 0)
        available = len(movie.audio.sizes) - 1
        if wanted > available:
            raise AudioTooShort(f"clip {number}'s audio is shorter than its video")
        if number == len(movies):
            # The film's edit list ends the audio with the pictures, so the last scene keeps
            # a frame more where it has one rather than end up to half a frame short.
            wanted = max(wanted, min(math.ceil(frames) - kept, available))
        ranges.append(range(0 if number == 1 else 1, 1 + wanted))
        kept += wanted
    return ranges


# Inspecting clips for a re-encode --------------------------------------------


def inspect_clips(paths: list[Path]) -> list[MediaInfo]:
    """Stream facts of every clip, as ffmpeg reads them.

    Opening a clip costs ffmpeg ~15 ms whatever it then does (a process per clip would add
    ~30 ms more each), so the clips are opened in a few batches, one ffmpeg process per
    batch, run side by side on the machine's cores.
    """
    workers = max(1, min(os.cpu_count() or 1, 4))
    size = min(200, max(8, math.ceil(len(paths) / workers)))  # far below the open-file limit
    batches = [paths[start : start + size] for start in range(0, len(paths), size)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        infos = [info for batch in pool.map(_inspect_batch, batches) for info in batch]
    for path, info in zip(paths, infos, strict=True):
        if info.duration is None or info.video_codec is None:
            raise ExportError(f"The clip {path.name} could not be read.")
    return infos


def _inspect_batch(batch: list[Path]) -> list[MediaInfo]:
    command: list[str] = [ffmpeg_exe(), "-hide_banner", "-nostdin"]
    for path in batch:
        command += ["-i", str(path)]
    result = run_child(command, capture_output=True, text=True, check=False)
    chunks = re.split(r"^Input #\d+,", result.stderr, flags=re.MULTILINE)[1:]
    if len(chunks) == len(batch):
        return [parse_info(chunk) for chunk in chunks]
    # An unreadable file stops ffmpeg before it reports the rest: find which.
    return [probe(path) for path in batch]


def scene_seconds(info: MediaInfo, fps: int) -> float:
    """The scene's length in whole frames of the film (`ffmpeg -i` prints centiseconds)."""
    assert info.duration is not None
    return max(1, round(info.duration * fps)) / fps


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
