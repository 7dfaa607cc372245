"""Takes: every asset a job makes is kept with what made it (DESIGN decision 13).

The scene points at its current take through its file field, so everything that reads a
scene's assets (the page, exports, the next job) is unchanged; a take is current when its
file is the scene's. Restoring puts an older take's file back and works out the dirty
flags from what the take was made from. Retention deletes old takes nothing points at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F

from generation.models import ACTIVE_RUN_STATUSES, UNFINISHED_JOB_STATUSES, GenerationJob, Take
from projects import dirty
from projects.models import Project, Sentence
from projects.vocabulary import STAGE_ASSET, Asset, Preset, Stage
from work import claims


class RestoreRefused(Exception):
    """A take that can't be restored now, with a reason fit to show."""


def model_name(stage: str, preset: str) -> str:
    """The model a stage's backend runs with these settings, as the take records it."""
    if preset == Preset.DRAFT:
        return Preset.DRAFT.value
    if stage == Stage.AUDIO:
        return str(settings.STORYBOARD_TTS_MODEL)
    if stage == Stage.IMAGES:
        return str(settings.STORYBOARD_IMAGE_MODEL)
    if settings.STORYBOARD_VIDEO_BACKEND == "svd":
        return str(settings.STORYBOARD_SVD_MODEL)
    return "camera move"


def provenance(sentence: Sentence, project: Project, asset: str) -> dict[str, Any]:
    """What an asset of this scene is made from now: what a take records, and what a
    restored take is compared with to know whether it is up to date."""
    if asset == Asset.AUDIO:
        return {
            "text": sentence.text,
            "voice": project.voice,
            "language": project.language,
            "preset": project.preset,
        }
    if asset == Asset.IMAGE:
        return {
            "prompt": sentence.image_prompt,
            "style": project.style_prompt,
            "width": project.width,
            "height": project.height,
            "seed": sentence.seed,
            "preset": project.preset,
        }
    return {
        "camera_movement": sentence.camera_movement,
        "motion_strength": sentence.motion_strength,
        "width": project.width,
        "height": project.height,
        "fps": project.fps,
        "preset": project.preset,
    }


def record(job: GenerationJob, relative: str, duration: float | None) -> Take:
    """The take of the asset `job` just made; called inside the transaction recording it.

    `job.sentence` is the scene as the job read it, so this is what made the asset."""
    sentence = job.sentence
    assert sentence is not None
    project = job.run.project
    asset = STAGE_ASSET[job.stage]
    old = getattr(sentence, f"{asset}_file").name
    if old and old != relative and not Take.objects.of(sentence, asset).filter(file=old).exists():
        # An asset made before takes existed: kept as a take of unknown provenance.
        Take.objects.create(
            sentence=sentence,
            asset=asset,
            file=old,
            preset="",
            duration=sentence.audio_duration if asset == Asset.AUDIO else None,
            created=sentence.updated,
        )
    fields = provenance(sentence, project, asset)
    if asset == Asset.VIDEO:
        # The scene's current picture and narration takes, in one query (newest first).
        made_of: dict[str, Take] = {}
        inputs = [sentence.image_file.name, sentence.audio_file.name]
        for take in Take.objects.filter(sentence_id=sentence.id, file__in=inputs):
            made_of.setdefault(take.asset, take)
        fields["image_take"] = made_of.get(Asset.IMAGE)
        fields["audio_take"] = made_of.get(Asset.AUDIO)
        duration = duration or sentence.audio_duration
    return Take.objects.create(
        sentence_id=sentence.id,
        asset=asset,
        file=relative,
        duration=duration,
        model=model_name(job.stage, project.preset),
        run_id=job.run_id,
        job_id=job.id,
        **fields,
    )


def is_up_to_date(take: Take, sentence: Sentence, project: Project) -> bool:
    """Whether the take is what the scene's inputs would make now."""
    wanted = provenance(sentence, project, take.asset)
    if any(getattr(take, k) != v for k, v in wanted.items()):
        return False
    if take.asset == Asset.VIDEO:
        return (
            take.image_take is not None
            and take.audio_take is not None
            and (
                take.image_take.file == sentence.image_file.name
                and take.audio_take.file == sentence.audio_file.name
            )
        )
    return True


def file_exists(take: Take) -> bool:
    return (Path(settings.MEDIA_ROOT) / take.file).is_file()


