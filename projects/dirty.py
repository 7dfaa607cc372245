"""Which edits make which assets out of date: the one place these rules live.

Video length follows the narration and its frames follow the picture, so anything
that dirties audio or image dirties video too.
"""

from projects.vocabulary import Asset

AUDIO = Asset.AUDIO.value
IMAGE = Asset.IMAGE.value
VIDEO = Asset.VIDEO.value

SENTENCE_FIELD_DIRTIES: dict[str, frozenset[str]] = {
    "text": frozenset({AUDIO, VIDEO}),
    "image_prompt": frozenset({IMAGE, VIDEO}),
    "seed": frozenset({IMAGE, VIDEO}),
    "camera_movement": frozenset({VIDEO}),
    "motion_strength": frozenset({VIDEO}),
}

PROJECT_FIELD_DIRTIES: dict[str, frozenset[str]] = {
    "voice": frozenset({AUDIO, VIDEO}),
    "language": frozenset({AUDIO, VIDEO}),
    "style_prompt": frozenset({IMAGE, VIDEO}),
    "width": frozenset({IMAGE, VIDEO}),
    "height": frozenset({IMAGE, VIDEO}),
    "preset": frozenset({AUDIO, IMAGE, VIDEO}),
    "fps": frozenset({VIDEO}),
}

# A new asset of this kind makes these downstream assets out of date.
NEW_ASSET_DIRTIES: dict[str, frozenset[str]] = {
    AUDIO: frozenset({VIDEO}),
    IMAGE: frozenset({VIDEO}),
    VIDEO: frozenset(),
}


def dirtied_by(changed_fields: set[str], rules: dict[str, frozenset[str]]) -> set[str]:
    assets: set[str] = set()
    for field in changed_fields:
        assets |= rules.get(field, frozenset())
    return assets


def flag_name(asset: str) -> str:
    return f"is_{asset}_dirty"
