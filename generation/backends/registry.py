"""Which backend does which stage, built from settings and kept for the life of the worker.

`get_backend(stage, preset)` is the engine's factory (settings.STORYBOARD_BACKEND_FACTORY).
Backends are cached per (stage, preset, the settings they were built from), so a model loads on
the first job that needs it and stays resident for every later job; changing a setting builds a
fresh backend. With STORYBOARD_FREE_MODELS_BETWEEN_STAGES, asking for one stage's backend drops
the others first, for GPUs that can't hold the speech, image and video models at once.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from projects.vocabulary import STAGE_ORDER, Preset, Stage

from .base import Backend, SystemicBackendError
from .config import setting
from .devices import LOAD_COUNTS, free_memory

DRAFT = Preset.DRAFT.value
STUDIO = Preset.STUDIO.value
PRESETS = tuple(Preset.values)

# The settings each studio backend is built from: part of its cache key.
_STUDIO_SETTINGS: dict[str, tuple[str, ...]] = {
    Stage.AUDIO: ("STORYBOARD_TTS_MODEL", "STORYBOARD_DEVICE", "STORYBOARD_HUB_OFFLINE"),
    Stage.IMAGES: (
        "STORYBOARD_IMAGE_MODEL",
        "STORYBOARD_IMAGE_STEPS",
        "STORYBOARD_IMAGE_GUIDANCE",
        "STORYBOARD_DEVICE",
        "STORYBOARD_HUB_OFFLINE",
    ),
    Stage.VIDEOS: (
        "STORYBOARD_VIDEO_BACKEND",
        "STORYBOARD_SVD_MODEL",
        "STORYBOARD_SVD_STEPS",
        "STORYBOARD_DEVICE",
        "STORYBOARD_HUB_OFFLINE",
    ),
}

_cache: dict[tuple[Any, ...], Backend] = {}
_lock = threading.Lock()


def _key(stage: str, preset: str) -> tuple[Any, ...]:
    names = _STUDIO_SETTINGS[stage] if preset == STUDIO else ()
    return (stage, preset, *(setting(name) for name in names))


def _build(stage: str, preset: str) -> Backend:
    from .camera import CameraMoveBackend

    if preset == DRAFT:
        from .draft import DraftSpeechBackend, StoryboardCardBackend

        draft: dict[str, type[Backend]] = {
            Stage.AUDIO: DraftSpeechBackend,
            Stage.IMAGES: StoryboardCardBackend,
            Stage.VIDEOS: CameraMoveBackend,
        }
        return draft[stage]()
    device = str(setting("STORYBOARD_DEVICE"))
    offline = bool(setting("STORYBOARD_HUB_OFFLINE"))
    if stage == Stage.AUDIO:
        from .speech import CoquiSpeechBackend

        return CoquiSpeechBackend(
            str(setting("STORYBOARD_TTS_MODEL")), device=device, offline=offline
        )
    if stage == Stage.IMAGES:
        from .images import DiffusersImageBackend

        return DiffusersImageBackend(
            str(setting("STORYBOARD_IMAGE_MODEL")),
            steps=int(setting("STORYBOARD_IMAGE_STEPS")),
            guidance=float(setting("STORYBOARD_IMAGE_GUIDANCE")),
            device=device,
            offline=offline,
        )
    video = str(setting("STORYBOARD_VIDEO_BACKEND")).lower()
    if video == "svd":
        from .svd import StableVideoBackend

        return StableVideoBackend(
            str(setting("STORYBOARD_SVD_MODEL")),
            steps=int(setting("STORYBOARD_SVD_STEPS")),
            device=device,
            offline=offline,
        )
    if video != "camera":
        raise SystemicBackendError(
            f"Unknown video backend '{video}'. Set STORYBOARD_VIDEO_BACKEND to camera or svd."
        )
    return CameraMoveBackend()


def get_backend(stage: str, preset: str | None = None) -> Backend:
    """The backend for `stage` under `preset` ("draft" or "studio"; default: the setting)."""
    preset = preset or str(setting("STORYBOARD_PRESET"))
    if stage not in STAGE_ORDER:
        raise ValueError(f"Unknown stage {stage!r}; expected one of {', '.join(STAGE_ORDER)}.")
    if preset not in PRESETS:
        raise SystemicBackendError(
            f"Unknown preset '{preset}'. Set STORYBOARD_PRESET to draft or studio."
        )
    key = _key(stage, preset)
    with _lock:
        if setting("STORYBOARD_FREE_MODELS_BETWEEN_STAGES"):
            _release(lambda other: other[0] != stage)
        backend = _cache.get(key)
        if backend is None:
            backend = _cache[key] = _build(stage, preset)
    return backend


def _release(drop: Callable[[tuple[Any, ...]], bool]) -> int:
    dropped = [key for key in _cache if drop(key)]
    for key in dropped:
        unload = getattr(_cache.pop(key), "unload", None)
        if unload is not None:
            unload()
    if dropped:
        free_memory()
    return len(dropped)


def release_backends(except_stage: str | None = None) -> int:
    """Drop cached backends (and their models) of every stage but `except_stage`."""
    with _lock:
        return _release(lambda key: key[0] != except_stage)


def load_count(kind: str | None = None) -> int:
    """Model loads in this process: "speech", "images", "svd", or all of them."""
    return LOAD_COUNTS[kind] if kind else sum(LOAD_COUNTS.values())


@dataclass(frozen=True)
class Requirement:
    """Something a preset needs, and how to check it is usable (raises BackendError if not)."""

    label: str
    check: Callable[[], str]


def _check_ffmpeg() -> str:
    import subprocess

    from media.ffmpeg import ffmpeg_exe

    try:
        exe = ffmpeg_exe()
        result = subprocess.run([exe, "-version"], capture_output=True, text=True, check=False)
    except (OSError, RuntimeError) as error:
        raise SystemicBackendError(
            f"ffmpeg not usable: {error}. Reinstall imageio-ffmpeg."
        ) from error
    if result.returncode != 0:
        raise SystemicBackendError("ffmpeg not usable. Reinstall imageio-ffmpeg.")
    return result.stdout.splitlines()[0] if result.stdout else exe


def _check_model(stage: str, preset: str) -> Callable[[], str]:
    def check() -> str:
        backend = get_backend(stage, preset)
        backend.load()  # type: ignore[attr-defined]
        return f"loaded on {backend.device}"  # type: ignore[attr-defined]

    return check


def requirements(preset: str) -> list[Requirement]:
    """What `preset` needs, in stage order, for `check_models`."""
    from .draft import check_espeak

    items = [Requirement("ffmpeg (imageio-ffmpeg)", _check_ffmpeg)]
    if preset == DRAFT:
        from .neural_voice import check_neural_voices

        return [
            *items,
            Requirement("narration voice", check_espeak),
            Requirement("neural voices", check_neural_voices),
        ]
    items += [
        Requirement(
            f"speech model {setting('STORYBOARD_TTS_MODEL')}", _check_model(Stage.AUDIO, preset)
        ),
        Requirement(
            f"image model {setting('STORYBOARD_IMAGE_MODEL')}", _check_model(Stage.IMAGES, preset)
        ),
    ]
    if str(setting("STORYBOARD_VIDEO_BACKEND")).lower() == "svd":
        label = f"video model {setting('STORYBOARD_SVD_MODEL')}"
        items.append(Requirement(label, _check_model(Stage.VIDEOS, preset)))
    return items


@dataclass(frozen=True)
class Voice:
    """A value a project's `voice` setting can take under a preset, and what it means."""

    name: str
    label: str


