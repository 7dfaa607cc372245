"""The encoders and voices a worker starts (ffmpeg, espeak-ng) die with it: a worker
killed -9 runs no clean-up, and its encoder would go on beside the retry."""

import os
import signal
import time
import wave
from pathlib import Path

import pytest
from PIL import Image

from generation import runs
from generation.models import GenerationJob, JobStatus
from projects.models import Sentence
from tests.conftest import wait_for

pytestmark = pytest.mark.worker

REAL_BACKENDS = "generation.backends.registry.get_backend"


def ffmpeg_children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)
            name = fields[0].split("(", 1)[1]
        except (OSError, IndexError):
            continue
        if int(fields[1].split()[1]) == pid and name.startswith("ffmpeg"):
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_no_encoder_outlives_a_killed_worker_by_more_than_a_second(
    worker_factory, make_project, media: Path
):
    # A two-minute clip: long enough that its encoder would still be busy after the kill.
    project = make_project(["A long, slow pan across the harbour."], width=1280, height=720)
    scene = project.sentences.get()
    folder = media / "inputs"
    folder.mkdir()
    Image.new("RGB", (1280, 720), (40, 90, 140)).save(folder / "picture.png")
    with wave.open(str(folder / "narration.wav"), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\0\0" * 8000 * 120)
    Sentence.objects.filter(id=scene.id).update(
        image_file="inputs/picture.png",
        audio_file="inputs/narration.wav",
        audio_duration=120.0,
        is_audio_dirty=False,
        is_image_dirty=False,
    )
    worker = worker_factory(STORYBOARD_BACKEND_FACTORY=REAL_BACKENDS).start()
    assert worker.process is not None
    run = runs.start_run(project, ["videos"]).run
    job = run.jobs.get()
    wait_for(lambda: GenerationJob.objects.filter(id=job.id, step__gte=1).exists(), timeout=30)
    encoders = wait_for(lambda: ffmpeg_children(worker.process.pid))

    worker.kill()
    killed = time.monotonic()
    try:
        while any(alive(pid) for pid in encoders) and time.monotonic() - killed < 3:
            time.sleep(0.02)
        outlived = time.monotonic() - killed
        assert outlived < 1.0, f"the encoder outlived its worker by {outlived:.1f} s"
    finally:
        for pid in encoders:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
    assert GenerationJob.objects.get(id=job.id).status == JobStatus.RUNNING
