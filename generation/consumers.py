"""Live storyboard: one socket per open page, fed from the database state."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from generation.notify import project_group
from projects.models import Project


class ProjectConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        self.project_id = int(self.scope["url_route"]["kwargs"]["project_id"])
        if not (user and user.is_authenticated and await self.owns_project(user)):
            await self.close(code=4403)
            return
        self.group = project_group(self.project_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def generation_changed(self, event: dict) -> None:
        pass

    @database_sync_to_async
    def owns_project(self, user: object) -> bool:
        return Project.objects.owned_by(user).filter(id=self.project_id).exists()
