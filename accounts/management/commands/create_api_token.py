from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import ApiToken


class Command(BaseCommand):
    help = "Make an API key for a user; it is printed once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="What the key is for")
        parser.add_argument(
            "--read-only", action="store_true", help="The key can only read (GET), not change"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user named {options['username']!r}.", returncode=2)
        token = ApiToken(user=user, name=options["name"], read_only=options["read_only"])
        key = token.new_key()
        token.save()
        self.stdout.write(key)
