"""GPU figures for the studio preset, taken on full-size architectures with random weights.

No model hub is reachable, so the models are built from their published configurations with
random weights: the compute, memory and load path are those of the real models, the pictures
are noise. Everything goes through the project's own backends (the code a worker runs), so the
load time is `from_pretrained` + `.to(device)` of a saved pipeline, and cancel latency is a
cancel landing at a random moment of a step until the backend has given up and the GPU is idle.

Needs only torch, diffusers (and transformers, Pillow, which diffusers brings); no Django, no
database, so it runs on a bare GPU machine with diffusers carried as a wheel:

    python benchmarks/gpu.py                 # full size, CUDA, fp16; prints every figure
    python benchmarks/gpu.py --tiny          # the tests' tiny models on the CPU: what the tests run

Figures (full size; designed to finish well inside 8 minutes on one H200):
- SD-Turbo-class text to image (SD 2.1 UNet, OpenCLIP ViT-H text encoder, SD VAE) at
  512x512, 4 steps: per-step time, images/s at batch 1 and at batch 4 (one pipeline call with a
  generator per picture, as the batched worker makes them), peak GPU memory, load time.
- SVD-XT-class image to video (spatio-temporal UNet, ViT-H image encoder, temporal VAE decoder),
  25 frames at 576x1024, 25 steps: seconds per clip, peak GPU memory, load time.
- Cancel latency for both: cancel requested mid-step -> job ended (backend raised, GPU idle).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generation.backends.base import JobCancelled, JobInput  # noqa: E402


@dataclass(frozen=True)
class Scale:
    """Everything that differs between the full-size run and the CPU smoke run."""

    name: str
    device: str
    image_size: int
    image_steps: int
    image_repeats: int
    batch: int
    video_width: int
    video_height: int
    video_frames: int
    video_steps: int
    cancel_steps: int
    cancel_repeats: int


FULL = Scale("full", "cuda", 512, 4, 5, 4, 1024, 576, 25, 25, 50, 5)
TINY = Scale("tiny", "cpu", 64, 2, 2, 4, 64, 64, 4, 2, 8, 2)


# Architectures -----------------------------------------------------------------------------


def sd_parts() -> dict[str, Any]:
    """SD 2.1 / sd-turbo's architecture (865M UNet, 340M text encoder, 84M VAE)."""
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    from tests.support.tiny_models import clip_tokenizer, sd_turbo_scheduler

    unet = UNet2DConditionModel(
        sample_size=64,
        block_out_channels=(320, 640, 1280, 1280),
        layers_per_block=2,
        down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        cross_attention_dim=1024,
        attention_head_dim=(5, 10, 20, 20),
        use_linear_projection=True,
    )
    vae = AutoencoderKL(
        block_out_channels=[128, 256, 512, 512],
        down_block_types=["DownEncoderBlock2D"] * 4,
        up_block_types=["UpDecoderBlock2D"] * 4,
        layers_per_block=2,
        sample_size=768,
    )
    text = CLIPTextConfig(
        hidden_size=1024,
        intermediate_size=4096,
        num_attention_heads=16,
        num_hidden_layers=23,
        projection_dim=512,
        hidden_act="gelu",
    )
    text.vocab_size, text.max_position_embeddings = 49408, 77
    text.bos_token_id, text.eos_token_id, text.pad_token_id = 0, 1, 1
    with torch.device("cpu"):  # schedulers keep their tables on the CPU
        scheduler = sd_turbo_scheduler()
    return {
        "unet": unet,
        "vae": vae,
        "text_encoder": CLIPTextModel(text),
        "tokenizer": clip_tokenizer(),
        "scheduler": scheduler,
    }