def restore(take: Take) -> set[str]:
    """Make `take` the scene's current asset again; returns the assets left out of date.

    A picture brings its seed back. Restoring a picture or a narration brings back the
    clip made of it (and the scene's other current asset) if there is one; otherwise the
    clip is out of date. Refused while a job of the scene is still to run or running:
    its result would replace the take a moment later."""
    with transaction.atomic():
        sentence = (
            Sentence.objects.select_for_update().select_related("project").get(id=take.sentence_id)
        )
        project = sentence.project
        busy = GenerationJob.objects.filter(
            sentence=sentence,
            run__status__in=ACTIVE_RUN_STATUSES,
            status__in=UNFINISHED_JOB_STATUSES,
        )
        if busy.exists():
            raise RestoreRefused(
                f"Scene {sentence.position} is being generated: restore a take when its job ends."
            )
        if not file_exists(take):
            raise RestoreRefused(f"The file of take {take.id} is gone: it can't be restored.")
        setattr(sentence, f"{take.asset}_file", take.file)
        if take.asset == Asset.AUDIO:
            sentence.audio_duration = take.duration
        if take.asset == Asset.IMAGE and take.seed is not None:
            sentence.seed = take.seed
        stale: set[str] = set()
        if not is_up_to_date(take, sentence, project):
            stale.add(take.asset)
        setattr(sentence, dirty.flag_name(take.asset), take.asset in stale)
        if take.asset != Asset.VIDEO:
            # The clip follows its picture and narration (the dirty rules).
            clip = matching_clip(sentence)
            if clip is not None:
                sentence.video_file = clip.file  # type: ignore[assignment]
            if clip is None or stale or not is_up_to_date(clip, sentence, project):
                stale.add(Asset.VIDEO)
            sentence.is_video_dirty = Asset.VIDEO in stale
        # A job that read the scene before the restore must not mark it clean.
        sentence.revision = F("revision") + 1  # type: ignore[assignment]
        sentence.save()
    return stale


def matching_clip(sentence: Sentence) -> Take | None:
    """The newest clip made of the scene's current picture and narration, if its file is
    still there."""
    image = Take.objects.current(sentence, Asset.IMAGE)
    audio = Take.objects.current(sentence, Asset.AUDIO)
    if image is None or audio is None:
        return None
    for clip in Take.objects.of(sentence, Asset.VIDEO).filter(image_take=image, audio_take=audio):
        if file_exists(clip):
            return clip
    return None


BEYOND_SQL = (
    f"SELECT 1 FROM {Take._meta.db_table} WHERE sentence_id = %s AND asset = %s LIMIT 1 OFFSET %s"
)


def prune(sentence_id: int, asset: str) -> list[str]:
    """Delete the takes of one asset of one scene beyond the newest STORYBOARD_KEEP_TAKES,
    with their files; returns the files deleted.

    Never deleted: the scene's current assets, and anything while the project has an
    export in progress (it reads the scenes' files as it goes: work.claims knows which
    kinds of work do, so generation need not know exports). 0 keeps every take."""
    keep = settings.STORYBOARD_KEEP_TAKES
    if not keep:
        return []
    # Runs after every job, and most scenes have no take beyond `keep`: one written-out
    # statement says so for a tenth of what building the ORM query costs.
    with connection.cursor() as cursor:
        cursor.execute(BEYOND_SQL, [sentence_id, asset, keep])
        if cursor.fetchone() is None:
            return []
    beyond = list(Take.objects.filter(sentence_id=sentence_id, asset=asset)[keep:])
    sentence = Sentence.objects.filter(id=sentence_id).first()
    if sentence is None or claims.project_files_in_use(sentence.project_id):
        return []
    referenced = {sentence.audio_file.name, sentence.image_file.name, sentence.video_file.name}
    old = [t for t in beyond if t.file not in referenced]
    deleted: list[str] = []
    for take in old:
        with transaction.atomic():
            # Checked again under the row lock: a restore may have made it current.
            fresh = Sentence.objects.select_for_update().get(id=sentence_id)
            if take.file in (fresh.audio_file.name, fresh.image_file.name, fresh.video_file.name):
                continue
            take.delete()
            path = Path(settings.MEDIA_ROOT, take.file)
            transaction.on_commit(lambda p=path: p.unlink(missing_ok=True))  # type: ignore[misc]
        deleted.append(take.file)
    return deleted


def takes_json(sentence: Sentence) -> dict:
    """A scene's takes for the API: newest first, each with its provenance."""
    takes = list(Take.objects.filter(sentence=sentence).select_related("image_take", "audio_take"))
    current = {t.asset: t.id for t in takes if t.is_current}
    return {
        "sceneId": sentence.id,
        "seed": sentence.seed,
        "current": {a: current.get(a) for a in Asset.values},
        "takes": [take_json(t) for t in takes],
    }


def take_json(t: Take) -> dict:
    return {
        "id": t.id,
        "asset": t.asset,
        "current": t.is_current,
        "url": settings.MEDIA_URL + t.file,
        "created": t.created.isoformat(),
        "seed": t.seed,
        "preset": t.preset,
        "model": t.model,
        "text": t.text,
        "prompt": t.prompt,
        "style": t.style,
        "voice": t.voice,
        "language": t.language,
        "width": t.width,
        "height": t.height,
        "fps": t.fps,
        "cameraMovement": t.camera_movement,
        "motionStrength": t.motion_strength,
        "duration": t.duration,
        "imageTakeId": t.image_take_id,
        "audioTakeId": t.audio_take_id,
        "runId": t.run_id,
        "jobId": t.job_id,
    }
