from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Count, F, Max, Q
from django.urls import reverse

from projects import dirty
from projects.vocabulary import Preset, scene_file


class CameraMovement(models.TextChoices):
    STATIC = "static", "Static"
    ZOOM_IN = "zoom_in", "Zoom in"
    ZOOM_OUT = "zoom_out", "Zoom out"
    PAN_LEFT = "pan_left", "Pan left"
    PAN_RIGHT = "pan_right", "Pan right"
    PAN_UP = "pan_up", "Pan up"
    PAN_DOWN = "pan_down", "Pan down"


def validate_even(value: int) -> None:
    # libx264 with 4:2:0 chroma, which every clip and export is encoded with, halves the
    # picture for colour: an odd side fails every clip of the project.
    if value % 2:
        raise ValidationError(
            "Must be even (the video encoder halves it for colour): try %(lower)s or %(upper)s.",
            code="odd",
            params={"lower": value - 1, "upper": value + 1},
        )


class ProjectQuerySet(models.QuerySet["Project"]):
    def owned_by(self, user: Any) -> ProjectQuerySet:
        return self.filter(owner=user)


class Project(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="projects")
    name = models.CharField(max_length=200)
    voice = models.CharField(max_length=100, blank=True, help_text="Speaker of the TTS model")
    language = models.CharField(max_length=16, default="en")
    style_prompt = models.CharField(max_length=500, blank=True)
    width = models.PositiveIntegerField(
        default=1280,
        validators=[MinValueValidator(64), MaxValueValidator(2048), validate_even],
        help_text="Pixels, even, 64 to 2048",
    )
    height = models.PositiveIntegerField(
        default=720,
        validators=[MinValueValidator(64), MaxValueValidator(2048), validate_even],
        help_text="Pixels, even, 64 to 2048",
    )
    fps = models.PositiveIntegerField(
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="Frames per second, 1 to 60",
    )
    preset = models.CharField(max_length=16, choices=Preset.choices, default=Preset.DRAFT)
    # Called with a signed JSON summary when a run or an export ends (generation/webhooks.py).
    webhook_url = models.URLField(
        max_length=500,
        blank=True,
        help_text="Optional: called with a JSON summary when a run or an export ends",
    )
    webhook_secret = models.CharField(max_length=100, blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["-updated"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("storyboard", args=[self.id])

    def update_settings(self, **values: Any) -> set[str]:
        """Save changed settings and dirty every scene's assets they affect."""
        changed = {f for f, v in values.items() if getattr(self, f) != v}
        if not changed:
            return set()
        for field in changed:
            setattr(self, field, values[field])
        saved = set(changed)
        if self.webhook_url and not self.webhook_secret:
            # The key its deliveries are signed with, shown to the owner once there is a URL.
            self.webhook_secret = secrets.token_hex(32)
            saved.add("webhook_secret")
        assets = dirty.dirtied_by(changed, dirty.PROJECT_FIELD_DIRTIES)
        with transaction.atomic():
            self.save(update_fields=[*saved, "updated"])
            if assets:
                self.sentences.update(
                    revision=F("revision") + 1, **{dirty.flag_name(a): True for a in assets}
                )
        return changed

    def pending_counts(self) -> dict[str, int]:
        """Scenes whose audio / image / video is missing or out of date, in one query."""
        return self.sentences.aggregate(
            audio=Count("id", filter=Q(is_audio_dirty=True) | Q(audio_file="")),
            image=Count("id", filter=Q(is_image_dirty=True) | Q(image_file="")),
            video=Count("id", filter=Q(is_video_dirty=True) | Q(video_file="")),
            scenes=Count("id"),
        )

    def add_sentences(self, texts: list[str]) -> list[Sentence]:
        start = (self.sentences.aggregate(m=Max("position"))["m"] or 0) + 1
        sentences = [
            Sentence(
                project=self,
                position=start + i,
                text=text,
                image_prompt=Sentence.default_image_prompt(text),
            )
            for i, text in enumerate(texts)
        ]
        return Sentence.objects.bulk_create(sentences)


class SentenceQuerySet(models.QuerySet["Sentence"]):
    def dirty_for(self, asset: str) -> SentenceQuerySet:
        return self.filter(Q(**{dirty.flag_name(asset): True}) | Q(**{f"{asset}_file": ""}))


# Seeds stay below 2**31: every backend's generator (torch, numpy) takes them.
MAX_SEED = 2**31 - 1


def new_seed(than: int | None = None) -> int:
    """A random picture seed, different from `than`."""
    while True:
        seed = secrets.randbelow(MAX_SEED + 1)
        if seed != than:
            return seed


def asset_path(sentence: Sentence, filename: str) -> str:
    return scene_file(sentence.project_id, sentence.id, filename)


class Sentence(models.Model):
    """One scene: a sentence of the script with its narration, picture and clip."""

    MAX_TEXT = 2000
    MAX_PROMPT = 1000

    project = models.ForeignKey(Project, models.CASCADE, related_name="sentences")
    position = models.PositiveIntegerField()
    text = models.TextField(max_length=MAX_TEXT)
    image_prompt = models.TextField(max_length=MAX_PROMPT, blank=True)
    camera_movement = models.CharField(
        max_length=16, choices=CameraMovement.choices, default=CameraMovement.ZOOM_IN
    )
    motion_strength = models.FloatField(
        default=0.5, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)]
    )
    # The picture's seed: the same seed and inputs give the same picture again, and a
    # re-roll is a new seed. Scenes made before seeds were a field keep their id.
    seed = models.PositiveBigIntegerField(
        default=new_seed, validators=[MaxValueValidator(MAX_SEED)]
    )
    audio_file = models.FileField(upload_to=asset_path, max_length=300, blank=True)
    audio_duration = models.FloatField(null=True, blank=True)
    image_file = models.FileField(upload_to=asset_path, max_length=300, blank=True)
    video_file = models.FileField(upload_to=asset_path, max_length=300, blank=True)
    is_audio_dirty = models.BooleanField(default=True)
    is_image_dirty = models.BooleanField(default=True)
    is_video_dirty = models.BooleanField(default=True)
    # Bumped by every edit that dirties something: a job compares it before and after
    # to know whether the scene changed while it ran.
    revision = models.PositiveIntegerField(default=0)
    updated = models.DateTimeField(auto_now=True)

    objects = SentenceQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["project", "position"])]

    def __str__(self) -> str:
        return f"Scene {self.position}: {self.text[:40]}"

    def get_absolute_url(self) -> str:
        return f"{self.project.get_absolute_url()}#scene-{self.id}"

    @staticmethod
    def default_image_prompt(text: str) -> str:
        return text[: Sentence.MAX_PROMPT]

    def apply_edit(self, **values: Any) -> set[str]:
        """Save the fields that really changed and mark the assets they make stale.

        Returns the assets that became dirty. Setting a field to the value it already
        has changes nothing.
        """
        changed = {f for f, v in values.items() if getattr(self, f) != v}
        if not changed:
            return set()
        for field in changed:
            setattr(self, field, values[field])
        assets = dirty.dirtied_by(changed, dirty.SENTENCE_FIELD_DIRTIES)
        for asset in assets:
            setattr(self, dirty.flag_name(asset), True)
        update_fields = [*changed, *(dirty.flag_name(a) for a in assets), "updated"]
        if assets:
            self.revision += 1
            update_fields.append("revision")
        self.save(update_fields=update_fields)
        return assets

    def reroll(self) -> set[str]:
        """A new seed: the picture (and so its clip) is out of date."""
        return self.apply_edit(seed=new_seed(than=self.seed))

    def move(self, direction: str) -> None:
        """Swap places with the previous or next scene."""
        siblings = Sentence.objects.filter(project_id=self.project_id)
        with transaction.atomic():
            if direction == "up":
                other = siblings.filter(position__lt=self.position).order_by("-position").first()
            else:
                other = siblings.filter(position__gt=self.position).order_by("position").first()
            if other is None:
                return
            self.position, other.position = other.position, self.position
            Sentence.objects.filter(id=self.id).update(position=self.position)
            Sentence.objects.filter(id=other.id).update(position=other.position)

    def is_dirty(self, asset: str) -> bool:
        return bool(getattr(self, dirty.flag_name(asset))) or not getattr(self, f"{asset}_file")
