from django.contrib import admin

from projects.models import Project, Sentence


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
