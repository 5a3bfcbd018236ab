"""Rasa's calls to an endpoint reuse one connection, with Rasa's headers, and fail as Rasa's do."""

import pytest
from aiohttp import web
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from rasa_addons import kept_connections
from tests.rasa_addons.webhook_server import serving


@pytest.fixture
async def server():
    seen: list[tuple[str | None, int]] = []

    async def webhook(request: web.Request) -> web.Response:
        seen.append((request.headers.get("X-Action-Token"), id(request.transport)))
        if (await request.json()).get("fail"):
            return web.json_response({"error": "no"}, status=500)
        return web.json_response({"events": []})

    async with serving(webhook) as url:
        yield url, seen
        for session in kept_connections._sessions.values():
            await session.close()
        kept_connections._sessions.clear()


async def test_calls_share_one_connection_and_keep_rasas_headers(server, monkeypatch):
    url, seen = server
    monkeypatch.setattr(EndpointConfig, "session", EndpointConfig.session)
    kept_connections.install()
    endpoint = EndpointConfig(url, headers={"X-Action-Token": "secret"})
    for _ in range(3):
        assert await endpoint.request(json={"next_action": "x"}, method="post") == {"events": []}
    assert [token for token, _ in seen] == ["secret"] * 3
    assert len({connection for _, connection in seen}) == 1
    with pytest.raises(ClientResponseError):
        await endpoint.request(json={"fail": True}, method="post")


async def test_without_it_each_call_opens_a_connection(server):
    url, seen = server
    endpoint = EndpointConfig(url)
    for _ in range(2):
        await endpoint.request(json={}, method="post")
    assert len({connection for _, connection in seen}) == 2