def available_voices(preset: str) -> list[Voice]:
    """The voices really installed for `preset`: what the settings form offers and what a
    project's `voice` is checked against. The first one ("") is the preset's default."""
    if preset == STUDIO:
        return [Voice("", "The speech model's default speaker"), *_studio_speakers()]
    from . import neural_voice
    from .espeak import espeak_voices

    default = str(setting("STORYBOARD_DRAFT_VOICE"))
    voices = [Voice("", _draft_default_label(default))]
    for voice in neural_voice.NEURAL_VOICES.values():
        if neural_voice.usable(voice.name):
            voices.append(Voice(voice.name, f"{voice.label}; {voice.licence_note}"))
    voices += [Voice(code, f"espeak-ng: {name}") for code, name in espeak_voices()]
    return voices


def _draft_default_label(default: str) -> str:
    from . import neural_voice
    from .espeak import espeak_exe

    if neural_voice.usable(default):
        return f"Default: the neural voice '{default}'"
    if espeak_exe():
        return "Default: espeak-ng in the project's language"
    return "Default: silence timed to the text (espeak-ng is not installed)"


def _studio_speakers() -> list[Voice]:
    """Speakers a local coqui model folder names in its speakers.json; a model named by hub id
    says which it has only once downloaded and loaded, so none are listed for it."""
    import json
    from pathlib import Path

    from .devices import looks_like_path

    model = str(setting("STORYBOARD_TTS_MODEL"))
    speakers_file = Path(model).expanduser() / "speakers.json"
    if not looks_like_path(model) or not speakers_file.is_file():
        return []
    try:
        names = json.loads(speakers_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [Voice(str(name), f"Speaker {name}") for name in names]


# Studio with a speech model named by hub id: its speakers are known only once it is loaded,
# so a plain name is let through here and checked by the job against the loaded model.
PLAIN_NAME = re.compile(r"[\w][\w .'-]{0,99}")


def voice_offered(preset: str, name: str) -> bool:
    """Whether `name` may be a project's voice under `preset`: one of its available voices
    (a draft voice goes to espeak-ng as an argument, so nothing else ever may)."""
    voices = available_voices(preset)
    if name in {v.name for v in voices}:
        return True
    return preset == STUDIO and len(voices) == 1 and PLAIN_NAME.fullmatch(name) is not None


def available_languages(preset: str) -> list[str]:
    """Language codes a project may have under `preset`: those its narration can speak
    (espeak-ng's voices, which coqui's phonemes come from too) and those the script
    splitter knows. English always."""
    import pysbd.languages

    from .espeak import espeak_voices

    codes = {"en", *pysbd.languages.LANGUAGE_CODES, *(code for code, _ in espeak_voices())}
    return sorted(code.lower() for code in codes)
