"""Narration with coqui-tts, loaded once per worker.

The model setting is either a coqui model name ("tts_models/en/ljspeech/vits"), looked up in
coqui's download folder, or a local folder holding a checkpoint and its config.json.
"""

from __future__ import annotations

import logging
import re
import threading
import wave
from pathlib import Path
from typing import Any

import numpy as np

from media.ffmpeg import new_temp_path, removed_on_error

from .base import BackendError, GeneratedAsset, JobInput, StepCallback
from .devices import (
    LOAD_COUNTS,
    looks_like_path,
    model_load_error,
    out_of_memory_as_job_error,
    resolve_device,
)

logger = logging.getLogger(__name__)

SETTING = "STORYBOARD_TTS_MODEL"
# Synthesise sentence by sentence: it bounds memory and lets a cancel land between chunks.
_SENTENCE_END = re.compile(r"(?<=[.!?;:…])\s+")
_CHECKPOINT_NAMES = ("model_file.pth", "model_file.pth.tar", "model.pth", "checkpoint.pth")


def split_chunks(text: str) -> list[str]:
    return [chunk for chunk in (c.strip() for c in _SENTENCE_END.split(text)) if chunk]


def find_model_files(folder: Path) -> tuple[Path, Path]:
    """The checkpoint and config.json in a model folder, as coqui's own downloads lay them out."""
    config = folder / "config.json"
    if not config.is_file():
        raise FileNotFoundError(f"no config.json in {folder}")
    for name in _CHECKPOINT_NAMES:
        if (folder / name).is_file():
            return folder / name, config
    checkpoints = sorted(folder.glob("*.pth")) + sorted(folder.glob("*.pt"))
    if len(checkpoints) == 1:
        return checkpoints[0], config
    raise FileNotFoundError(f"no single model checkpoint (.pth) in {folder}")


def pick(wanted: str, available: list[str], what: str) -> str:
    """The project's choice if the model has it, else a close match, else the model's first."""
    wanted = (wanted or "").strip()
    if wanted in available:
        return wanted
    lowered = {name.lower(): name for name in available}
    for candidate in (wanted.lower(), wanted.lower().replace("_", "-").split("-")[0]):
        if candidate in lowered:
            return lowered[candidate]
    if wanted:
        logger.warning("The TTS model has no %s %r; using %r.", what, wanted, available[0])
    return available[0]


def write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm.tobytes())


class CoquiSpeechBackend:
    def __init__(self, model: str, *, device: str = "auto", offline: bool = True) -> None:
        self.model = model
        self.device = resolve_device(device)
        self.offline = offline
        self.tts: Any = None
        self._lock = threading.RLock()

    def load(self) -> None:
        with self._lock:
            if self.tts is None:
                self.tts = self._load()
                LOAD_COUNTS["speech"] += 1

    def _load(self) -> Any:
        from TTS.api import TTS

        try:
            if looks_like_path(self.model):
                folder = Path(self.model).expanduser()
                if not folder.is_dir():
                    raise model_load_error("Speech", self.model, SETTING, offline=self.offline)
                checkpoint, config = find_model_files(folder)
                tts = TTS(model_path=str(checkpoint), config_path=str(config), progress_bar=False)
            else:
                if self.offline and not self.is_downloaded(self.model):
                    raise model_load_error("Speech", self.model, SETTING, offline=True)
                tts = TTS(model_name=self.model, progress_bar=False)
            tts.to(self.device)
        except BackendError:
            raise
        except Exception as error:
            raise model_load_error(
                "Speech", self.model, SETTING, error, offline=self.offline
            ) from error
        logger.info("Loaded speech model %s on %s.", self.model, self.device)
        return tts

    @staticmethod
    def is_downloaded(name: str) -> bool:
        from TTS.utils.manage import ModelManager

        manager = ModelManager(progress_bar=False)
        try:
            _, full_name, _ = manager._set_model_item(name)
        except (KeyError, ValueError):
            return False
        return (Path(manager.output_prefix) / full_name).is_dir()

    def unload(self) -> None:
        with self._lock:
            self.tts = None

    def generate(self, job: JobInput, on_step: StepCallback) -> GeneratedAsset:
        chunks = split_chunks(job.text)
        if not chunks:
            raise BackendError("This scene has no text to narrate.")
        self.load()
        with self._lock:
            tts = self.tts
            options: dict[str, str] = {}
            if tts.is_multi_speaker and tts.speakers:
                options["speaker"] = pick(job.voice, list(tts.speakers), "voice")
            if tts.is_multi_lingual and tts.languages:
                options["language"] = pick(job.language, list(tts.languages), "language")
            sample_rate = int(tts.synthesizer.output_sample_rate)
            pieces: list[np.ndarray] = []
            on_step(0, len(chunks))
            with out_of_memory_as_job_error("the narration"):
                for done, chunk in enumerate(chunks, start=1):
                    wav = tts.tts(chunk, split_sentences=False, **options)
                    pieces.append(np.asarray(wav, dtype=np.float32).reshape(-1))
                    on_step(done, len(chunks))
        samples = np.concatenate(pieces)
        output = new_temp_path(job.work_dir, "audio-", ".wav")
        with removed_on_error(output):
            write_wav(output, samples, sample_rate)
        return GeneratedAsset(path=output, duration=len(samples) / sample_rate)
