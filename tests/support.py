"""Small helpers shared by test packages."""

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.models import Base


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def recording_rasa(reply: str = "ok") -> Iterator[tuple[str, list[dict]]]:
    """A running fake of Rasa's input channel: (base URL, the request bodies it received, in order).

    It answers every message with one text, whatever the path, so the web app's turns go through.
    """
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            body = json.dumps([{"text": reply}]).encode()
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


def database_rows(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table of the card database, to compare before and after a refused request:
    a refusal changes nothing (no card, loss report, flag, outbox message, attempt or audit entry)."""
    with engine.connect() as conn:
        return {
            table.name: sorted((tuple(row) for row in conn.execute(select(table))), key=repr)
            for table in Base.metadata.sorted_tables
        }
