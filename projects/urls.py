from django.urls import path

from projects import views

urlpatterns = [
    path("", views.index, name="index"),
    path("projects/<int:project_id>/", views.storyboard, name="storyboard"),
    path("projects/<int:project_id>/settings/", views.project_settings, name="project-settings"),
    path("projects/<int:project_id>/scenes/add/", views.sentence_add, name="sentence-add"),
    path(
        "projects/<int:project_id>/scenes/<int:sentence_id>/",
        views.sentence_detail,
        name="sentence-detail",
    ),
    path(
        "projects/<int:project_id>/scenes/<int:sentence_id>/edit/",
        views.sentence_edit,
        name="sentence-edit",
    ),
    path(
        "projects/<int:project_id>/scenes/<int:sentence_id>/delete/",
        views.sentence_delete,
        name="sentence-delete",
    ),
    path(
        "projects/<int:project_id>/scenes/<int:sentence_id>/move/",
        views.sentence_move,
        name="sentence-move",
    ),
]
