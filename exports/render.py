"""Render one film from a project's scenes: stand-ins where needed, then a join.

Plain functions, no Django: the task resolves scenes from the database and hands them here.

The join (`exports.join`) is a stream copy when every clip has the film's format and no
captions or fades are asked for; anything else is re-encoded once by ffmpeg.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from exports import join
from media import mp4
from media.camera import render_clip
from media.card import draw_card, reading_seconds
from media.ffmpeg import (
    MediaError,
    MediaInfo,
    audio_duration,
    ffmpeg_exe,
    parse_info,
    probe,
    run_child,
)

STREAM_COPY = "stream_copy"
REENCODE = "reencode"

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
            durations = [join.copy_seconds(movie, fps) for movie in movies]
            try:
                audio_samples = join.splice_audio(movies, durations)
            except join.AudioTooShort as e:
                method, why = REENCODE, str(e)
        infos: list[MediaInfo] = []
        if method == REENCODE:
            infos = inspect_clips(clips)
            durations = [join.scene_seconds(info, fps) for info in infos]
        done += 1
        progress(done, total)
        start = 0.0
        for report, seconds in zip(reports, durations, strict=True):
            report.start, report.duration = round(start, 6), round(seconds, 6)
            start += seconds

        if method == STREAM_COPY:
            # The first clip's priming frame is kept as the decoder's pre-roll; the film's
            # audio edit skips it.
            mp4.write_joined(
                temp, movies, audio_samples, join.AAC_FRAME, lambda: progress(done, total)
            )
            film_seconds: float | None = round(mp4.read_movie(temp).seconds, 6)
        else:

            def join_step(frames: int, of: int) -> None:
                progress(done * of + frames, total * of)

            join.join_by_reencode(
                clips, infos, durations, temp, work_dir, width=width, height=height, fps=fps,
                captions=[r.text for r in reports] if options.captions else None,
                fades=options.fades, progress=join_step,
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
    why = join.copy_mismatch(movies, width, height, fps)
    if why:
        return REENCODE, why, []
    return STREAM_COPY, "every clip has the same format", movies


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
