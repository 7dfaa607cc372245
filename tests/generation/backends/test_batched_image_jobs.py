"""A worker that batches claims up to N queued image jobs of a run and makes their pictures in
one pipeline call: each picture is the one its scene gets alone (to float rounding), each job
records its own asset,
claims stay exclusive, and a cancel stops the whole batch within one step."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from generation import runs, worker
from generation.backends.images import DiffusersImageBackend
from generation.models import GenerationJob, JobStatus, RunStatus
from projects.models import Sentence

STEPS = 3
_backend: DiffusersImageBackend | None = None


def factory(stage: str, preset: str) -> DiffusersImageBackend:
    """The engine's backend factory for these tests: one tiny SD loaded once for the module."""
    assert stage == "images" and _backend is not None
    return _backend


@pytest.fixture(scope="module")
def backend(tiny_sd: Path) -> Iterator[DiffusersImageBackend]:
    global _backend
    _backend = DiffusersImageBackend(str(tiny_sd), steps=STEPS, device="cpu")
    _backend.load()
    yield _backend
    _backend = None


@pytest.fixture
def engine(settings: Any, backend: DiffusersImageBackend) -> Any:
    settings.STORYBOARD_BACKEND_FACTORY = f"{__name__}.factory"
    settings.STORYBOARD_IMAGE_BATCH = 4
    return settings


class UnetPasses:
    """Counts the UNet's forward passes (one per denoising step of a whole batch); `at[n]`
    runs during pass n+1, as a click would land while that step is computed."""

    def __init__(self) -> None:
        self.count = 0
        self.at: list[Callable[[], None]] = []

    def __call__(self, module: Any, args: Any, output: Any) -> None:
        self.count += 1
        if self.count <= len(self.at):
            self.at[self.count - 1]()


@pytest.fixture
def unet(backend: DiffusersImageBackend) -> Iterator[UnetPasses]:
    passes = UnetPasses()
    handle = backend.pipeline.unet.register_forward_hook(passes)
    yield passes
    handle.remove()


def pixels(media: Path, name: str) -> np.ndarray:
    with Image.open(media / name) as image:
        return np.asarray(image.convert("RGB")).copy()


def test_it_renders_four_jobs_in_one_call_with_the_pictures_each_gets_alone(
    engine, make_project, media: Path, unet
) -> None:
    project = make_project(4, preset="studio", width=64, height=64)
    run = runs.start_run(project, ["images"]).run
    jobs = list(run.jobs.order_by("position"))

    worker.execute_job(jobs[0].id)

    assert unet.count == STEPS  # one pipeline call for the four pictures
    batched = {}
    for job in run.jobs.order_by("position"):
        assert job.status == JobStatus.SUCCEEDED and job.attempts == 1
        assert job.total_steps == STEPS  # each job reported its own steps
        scene = Sentence.objects.get(id=job.sentence_id)
        assert scene.image_file.name == job.output_file and not scene.is_image_dirty
        batched[job.sentence_id] = pixels(media, job.output_file)
    assert len({job.output_file for job in run.jobs.all()}) == 4
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    # The other jobs' own tasks arrive later and find them taken: nothing runs twice.
    for job in jobs[1:]:
        worker.execute_job(job.id)
    assert unet.count == STEPS
    assert set(run.jobs.values_list("attempts", flat=True)) == {1}

    # Each scene has its own picture (its own seed and prompt)...
    pictures = list(batched.values())
    assert all(np.abs(a.astype(int) - b).mean() > 5 for a, b in itertools.pairwise(pictures))
    # ...and the same scenes one at a time give the same pictures. Bit for bit is more than
    # float kernels promise: a batched matrix product or convolution adds in another order
    # (1.5e-5 apart in the latents here), so a pixel may round to the next level.
    engine.STORYBOARD_IMAGE_BATCH = 1
    alone = runs.start_run(project, ["images"], skip_clean=False).run
    for job in alone.jobs.order_by("position"):
        worker.execute_job(job.id)
    assert unet.count == STEPS + 4 * STEPS
    for job in alone.jobs.all():
        assert job.status == JobStatus.SUCCEEDED
        difference = np.abs(pixels(media, job.output_file).astype(int) - batched[job.sentence_id])
        print(
            f"scene {job.sentence_id}: {np.count_nonzero(difference)} of {difference.size}"
            f" values differ, by at most {difference.max()}"
        )
        assert difference.max() <= 1 and np.count_nonzero(difference) <= difference.size / 1000


def test_it_never_takes_a_job_another_worker_holds(engine, make_project, unet) -> None:
    project = make_project(4, preset="studio", width=64, height=64)
    run = runs.start_run(project, ["images"]).run
    first, second, third, fourth = run.jobs.order_by("position")
    assert worker.claim(third.id)  # another worker got there first

    worker.execute_job(first.id)

    statuses = dict(run.jobs.values_list("id", "status"))
    assert [statuses[j.id] for j in (first, second, fourth)] == [JobStatus.SUCCEEDED] * 3
    third.refresh_from_db()
    assert (third.status, third.attempts, third.output_file) == (JobStatus.RUNNING, 1, "")
    assert unet.count == STEPS  # one call, for the three it could claim


def test_a_cancel_during_the_batch_stops_all_its_jobs_within_one_step(
    engine, make_project, media: Path, unet
) -> None:
    project = make_project(4, preset="studio", width=64, height=64)
    run = runs.start_run(project, ["images"]).run
    first = run.jobs.order_by("position").first()
    running_at_cancel: list[str] = []

    def click_cancel() -> None:
        running_at_cancel.extend(run.jobs.values_list("status", flat=True))
        runs.cancel_run(run)

    # The creator clicks Cancel while the batch's second step is being computed.
    unet.at += [lambda: None, click_cancel]

    worker.execute_job(first.id)

    assert running_at_cancel == [JobStatus.RUNNING] * 4  # all four were in the batch
    assert unet.count == 2  # the step in flight finished; no step after it ran
    assert set(run.jobs.values_list("status", flat=True)) == {JobStatus.CANCELLED}
    assert not Sentence.objects.filter(project=project).exclude(image_file="").exists()
    assert not [p for p in media.rglob("*") if p.is_file()], "partial pictures are gone"
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED


def test_a_batch_is_one_picture_on_the_cpu_unless_set(settings, backend) -> None:
    settings.STORYBOARD_IMAGE_BATCH = 0
    assert worker.image_batch_size(backend) == 1
    gpu = DiffusersImageBackend("unused", device="cpu")
    gpu.device = "cuda"
    assert worker.image_batch_size(gpu) == 4
    settings.STORYBOARD_IMAGE_BATCH = 2
    assert worker.image_batch_size(backend) == 2
    assert worker.image_batch_size(GenerationJob) == 1  # not a batching backend
