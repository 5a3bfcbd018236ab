"""Loading a model through `PUT /model` beside the running one, not in place of serving it.

Rasa 3.6 loads the new model inside the request's handler, on the server's event loop: for the
15-20 s it takes on two busy cores, every turn sent to that server waits (measured with 8
conversations: slowest turn 20.6 s, well past the web app's 8 s budget). Here the same loading runs
in a worker thread with an event loop of its own, so the server keeps answering with the model it
has until Rasa swaps the new agent in, exactly as before, when it is ready.
"""

from __future__ import annotations

import asyncio
from typing import Any


def install() -> None:
    """Make `PUT /model` load in a worker thread (the route calls `rasa.server._load_agent` by name)."""
    import rasa.server

    rasa_load_agent = rasa.server._load_agent

    async def load_agent_in_thread(**kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, lambda: asyncio.run(rasa_load_agent(**kwargs)))

    rasa.server._load_agent = load_agent_in_thread  # type: ignore[assignment]
