from __future__ import annotations

import imageio_ffmpeg
import pytest

from generation.backends.base import JobCancelled
from generation.backends.camera import CameraMoveBackend
from generation.backends.registry import get_backend, load_count
from generation.backends.svd import StableVideoBackend, motion_bucket, source_positions
from media.ffmpeg import probe
from projects.vocabulary import Stage
from tests.support.media_files import StepRecorder, write_test_image, write_tone


@pytest.fixture
def svd_job(studio, make_job, tmp_path):
    studio.STORYBOARD_VIDEO_BACKEND = "svd"
    image = write_test_image(tmp_path / "scene.png", 96, 64)
    audio = write_tone(tmp_path / "narration.wav", 1.3)
    return make_job(
        width=64, height=64, fps=12, image_path=image, audio_path=audio, audio_duration=1.3
    )


def test_clip_follows_the_audio_with_the_camera_clip_codec(svd_job, steps) -> None:
    backend = get_backend(Stage.VIDEOS, "studio")
    assert isinstance(backend, StableVideoBackend)
    asset = backend.generate(svd_job, steps)

    frame_count, _ = imageio_ffmpeg.count_frames_and_secs(str(asset.path))
    assert frame_count == round(1.3 * 12)
    info = probe(asset.path)
    assert info.duration == pytest.approx(1.3, abs=1 / 12)
    camera = probe(CameraMoveBackend().generate(svd_job, steps).path)
    # Same codec parameters as camera clips, so the exporter can mix them with -c copy.
    assert info.__dict__ | {"duration": None} == camera.__dict__ | {"duration": None}
    assert steps.calls[0] == (0, 3) and (3, 3) in steps.calls


def test_model_loads_once(svd_job, steps) -> None:
    before = load_count("svd")
    get_backend(Stage.VIDEOS, "studio").generate(svd_job, steps)
    get_backend(Stage.VIDEOS, "studio").generate(svd_job, steps)
    assert load_count("svd") == before + 1


def test_cancel_stops_within_one_step(studio, svd_job) -> None:
    studio.STORYBOARD_SVD_STEPS = 5
    recorder = StepRecorder(cancel_at_done=2)
    with pytest.raises(JobCancelled):
        get_backend(Stage.VIDEOS, "studio").generate(svd_job, recorder)
    # Five denoising steps plus encoding; nothing ran after step 2.
    assert recorder.calls == [(0, 6), (1, 6), (2, 6)]
    assert list(svd_job.work_dir.iterdir()) == []


def test_motion_strength_maps_onto_motion_buckets() -> None:
    assert motion_bucket(0.0) == 1 and motion_bucket(1.0) == 255 and motion_bucket(0.5) == 128


def test_frames_ping_pong_to_any_length() -> None:
    positions = list(source_positions(count=24, fps=7, source_frames=4))
    assert positions[:7] == [0, 1, 2, 3, 2, 1, 0]
    assert all(0 <= p <= 3 for p in positions)
