"""The stream copy is written by media.mp4: a file ffmpeg plays to the last frame, or a
re-encode when a clip is not one it can join."""

import subprocess
from pathlib import Path

import pytest

from exports import join, render
from media import mp4
from media.ffmpeg import clip_output_args, ffmpeg_exe, probe
from tests.support.exports import FPS, HEIGHT, WIDTH, make_clip, write_narration
from tests.support.media_files import write_test_image

# Lengths that are not whole AAC frames, so the audio splice has to choose.
DURATIONS = [1.25, 1.0, 1.5]


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("clips")
    image = write_test_image(folder / "image.png", 320, 180)
    made = []
    for i, seconds in enumerate(DURATIONS):
        audio = write_narration(folder / f"audio-{i}.wav", seconds)
        made.append(folder / make_clip(folder, f"clip-{i}.mp4", image, audio, seconds))
    return made


def export(clips: list[Path], folder: Path, **options: bool) -> render.Result:
    scenes = [
        render.Scene(position=i + 1, text=f"Scene {i + 1}", clip=c) for i, c in enumerate(clips)
    ]
    return render.render_export(
        scenes, width=WIDTH, height=HEIGHT, fps=FPS, options=render.Options(**options),
        output=folder / "film.mp4", work_dir=folder / "work", progress=lambda done, total: None,
    )  # fmt: skip


def decode(path: Path, *streams: str) -> tuple[list[list[str]], str]:
    """Every decoded frame's framecrc row (stream, dts, pts, duration, size, crc), and what
    ffmpeg complained about."""
    maps = [arg for stream in streams for arg in ("-map", stream)]
    result = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), *maps, "-f", "framecrc", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    rows = [line.split(", ") for line in result.stdout.splitlines() if not line.startswith("#")]
    return [[field.strip() for field in row] for row in rows], result.stderr


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args], check=True)


def test_it_writes_a_fast_start_file_ffmpeg_decodes_to_the_last_frame(clips, tmp_path: Path):
    result = export(clips, tmp_path)
    assert result.method == render.STREAM_COPY

    rows, errors = decode(result.path)
    assert errors == ""
    frames = sum(round(seconds * FPS) for seconds in DURATIONS)
    assert sum(1 for row in rows if row[0] == "0") == frames
    # The audio edit list ends the narration with the pictures, to the sample.
    audio_samples = sum(int(row[3]) for row in rows if row[0] == "1")
    assert abs(audio_samples - sum(DURATIONS) * 48000) <= join.AAC_FRAME

    total = sum(DURATIONS)
    assert probe(result.path).duration == pytest.approx(total, abs=0.01)
    assert mp4.read_movie(result.path).seconds == pytest.approx(total, abs=1e-9)
    assert result.manifest["duration"] == pytest.approx(total, abs=1e-9)
    data = result.path.read_bytes()
    assert data[4:8] == b"ftyp" and data.index(b"moov") < data.index(b"mdat")


def test_it_shows_every_picture_of_every_clip_unchanged_and_in_order(clips, tmp_path: Path):
    result = export(clips, tmp_path)
    joined, _ = decode(result.path, "0:v:0")
    # Decoded pictures, by checksum: the film's are the clips', one after the other.
    expected = [row[5] for clip in clips for row in decode(clip, "0:v:0")[0]]
    assert [row[5] for row in joined] == expected
    # Shown one frame apart from the first to the last: no clip starts late or early.
    assert [int(row[2]) for row in joined] == list(range(len(expected)))


def fragmented(clip: Path, folder: Path) -> Path:
    out = folder / "fragmented.mp4"
    ffmpeg("-i", str(clip), "-c", "copy", "-movflags", "frag_keyframe+empty_moov", str(out))
    return out


def truncated(clip: Path, folder: Path) -> Path:
    out = folder / "truncated.mp4"
    out.write_bytes(clip.read_bytes()[: clip.stat().st_size * 2 // 3])
    return out


def not_an_mp4(clip: Path, folder: Path) -> Path:
    out = folder / "narration.mp4"
    out.write_bytes(write_narration(folder / "narration.wav", 1.0).read_bytes())
    return out


@pytest.mark.parametrize(
    ("make", "why"),
    [(fragmented, "fragmented"), (truncated, "truncated"), (not_an_mp4, "not an MP4")],
)
def test_it_refuses_to_read_a_clip_it_cannot_join(clips, tmp_path: Path, make, why: str):
    with pytest.raises(mp4.Mp4Error, match=why):
        mp4.read_movie(make(clips[1], tmp_path))


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (fragmented, "fragmented MP4 is not supported"),
        (truncated, "truncated: the mdat box runs past the end of the file"),
    ],
)
def test_it_re_encodes_when_a_clip_is_an_mp4_it_cannot_join(clips, tmp_path: Path, make, why: str):
    odd = make(clips[1], tmp_path)
    result = export([clips[0], odd, clips[2]], tmp_path)
    assert result.method == render.REENCODE
    assert result.manifest["methodReason"] == f"clip 2 cannot be stream-copied ({why})"
    # ffmpeg reads what there is of it; the scene keeps its length all the same.
    assert abs(result.duration - sum(DURATIONS)) <= len(DURATIONS) / FPS


def test_it_fails_clearly_when_a_clip_is_not_a_video_at_all(clips, tmp_path: Path):
    odd = not_an_mp4(clips[1], tmp_path)
    with pytest.raises(render.ExportError, match="The clip narration.mp4 could not be read"):
        export([clips[0], odd, clips[2]], tmp_path)
    assert not (tmp_path / "film.mp4").exists()


def avcc(clip: Path) -> bytes:
    video = mp4.read_movie(clip).video
    assert video is not None and isinstance(video.format, mp4.VideoFormat)
    return video.format.config


def test_it_re_encodes_clips_whose_h264_parameter_sets_differ(clips, tmp_path: Path):
    # The same size, rate and profile, but another H.264 level: a different avcC.
    args = clip_output_args(WIDTH, HEIGHT, FPS)
    args[args.index("-level:v") + 1] = "4.0"
    odd = tmp_path / "other-level.mp4"
    ffmpeg("-i", str(clips[1]), *args, str(odd))
    assert avcc(odd) != avcc(clips[1])

    result = export([clips[0], odd, clips[2]], tmp_path)
    assert result.method == render.REENCODE
    assert result.manifest["methodReason"] == "clip 2's H.264 parameter sets differ from clip 1's"
    assert abs(result.duration - sum(DURATIONS)) <= len(DURATIONS) / FPS
