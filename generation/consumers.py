"""Live storyboard: one socket per open page, fed from the database state.

Thin on purpose: join the project's group, and whenever woken (or, where wake-ups
can't cross processes, when a cheap poll sees the rows change) re-render the truth.
"""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from generation import live
from generation.notify import project_group
from projects.models import Project

MESSAGE_LIMIT = 256 * 1024


class ProjectConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        self.project_id = int(self.scope["url_route"]["kwargs"]["project_id"])
        if not (user and user.is_authenticated and await self.owns_project(user)):
            await self.close(code=4403)
            return
        query = dict(parse_qsl(self.scope.get("query_string", b"").decode()))
        self.seen = live.LiveState.from_page(query)
        self.lock = asyncio.Lock()
        self.stale = False
        self.pusher: asyncio.Task[None] | None = None
        self.group = project_group(self.project_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.push()
        self.poller = asyncio.create_task(self.poll())

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "poller"):
            self.poller.cancel()
        if getattr(self, "pusher", None) is not None:
            self.pusher.cancel()  # type: ignore[union-attr]
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def generation_changed(self, event: dict) -> None:
        # Return at once so the wake-ups queued behind this one are read now: a burst
        # of them then costs one push, not one each.
        self.stale = True
        if self.pusher is None or self.pusher.done():
            self.pusher = asyncio.create_task(self.push_while_stale())

    async def push_while_stale(self) -> None:
        while self.stale:
            self.stale = False
            await self.push()

    async def poll(self) -> None:
        """Wake-ups from a worker only reach this process through a shared channel layer
        (Redis). Without one, a one-query check of the rows stands in for them; with one,
        a slow check still catches a wake-up dropped by a full channel."""
        interval = settings.LIVE_POLL_SECONDS
        while True:
            await asyncio.sleep(interval)
            if settings.REDIS_URL:
                # Cheap, and restores the membership a Redis restart wiped out.
                await self.channel_layer.group_add(self.group, self.channel_name)
            if await database_sync_to_async(live.signature)(self.project_id) != self.seen.signature:
                await self.push()

    async def push(self) -> None:
        # Render and send under one lock: two pushes (a wake-up and the poll) must reach
        # the page in the order they read the rows, or an older state would win.
        async with self.lock:
            parts, self.seen = await database_sync_to_async(live.render_parts)(
                self.project_id, self.seen
            )
            # A page that fell far behind (a thousand rows changed) would otherwise get
            # one message larger than the WebSocket server accepts (1 MiB for daphne).
            for message in live.batches(parts, MESSAGE_LIMIT):
                await self.send(text_data=message)

    @database_sync_to_async
    def owns_project(self, user: object) -> bool:
        return Project.objects.owned_by(user).filter(id=self.project_id).exists()
