"""What brings an open storyboard up to date, rendered from the rows.

Each component renders through its own module (the toolbar, a scene's row, the export
panel) for the page, the htmx responses and the live updates alike, so a reload, an htmx
response and a live update always agree.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from exports.models import Export
from generation.models import GenerationJob, GenerationRun, JobStatus, Worker
from projects.models import Project
from projects.vocabulary import Asset, Stage
from storyboard.export_panel import PANEL, panel_context
from storyboard.rows import attach_jobs, render_assets
from storyboard.toolbar import TOOLBAR, toolbar_context


@dataclass
class LiveState:
    """What a connected page has been sent so far."""

    run_id: int | None = None
    run_active: bool = False
    signature: tuple = ()
    # Rows changed at or after this were not yet sent.
    since: datetime | None = None
    # When the page was rendered: a run that ended after it is news to the creator.
    opened: datetime | None = None
    # What the export panel it has was drawn from (see panel_key).
    panel: tuple | None = None

    @classmethod
    def from_page(cls, query: dict[str, str]) -> LiveState:
        # The page's own values, but anyone can open the socket with anything: a value
        # that isn't a run id or an aware time is ignored (the page then gets everything).
        run = query.get("run", "")
        try:
            rendered = parse_datetime(query.get("since", ""))
        except ValueError:  # well-formed but impossible, such as February 30th
            rendered = None
        if rendered is not None and timezone.is_naive(rendered):
            rendered = None
        run_id = int(run) if run.isascii() and run.isdigit() else None
        return cls(
            run_id=run_id if run_id is not None and run_id < 2**63 else None,
            run_active=query.get("active") == "1",
            since=rendered,
            opened=rendered or timezone.now(),
        )


def signature(project_id: int) -> tuple:
    """Changes whenever anything the page shows of the latest run or export changes.

    Raw SQL because every open project polls it and every live update starts with it:
    through the ORM (an annotated GROUP BY) it cost five times the queries' own time."""
    cutoff = timezone.now() - timedelta(seconds=settings.WORKER_STALE_AFTER)
    with connection.cursor() as cursor:
        cursor.execute(LATEST_RUN_SQL, [project_id])
        latest = cursor.fetchone()
        cursor.execute(LATEST_EXPORT_SQL, [project_id])
        export = cursor.fetchone()
        cursor.execute(LIVE_WORKERS_SQL, [connection.ops.adapt_datetimefield_value(cutoff)])
        live = tuple(cursor.fetchall())
    run_part = (*latest[:3], as_datetime(latest[3])) if latest else ()
    # The latest export's progress rides along, so the poll sees it change too; it goes
    # last so the run's fields keep their places. Workers coming and going change what
    # the toolbar says ("waiting for a worker that makes clips").
    tail = (("workers", *live),) if live else ()
    return (*run_part, *tail, ("export", *export)) if export else (*run_part, *tail)


LATEST_RUN_SQL = f"""
    SELECT r.id, r.status, r.current_stage,
           (SELECT MAX(j.updated) FROM {GenerationJob._meta.db_table} j WHERE j.run_id = r.id)
    FROM {GenerationRun._meta.db_table} r WHERE r.project_id = %s
    ORDER BY r.created DESC, r.id DESC LIMIT 1
"""
LIVE_WORKERS_SQL = f"""
    SELECT name, stages, threads FROM {Worker._meta.db_table} WHERE last_seen >= %s ORDER BY name
"""
LATEST_EXPORT_SQL = f"""
    SELECT id, status, step FROM {Export._meta.db_table} WHERE project_id = %s
    ORDER BY created DESC, id DESC LIMIT 1
"""


def as_datetime(value: datetime | str | None) -> datetime | None:
    # SQLite hands raw queries its text form (UTC).
    if isinstance(value, str):
        parsed = parse_datetime(value)
        assert parsed is not None
        return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)
    return value


def export_part(sig: tuple) -> tuple | None:
    return sig[-1] if sig and isinstance(sig[-1], tuple) and sig[-1][0] == "export" else None


def workers_part(sig: tuple) -> tuple | None:
    return next((p for p in sig if isinstance(p, tuple) and p[0] == "workers"), None)


# Updates already rendered, shared by every tab in the same state: fifty tabs watching
# a run cost one render per change, not fifty.
_updates: OrderedDict[tuple, tuple[list[str], LiveState, GenerationRun | None, dict]] = (
    OrderedDict()
)


def render_update(project_id: int, seen: LiveState) -> tuple[str, LiveState]:
    """The HTML that brings a page from `seen` to now, and the new state."""
    parts, new = render_many(project_id, [seen])[1][0]
    return "\n".join(parts), new


