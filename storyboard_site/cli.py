"""manage.py's entry point: Django's own, plus one friendly line for a database never migrated."""

from __future__ import annotations

import sys

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import execute_from_command_line
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor


def unapplied_migrations() -> list[str]:
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError:
        return []
    return [f"{m.app_label}.{m.name}" for m, _ in plan]


def main(argv: list[str]) -> None:
    try:
        settings.INSTALLED_APPS  # noqa: B018 - loads the settings, which check the environment
    except ImproperlyConfigured as e:
        # A bad or missing variable: its one line, not Django's traceback.
        sys.stderr.write(f"{e}\n")
        sys.exit(2)
    try:
        execute_from_command_line(argv)
    except DatabaseError:
        # A missing table surfaces deep inside whichever query came first; a 60-line
        # traceback there helps nobody when the fix is one command.
        pending = unapplied_migrations()
        if not pending:
            raise
        sys.stderr.write(
            f"The database is not set up ({len(pending)} migrations not applied): "
            "run bin/run, or .venv/bin/python manage.py migrate.\n"
        )
        sys.exit(2)
