from django.urls import path

from storyboard import export_panel, scenes, toolbar, views

project = "projects/<int:project_id>"
scene = f"{project}/scenes/<int:sentence_id>"

urlpatterns = [
    path("", views.index, name="index"),
    path(f"{project}/", views.storyboard, name="storyboard"),
    path(f"{project}/settings/", views.project_settings, name="project-settings"),
    path(f"{project}/scenes/add/", views.sentence_add, name="sentence-add"),
    path(f"{scene}/", views.sentence_detail, name="sentence-detail"),
    path(f"{scene}/edit/", views.sentence_edit, name="sentence-edit"),
    path(f"{scene}/delete/", views.sentence_delete, name="sentence-delete"),
    path(f"{scene}/move/", views.sentence_move, name="sentence-move"),
    # The toolbar.
    path(f"{project}/generate/", toolbar.generate, name="generate"),
    path(f"{project}/cancel/", toolbar.cancel, name="cancel-generation"),
    path(f"{project}/resume/", toolbar.resume, name="resume-generation"),
    path(f"{project}/retry-failed/", toolbar.retry_failed, name="retry-failed"),
    path(f"{project}/stop-after-running/", toolbar.stop_after_running, name="stop-after-running"),
    path(f"{scene}/cancel-generation/", toolbar.cancel_scene, name="cancel-scene-generation"),
    path(f"{scene}/make-next/", toolbar.make_next, name="make-scene-next"),
    # A scene's generation, its takes, review before clips.
    path(f"{project}/review/continue/", scenes.continue_review, name="review-continue"),
    path(f"{scene}/regenerate/", scenes.regenerate, name="scene-regenerate"),
    path(f"{scene}/reroll/", scenes.reroll, name="scene-reroll"),
    path(f"{scene}/takes/", scenes.take_list, name="scene-takes"),
    path(f"{scene}/takes/<int:take_id>/restore/", scenes.restore, name="take-restore"),
    path(f"{scene}/approve/", scenes.approve, name="scene-approve"),
    # The export panel.
    path(f"{project}/export/", export_panel.export, name="export"),
    path(
        f"{project}/exports/<int:export_id>/cancel/",
        export_panel.cancel_export,
        name="cancel-export",
    ),
]
