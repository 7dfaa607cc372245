"""How the scene clips become one film: a stream copy, or a re-encode.

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

import math
import textwrap
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw

from media import mp4
from media.card import load_font
from media.ffmpeg import (
    AUDIO_CHANNELS,
    AUDIO_SAMPLE_RATE,
    YUV_FILTER,
    FfmpegRun,
    MediaInfo,
    clip_output_args,
)

# ffmpeg's AAC encoder primes every stream with one frame of this many samples.
AAC_FRAME = 1024
# What every clip is (`clip_output_args`): H.264 High profile, AAC (MPEG-4 audio in esds).
H264_HIGH = 100
MPEG4_AUDIO = 0x40
# Longest dip to black between scenes, and the audio fade that keeps joins click-free.
FADE_SECONDS = 0.4
AUDIO_FADE_SECONDS = 0.05


# Checking clips for a stream copy --------------------------------------------


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
    texts: list[str], durations: list[float], width: int, height: int, work_dir: Path
) -> Path:
    """A concat playlist of caption images, each shown for its scene's length."""
    lines = ["ffconcat version 1.0"]
    last = ""
    for i, (text, seconds) in enumerate(zip(texts, durations, strict=True)):
        path = work_dir / f"caption-{i}.png"
        caption_image(text, width, height).save(path)
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
    output: Path,
    work_dir: Path,
    *,
    width: int,
    height: int,
    fps: int,
    captions: list[str] | None,
    fades: bool,
    progress: Callable[[int, int], None],
) -> None:
    """Every scene re-encoded to exactly its length in the film's format, then concatenated;
    `captions` (each scene's text) are burned in when given, `fades` dip each scene to black."""
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
        if fades:
            fade = min(FADE_SECONDS, seconds / 4)
            video += f",fade=t=in:st=0:d={fade:.3f},fade=t=out:st={seconds - fade:.6f}:d={fade:.3f}"
            afade = min(AUDIO_FADE_SECONDS, seconds / 4)
            audio += (
                f",afade=t=in:st=0:d={afade:.3f},afade=t=out:st={seconds - afade:.6f}:d={afade:.3f}"
            )
        graph += [f"{video}[v{i}]", f"{audio}[a{i}]"]
        pads.append(f"[v{i}][a{i}]")
    graph.append(f"{''.join(pads)}concat=n={len(clips)}:v=1:a=1[joined][aout]")
    if captions is not None:
        playlist = caption_track(captions, durations, width, height, work_dir)
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
