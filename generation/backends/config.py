"""The settings the backends read, each with its default, read when asked for (a test's
override_settings, or a changed setting, is seen by the next backend built).

Its own module so that a backend can read a setting without importing the registry that
builds it.
"""

from __future__ import annotations

from typing import Any

from projects.vocabulary import Preset

# Every setting the backends read, with its default. settings.py parses them from the
# environment (same names); a missing one falls back to the value here.
DEFAULTS: dict[str, Any] = {
    "STORYBOARD_PRESET": Preset.DRAFT.value,
    "STORYBOARD_TTS_MODEL": "tts_models/en/ljspeech/vits",
    "STORYBOARD_IMAGE_MODEL": "stabilityai/sd-turbo",
    "STORYBOARD_IMAGE_STEPS": 4,
    "STORYBOARD_IMAGE_GUIDANCE": 0.0,
    "STORYBOARD_VIDEO_BACKEND": "camera",
    "STORYBOARD_SVD_MODEL": "stabilityai/stable-video-diffusion-img2vid-xt",
    "STORYBOARD_SVD_STEPS": 25,
    "STORYBOARD_DEVICE": "auto",
    "STORYBOARD_FREE_MODELS_BETWEEN_STAGES": False,
    "STORYBOARD_HUB_OFFLINE": True,
    # The draft narration voice of projects whose `voice` is blank: "" is espeak-ng; a neural
    # voice's name ("joe") makes it the default, for deployments that accept its licence.
    "STORYBOARD_DRAFT_VOICE": "",
}


def setting(name: str) -> Any:
    from django.conf import settings

    return getattr(settings, name, DEFAULTS[name])