def render_many(
    project_id: int, states: list[LiveState]
) -> tuple[tuple, list[tuple[list[str], LiveState]]]:
    """What brings each page from its state to now, as separate top-level elements (each
    swapped into the page on its own), from one read of the rows; and the signature read.
    Pages in the same state share one render."""
    sig = signature(project_id)
    if sig and all(sig == seen.signature for seen in states):
        return sig, [([], seen) for seen in states]
    project = Project.objects.get(id=project_id)
    # Pending counts are part of the key: an edit changes them without touching the run,
    # and a page opened after it must not get an older toolbar.
    counts = project.pending_counts()
    counted = tuple(counts.items())
    results: list[tuple[list[str], LiveState]] = []
    # With no run or export the signature says nothing, so such pages are rendered afresh,
    # but once per call.
    fresh: dict[tuple, tuple[list[str], LiveState, GenerationRun | None, dict]] = {}
    for seen in states:
        if sig and sig == seen.signature:
            results.append(([], seen))
            continue
        key = (
            project_id,
            sig,
            counted,
            seen.run_id,
            seen.run_active,
            seen.since,
            seen.signature,
            seen.panel,
        )
        cache = _updates if sig and sig != (workers_part(sig),) else fresh
        if key not in cache:
            cache[key] = render_shared(project, sig, seen, counts)
            while len(_updates) > 256:
                _updates.popitem(last=False)
        parts, new, run, context = cache[key]
        # Only the toast depends on when this page was opened.
        if run is not None and not run.is_active and announce(run, seen):
            parts = [*parts, render_to_string(f"{TOOLBAR}#toast", context)]
        results.append((parts, replace(new, opened=seen.opened)))
    return sig, results


def batches(parts: list[str], limit: int) -> list[str]:
    """Join parts into messages of at most `limit` characters (one part may exceed it)."""
    messages: list[str] = []
    current: list[str] = []
    size = 0
    for part in parts:
        if current and size + len(part) > limit:
            messages.append("\n".join(current))
            current, size = [], 0
        current.append(part)
        size += len(part) + 1
    if current:
        messages.append("\n".join(current))
    return messages


def render_shared(
    project: Project, sig: tuple, seen: LiveState, counts: dict
) -> tuple[list[str], LiveState, GenerationRun | None, dict]:
    context = toolbar_context(project, counts=counts)
    run = context["run"]
    parts: list[str] = [render_to_string(f"{TOOLBAR}#toolbar", {**context, "oob": True})]
    if run is not None:
        changed = run.jobs.exclude(sentence=None)
        if seen.since is not None and seen.run_id == run.id:
            # A job queued for its stage still shows "waiting" as before: re-sending a
            # thousand unchanged rows at every stage change would stall every open page.
            changed = changed.filter(updated__gte=seen.since).exclude(
                status__in=[JobStatus.PENDING, JobStatus.QUEUED], attempts=0
            )
        else:
            # A run new to this page: a waiting job changes nothing a row shows worth
            # re-sending a thousand rows for; its row updates when the job starts.
            changed = changed.exclude(status__in=[JobStatus.PENDING, JobStatus.QUEUED])
        scene_ids = set(changed.values_list("sentence_id", flat=True))
        if seen.run_id is not None and seen.run_id != run.id:
            # Rows still showing the previous run's failed / skipped / cancelled badges.
            previous = GenerationJob.objects.filter(
                run_id=seen.run_id,
                status__in=[JobStatus.FAILED, JobStatus.SKIPPED, JobStatus.CANCELLED],
            ).exclude(sentence=None)
            scene_ids |= set(previous.values_list("sentence_id", flat=True))
        if scene_ids:
            sentences = list(project.sentences.filter(id__in=scene_ids))
            attach_jobs(sentences, run, every_scene=False)
            parts.extend(render_assets(project, sentence) for sentence in sentences)
    panel = panel_key(sig, counts, context)
    if panel != seen.panel:
        parts.append(render_to_string(PANEL, {**panel_context(project), "oob": True}))
    last = sig[3] if len(sig) > 3 and not isinstance(sig[3], tuple) else None
    since = max(t for t in (last, seen.since) if t) if (last or seen.since) else None
    new = LiveState(
        run_id=run.id if run else None,
        run_active=bool(run and run.is_active),
        signature=sig,
        since=since,
        panel=panel,
    )
    return parts, new, run, context


def panel_key(sig: tuple, counts: dict, context: dict) -> tuple:
    """What the export panel is drawn from, short of reading every scene: the latest
    export, which scenes lack an up-to-date clip (counted), and the run whose failed
    clips it names. A run's end or a clip recorded changes it, so the panel follows a run
    as the toolbar does, and is re-read only then."""
    run, progress = context["run"], context["progress"]
    videos = progress.stages.get(Stage.VIDEOS) if progress else None
    return (
        export_part(sig),
        counts[Asset.VIDEO],
        counts["scenes"],
        run.id if run else None,
        run.status if run else None,
        videos.failed if videos else 0,
    )


def announce(run: GenerationRun, seen: LiveState) -> bool:
    """A finished run earns a toast once: when this page saw it running, or it both
    started and ended since the page was opened (a fast run, or one from the CLI)."""
    if seen.run_id == run.id:
        return seen.run_active
    return bool(seen.opened and run.finished_at and run.created >= seen.opened)
