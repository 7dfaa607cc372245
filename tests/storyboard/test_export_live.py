"""An open storyboard sees an export's progress: the live update re-renders its panel."""

from exports.jobs import start_export
from generation import runs, worker
from generation.models import GenerationRun, JobStatus
from projects.vocabulary import STAGE_ORDER
from storyboard import live


def test_export_progress_changes_the_signature_and_re_renders_the_panel(db, make_project):
    project = make_project(2)
    html, seen = live.render_update(project.id, live.LiveState())
    # A page just connected gets the panel as it is now, like the toolbar.
    assert 'id="export-panel"' in html and "Export queued" not in html

    export = start_export(project, inline=True)
    assert live.signature(project.id) != seen.signature
    html, seen = live.render_update(project.id, seen)
    assert 'id="export-panel" class="export-panel" hx-swap-oob="true"' in html
    assert "Export queued" in html

    assert export.claim() and export.report(3, 4)
    html, seen = live.render_update(project.id, seen)
    assert "Rendering the film… 75%" in html
    # Nothing changed: nothing sent.
    assert live.render_update(project.id, seen)[0] == ""


def run_to_the_end(run: GenerationRun) -> None:
    """As a worker would, in this process: every queued job, stage after stage."""
    while run.is_active:
        for job_id in run.jobs.filter(status=JobStatus.QUEUED).values_list("id", flat=True):
            worker.execute_job(job_id)
        run.refresh_from_db()


def test_the_panel_follows_a_run_as_a_reload_would(db, make_project):
    project = make_project(2)
    html, seen = live.render_update(project.id, live.LiveState())
    assert "2 scenes without an up-to-date clip" in html and "Export with stand-ins" in html

    run_to_the_end(runs.start_run(project, STAGE_ORDER).run)
    html, seen = live.render_update(project.id, seen)
    assert 'id="export-panel" class="export-panel" hx-swap-oob="true"' in html
    assert "without an up-to-date clip" not in html and ">Export</button>" in html

    # New pictures leave both clips out of date: the panel says so without a reload.
    run_to_the_end(runs.start_run(project, ["images"], skip_clean=False).run)
    html, seen = live.render_update(project.id, seen)
    assert "2 scenes without an up-to-date clip" in html and "Scene 1</a> · dirty" in html
    assert live.render_update(project.id, seen)[0] == ""
