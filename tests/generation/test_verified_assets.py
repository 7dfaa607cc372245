"""Every asset is verified before it is recorded: it decodes, and its length or size is what
the job meant to make. A short or corrupt file fails the job with a readable reason and the
scene keeps its earlier asset."""

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from generation import runs, worker
from generation.backends.base import GeneratedAsset, JobInput
from generation.models import GenerationRun, JobStatus
from projects.models import Sentence
from tests.conftest import wait_for
from tests.support.fake_backends import SUFFIX, clip, write_real

REAL_BACKENDS = "generation.backends.registry.get_backend"
# Five seconds of espeak-ng speech: some 220 KB of WAV.
TEXT = "The lighthouse keeper climbs the stairs and counts each step aloud while the storm grows."


@pytest.fixture
def nearly_full_disk(media: Path) -> Iterator[Path]:
    """The media folder on a 1 MiB filesystem with 160 KiB left. A file size limit
    (RLIMIT_FSIZE) would not do: it kills a child such as espeak-ng with SIGXFSZ, where a
    full disk lets it write short and exit 0."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(media)]).returncode:
        pytest.skip("could not mount a tmpfs")
    try:
        (media / "filler").write_bytes(b"\0" * (1024 - 160) * 1024)
        yield media
    finally:
        subprocess.run(["umount", "-l", str(media)], check=False)


@pytest.mark.worker
def test_a_narration_written_onto_a_nearly_full_disk_fails_and_keeps_the_earlier_file(
    worker_factory, make_project, nearly_full_disk: Path
):
    media = nearly_full_disk
    project = make_project([TEXT])
    scene = project.sentences.get()
    (media / "earlier.wav").write_bytes(b"earlier narration")
    Sentence.objects.filter(id=scene.id).update(audio_file="earlier.wav", audio_duration=2.0)
    worker_factory(STORYBOARD_BACKEND_FACTORY=REAL_BACKENDS).start()
    run = runs.start_run(project, ["audio"], skip_clean=False).run

    def finished() -> GenerationRun | None:
        run.refresh_from_db()
        return run if not run.is_active else None

    wait_for(finished, timeout=60)
    job = run.jobs.get()
    assert job.status == JobStatus.FAILED, "a cut-off narration was recorded as done"
    assert job.error.startswith("Could not write the asset: the media disk is full"), job.error
    scene.refresh_from_db()
    assert (scene.audio_file.name, scene.audio_duration) == ("earlier.wav", 2.0)
    assert scene.is_audio_dirty
    assert (media / "earlier.wav").read_bytes() == b"earlier narration"
    assert not [p for p in (media / ".work").rglob("*") if p.is_file()]


class Broken:
    """Makes the asset the fake backend would, then spoils it the way the scene's text says."""

    def __init__(self, stage: str):
        self.stage = stage

    def generate(self, job: JobInput, on_step):  # type: ignore[no-untyped-def]
        path = job.work_dir / f"asset{SUFFIX[self.stage]}"
        write_real(self.stage, job, path)
        duration = 1.5 if self.stage == "audio" else None
        data = path.read_bytes()
        if "CUT" in job.text:  # a short write the writer did not notice
            path.write_bytes(data[: len(data) * 2 // 3])
        elif "LONGER" in job.text and self.stage == "audio":  # more made than written
            duration = 2.5
        elif "LONGER" in job.text:  # a clip shorter than its scene's narration
            shutil.copyfile(clip(job.width, job.height, job.fps, 1.5), path)
        elif "SMALL" in job.text:
            Image.new("RGB", (job.width // 2, job.height), "red").save(path, format="PNG")
        elif "EMPTY" in job.text:
            path.write_bytes(b"")
        return GeneratedAsset(path, duration=duration)


def broken_backend(stage: str, preset: str) -> Broken:
    return Broken(stage)


@pytest.mark.parametrize(
    ("stage", "text", "reason"),
    [
        ("audio", "A CUT narration.", "The new narration is cut short: 1.00 s of the 1.50 s"),
        ("audio", "A LONGER narration.", "The new narration is 1.50 s long, but the voice made"),
        ("audio", "An EMPTY narration.", "The new narration is an empty file."),
        ("images", "A CUT picture.", "The new picture does not decode"),
        ("images", "A SMALL picture.", "The new picture is 320x360, but the project is 640x360."),
        ("videos", "A CUT clip.", "The new clip does not decode: it is not a whole MP4 file."),
        ("videos", "A LONGER clip.", "The new clip is 1.50 s long, but its scene needs 2.50 s."),
    ],
)
def test_a_short_or_corrupt_asset_fails_the_job_and_the_scene_keeps_its_earlier_one(
    make_project, media: Path, settings, stage: str, text: str, reason: str
):
    settings.STORYBOARD_BACKEND_FACTORY = "tests.generation.test_verified_assets.broken_backend"
    project = make_project([text], width=640, height=360)
    field = {"audio": "audio_file", "images": "image_file", "videos": "video_file"}[stage]
    (media / "earlier").write_bytes(b"earlier asset")
    scene = project.sentences.get()
    # A clip follows its narration: this one was 2.5 s when the job read it.
    inputs = {"audio_file": "narration.wav", "image_file": "picture.png", field: "earlier"}
    Sentence.objects.filter(id=scene.id).update(
        **inputs, audio_duration=2.5 if "LONGER" in text else 1.5
    )
    run = runs.start_run(project, [stage], skip_clean=False).run
    job = run.jobs.get()
    worker.execute_job(job.id)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error.startswith(reason), job.error
    scene.refresh_from_db()
    assert getattr(scene, field).name == "earlier"
    assert (media / "earlier").read_bytes() == b"earlier asset"
    assert not [p for p in media.rglob("*") if p.is_file() and p.name != "earlier"]


def test_a_whole_asset_of_the_right_size_and_length_is_recorded(make_project, media, settings):
    settings.STORYBOARD_BACKEND_FACTORY = "tests.generation.test_verified_assets.broken_backend"
    project = make_project(["A fine scene."], width=640, height=360)
    project.sentences.update(audio_duration=1.5, audio_file="narration.wav", is_audio_dirty=False)
    run = runs.start_run(project, ["images", "videos"], skip_clean=False).run
    for stage in ("images", "videos"):
        worker.execute_job(run.jobs.get(stage=stage).id)
    assert set(run.jobs.values_list("status", flat=True)) == {JobStatus.SUCCEEDED}
