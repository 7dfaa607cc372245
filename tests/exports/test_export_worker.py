"""An export queued from the API is rendered by a real huey worker."""

from pathlib import Path

import pytest

from exports.models import Export, ExportStatus
from tests.conftest import wait_for
from tests.support.exports import duration_of, ready_project

pytestmark = pytest.mark.worker


def test_a_worker_renders_the_export_queued_by_the_api(worker, client, make_project, media: Path):
    project = ready_project(make_project, media, [1.0, 1.25])
    response = client.post(
        f"/api/v1/projects/{project.id}/export", data="{}", content_type="application/json"
    )
    assert response.status_code == 202
    export = Export.objects.get(id=response.json()["exportId"])

    def finished():  # type: ignore[no-untyped-def]
        export.refresh_from_db()
        return not export.is_active

    wait_for(finished, timeout=60)
    assert export.status == ExportStatus.SUCCEEDED, export.error
    assert export.percent == 100 and export.method == "stream_copy"
    assert abs(duration_of(media / export.file) - 2.25) <= 2 / 12
    listed = client.get(f"/api/v1/projects/{project.id}/exports").json()["exports"]
    assert listed[0]["status"] == "succeeded" and listed[0]["file"].endswith(".mp4")