def svd_parts() -> dict[str, Any]:
    """SVD-XT's architecture (1.5B UNet, 632M ViT-H image encoder, 98M VAE)."""
    import torch
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    from tests.support.tiny_models import svd_scheduler

    # diffusers' defaults are SVD's UNet; XT differs only in making 25 frames.
    unet = UNetSpatioTemporalConditionModel(sample_size=96, num_frames=FULL.video_frames)
    vae = AutoencoderKLTemporalDecoder(
        block_out_channels=[128, 256, 512, 512],
        down_block_types=["DownEncoderBlock2D"] * 4,
        layers_per_block=2,
        sample_size=768,
    )
    vision = CLIPVisionConfig(
        hidden_size=1280,
        projection_dim=1024,
        num_hidden_layers=32,
        num_attention_heads=16,
        intermediate_size=5120,
        patch_size=14,
        hidden_act="gelu",
    )
    vision.image_size = 224
    with torch.device("cpu"):  # schedulers keep their tables on the CPU
        scheduler = svd_scheduler()
    return {
        "unet": unet,
        "vae": vae,
        "image_encoder": CLIPVisionModelWithProjection(vision),
        "feature_extractor": CLIPImageProcessor(crop_size=224, size=224),
        "scheduler": scheduler,
    }


def save_pipeline(kind: str, scale: Scale, folder: Path) -> Path:
    """Build the pipeline's parts with random weights and save them as a model folder: the
    tests' own tiny models at the tiny scale."""
    import torch
    from diffusers import StableDiffusionPipeline, StableVideoDiffusionPipeline

    from tests.support.tiny_models import build_tiny_sd, build_tiny_svd

    if scale is TINY:
        return build_tiny_sd(folder) if kind == "sd" else build_tiny_svd(folder)
    torch.manual_seed(0)
    # Built on the device it runs on: initialising 2.5B parameters on the CPU takes minutes.
    with torch.device(scale.device):
        parts = sd_parts() if kind == "sd" else svd_parts()
    if kind == "sd":
        pipe: Any = StableDiffusionPipeline(
            **parts, safety_checker=None, feature_extractor=None, requires_safety_checker=False
        )
    else:
        pipe = StableVideoDiffusionPipeline(**parts)
    if scale.device.startswith("cuda"):
        pipe.to(dtype=torch.float16)
    pipe.save_pretrained(folder)
    del pipe, parts
    free()
    return folder


# Measuring ---------------------------------------------------------------------------------


def free() -> None:
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


@contextlib.contextmanager
def peak_memory(device: str, into: dict[str, Any], key: str) -> Iterator[None]:
    import torch

    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    yield
    if device.startswith("cuda"):
        into[key] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    else:
        into[key] = None


def timed(device: str, work: Callable[[], object]) -> float:
    sync(device)
    begin = time.perf_counter()
    work()
    sync(device)
    return time.perf_counter() - begin


def job(scale: Scale, work_dir: Path, **changes: Any) -> JobInput:
    fields: dict[str, Any] = {
        "stage": "images",
        "sentence_id": 1,
        "position": 1,
        "text": "The keeper climbed the stairs one last time.",
        "image_prompt": "a lighthouse on a cliff at dusk",
        "style_prompt": "watercolor",
        "voice": "",
        "language": "en",
        "width": scale.image_size,
        "height": scale.image_size,
        "fps": 24,
        "camera_movement": "static",
        "motion_strength": 0.5,
        "seed": 1,
        "work_dir": work_dir,
    }
    fields.update(changes)
    return JobInput(**fields)


class Canceller:
    """An on_step that, once armed, gets a cancel at a random moment of the running step and
    raises JobCancelled at the next step report, as the engine's StepReporter does when the
    job's cancel flag is set."""

    def __init__(self, arm_at_step: int, step_seconds: float, rng: random.Random) -> None:
        self.arm_at_step = arm_at_step
        self.step_seconds = step_seconds
        self.rng = rng
        self.cancelled_at: float | None = None
        self._flag = threading.Event()

    def _cancel(self) -> None:
        self.cancelled_at = time.perf_counter()
        self._flag.set()

    def __call__(self, done: int, total: int) -> None:
        if done == self.arm_at_step:
            threading.Timer(self.rng.uniform(0, self.step_seconds), self._cancel).start()
        if self._flag.is_set():
            raise JobCancelled()


