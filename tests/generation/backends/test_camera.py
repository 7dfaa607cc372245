from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from generation.backends.base import JobCancelled
from generation.backends.camera import CameraMoveBackend
from media.camera import camera_path
from media.ffmpeg import ffmpeg_exe, probe
from tests.support.media_files import StepRecorder, write_test_image, write_tone


def frames_of(path: Path) -> list[np.ndarray]:
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    width, height = meta["size"]
    return [
        np.frombuffer(frame, dtype=np.uint8).reshape(height, width, 3).astype(np.int16)
        for frame in reader
    ]


def red_centroid(frame: np.ndarray) -> tuple[float, float]:
    red = (frame[..., 0] > 180) & (frame[..., 1] < 90) & (frame[..., 2] < 90)
    ys, xs = np.nonzero(red)
    return float(xs.mean()), float(ys.mean())


@pytest.fixture
def scene(tmp_path: Path, make_job):
    image = write_test_image(tmp_path / "scene.png", 320, 180)
    audio = write_tone(tmp_path / "narration.wav", 1.37)

    def make(**changes):
        options = dict(
            width=160,
            height=90,
            fps=24,
            image_path=image,
            audio_path=audio,
            audio_duration=1.37,
        )
        options.update(changes)
        return make_job(**options)

    return make


def test_zoom_in_lasts_as_long_as_the_audio_and_moves(scene, steps: StepRecorder) -> None:
    job = scene(camera_movement="zoom_in")
    asset = CameraMoveBackend().generate(job, steps)

    assert asset.path.parent == job.work_dir and asset.path.suffix == ".mp4"
    frame_count, _ = imageio_ffmpeg.count_frames_and_secs(str(asset.path))
    assert frame_count == round(1.37 * 24)
    info = probe(asset.path)
    assert info.duration is not None and abs(info.duration - 1.37) <= 1 / 24
    assert asset.duration is not None and abs(asset.duration - 1.37) <= 1 / 24
    assert (info.video_codec, info.pixel_format, info.width, info.height, info.fps) == (
        "h264",
        "yuv420p",
        160,
        90,
        24.0,
    )
    assert (info.audio_codec, info.sample_rate, info.channels) == ("aac", 48000, "stereo")
    frames = frames_of(asset.path)
    first, last = frames[0], frames[-1]
    assert np.abs(first - last).mean() > 5  # the picture really zooms
    # Zooming in on the centre makes the red disc bigger.
    assert (last[..., 0] > 180).sum() > (first[..., 0] > 180).sum()
    assert steps.calls[0] == (0, frame_count) and steps.calls[-1] == (frame_count, frame_count)


def test_static_shot_does_not_move(scene, steps: StepRecorder) -> None:
    asset = CameraMoveBackend().generate(scene(camera_movement="static"), steps)
    frames = frames_of(asset.path)
    assert np.abs(frames[0] - frames[-1]).mean() < 1.0


def test_zero_motion_strength_is_a_still_shot() -> None:
    start, end = camera_path("pan_left", 0.0)
    assert start == end


def test_pan_glides_without_jitter(scene, steps: StepRecorder) -> None:
    asset = CameraMoveBackend().generate(scene(camera_movement="pan_right"), steps)
    xs = [red_centroid(frame)[0] for frame in frames_of(asset.path)]
    moves = np.diff(xs)
    # Panning right moves the picture left, every frame, with no frame going backwards.
    assert xs[-1] < xs[0] - 5
    assert (moves <= 0.05).all()


def test_missing_audio_still_gives_a_clip_with_an_audio_track(scene, steps) -> None:
    asset = CameraMoveBackend().generate(scene(audio_path=None, audio_duration=None), steps)
    info = probe(asset.path)
    assert info.audio_codec == "aac" and info.duration == pytest.approx(3.0, abs=1 / 24)


def test_cancel_kills_ffmpeg_and_leaves_no_file(scene) -> None:
    # Long enough that ffmpeg reports progress several times before finishing.
    job = scene(width=640, height=360, audio_duration=8.0, camera_movement="zoom_in")
    recorder = StepRecorder(cancel_at_call=2)
    with pytest.raises(JobCancelled):
        CameraMoveBackend().generate(job, recorder)
    assert len(recorder.calls) == 2
    done, total = recorder.calls[-1]
    assert done < total  # stopped mid-clip, not after the fact
    assert list(job.work_dir.iterdir()) == []


def test_clips_join_with_stream_copy(scene, tmp_path: Path, steps) -> None:
    clips = [
        CameraMoveBackend().generate(scene(camera_movement="zoom_in"), steps).path,
        CameraMoveBackend()
        .generate(scene(camera_movement="pan_left", audio_duration=0.8), steps)
        .path,
    ]
    listing = tmp_path / "list.txt"
    listing.write_text("".join(f"file '{clip}'\n" for clip in clips))
    joined = tmp_path / "joined.mp4"
    result = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "concat", "-safe", "0", "-i", str(listing),
         "-c", "copy", str(joined)],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    frame_count, _ = imageio_ffmpeg.count_frames_and_secs(str(joined))
    assert frame_count == round(1.37 * 24) + round(0.8 * 24)


def test_odd_size_is_a_readable_error(scene, steps) -> None:
    from generation.backends.base import BackendError

    with pytest.raises(BackendError, match="even"):
        CameraMoveBackend().generate(scene(width=161), steps)
