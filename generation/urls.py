from django.urls import path

from generation import views

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
    path("projects/<int:project_id>/generate/", views.generate, name="generate"),
    path("projects/<int:project_id>/cancel/", views.cancel, name="cancel-generation"),
    path("projects/<int:project_id>/resume/", views.resume, name="resume-generation"),
    path("projects/<int:project_id>/retry-failed/", views.retry_failed, name="retry-failed"),
]