def cancel_latency(
    device: str, generate: Callable[[Callable[[int, int], None]], object], step_seconds: float
) -> list[float]:
    """Seconds from a cancel to the job ended (backend raised and the GPU is idle)."""
    rng = random.Random(7)
    latencies = []
    for _ in range(CANCEL_REPEATS):
        canceller = Canceller(2, step_seconds, rng)
        try:
            generate(canceller)
        except JobCancelled:
            sync(device)
            ended = time.perf_counter()
            assert canceller.cancelled_at is not None
            latencies.append(ended - canceller.cancelled_at)
        else:
            raise RuntimeError("the job finished although it was cancelled")
    return latencies


CANCEL_REPEATS = 5


def measure_images(scale: Scale, folder: Path, work: Path, out: dict[str, Any]) -> None:
    from generation.backends.images import DiffusersImageBackend

    model = save_pipeline("sd", scale, folder / "sd")
    backend = DiffusersImageBackend(str(model), steps=scale.image_steps, device=scale.device)
    out["image_load_s"] = round(timed(scale.device, backend.load), 3)
    pipe = backend.pipeline

    def no_steps(done: int, total: int) -> None:
        pass

    def render(batch: int, steps: int) -> None:
        # The worker's own path: one generate_batch call, a seeded generator per scene,
        # each picture fitted and written as its job's PNG.
        backend.steps = steps
        backend.generate_batch([job(scale, work, seed=seed) for seed in range(batch)], no_steps)

    render(1, scale.image_steps)  # warm-up: kernels, allocator, cuDNN autotuning
    render(scale.batch, scale.image_steps)
    with peak_memory(scale.device, out, "image_peak_gib_batch1"):
        full = [
            timed(scale.device, lambda: render(1, scale.image_steps))
            for _ in range(scale.image_repeats)
        ]
    # Per step: the time between step reports, the GPU drained at each (one UNet pass and a
    # scheduler step; the first interval also holds text encoding, so it is left out).
    reports: list[float] = []

    def report(done: int, total: int) -> None:
        sync(scale.device)
        reports.append(time.perf_counter())

    backend.steps = 10
    backend.generate(job(scale, work, seed=2), report)
    per_step = statistics.median(b - a for a, b in zip(reports[1:], reports[2:], strict=False))
    out["image_step_ms"] = round(per_step * 1000, 2)
    out["image_seconds_batch1"] = round(statistics.median(full), 4)
    out["images_per_s_batch1"] = round(1 / statistics.median(full), 2)
    with peak_memory(scale.device, out, f"image_peak_gib_batch{scale.batch}"):
        batched = [
            timed(scale.device, lambda: render(scale.batch, scale.image_steps))
            for _ in range(scale.image_repeats)
        ]
    out[f"images_per_s_batch{scale.batch}"] = round(scale.batch / statistics.median(batched), 2)
    out["images_batch_speedup"] = round(
        out[f"images_per_s_batch{scale.batch}"] / out["images_per_s_batch1"], 2
    )

    # Cancel through the backend a worker runs, on a long job so the cancel lands mid-way.
    long_job = job(scale, work, seed=3)
    cancelling = DiffusersImageBackend(str(model), steps=scale.cancel_steps, device=scale.device)
    cancelling.pipeline = pipe  # the same loaded model, as in a worker
    latencies = cancel_latency(
        scale.device, lambda on_step: cancelling.generate(long_job, on_step), per_step
    )
    out["image_cancel_ms_median"] = round(statistics.median(latencies) * 1000, 1)
    out["image_cancel_ms_max"] = round(max(latencies) * 1000, 1)
    backend.unload()


