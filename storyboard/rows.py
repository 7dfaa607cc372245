"""A scene's row: its jobs in the latest run, what it is rendered with, and its asset
cells as live updates send them. Its template (with the row's edit form, its actions and
its takes) is storyboard/scene_row.html."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from django.template.loader import render_to_string

from generation.models import GenerationJob, GenerationRun
from projects.models import Project, Sentence
from projects.vocabulary import STAGE_ASSET
from storyboard.toolbar import toolbar_context

SCENE_ROW = "storyboard/scene_row.html"


def attach_jobs(
    sentences: Iterable[Sentence], run: GenerationRun | None, every_scene: bool = True
) -> None:
    """Give each scene `live_jobs`: its job per asset in the latest run, for its row."""
    sentences = list(sentences)
    by_scene: dict[int, dict[str, GenerationJob]] = {}
    if run is not None:
        # Oldest first, so a scene's newest job of a stage (a re-roll's) is the one shown.
        jobs = run.jobs.exclude(sentence=None).order_by("id")
        if not every_scene:
            jobs = jobs.filter(sentence__in=[s.id for s in sentences])
        for job in jobs:
            if job.sentence_id is not None:
                by_scene.setdefault(job.sentence_id, {})[STAGE_ASSET[job.stage]] = job
    for sentence in sentences:
        sentence.live_jobs = by_scene.get(sentence.id, {})  # type: ignore[attr-defined]


def row_context(sentence: Sentence) -> dict:
    """A scene's row, with its job in the latest run, and the toolbar whose counts the
    edit may have changed."""
    context = toolbar_context(sentence.project)
    attach_jobs([sentence], context["run"])
    return {**context, "sentence": sentence}


_cells: OrderedDict[tuple, str] = OrderedDict()


def render_assets(project: Project, sentence: Sentence) -> str:
    """A scene's asset cells, what generation changes in its row: rendered once per state
    they show, however many tabs need them."""
    jobs = sentence.live_jobs  # type: ignore[attr-defined]
    key = (
        project.id,
        sentence.id,
        sentence.updated,
        sentence.position,
        sentence.audio_file.name,
        sentence.image_file.name,
        sentence.video_file.name,
        sentence.is_audio_dirty,
        sentence.is_image_dirty,
        sentence.is_video_dirty,
        tuple(
            (asset, job.id, job.status, job.step, job.total_steps, job.error)
            for asset, job in sorted(jobs.items())
        ),
    )
    if key not in _cells:
        cells = {"project": project, "sentence": sentence, "oob": True}
        _cells[key] = render_to_string(f"{SCENE_ROW}#scene-assets", cells)
        while len(_cells) > 5000:
            _cells.popitem(last=False)
    return _cells[key]
