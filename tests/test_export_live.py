"""An open storyboard sees an export's progress: the live update re-renders its panel."""

from exports.models import Export
from generation import live


def test_export_progress_changes_the_signature_and_re_renders_the_panel(db, make_project):
    project = make_project(2)
    html, seen = live.render_update(project.id, live.LiveState())
    assert 'id="export-panel"' not in html

    export = Export.start(project, inline=True)
    assert live.signature(project.id) != seen.signature
    html, seen = live.render_update(project.id, seen)
    assert 'id="export-panel" class="export-panel" hx-swap-oob="true"' in html
    assert "Export queued" in html

    assert export.claim() and export.report(3, 4)
    html, seen = live.render_update(project.id, seen)
    assert "Rendering the film… 75%" in html
    # Nothing changed: nothing sent.
    assert live.render_update(project.id, seen)[0] == ""
