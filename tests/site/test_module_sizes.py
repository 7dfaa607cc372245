"""Small files beat 2,000-line ones: a module that grows past ~500 lines is doing more than
one thing and gets split, unless it is one cohesive thing (listed here, with why)."""

from __future__ import annotations

from tests.site.test_import_graph import modules

MAX_LINES = 500
COHESIVE = {
    # The MP4 reader and writer: box parsing, sample tables and the film's writer are one
    # format, read and written in one place.
    "media.mp4",
}


def test_it_keeps_modules_small() -> None:
    too_long = {
        name: lines
        for name, path in modules().items()
        if name not in COHESIVE and (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert too_long == {}
