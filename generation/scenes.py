"""Scene by scene: regenerate one asset (or one scene), re-roll a picture, and review a
run's pictures before its clips, all through the same engine as Generate All.

While a run is active (one per project), a scene-level request joins it when the
run has not yet finished the stage it needs: the job is added to that stage (started
at once if the stage is running now), so the one run's totals stay exact and the
toolbar shows it. A stage the run has already finished can't be reopened (its
barrier was passed and the next stage may have read its outputs): that is refused
with a clear message, and the creator asks again when the run ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from generation import notify, runs
from generation.models import (
    UNFINISHED_JOB_STATUSES,
    GenerationJob,
    GenerationRun,
    JobStatus,
    Origin,
    RunStatus,
)
from generation.planner import NO_AUDIO, NO_IMAGE, NOT_APPROVED
from projects.models import Sentence
from projects.vocabulary import ASSET_STAGE, STAGE_ORDER, Asset, Stage

WHOLE_SCENE = [Asset.AUDIO.value, Asset.IMAGE.value, Asset.VIDEO.value]
LABELS: dict[str, str] = {Asset.AUDIO: "narration", Asset.IMAGE: "picture", Asset.VIDEO: "clip"}


class SceneActionRefused(Exception):
    """Asked at the wrong moment (a 409), with a message fit to show the creator."""


@dataclass
class SceneRun:
    run: GenerationRun | None
    job_counts: dict[str, int] = field(default_factory=dict)
    # Added to the run already in progress rather than starting one.
    joined: bool = False

    @property
    def total_jobs(self) -> int:
        return sum(self.job_counts.values())


def parse_assets(values: Any) -> list[str]:
    """Asset names from a request, in stage order; raises ValueError with the reason."""
    if values is None or values == "all" or values == ["all"]:
        return list(WHOLE_SCENE)
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise ValueError('assets must be a list of "audio", "image", "video" (or "all").')
    unknown = [v for v in values if v not in WHOLE_SCENE]
    if unknown:
        raise ValueError(f'Unknown asset {unknown[0]!r}: use "audio", "image" or "video".')
    return [a for a in WHOLE_SCENE if a in values]


def label_for(sentence: Sentence, assets: list[str]) -> str:
    what = "all assets" if assets == WHOLE_SCENE else " and ".join(LABELS[a] for a in assets)
    return f"Scene {sentence.position}: {what}"


def regenerate(
    sentence: Sentence,
    assets: list[str],
    origin: str = Origin.PAGE,
    user: Any = None,
    label: str = "",
) -> SceneRun:
    """Make these assets of this one scene again, whether they are up to date or not.

    A run of its own with exactly one job per asset; or, while a run is active, jobs
    added to it (see the module's docstring). Raises SceneActionRefused."""
    stages = [ASSET_STAGE[a] for a in assets]
    if stages == [Stage.VIDEOS]:
        if not sentence.image_file:
            raise SceneActionRefused(NO_IMAGE)
        if not sentence.audio_file:
            raise SceneActionRefused(NO_AUDIO)
    try:
        started = runs.start_run(
            sentence.project,
            stages,
            skip_clean=False,
            origin=origin,
            user=user,
            only={(sentence.id, stage) for stage in stages},
            label=label or label_for(sentence, assets),
        )
    except runs.RunInProgress as e:
        return join_run(e.run, sentence, stages)
    return SceneRun(started.run, started.job_counts)


def reroll(sentence: Sentence, origin: str = Origin.PAGE, user: Any = None) -> SceneRun:
    """A new seed and a new picture with it; the clip follows by the dirty rules (in a
    review run its clip waits in the run, to be approved again)."""
    with transaction.atomic():
        sentence.reroll()
        return regenerate(
            sentence,
            [Asset.IMAGE],
            origin,
            user,
            label=f"Scene {sentence.position}: re-roll",
        )


def join_run(run: GenerationRun, sentence: Sentence, stages: list[str]) -> SceneRun:
    """Add this scene's jobs to the active run, when none of their stages is behind it."""
    with transaction.atomic():
        run = GenerationRun.objects.select_for_update().get(id=run.id)
        if not run.is_active:
            # It ended between the two looks: start afresh.
            raise SceneActionRefused("The run just ended: try again.")
        if run.status == RunStatus.CANCELLING:
            raise SceneActionRefused("The run in progress is being cancelled: try again after.")
        current = STAGE_ORDER.index(run.current_stage) if run.current_stage else 0
        behind = [s for s in stages if STAGE_ORDER.index(s) < current]
        if behind:
            raise SceneActionRefused(
                f"The run in progress has already made its {behind[0]}: regenerate "
                f"scene {sentence.position} when it ends (or cancel it)."
            )
        counts: dict[str, int] = {}
        now = timezone.now()
        start_now: list[tuple[str, int]] = []
        wanted = list(stages)
        if (
            Stage.VIDEOS in run.stages
            and Stage.VIDEOS not in wanted
            and (Stage.IMAGES in wanted or Stage.AUDIO in wanted)
        ):
            # The run makes clips: the clip of a new picture or narration comes with it,
            # as the planner would have planned it.
            wanted.append(Stage.VIDEOS)
        for stage in wanted:
            waiting = run.jobs.filter(
                sentence=sentence, stage=stage, status__in=[JobStatus.PENDING, JobStatus.QUEUED]
            )
            if stage == Stage.VIDEOS and Stage.IMAGES in stages:
                # A new picture needs a new look before its clip is made.
                waiting.update(approved=False, updated=now)
            if waiting.exists():
                # Still to start: it reads the scene's inputs (the new seed) when it does.
                continue
            # During review every stage before the clips is done: a picture or narration
            # asked for then is made at once, and the run waits again after.
            runs_now = (run.status == RunStatus.RUNNING and stage == run.current_stage) or (
                run.status == RunStatus.REVIEW and stage != Stage.VIDEOS
            )
            job = GenerationJob.objects.create(
                run=run,
                sentence=sentence,
                position=sentence.position,
                stage=stage,
                status=JobStatus.QUEUED if runs_now else JobStatus.PENDING,
                updated=now,
            )
            counts[stage] = counts.get(stage, 0) + 1
            if runs_now:
                start_now.append((stage, job.id))
        if counts:
            run.stages = [s for s in STAGE_ORDER if s in run.stages or s in counts]
            fields = ["stages"]
            if start_now and run.status == RunStatus.REVIEW:
                # A re-roll during review runs inside the run; it waits again after.
                run.status = RunStatus.RUNNING
                run.current_stage = max(
                    (s for s in counts if s != Stage.VIDEOS), key=STAGE_ORDER.index
                )
                fields += ["status", "current_stage"]
            run.save(update_fields=fields)
            if start_now and not run.inline:
                for stage, job_id in start_now:
                    # Each on its stage's queue, where the workers of that stage look.
                    transaction.on_commit(
                        lambda stage=stage, job_id=job_id: runs.enqueue_jobs(stage, [job_id])  # type: ignore[misc]
                    )
        notify.run_changed(run)
    return SceneRun(run, counts, joined=True)


def approve(run: GenerationRun, sentence: Sentence, approved: bool = True) -> None:
    """Mark a scene's picture good (or not) for its clip, while the run waits for review."""
    with transaction.atomic():
        run = GenerationRun.objects.select_for_update().get(id=run.id)
        if not (run.is_active and run.waits_for_review) or run.status == RunStatus.CANCELLING:
            raise SceneActionRefused("No run is waiting for review of its pictures.")
        making = run.jobs.filter(
            sentence=sentence,
            stage__in=[Stage.AUDIO, Stage.IMAGES],
            status__in=UNFINISHED_JOB_STATUSES,
        )
        if making.exists():
            raise SceneActionRefused(
                f"Scene {sentence.position}'s picture is still being made: approve it once "
                "you have seen it."
            )
        changed = run.jobs.filter(
            sentence=sentence, stage=Stage.VIDEOS, status=JobStatus.PENDING
        ).update(approved=approved, updated=timezone.now())
        if not changed:
            raise SceneActionRefused(
                f"Scene {sentence.position} has no clip waiting for review in this run."
            )
    notify.run_changed(run)


def continue_review(run: GenerationRun) -> None:
    """Make clips for the approved scenes; the others end skipped, with that reason."""
    with transaction.atomic():
        run = GenerationRun.objects.select_for_update().get(id=run.id)
        if run.status != RunStatus.REVIEW:
            if run.is_active and run.waits_for_review:
                raise SceneActionRefused("A re-roll is still running: continue once it is done.")
            raise SceneActionRefused("No run is waiting for review of its pictures.")
        now = timezone.now()
        run.jobs.filter(stage=Stage.VIDEOS, status=JobStatus.PENDING, approved=False).update(
            status=JobStatus.SKIPPED, error=NOT_APPROVED, finished_at=now, updated=now
        )
        run.status = RunStatus.RUNNING
        run.reviewed_at = now
        run.save(update_fields=["status", "reviewed_at"])
        runs.advance(run.id)


def review_scenes(run: GenerationRun) -> list[GenerationJob]:
    """The clips waiting for review, one per scene, with their scene: what the toolbar
    lists for approval."""
    return list(
        run.jobs.filter(stage=Stage.VIDEOS, status=JobStatus.PENDING)
        .exclude(sentence=None)
        .select_related("sentence")
        .order_by("position", "id")
    )


def waiting_run(sentence: Sentence) -> GenerationRun:
    run = sentence.project.runs.active().first()
    if run is None or not run.waits_for_review:
        raise SceneActionRefused("No run is waiting for review of its pictures.")
    return run


def review_json(run: GenerationRun) -> list[dict[str, Any]]:
    return [
        {
            "sceneId": job.sentence_id,
            "position": job.position,
            "approved": job.approved,
            Asset.IMAGE: job.sentence.image_file.url
            if job.sentence and job.sentence.image_file
            else None,
            "seed": job.sentence.seed if job.sentence else None,
        }
        for job in review_scenes(run)
    ]
