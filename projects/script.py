"""Splitting a pasted script into scenes, one sentence each."""

import re
from functools import lru_cache

import pysbd
from django.conf import settings

from projects.models import Sentence


class ScriptError(ValueError):
    """The script can't become a project; the message says why, for the creator."""


@lru_cache(maxsize=8)
def _segmenter(language: str) -> pysbd.Segmenter:
    try:
        return pysbd.Segmenter(language=language, clean=False)
    except ValueError:
        # pysbd knows ~20 languages; English rules are a sane fallback for the rest.
        return pysbd.Segmenter(language="en", clean=False)


def split_script(script: str, language: str = "en") -> list[str]:
    words = len(script.split())
    if words == 0:
        raise ScriptError("The script is empty. Paste at least one sentence.")
    if words > settings.MAX_SCRIPT_WORDS:
        raise ScriptError(
            f"The script has {words:,} words; the limit is {settings.MAX_SCRIPT_WORDS:,}. "
            "Split it into several projects."
        )
    sentences: list[str] = []
    # A blank line always ends a scene, even without a full stop (titles, lists).
    for paragraph in re.split(r"\n\s*\n", script):
        # A single line break is only wrapping (text pasted from a PDF or an email).
        paragraph = " ".join(paragraph.split())
        if not paragraph:
            continue
        for sentence in _segmenter(language).segment(paragraph):
            text = " ".join(sentence.split())
            if text:
                sentences.append(text)
    if not sentences:
        raise ScriptError("The script has no sentences. Paste at least one sentence.")
    if len(sentences) > settings.MAX_SCENES:
        raise ScriptError(
            f"The script has {len(sentences):,} sentences; a project holds at most "
            f"{settings.MAX_SCENES:,} scenes. Split it into several projects."
        )
    too_long = next((s for s in sentences if len(s) > Sentence.MAX_TEXT), None)
    if too_long is not None:
        raise ScriptError(
            f"One sentence is {len(too_long):,} characters long (the limit is "
            f"{Sentence.MAX_TEXT:,}): “{too_long[:60]}…”. Add full stops to split it."
        )
    return sentences
