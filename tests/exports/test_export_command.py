"""`manage.py export`: exit 0 with the film's path, 1 failed, 2 refused."""

from io import StringIO
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import CommandError

from exports.jobs import start_export
from exports.models import Export, ExportStatus
from tests.support.exports import ready_project


def run_command(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("export", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    except CommandError as e:
        code = e.returncode
        err.write(str(e))
    return code, out.getvalue(), err.getvalue()


def test_it_exports_inline_and_prints_the_path(db, make_project, media: Path):
    project = ready_project(make_project, media, [1.0, 1.0], clips=[True, False])
    code, out, err = run_command(str(project.id), "--inline", "--captions")
    assert code == 0, err
    export = Export.objects.get()
    assert export.status == ExportStatus.SUCCEEDED and export.captions
    assert out.strip() == str(media / export.file) and Path(out.strip()).is_file()
    assert "Scenes 2 have no up-to-date clip: using stand-ins." in err


def test_bad_arguments_exit_2(db, make_project, media: Path):
    assert run_command("nope")[0] == 2
    assert run_command("999")[0] == 2
    project = ready_project(make_project, media, [1.0], clips=[False])
    code, _, err = run_command(str(project.id), "--inline", "--no-standins")
    assert code == 2 and "generate them first" in err
    start_export(project)
    code, _, err = run_command(str(project.id), "--inline")
    assert code == 2 and "already in progress" in err


def test_a_failed_export_exits_1(db, make_project, media: Path):
    project = ready_project(make_project, media, [1.0])
    clip = media / project.sentences.get().video_file.name
    clip.write_bytes(b"not a video")
    code, out, err = run_command(str(project.id), "--inline")
    assert code == 1 and out == ""
    assert "could not be read" in err
    assert Export.objects.get().status == ExportStatus.FAILED
