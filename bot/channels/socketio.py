"""Rasa's Socket.IO channel for the portal widget, with its room fix.

Rasa 3.6's `session_request` handler calls `sio.enter_room(...)` without
`await`; python-socketio made that call a coroutine in 5.10, so with
`session_persistence` the browser's socket never joins its conversation's
room and no answer reaches the widget (RasaHQ/rasa#13027). This subclass
replaces only that handler, so the channel keeps Rasa's code otherwise and
python-socketio can stay current.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from sanic import Blueprint

__all__ = ["SocketIOInput"]


class SocketIOInput(RasaSocketIOInput):
    """`socketio` in credentials.yml, as `bot.channels.socketio.SocketIOInput`."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        sio = self.sio

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: dict | None) -> None:
            """Rasa's handler, with the room joined before the session is confirmed."""
            data = data if isinstance(data, dict) else {}
            if not data.get("session_id"):
                data["session_id"] = uuid.uuid4().hex
            if self.session_persistence:
                joined = sio.enter_room(sid, data["session_id"])
                if inspect.isawaitable(joined):
                    await joined
            await sio.emit("session_confirm", data["session_id"], room=sid)

        return webhook
