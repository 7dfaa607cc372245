"""The secret key: made once per data folder on the embedded default, required from the
environment when scaled out (every machine must share one, and a generated one can't be)."""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

# Shipped as the default before keys were generated: never accepted when scaled out.
OLD_DEFAULT = "storyboard-embedded-insecure-key-change-me"
FILE_NAME = "secret_key"


def secret_key(from_env: str, data_dir: Path, scaled_out: bool) -> str:
    if from_env and not (scaled_out and from_env == OLD_DEFAULT):
        return from_env
    if scaled_out:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set (or is the shipped default): scaled out (DATABASE_URL or "
            "REDIS_URL set), every process needs the same secret key; set SECRET_KEY to a "
            "long random string."
        )
    return key_file(data_dir / FILE_NAME)


def key_file(path: Path) -> str:
    """The key stored at `path`, made there (readable by its owner only) if missing. The web
    server and the worker may start together: the key is written to a temporary file and
    linked into place, so one of them makes it and both read the same whole key."""
    if not path.exists():
        temp = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(get_random_secret_key() + "\n")
            try:
                os.link(temp, path)
            except FileExistsError:
                pass
        finally:
            temp.unlink(missing_ok=True)
    key = path.read_text().strip()
    if not key:
        raise ImproperlyConfigured(f"{path} is empty: delete it to make a new secret key.")
    return key
