"""Calls to the action server over connections kept open, not a new connection per call.

Rasa 3.6's `EndpointConfig.request` makes a new aiohttp session, hence a new TCP connection, for
every call, and a database turn calls the action server two or three times (the form's validation,
then the task's answer). Here each endpoint (URL, headers, authentication) keeps one session per
event loop, whose connections are reused while they are idle less than `IDLE_SECONDS`: less than
the action server's own keep-alive (Sanic's 5 s), so a call never goes out on a connection the
server is closing. Requests, headers, timeouts and error handling are Rasa's own. The body (the
whole conversation, with every call) is written with ujson, which Rasa already depends on: the
standard library's encoder was 6% of the Rasa server's CPU under 8 concurrent conversations
(py-spy, 2026-11-30).
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import aiohttp
import ujson
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

IDLE_SECONDS = 2.0
# JSON as the standard library writes it for these bodies, only faster: text left as is, "/" unescaped.
dumps = functools.partial(ujson.dumps, ensure_ascii=False, escape_forward_slashes=False)
_sessions: dict[tuple[Any, ...], aiohttp.ClientSession] = {}


class _Kept:
    """Stands where Rasa writes `async with self.session() as session`, and leaves the session open."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self.session

    async def __aexit__(self, *_exc: object) -> None:
        return None


def kept_session(self: EndpointConfig) -> _Kept:
    """`EndpointConfig.session`, made once per endpoint and event loop."""
    auth = (self.basic_auth.get("username"), self.basic_auth.get("password")) if self.basic_auth else None
    key = (asyncio.get_running_loop(), self.url, tuple(sorted(self.headers.items())), auth)
    session = _sessions.get(key)
    if session is None or session.closed:
        session = aiohttp.ClientSession(
            headers=self.headers,
            auth=aiohttp.BasicAuth(*auth) if auth else None,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=IDLE_SECONDS),
            json_serialize=dumps,
        )
        _sessions[key] = session
    return _Kept(session)


def install() -> None:
    """Make Rasa's calls to its endpoints (the action server's among them) reuse their connections."""
    EndpointConfig.session = kept_session  # type: ignore[method-assign]
