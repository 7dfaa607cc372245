from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def for_key(self, key: str) -> ApiToken | None:
        active = self.select_related("user").filter(user__is_active=True)
        return active.filter(key_hash=digest(key)).first()


class ApiToken(models.Model):
    """A key a script sends as `Authorization: Bearer <key>` to act as its user.

    Only a hash is stored: the key is shown once, when it is made.
    """

    PREFIX = "sb_"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What uses it, e.g. “render farm script”")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=12, editable=False)
    created = models.DateTimeField(default=timezone.now)
    last_used = models.DateTimeField(null=True, blank=True, editable=False)
    read_only = models.BooleanField(
        default=False, help_text="Only reads (GET): can't start, cancel or export anything."
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    def new_key(self) -> str:
        """Set a fresh key and return it; the caller shows it once."""
        key = self.PREFIX + secrets.token_urlsafe(32)
        self.key_hash = digest(key)
        self.hint = key[:10]
        return key

    def touch(self) -> None:
        # At most a write a minute per token, however busy the script.
        now = timezone.now()
        if self.last_used is None or now - self.last_used > timedelta(minutes=1):
            ApiToken.objects.filter(id=self.id).update(last_used=now)
