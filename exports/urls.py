from django.urls import path

from exports import views

api = "api/v1/projects/<int:project_id>"

urlpatterns = [
    path(f"{api}/export", views.api_export, name="api-export"),
    path(f"{api}/exports", views.api_exports, name="api-exports"),
    path(
        f"{api}/exports/<int:export_id>/cancel", views.api_cancel_export, name="api-cancel-export"
    ),
    path(f"{api}/exports/<int:export_id>/file", views.api_export_file, name="api-export-file"),
    path("projects/<int:project_id>/export/", views.export, name="export"),
    path(
        "projects/<int:project_id>/exports/<int:export_id>/cancel/",
        views.cancel_export,
        name="cancel-export",
    ),
]
