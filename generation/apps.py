from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The task module sends the tasks of the jobs and webhook deliveries the workflow
        # says are ready (work.queue): connected here, in every process.
        from generation import reaper, tasks  # noqa: F401
        from work import claims

        # Every worker reaps jobs of dead workers (see generation.tasks.start_reaper).
        claims.add_reaper(reaper.reap_stale_jobs)
