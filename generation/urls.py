from django.urls import path

from generation import api, scene_api
from projects.vocabulary import Stage

base = "api/v1/projects/<int:project_id>"

urlpatterns = [
    path(f"{base}/generate-all", api.api_generate_all, name="api-generate-all"),
    path(
        f"{base}/generate-audio",
        api.api_generate_stage,
        {"stage": Stage.AUDIO.value},
        name="api-generate-audio",
    ),
    path(
        f"{base}/generate-images",
        api.api_generate_stage,
        {"stage": Stage.IMAGES.value},
        name="api-generate-images",
    ),
    path(
        f"{base}/generate-videos",
        api.api_generate_stage,
        {"stage": Stage.VIDEOS.value},
        name="api-generate-videos",
    ),
    path(f"{base}/cancel-generation", api.api_cancel, name="api-cancel-generation"),
    path(f"{base}/resume-generation", api.api_resume, name="api-resume-generation"),
    path(f"{base}/generation", api.api_generation, name="api-generation"),
    path(
        f"{base}/scenes/<int:sentence_id>/regenerate",
        scene_api.api_regenerate,
        name="api-scene-regenerate",
    ),
    path(f"{base}/scenes/<int:sentence_id>/reroll", scene_api.api_reroll, name="api-scene-reroll"),
    path(f"{base}/scenes/<int:sentence_id>/takes", scene_api.api_takes, name="api-scene-takes"),
    path(
        f"{base}/scenes/<int:sentence_id>/takes/<int:take_id>/restore",
        scene_api.api_restore,
        name="api-take-restore",
    ),
    path(
        f"{base}/scenes/<int:sentence_id>/approve", scene_api.api_approve, name="api-scene-approve"
    ),
    path(f"{base}/review/continue", scene_api.api_continue, name="api-review-continue"),
    path(f"{base}/stop-after-running", api.api_stop_after_running, name="api-stop-after-running"),
    path(
        f"{base}/scenes/<int:sentence_id>/cancel-generation",
        api.api_cancel_scene,
        name="api-cancel-scene-generation",
    ),
    path(
        f"{base}/scenes/<int:sentence_id>/make-next",
        api.api_make_next,
        name="api-make-scene-next",
    ),
]
