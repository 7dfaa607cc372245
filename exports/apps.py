from django.apps import AppConfig


class ExportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "exports"
    verbose_name = "Exports"

    def ready(self) -> None:
        from exports import jobs
        from work import claims

        # Every worker reaps exports of dead workers (see generation.tasks.start_reaper).
        claims.add_reaper(jobs.reap_stale_exports)
