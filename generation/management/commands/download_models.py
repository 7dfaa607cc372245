"""Fetch the studio preset's models ahead of time, for machines that have internet access.

Workers then load them with downloads off (STORYBOARD_HUB_OFFLINE, the default). Settings that
name a local folder are only checked. Exit code 0 when everything is in place, 1 otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from generation.backends.config import setting
from generation.backends.devices import looks_like_path


def download_tts(name: str) -> str:
    from TTS.utils.manage import ModelManager

    model_path, _config, _item = ModelManager(progress_bar=True).download_model(name)
    return str(model_path)


def download_diffusers(repo_id: str) -> str:
    from diffusers import DiffusionPipeline

    # Only the files the pipeline loads, not every checkpoint variant in the repository.
    return str(DiffusionPipeline.download(repo_id))


class Command(BaseCommand):
    help = "Download the studio preset's speech and image models (and the SVD model if used)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--svd", action="store_true", help="Also fetch the Stable Video Diffusion model."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        wanted = [
            ("STORYBOARD_TTS_MODEL", download_tts),
            ("STORYBOARD_IMAGE_MODEL", download_diffusers),
        ]
        if options["svd"] or str(setting("STORYBOARD_VIDEO_BACKEND")).lower() == "svd":
            wanted.append(("STORYBOARD_SVD_MODEL", download_diffusers))
        failed = 0
        for name, download in wanted:
            value = str(setting(name))
            if looks_like_path(value):
                if Path(value).expanduser().is_dir():
                    self.stdout.write(self.style.SUCCESS(f"ok   {value}: local folder"))
                else:
                    failed += 1
                    self.stdout.write(
                        self.style.ERROR(
                            f"FAIL {value}: folder not found. Set {name} to a local folder "
                            "or hub id."
                        )
                    )
                continue
            self.stdout.write(f"...  {value}: downloading")
            try:
                where = download(value)
            except Exception as error:  # noqa: BLE001 - any failure is reported, one line each
                failed += 1
                first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
                self.stdout.write(
                    self.style.ERROR(f"FAIL {value}: {first_line[:200]} (setting {name})")
                )
            else:
                self.stdout.write(self.style.SUCCESS(f"ok   {value}: {where}"))
        if failed:
            raise CommandError(f"{failed} of {len(wanted)} downloads failed.", returncode=1)
