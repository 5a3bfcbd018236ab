"""A stand-in action server for tests of Rasa's calls to it: aiohttp on a free loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from aiohttp import web


@asynccontextmanager
async def serving(webhook: Callable[[web.Request], Awaitable[web.Response]]) -> AsyncIterator[str]:
    """`webhook` answering POST /webhook until the block ends; yields its URL."""
    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/webhook"
    finally:
        await runner.cleanup()
