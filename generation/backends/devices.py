"""Device choice, load bookkeeping and out-of-memory handling shared by the model backends."""

from __future__ import annotations

import collections
import contextlib
import gc
import logging
from collections.abc import Iterator
from typing import Any

from .base import BackendError

logger = logging.getLogger(__name__)

# How many times each model was loaded in this process, by kind ("images", "speech", "svd").
# Models must load once per worker: tests and `check_models` read this to prove it.
LOAD_COUNTS: collections.Counter[str] = collections.Counter()


def resolve_device(setting: str) -> str:
    """ "auto" means the GPU when there is one; anything else is passed to torch as given."""
    import torch

    setting = (setting or "auto").strip().lower()
    if setting == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return setting


def torch_dtype(device: str) -> Any:
    """Half precision on the GPU (half the memory, same pictures); CPU kernels want float32."""
    import torch

    return torch.float16 if device.startswith("cuda") else torch.float32


def free_memory() -> None:
    gc.collect()
    with contextlib.suppress(Exception):
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()


@contextlib.contextmanager
def out_of_memory_as_job_error(what: str) -> Iterator[None]:
    """Turn CUDA OOM into a job failure after freeing memory, so the next job can still run."""
    import torch

    try:
        yield
    except torch.OutOfMemoryError:
        free_memory()
        logger.warning("Out of GPU memory while generating %s.", what, exc_info=True)
        raise BackendError(
            f"Out of GPU memory while generating {what}. Try a smaller size, or set "
            "STORYBOARD_FREE_MODELS_BETWEEN_STAGES=1 so only one model is kept in memory."
        ) from None


def looks_like_path(name: str) -> bool:
    """Whether a model setting names a folder rather than a hub id like "owner/model"."""
    from pathlib import Path

    return name.startswith((".", "/", "~")) or "\\" in name or Path(name).expanduser().exists()


def model_source(kind: str, name: str, setting: str, *, offline: bool) -> str:
    """What to hand `from_pretrained`: an expanded local folder, or the hub id as given."""
    from pathlib import Path

    if not looks_like_path(name):
        return name
    folder = Path(name).expanduser()
    if not folder.is_dir():
        raise model_load_error(kind, name, setting, offline=offline)
    return str(folder)


def model_load_error(
    kind: str, name: str, setting: str, error: BaseException | None = None, *, offline: bool
) -> BackendError:
    """One readable line saying what failed and which setting to change."""
    from .base import SystemicBackendError

    if looks_like_path(name):
        from pathlib import Path

        reason = (
            "folder not found" if not Path(name).expanduser().exists() else "not a model folder"
        )
        advice = f"Set {setting} to a local folder or hub id."
    elif offline:
        reason = "not in the local model cache and downloads are off"
        advice = (
            f"Run `manage.py download_models` with internet access, set STORYBOARD_HUB_OFFLINE=0, "
            f"or set {setting} to a local folder."
        )
    else:
        reason = "download or load failed"
        advice = f"Check {setting} and the network."
    if error is not None and not isinstance(error, (OSError, FileNotFoundError)):
        detail = str(error).strip().splitlines()[0][:160] if str(error).strip() else ""
        reason = f"{type(error).__name__}: {detail}" if detail else type(error).__name__
    return SystemicBackendError(f"{kind} model '{name}' could not be loaded: {reason}. {advice}")
