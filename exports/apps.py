from django.apps import AppConfig


class ExportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "exports"
    verbose_name = "Exports"

    def ready(self) -> None:
        # The task module sends the tasks of the exports said to be ready (work.queue):
        # connected here, in every process.
        from exports import jobs, tasks  # noqa: F401
        from work import claims

        # Every worker reaps exports of dead workers (see generation.tasks.start_reaper).
        claims.add_reaper(jobs.reap_stale_exports)
