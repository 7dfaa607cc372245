"""Live storyboard: one socket per open page, fed from the database state.

The consumer is thin: it checks the owner and joins its project's feed. The feed, one per
project in each server process, is woken by the project's group (or, where wake-ups can't
cross processes, by a cheap poll of the rows), re-reads the rows and sends the rendered
truth to every open page of the project. Reading and rendering once per change for all of
them is what lets fifty tabs watch a fast run: per tab, it was fifty times the queries.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from urllib.parse import parse_qsl

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings

from generation.notify import project_group
from projects.models import Project
from storyboard import live

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 256 * 1024
# Woken rounds start at most this often. A page can't show changes faster, and during a
# fast run a round per wake-up took the web server's CPU from the workers on a shared
# machine; a change still reaches the page within about one interval.
ROUND_SECONDS = 0.04


class ProjectConsumer(AsyncWebsocketConsumer):
    # Pages hear of changes through their project's feed, so the socket itself needs no
    # channel (an alias with no layer configured): a Redis restart then can't close it.
    channel_layer_alias = "pages-listen-through-their-feed"

    async def connect(self) -> None:
        user = self.scope.get("user")
        self.project_id = int(self.scope["url_route"]["kwargs"]["project_id"])
        if not (user and user.is_authenticated and await self.owns_project(user)):
            await self.close(code=4403)
            return
        query = dict(parse_qsl(self.scope.get("query_string", b"").decode()))
        self.seen = live.LiveState.from_page(query)
        await self.accept()
        self.feed = ProjectFeed.of(self.project_id)
        await self.feed.join(self)

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "feed"):
            await self.feed.leave(self)

    @database_sync_to_async
    def owns_project(self, user: object) -> bool:
        return Project.objects.owned_by(user).filter(id=self.project_id).exists()


# Each event loop has its own feeds: a feed's tasks and lock belong to the loop they run on.
_feeds: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, ProjectFeed]] = (
    weakref.WeakKeyDictionary()
)


class ProjectFeed:
    """Every open page of one project in this process, brought up to date together."""

    @classmethod
    def of(cls, project_id: int) -> ProjectFeed:
        feeds = _feeds.setdefault(asyncio.get_running_loop(), {})
        if project_id not in feeds:
            feeds[project_id] = cls(project_id)
        return feeds[project_id]

    def __init__(self, project_id: int) -> None:
        self.project_id = project_id
        self.group = project_group(project_id)
        self.layer = get_channel_layer()
        self.channel = ""
        self.pages: set[ProjectConsumer] = set()
        self.signature: tuple | None = None
        # Rounds never overlap: pages must get their updates in the order the rows were read.
        self.lock = asyncio.Lock()
        self.stale = False
        self.updater: asyncio.Task[None] | None = None
        self.last_round = 0.0
        self.tasks = [asyncio.create_task(self.listen()), asyncio.create_task(self.poll())]

    async def join(self, page: ProjectConsumer) -> None:
        self.pages.add(page)
        try:
            await self.update(only=page)
        except BaseException:
            # The socket closes without a disconnect: don't keep feeding it.
            await self.leave(page)
            raise

    async def leave(self, page: ProjectConsumer) -> None:
        self.pages.discard(page)
        feeds = _feeds.get(asyncio.get_running_loop(), {})
        if self.pages or feeds.get(self.project_id) is not self:
            return
        del feeds[self.project_id]
        for task in [*self.tasks, self.updater]:
            if task is not None:
                task.cancel()
        if self.channel and self.layer is not None:
            await self.layer.group_discard(self.group, self.channel)

    def wake(self) -> None:
        # A wake-up during a round only marks the feed stale: a burst of them costs one
        # more round, not one each.
        self.stale = True
        if self.updater is None or self.updater.done():
            self.updater = asyncio.create_task(self.update_while_stale())

    async def update_while_stale(self) -> None:
        loop = asyncio.get_running_loop()
        while self.stale:
            wait = self.last_round + ROUND_SECONDS - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self.stale = False
            self.last_round = loop.time()
            try:
                await self.update()
            except Exception:  # noqa: BLE001 - the database restarting; the poll retries
                log.warning("Could not update the live pages", exc_info=True)
                self.signature = None

    async def update(self, only: ProjectConsumer | None = None) -> None:
        async with self.lock:
            pages = [only] if only is not None else list(self.pages)
            if not pages:
                return
            previous = self.signature
            self.signature, updates = await database_sync_to_async(live.render_many)(
                self.project_id, [page.seen for page in pages]
            )
            if only is not None and previous is not None and self.signature != previous:
                # News the joining page read first: the other pages need it too.
                self.wake()
            # Pages in the same state share their parts, so split those into messages once.
            # A page that fell far behind (a thousand scenes changed) would otherwise get one
            # message larger than the WebSocket server accepts (1 MiB for daphne).
            split: dict[int, list[str]] = {}
            for page, (parts, seen) in zip(pages, updates, strict=True):
                page.seen = seen
                if id(parts) not in split:
                    split[id(parts)] = live.batches(parts, MESSAGE_LIMIT)
                try:
                    for message in split[id(parts)]:
                        await page.send(text_data=message)
                except Exception:  # noqa: BLE001 - one closed socket must not stop the rest
                    log.info("Could not update a page; it will catch up on reconnect")

    async def listen(self) -> None:
        """Wake-ups from workers: through Redis they reach every server process; the
        in-memory layer only carries those sent by this process (its own views)."""
        if self.layer is None:
            return
        while True:
            try:
                if not self.channel:
                    self.channel = await self.layer.new_channel()
                await self.layer.group_add(self.group, self.channel)
                while True:
                    await self.layer.receive(self.channel)
                    self.wake()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - Redis restarting; the poll covers the gap
                log.warning("Live wake-ups interrupted; retrying", exc_info=True)
                await asyncio.sleep(1)

    async def poll(self) -> None:
        """Without a shared channel layer, a one-query check of the rows stands in for the
        workers' wake-ups; with one, a slow check still catches a wake-up dropped by a
        full channel, and restores the membership a Redis restart wiped out."""
        while True:
            await asyncio.sleep(settings.LIVE_POLL_SECONDS)
            try:
                if settings.REDIS_URL and self.channel and self.layer is not None:
                    await self.layer.group_add(self.group, self.channel)
                sig = await database_sync_to_async(live.signature)(self.project_id)
            except Exception:  # noqa: BLE001 - keep polling through a Redis or DB restart
                log.warning("Live poll failed; retrying", exc_info=True)
                continue
            if sig != self.signature:
                self.wake()
