"""Stages, assets, presets and statuses are spelled once: in projects/vocabulary.py and in
each model's status choices. Code elsewhere names them (Stage.VIDEOS, JobStatus.FAILED),
so a renamed or added stage is found by the type checker, not by a test that fails later."""

from __future__ import annotations

import ast

from tests.site.test_import_graph import modules

WORDS = {
    # stages, assets, presets
    "audio",
    "images",
    "videos",
    "image",
    "video",
    "draft",
    "studio",
    # statuses of runs, jobs and exports
    "pending",
    "queued",
    "running",
    "paused",
    "review",
    "cancelling",
    "cancelled",
    "succeeded",
    "failed",
    "skipped",
}


# Words that are names of something else here, not a stage, asset, preset or status.
NOT_VOCABULARY = {
    # A worker's admin column (what it runs now).
    "generation.admin": {"running"},
    # The API's and the webhook's JSON fields: counts named after the statuses they count,
    # and a review run's list of pictures.
    "generation.api": {"review"},
    "generation.progress": {"failed", "skipped", "cancelled", "running"},
    "generation.webhooks": {"failed", "skipped", "cancelled"},
    "generation.runs": {"cancelled"},
    # The --review option, and the page's "review" checkbox.
    "generation.management.commands.generate_all": {"review"},
    "storyboard.toolbar": {"review"},
    # The words an asset's pill shows.
    "storyboard.templatetags.storyboard": {"running", "failed", "skipped", "cancelled"},
    # Why a scene's clip is not fit for a film: failed, missing or dirty.
    "exports.jobs": {"failed"},
    # A section of the speech model's own config.json.
    "generation.backends.neural_voice": {"audio"},
}


def is_choices(node: ast.ClassDef) -> bool:
    return any(
        getattr(base, "attr", getattr(base, "id", "")) in {"TextChoices", "IntegerChoices"}
        for base in node.bases
    )


def bare_literals() -> list[str]:
    found = []
    for name, path in modules().items():
        if ".migrations." in name or name == "projects.vocabulary":
            continue
        tree = ast.parse(path.read_text())
        # The choices classes are where statuses are defined.
        defined = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef) and is_choices(node)
            for inner in ast.walk(node)
        }
        words = WORDS - NOT_VOCABULARY.get(name, set())
        found += [
            f"{name}:{node.lineno} {node.value!r}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and node.value in words and id(node) not in defined
        ]
    return sorted(found)


def test_it_spells_stages_assets_presets_and_statuses_in_one_place() -> None:
    assert bare_literals() == []
