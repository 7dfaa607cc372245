from django.urls import path

from generation import scene_views, views

api = "api/v1/projects/<int:project_id>"

urlpatterns = [
    path(f"{api}/generate-all", views.api_generate_all, name="api-generate-all"),
    path(
        f"{api}/generate-audio",
        views.api_generate_stage,
        {"stage": "audio"},
        name="api-generate-audio",
    ),
    path(
        f"{api}/generate-images",
        views.api_generate_stage,
        {"stage": "images"},
        name="api-generate-images",
    ),
    path(
        f"{api}/generate-videos",
        views.api_generate_stage,
        {"stage": "videos"},
        name="api-generate-videos",
    ),
    path(f"{api}/cancel-generation", views.api_cancel, name="api-cancel-generation"),
    path(f"{api}/resume-generation", views.api_resume, name="api-resume-generation"),
    path(f"{api}/generation", views.api_generation, name="api-generation"),
    path(
        f"{api}/scenes/<int:sentence_id>/regenerate",
        scene_views.api_regenerate,
        name="api-scene-regenerate",
    ),
    path(f"{api}/scenes/<int:sentence_id>/reroll", scene_views.api_reroll, name="api-scene-reroll"),
    path(f"{api}/scenes/<int:sentence_id>/takes", scene_views.api_takes, name="api-scene-takes"),
    path(
        f"{api}/scenes/<int:sentence_id>/takes/<int:take_id>/restore",
        scene_views.api_restore,
        name="api-take-restore",
    ),
    path(
        f"{api}/scenes/<int:sentence_id>/approve", scene_views.api_approve, name="api-scene-approve"
    ),
    path(f"{api}/review/continue", scene_views.api_continue, name="api-review-continue"),
    path(f"{api}/stop-after-running", views.api_stop_after_running, name="api-stop-after-running"),
    path(
        f"{api}/scenes/<int:sentence_id>/cancel-generation",
        views.api_cancel_scene,
        name="api-cancel-scene-generation",
    ),
    path(
        f"{api}/scenes/<int:sentence_id>/make-next",
        views.api_make_next,
        name="api-make-scene-next",
    ),
    path("projects/<int:project_id>/generate/", views.generate, name="generate"),
    path("projects/<int:project_id>/cancel/", views.cancel, name="cancel-generation"),
    path("projects/<int:project_id>/resume/", views.resume, name="resume-generation"),
    path("projects/<int:project_id>/retry-failed/", views.retry_failed, name="retry-failed"),
    path(
        "projects/<int:project_id>/review/continue/",
        scene_views.continue_review,
        name="review-continue",
    ),
    path(
        "projects/<int:project_id>/scenes/<int:sentence_id>/regenerate/",
        scene_views.regenerate,
        name="scene-regenerate",
    ),
    path(
        "projects/<int:project_id>/scenes/<int:sentence_id>/reroll/",
        scene_views.reroll,
        name="scene-reroll",
    ),
    path(
        "projects/<int:project_id>/scenes/<int:sentence_id>/takes/",
        scene_views.take_list,
        name="scene-takes",
    ),
    path(
        "projects/<int:project_id>/scenes/<int:sentence_id>/takes/<int:take_id>/restore/",
        scene_views.restore,
        name="take-restore",
    ),
    path(
        "projects/<int:project_id>/scenes/<int:sentence_id>/approve/",
        scene_views.approve,
        name="scene-approve",
    ),
    path(
        "projects/<int:project_id>/stop-after-running/",
        views.stop_after_running,
        name="stop-after-running",
    ),
    path(
        "projects/<int:project_id>/scenes/<int:sentence_id>/cancel-generation/",
        views.cancel_scene,
        name="cancel-scene-generation",
    ),
    path(
        "projects/<int:project_id>/scenes/<int:sentence_id>/make-next/",
        views.make_next,
        name="make-scene-next",
    ),
]