def measure_video(scale: Scale, folder: Path, work: Path, out: dict[str, Any]) -> None:
    import numpy as np
    import torch
    from PIL import Image

    from generation.backends.svd import SOURCE_FPS, StableVideoBackend

    model = save_pipeline("svd", scale, folder / "svd")
    backend = StableVideoBackend(
        str(model), steps=scale.video_steps, device=scale.device, max_side=scale.video_width
    )
    out["video_load_s"] = round(timed(scale.device, backend.load), 3)
    pipe = backend.pipeline
    width, height = scale.video_width, scale.video_height
    still = Image.fromarray(
        np.random.default_rng(0).integers(0, 255, (height, width, 3), dtype=np.uint8)
    )
    still_path = work / "still.png"
    still.save(still_path)
    step_times: list[float] = []

    def clip(steps: int, on_step: Callable[[int, int], None] | None = None) -> None:
        def step_end(pipe: Any, step: int, timestep: Any, tensors: dict[str, Any]) -> Any:
            step_times.append(time.perf_counter())
            if on_step is not None:
                on_step(step + 1, steps)
            return tensors

        with torch.inference_mode():
            pipe(
                still,
                width=width,
                height=height,
                num_frames=scale.video_frames,
                num_inference_steps=steps,
                fps=SOURCE_FPS,
                decode_chunk_size=8,
                generator=torch.Generator("cpu").manual_seed(1),
                output_type="np",
                callback_on_step_end=step_end,
            )

    clip(2)  # warm-up
    step_times.clear()
    with peak_memory(scale.device, out, "video_peak_gib"):
        seconds = timed(scale.device, lambda: clip(scale.video_steps))
    out["video_seconds_per_clip"] = round(seconds, 2)
    if len(step_times) >= 2:
        out["video_step_s"] = round(
            statistics.median(b - a for a, b in zip(step_times, step_times[1:], strict=False)), 3
        )
    step = out.get("video_step_s", seconds / scale.video_steps)

    # Cancel through the backend a worker runs (the clip is encoded only after denoising).
    video_job = job(
        scale,
        work,
        stage="videos",
        width=width,
        height=height,
        image_path=still_path,
        audio_duration=1.0,
    )
    cancelling = StableVideoBackend(
        str(model), steps=scale.cancel_steps, device=scale.device, max_side=scale.video_width
    )
    cancelling.pipeline = pipe
    latencies = cancel_latency(
        scale.device, lambda on_step: cancelling.generate(video_job, on_step), step
    )
    out["video_cancel_ms_median"] = round(statistics.median(latencies) * 1000, 1)
    out["video_cancel_ms_max"] = round(max(latencies) * 1000, 1)
    backend.unload()


def environment(scale: Scale) -> dict[str, Any]:
    import diffusers
    import torch

    facts: dict[str, Any] = {
        "scale": scale.name,
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "dtype": "float16" if scale.device.startswith("cuda") else "float32",
    }
    if scale.device.startswith("cuda"):
        facts["gpu"] = torch.cuda.get_device_name(0)
    else:
        facts["cpu_threads"] = torch.get_num_threads()
    return facts


def main(argv: list[str] | None = None) -> dict[str, Any]:
    global CANCEL_REPEATS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="tiny models on the CPU (tests)")
    parser.add_argument("--only", choices=["images", "video"], help="measure one model only")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    import torch

    scale = TINY if args.tiny else FULL
    if scale.device == "cuda" and not torch.cuda.is_available():
        parser.error("no CUDA device: run on a GPU machine, or pass --tiny")
    CANCEL_REPEATS = scale.cancel_repeats
    if scale.device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    else:
        torch.set_num_threads(1)  # tiny models gain nothing from threads on a shared machine
    out: dict[str, Any] = environment(scale)
    begin = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="storyboard-gpu-") as tmp:
        folder = Path(tmp)
        work = folder / "work"
        work.mkdir()
        if args.only in (None, "images"):
            measure_images(scale, folder, work, out)
            free()  # the image model, before the video model is built
            print_figures(out, "images")
        if args.only in (None, "video"):
            measure_video(scale, folder, work, out)
            free()
            print_figures(out, "video")
    out["total_s"] = round(time.perf_counter() - begin, 1)
    print(f"total: {out['total_s']} s")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    print(json.dumps(out), flush=True)
    return out


def print_figures(out: dict[str, Any], prefix: str) -> None:
    key_prefix = "image" if prefix == "images" else "video"
    for key, value in out.items():
        if key.startswith(key_prefix):
            print(f"{key}: {value}", flush=True)


if __name__ == "__main__":
    main()
