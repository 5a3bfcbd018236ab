"""The load generators' HTTP client: one kept-open connection per simulated person, with its cookies.

The load generators run on the machine they measure, so every millisecond of CPU they spend is
taken from the servers under test. A requests session does far more per request than a person's
browser needs here (proxy, netrc and cookie-policy lookups, the URL parsed again at each layer):
under 8 concurrent conversations that was two thirds of the load generator's CPU (py-spy,
2026-12-01). This client sends the same requests over urllib3 alone: the same bodies, headers and
cookies, one connection per person, kept open between turns as a browser keeps it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode, urlsplit

import urllib3
from urllib3.exceptions import HTTPError

__all__ = ["Client", "HTTPError", "Reply", "origin_and_path"]


@dataclass(frozen=True)
class Reply:
    """A response's status and body."""

    status: int
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not."""
        return json.loads(self.body)


def origin_and_path(url: str) -> tuple[str, str]:
    """`http://host:port/a/b?c` as (`http://host:port`, `/a/b?c`)."""
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{parts.scheme}://{parts.netloc}", f"{path}?{parts.query}" if parts.query else path


class Client:
    """Requests to one server (`origin`, plain http), as one person's browser or phone line sends them.

    Cookies the server sets are sent back on later requests (the web chat keeps its conversation in
    one); `headers` go with every request. Failures raise urllib3's HTTPError (refused, timed out).
    """

    def __init__(self, origin: str, *, timeout: float) -> None:
        parts = urlsplit(origin)
        if parts.scheme != "http" or not parts.hostname or parts.path not in ("", "/"):
            raise ValueError(f"the load generators talk plain HTTP to a server's origin, not {origin!r}")
        self.headers: dict[str, str] = {}
        self.cookies: dict[str, str] = {}
        self._pool = urllib3.HTTPConnectionPool(
            parts.hostname, parts.port or 80, maxsize=1, retries=False, timeout=urllib3.Timeout(timeout)
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self._pool.close()

    def get(self, path: str) -> Reply:
        return self._request("GET", path)

    def post_json(self, path: str, value: Any) -> Reply:
        return self.post(path, json.dumps(value).encode(), {"Content-Type": "application/json"})

    def post_form(self, path: str, form: dict[str, str], headers: dict[str, str] | None = None) -> Reply:
        body = urlencode(form).encode()
        return self.post(path, body, {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> Reply:
        return self._request("POST", path, body, headers)

    def _request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Reply:
        sent = {**self.headers, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        response = self._pool.urlopen(method, path, body=body, headers=sent, redirect=False)
        self._keep_cookies(response.headers.getlist("Set-Cookie"))
        return Reply(response.status, response.data)

    def _keep_cookies(self, set_cookies: list[str]) -> None:
        for header in set_cookies:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or "1970" in morsel["expires"]:  # the server deleted it
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
