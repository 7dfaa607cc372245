from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from generation import reaper
        from work import claims

        # Every worker reaps jobs of dead workers (see generation.tasks.start_reaper).
        claims.add_reaper(reaper.reap_stale_jobs)
