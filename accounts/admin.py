from django.contrib import admin, messages
from django.http import HttpRequest

from accounts.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "read_only", "hint", "created", "last_used"]
    search_fields = ["name", "user__username"]
    raw_id_fields = ["user"]
    readonly_fields = ["hint", "created", "last_used"]

    def save_model(self, request: HttpRequest, obj: ApiToken, form: object, change: bool) -> None:
        if not change:
            key = obj.new_key()
            self.message_user(
                request,
                f"API key for {obj.user}: {key} — copy it now, it is not shown again.",
                messages.WARNING,
            )
        super().save_model(request, obj, form, change)
