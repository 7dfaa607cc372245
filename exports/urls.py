from django.urls import path

from exports import api

base = "api/v1/projects/<int:project_id>"

urlpatterns = [
    path(f"{base}/export", api.api_export, name="api-export"),
    path(f"{base}/exports", api.api_exports, name="api-exports"),
    path(f"{base}/exports/<int:export_id>/cancel", api.api_cancel_export, name="api-cancel-export"),
    path(f"{base}/exports/<int:export_id>/file", api.api_export_file, name="api-export-file"),
]
