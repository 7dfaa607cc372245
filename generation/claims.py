"""Claimable work: what generation jobs and exports share.

Both are rows a worker claims by raising their attempt number (a conditional UPDATE), then
keeps alive with a heartbeat until it records how the attempt ended; the reaper hands the
row of a silent worker to a newer attempt. An attempt can be superseded without knowing it
(its worker frozen past JOB_STALE_AFTER, then resumed), so every write it makes is fenced
on its attempt number: once the row has moved on, nothing the old attempt says lands.

A claimable model has `id`, `status`, `attempts` and `heartbeat`, and names in
HELD_STATUSES the statuses in which an attempt still holds it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from projects.vocabulary import WORK_FOLDER


def held(model: type[Model], pk: int, attempt: int) -> QuerySet[Any]:
    """The row, while attempt `attempt` still holds it: the filter of every fenced write."""
    statuses = model.HELD_STATUSES  # type: ignore[attr-defined]
    return model._default_manager.filter(id=pk, attempts=attempt, status__in=statuses)


def beat(model: type[Model], attempts: dict[int, int]) -> int:
    """Freshen the heartbeat of these rows (id -> attempt) that their attempts still hold."""
    if not attempts:
        return 0
    statuses = model.HELD_STATUSES  # type: ignore[attr-defined]
    which = Q()
    for pk, attempt in attempts.items():
        which |= Q(id=pk, attempts=attempt)
    return model._default_manager.filter(which, status__in=statuses).update(
        heartbeat=timezone.now()
    )


# Work folders ----------------------------------------------------------------

WORK_DIR = re.compile(r"(?P<kind>[a-z]+)-(?P<id>\d+)-(?P<attempt>\d+)")


def work_root() -> Path:
    return Path(settings.MEDIA_ROOT) / WORK_FOLDER


def work_dir(kind: str, pk: int, attempt: int) -> Path:
    """Where one attempt keeps its temporary files: its own, so attempts never share one."""
    return work_root() / f"{kind}-{pk}-{attempt}"


def remove_work_dir(kind: str, pk: int, attempt: int) -> None:
    shutil.rmtree(work_dir(kind, pk, attempt), ignore_errors=True)


def sweep_work_dirs(kinds: dict[str, type[Model]]) -> list[str]:
    """Remove every work folder that belongs to no live attempt (its worker was killed,
    and no reaper removed it, or an orphaned encoder wrote into it afterwards).

    The folders are listed before the rows are read: a folder is made only after its
    attempt's claim, so one seen here whose attempt does not hold its row is dead."""
    root = work_root()
    try:
        names = [p.name for p in root.iterdir() if p.is_dir()]
    except FileNotFoundError:
        return []
    found: dict[str, list[tuple[str, int, int]]] = {}
    for name in names:
        match = WORK_DIR.fullmatch(name)
        if match and match["kind"] in kinds:
            found.setdefault(match["kind"], []).append(
                (name, int(match["id"]), int(match["attempt"]))
            )
    removed = []
    for kind, folders in found.items():
        model = kinds[kind]
        statuses = model.HELD_STATUSES  # type: ignore[attr-defined]
        live = set(
            model._default_manager.filter(
                id__in=[pk for _, pk, _ in folders], status__in=statuses
            ).values_list("id", "attempts")
        )
        for name, pk, attempt in folders:
            if (pk, attempt) not in live:
                shutil.rmtree(root / name, ignore_errors=True)
                removed.append(name)
    return removed
