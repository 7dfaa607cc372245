"""Text to image with a diffusers pipeline (sd-turbo by default), loaded once per worker."""

from __future__ import annotations

import logging
import threading
from typing import Any

from PIL import Image, ImageOps

from media.ffmpeg import new_temp_path, removed_on_error
from projects.vocabulary import Stage

from .base import GeneratedAsset, JobInput, StepCallback
from .devices import (
    LOAD_COUNTS,
    model_load_error,
    model_source,
    out_of_memory_as_job_error,
    resolve_device,
    torch_dtype,
)

logger = logging.getLogger(__name__)

SETTING = "STORYBOARD_IMAGE_MODEL"
# Tokenizers without a real limit report a huge sentinel instead.
_UNLIMITED_TOKENS = 100_000


def compose_prompt(job: JobInput) -> str:
    # The subject first: CLIP weighs early tokens most and truncation cuts from the end.
    subject = job.image_prompt.strip() or job.text.strip()
    return ", ".join(part for part in (subject, job.style_prompt.strip()) if part)


class DiffusersImageBackend:
    def __init__(
        self,
        model: str,
        *,
        steps: int = 4,
        guidance: float = 0.0,
        device: str = "auto",
        offline: bool = True,
    ) -> None:
        self.model = model
        self.steps = max(1, int(steps))
        self.guidance = float(guidance)
        self.device = resolve_device(device)
        self.offline = offline
        self.pipeline: Any = None
        self._lock = threading.RLock()

    def load(self) -> None:
        with self._lock:
            if self.pipeline is None:
                self.pipeline = self._load()
                LOAD_COUNTS[Stage.IMAGES] += 1

    def _load(self) -> Any:
        from diffusers import AutoPipelineForText2Image, DiffusionPipeline

        source = model_source("Image", self.model, SETTING, offline=self.offline)
        options = {"dtype": torch_dtype(self.device), "local_files_only": self.offline}
        try:
            try:
                pipeline = AutoPipelineForText2Image.from_pretrained(source, **options)
            except ValueError:
                # A pipeline class AutoPipeline doesn't map: let the model's own index decide.
                pipeline = DiffusionPipeline.from_pretrained(source, **options)
            pipeline.to(self.device)
        except Exception as error:
            raise model_load_error(
                "Image", self.model, SETTING, error, offline=self.offline
            ) from error
        vae = getattr(pipeline, "vae", None)
        if vae is not None and hasattr(vae, "enable_slicing"):
            vae.enable_slicing()
        pipeline.set_progress_bar_config(disable=True)
        logger.info("Loaded image model %s on %s.", self.model, self.device)
        return pipeline

    def unload(self) -> None:
        with self._lock:
            self.pipeline = None

    def truncate_prompt(self, prompt: str) -> str:
        """Cut the prompt to what the widest text encoder reads, saying so in the log."""
        tokenizers = [
            getattr(self.pipeline, name, None)
            for name in ("tokenizer", "tokenizer_2", "tokenizer_3")
        ]
        limited = [
            t for t in tokenizers if t is not None and t.model_max_length < _UNLIMITED_TOKENS
        ]
        if not limited:
            return prompt
        tokenizer = max(limited, key=lambda t: t.model_max_length)
        budget = tokenizer.model_max_length - tokenizer.num_special_tokens_to_add()
        ids = tokenizer(prompt, add_special_tokens=False, truncation=False).input_ids
        if len(ids) <= budget:
            return prompt
        kept = tokenizer.decode(ids[:budget], skip_special_tokens=True).strip()
        logger.warning(
            "Image prompt is %d tokens, over the model's %d: using only %r.",
            len(ids),
            budget,
            kept,
        )
        return str(kept)

    def generate(self, job: JobInput, on_step: StepCallback) -> GeneratedAsset:
        return self.generate_batch([job], on_step)[0]

    def generate_batch(self, jobs: list[JobInput], on_step: StepCallback) -> list[GeneratedAsset]:
        """One pipeline call for all `jobs` (same size), a seeded generator per picture, so
        each picture is the one its job would get alone."""
        import torch

        if len({(job.width, job.height) for job in jobs}) != 1:
            raise ValueError("A batch of images must share one size.")
        width, height = jobs[0].width, jobs[0].height
        self.load()
        with self._lock:
            pipeline = self.pipeline
            prompts = [self.truncate_prompt(compose_prompt(job)) for job in jobs]
            # Generate at a size the VAE and UNet accept, then crop to the exact frame.
            multiple = 2 * int(getattr(pipeline, "vae_scale_factor", 8))
            gen_w = -(-width // multiple) * multiple
            gen_h = -(-height // multiple) * multiple
            # A CPU generator gives the same picture for a seed on any device, and one per
            # picture gives each the starting noise it would have alone.
            generators = [torch.Generator(device="cpu").manual_seed(job.seed) for job in jobs]

            def step_end(pipe: Any, step: int, timestep: Any, tensors: dict[str, Any]) -> Any:
                on_step(step + 1, getattr(pipe, "num_timesteps", None) or self.steps)
                return tensors

            on_step(0, self.steps)
            what = "the image" if len(jobs) == 1 else f"a batch of {len(jobs)} images"
            with out_of_memory_as_job_error(what), torch.inference_mode():
                result = pipeline(
                    prompt=prompts,
                    width=gen_w,
                    height=gen_h,
                    num_inference_steps=self.steps,
                    guidance_scale=self.guidance,
                    generator=generators,
                    callback_on_step_end=step_end,
                )
        assets = []
        for job, image in zip(jobs, result.images, strict=True):
            if image.size != (width, height):
                image = ImageOps.fit(image, (width, height), method=Image.Resampling.LANCZOS)
            output = new_temp_path(job.work_dir, "image-", ".png")
            with removed_on_error(output):
                image.convert("RGB").save(output, format="PNG")
            assets.append(GeneratedAsset(path=output))
        return assets
