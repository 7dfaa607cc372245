from typing import Any

from django.contrib import admin
from django.db import models
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest

from projects.models import Project, Sentence


def save_edit(obj: models.Model, fields: list[str]) -> None:
    """Save an admin edit through the model's own method, so the dirty rules apply here too.

    Only the changed fields are written: a whole-row save would put back file fields a job
    recorded while the form was open.
    """
    current = type(obj).objects.get(pk=obj.pk)  # type: ignore[attr-defined]
    values = {f: getattr(obj, f) for f in fields}
    if isinstance(current, Project):
        current.update_settings(**values)
    else:
        current.apply_edit(**values)


class SentenceInline(admin.TabularInline):
    model = Sentence
    fields = [
        "position",
        "text",
        "camera_movement",
        "motion_strength",
        "is_audio_dirty",
        "is_image_dirty",
        "is_video_dirty",
    ]
    extra = 0
    show_change_link = True


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "preset", "created", "updated"]
    list_filter = ["preset"]
    search_fields = ["name", "owner__username"]
    raw_id_fields = ["owner"]
    inlines = [SentenceInline]

    def save_model(self, request: HttpRequest, obj: Project, form: ModelForm, change: bool) -> None:
        if change:
            save_edit(obj, form.changed_data)
        else:
            super().save_model(request, obj, form, change)

    def save_formset(
        self, request: HttpRequest, form: ModelForm, formset: BaseInlineFormSet, change: bool
    ) -> None:
        formset.save(commit=False)
        for deleted in formset.deleted_objects:
            deleted.delete()
        for new in formset.new_objects:
            new.save()
        for edited, fields in formset.changed_objects:
            save_edit(edited, fields)


@admin.register(Sentence)
class SentenceAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "project",
        "position",
        "is_audio_dirty",
        "is_image_dirty",
        "is_video_dirty",
    ]
    list_filter = ["is_audio_dirty", "is_image_dirty", "is_video_dirty", "camera_movement"]
    search_fields = ["text", "image_prompt", "project__name"]
    raw_id_fields = ["project"]
    list_select_related = ["project"]

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        if change:
            save_edit(obj, form.changed_data)
        else:
            super().save_model(request, obj, form, change)
