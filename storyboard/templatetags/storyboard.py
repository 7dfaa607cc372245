from __future__ import annotations

from dataclasses import dataclass

from django import template

from generation.backends.registry import Voice, available_voices
from generation.models import JobStatus
from projects.models import Sentence

register = template.Library()


@register.simple_tag
def voice_options(preset: str) -> list[Voice]:
    """The voices installed for `preset`, for the project settings' voice list."""
    return available_voices(preset)


@register.filter
def time_left(seconds: float | None) -> str:
    """ "about 3 min left" — rounded the way people say it."""
    if seconds is None:
        return ""
    if seconds < 60:
        return "less than a minute left"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"about {minutes} min left"
    return f"about {seconds / 3600:.1f} h left"


@register.filter
def pct(value: float) -> str:
    """A CSS width that doesn't depend on the locale's decimal separator."""
    return f"{value:.2f}%"


@register.filter
def media_url(name: str) -> str:
    """The URL of a stored file by its name (a take's file, which isn't a FileField)."""
    from django.core.files.storage import default_storage

    return default_storage.url(name)


@register.filter
def about(seconds: float | None) -> str:
    """A quote: "about 4 min"."""
    from generation.estimates import about as spoken

    return "" if seconds is None else spoken(seconds)


@register.filter
def duration(seconds: float | None) -> str:
    """What a run took: "3 min 10 s"."""
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{round(seconds)} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    return f"{minutes // 60} h {minutes % 60} min"


@dataclass(frozen=True)
class AssetState:
    """What a scene's asset cell says: one word for the pill (which never wraps), a CSS
    state class, and the reason a job gave, shown beside it where there is one."""

    state: str
    label: str
    reason: str = ""


@register.simple_tag
def asset_state(sentence: Sentence, asset: str) -> AssetState:
    has_file = bool(getattr(sentence, f"{asset}_file"))
    dirty = sentence.is_dirty(asset)
    job = getattr(sentence, "live_jobs", {}).get(asset)
    if job is None:
        if dirty:
            return (
                AssetState("stale", "out of date")
                if has_file
                else AssetState("missing", "not made")
            )
        return AssetState("done", "done")
    status = job.status
    if status == JobStatus.RUNNING:
        steps = f" {job.step}/{job.total_steps}" if job.total_steps else ""
        return AssetState(JobStatus.RUNNING.value, f"running{steps}")
    if status in (JobStatus.QUEUED, JobStatus.PENDING):
        return AssetState("waiting", "waiting")
    if status == JobStatus.FAILED:
        return AssetState(JobStatus.FAILED.value, "failed", job.error)
    if status == JobStatus.SKIPPED:
        return AssetState(JobStatus.SKIPPED.value, "skipped", job.error)
    if status == JobStatus.CANCELLED and dirty:
        return AssetState(JobStatus.CANCELLED.value, "cancelled")
    if dirty:
        return AssetState("stale", "out of date") if has_file else AssetState("missing", "not made")
    return AssetState("done", "done")
