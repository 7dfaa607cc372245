"""POST /api/v1/projects/<id>/export, GET .../exports, and the storyboard's export panel."""

import json
from pathlib import Path

import pytest
from django.test import Client

from exports.models import Export, ExportStatus
from tests.support.exports import ready_project


def post(client: Client, project_id: int, body: object = None, raw: str | None = None):  # type: ignore[no-untyped-def]
    data = raw if raw is not None else json.dumps(body or {})
    return client.post(
        f"/api/v1/projects/{project_id}/export", data=data, content_type="application/json"
    )


def test_it_starts_an_export_and_lists_it(client, make_project, media: Path):
    project = make_project(2)
    response = post(client, project.id, {"captions": True, "fades": False})
    assert response.status_code == 202
    body = response.json()
    export = Export.objects.get(id=body["exportId"])
    assert export.captions and not export.fades and export.standins
    assert body["status"] == ExportStatus.QUEUED
    listed = client.get(f"/api/v1/projects/{project.id}/exports").json()["exports"]
    assert [e["exportId"] for e in listed] == [export.id]


@pytest.mark.parametrize(
    "raw, message",
    [
        ("{nope", "not valid JSON"),
        ("[1]", "must be a JSON object"),
        ('{"captions": "yes"}', "captions must be true or false"),
        ('{"subtitles": true}', "Unknown option"),
    ],
)
def test_a_bad_body_is_a_400(client, make_project, raw: str, message: str):
    response = post(client, make_project(1).id, raw=raw)
    assert response.status_code == 400 and message in response.json()["error"]
    assert not Export.objects.exists()


def test_another_users_project_is_a_404(client, make_project, other_user):
    project = make_project(1, owner=other_user)
    assert post(client, project.id).status_code == 404
    assert client.get(f"/api/v1/projects/{project.id}/exports").status_code == 404
    assert Client().post(f"/api/v1/projects/{project.id}/export").status_code == 401
    assert not Export.objects.exists()


def test_a_second_export_while_one_runs_is_a_409(client, make_project):
    project = make_project(1)
    first = post(client, project.id).json()["exportId"]
    response = post(client, project.id)
    assert response.status_code == 409
    assert response.json()["exportId"] == first
    Export.objects.get(id=first).request_cancel()
    assert post(client, project.id).status_code == 202


def test_without_stand_ins_unready_scenes_are_a_409_listing_them(client, make_project):
    project = make_project(2)
    response = post(client, project.id, {"standins": False})
    assert response.status_code == 409
    assert [s["position"] for s in response.json()["scenes"]] == [1, 2]


def test_the_api_cancels_an_export(client, make_project):
    project = make_project(1)
    export_id = post(client, project.id).json()["exportId"]
    url = f"/api/v1/projects/{project.id}/exports/{export_id}/cancel"
    assert client.post(url).status_code == 202
    assert Export.objects.get(id=export_id).status == ExportStatus.CANCELLED
    assert client.post(url).status_code == 409


def test_the_page_lists_unready_scenes_and_starts_and_cancels_an_export(
    client, make_project, media: Path
):
    project = ready_project(make_project, media, [1.0, 1.0], clips=[True, False])
    page = client.get(f"/projects/{project.id}/").content.decode()
    assert 'id="export-panel"' in page
    assert "1 scene without an up-to-date clip" in page and "Scene 2</a> · missing" in page
    assert "Export with stand-ins" in page and "Generate them first" in page

    response = client.post(
        f"/projects/{project.id}/export/",
        {"captions": "on", "standins": "on"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    export = Export.objects.get()
    assert export.captions and export.standins and not export.fades
    assert "Cancel export" in response.content.decode()

    response = client.post(
        f"/projects/{project.id}/exports/{export.id}/cancel/", HTTP_HX_REQUEST="true"
    )
    export.refresh_from_db()
    assert export.status == ExportStatus.CANCELLED
    assert "Cancelled" in response.content.decode()


def test_the_page_lists_finished_exports_with_a_download_link(client, make_project):
    project = make_project(1)
    Export.objects.create(
        project=project, status=ExportStatus.SUCCEEDED, file="projects/1/exports/export-1.mp4",
        duration=12.5, size=2_500_000,
    )  # fmt: skip
    page = client.get(f"/projects/{project.id}/").content.decode()
    assert "12.5 s" in page and "2.4\xa0MB" in page
    assert 'href="/media/projects/1/exports/export-1.mp4" download' in page


def test_the_page_refuses_an_export_without_stand_ins_while_scenes_are_not_ready(
    client, make_project
):
    project = make_project(1)
    response = client.post(f"/projects/{project.id}/export/", {}, HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert "generate them first" in response.content.decode()
    assert not Export.objects.exists()
