"""Small helpers shared by test packages."""

import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def recording_rasa(
    reply: str = "ok", *, answer: list[dict] | Callable[[dict], list[dict]] | None = None
) -> Iterator[tuple[str, list[dict]]]:
    """A running fake of Rasa's input channel: (base URL, the request bodies it received, in order).

    It answers every message with one text, whatever the path, so the web app's turns go through;
    or with the messages in `answer`, or with what `answer` makes of the request body.
    """
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            answered = answer(received[-1]) if callable(answer) else answer
            body = json.dumps([{"text": reply}] if answered is None else answered).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", received
    finally:
        server.shutdown()
        server.server_close()
