"""Deciding, before anything runs, every job a run will do.

Planning the whole run up front means totals are exact from the first second: the
video stage counts the scenes whose image or narration this same run will remake,
which a filter on today's files (the story's sample code) would miss.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from projects.models import Sentence
from projects.vocabulary import STAGE_ORDER, Asset, Stage

NO_IMAGE = "No picture to animate: generate this scene's image first."
NO_AUDIO = "No narration to time the clip to: generate this scene's audio first."
NOT_APPROVED = "Skipped: its picture was not approved in review."


class PlanError(ValueError):
    pass


@dataclass(frozen=True)
class PlannedJob:
    sentence: Sentence
    stage: str
    # Set when the job can already be seen never to run.
    skip_reason: str = ""


def order_stages(stages: Iterable[str]) -> list[str]:
    requested = list(stages)
    unknown = [s for s in requested if s not in STAGE_ORDER]
    if unknown:
        raise PlanError(
            f"Unknown stage {unknown[0]!r}: use {', '.join(repr(s) for s in STAGE_ORDER)}."
        )
    if not requested:
        raise PlanError("Choose at least one stage.")
    return [s for s in STAGE_ORDER if s in requested]


def plan(
    sentences: Iterable[Sentence],
    stages: Iterable[str],
    skip_clean: bool = True,
    only: set[tuple[int, str]] | None = None,
) -> list[PlannedJob]:
    """Every job of the requested stages, in stage order then scene order.

    `only` limits the plan to given (sentence id, stage) pairs: retrying what failed.
    """
    ordered = order_stages(stages)
    scenes = list(sentences)
    remade: dict[str, set[int]] = {Stage.AUDIO: set(), Stage.IMAGES: set()}
    jobs: list[PlannedJob] = []

    def wanted(sentence: Sentence, stage: str, stale: bool) -> bool:
        if only is not None:
            return (sentence.id, stage) in only
        return stale or not skip_clean

    for stage in ordered:
        for s in scenes:
            if stage == Stage.AUDIO:
                if wanted(s, stage, s.is_dirty(Asset.AUDIO)):
                    remade[Stage.AUDIO].add(s.id)
                    jobs.append(PlannedJob(s, stage))
            elif stage == Stage.IMAGES:
                if wanted(s, stage, s.is_dirty(Asset.IMAGE)):
                    remade[Stage.IMAGES].add(s.id)
                    jobs.append(PlannedJob(s, stage))
            else:
                new_inputs = s.id in remade[Stage.AUDIO] or s.id in remade[Stage.IMAGES]
                if not (new_inputs or wanted(s, stage, s.is_dirty(Asset.VIDEO))):
                    continue
                reason = ""
                if not s.image_file and s.id not in remade[Stage.IMAGES]:
                    reason = NO_IMAGE
                elif not s.audio_file and s.id not in remade[Stage.AUDIO]:
                    reason = NO_AUDIO
                jobs.append(PlannedJob(s, stage, reason))
    return jobs
