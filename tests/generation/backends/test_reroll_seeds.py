"""Re-roll on the real image backend (tiny Stable Diffusion, through a real worker): a new
seed gives a different picture, and the old seed gives back the old one exactly."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from generation import scenes
from generation.models import GenerationRun, RunStatus, Take
from tests.conftest import wait_for

pytestmark = pytest.mark.worker

REAL_BACKENDS = "generation.backends.registry.get_backend"


def made(result: scenes.SceneRun, media: Path) -> np.ndarray:
    run: GenerationRun = result.run  # type: ignore[assignment]

    def finished() -> GenerationRun | None:
        run.refresh_from_db()
        return run if not run.is_active else None

    wait_for(finished, timeout=120)
    assert run.status == RunStatus.SUCCEEDED, list(run.jobs.values_list("error", flat=True))
    take = Take.objects.get(job__run=run)
    with Image.open(media / take.file) as image:
        return np.asarray(image.convert("RGB"))


def test_it_rerolls_a_new_picture_and_the_old_seed_gives_the_old_one_back(
    worker_factory, make_project, media, tiny_sd: Path
):
    worker_factory(
        STORYBOARD_BACKEND_FACTORY=REAL_BACKENDS,
        STORYBOARD_IMAGE_MODEL=str(tiny_sd),
        STORYBOARD_IMAGE_STEPS="2",
        STORYBOARD_DEVICE="cpu",
    ).start()
    project = make_project(["A quiet harbour at dawn."], preset="studio", width=64, height=64)
    scene = project.sentences.get()
    first = made(scenes.regenerate(scene, ["image"]), media)
    old_seed = scene.seed

    rerolled = made(scenes.reroll(scene), media)
    assert scene.seed != old_seed
    assert not np.array_equal(first, rerolled)

    new_seed = scene.seed
    scene.apply_edit(seed=old_seed)
    again = made(scenes.regenerate(scene, ["image"]), media)
    assert np.array_equal(first, again)
    # Each take records the seed that made it, newest first.
    seeds = Take.objects.filter(sentence=scene).values_list("seed", flat=True)
    assert list(seeds) == [old_seed, new_seed, old_seed]
