"""The words every app shares, spelled once: the stages of generation and the scene asset
each makes, the presets, and where a project's files live under MEDIA_ROOT.

Statuses are not here: each kind of row has its own (generation.models, exports.models).
"""

from __future__ import annotations

from django.db import models


class Stage(models.TextChoices):
    """A stage of generation: every scene's job of one stage runs before the next stage."""

    AUDIO = "audio", "Audio"
    IMAGES = "images", "Images"
    VIDEOS = "videos", "Videos"


# The order stages run in: a clip needs its scene's narration (its length) and picture.
STAGE_ORDER: list[str] = [Stage.AUDIO.value, Stage.IMAGES.value, Stage.VIDEOS.value]


class Asset(models.TextChoices):
    """What a scene has: its narration, its picture and its clip (see projects.dirty)."""

    AUDIO = "audio", "Narration"
    IMAGE = "image", "Picture"
    VIDEO = "video", "Clip"


# The scene asset each stage makes.
STAGE_ASSET: dict[str, str] = {
    Stage.AUDIO.value: Asset.AUDIO.value,
    Stage.IMAGES.value: Asset.IMAGE.value,
    Stage.VIDEOS.value: Asset.VIDEO.value,
}
ASSET_STAGE: dict[str, str] = {asset: stage for stage, asset in STAGE_ASSET.items()}


class Preset(models.TextChoices):
    DRAFT = "draft", "Draft (no models, seconds per scene)"
    STUDIO = "studio", "Studio (coqui-tts + diffusers)"


# Where files go, relative to MEDIA_ROOT. Everything a project makes is under its folder,
# so the private-media view can tell its owner from the path.


def project_folder(project_id: int) -> str:
    return f"projects/{project_id}"


def scene_file(project_id: int, scene_id: int, name: str) -> str:
    """A scene's asset (or take): narration, picture or clip."""
    return f"{project_folder(project_id)}/scenes/{scene_id}/{name}"


def export_file(project_id: int, name: str) -> str:
    """A finished film and its manifest."""
    return f"{project_folder(project_id)}/exports/{name}"


# Attempts write their temporary files here (one folder each), then rename into place:
# the same filesystem as the files, so the rename is atomic.
WORK_FOLDER = ".work"
