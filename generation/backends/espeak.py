"""The espeak-ng program: found on the PATH, and the voices it has installed."""

from __future__ import annotations

import functools
import shutil
import subprocess


def espeak_exe() -> str | None:
    return shutil.which("espeak-ng")


@functools.cache
def _voices(exe: str) -> tuple[tuple[str, str], ...]:
    try:
        result = subprocess.run(
            [exe, "--voices"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ()
    voices = []
    # "Pty Language Age/Gender VoiceName File Other Languages", one voice a line.
    for line in result.stdout.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 4:
            voices.append((fields[1], fields[3].replace("_", " ")))
    return tuple(voices)


def espeak_voices() -> list[tuple[str, str]]:
    """(language code, name) of every installed espeak-ng voice; none without espeak-ng."""
    exe = espeak_exe()
    return list(_voices(exe)) if exe else []
