from django import template

from generation.backends.registry import Voice, available_voices

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
