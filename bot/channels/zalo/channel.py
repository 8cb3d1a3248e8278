"""The Zalo OA webhook as a Rasa input channel, and Zalo as its output channel.

Zalo wants a 200 within 2 s and retries otherwise, while a bot turn (NLU,
actions, search) can take longer under load. So the webhook checks the
signature, claims the event's msg_id in the shared store, answers at once,
and a background task runs the turn; replies go out through the OA API. The
events of one user run one after another, in the order they came.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.zalo import render, signature
from bot.channels.zalo.api import SendError, ZaloClient, ZaloConfig, mask_user
from bot.channels.zalo.store import SEEN_TTL_S, Store, open_store

__all__ = ["ZaloInput", "ZaloOutput"]

logger = logging.getLogger(__name__)

# Zalo's events are a few hundred bytes; anything far bigger is not from Zalo.
MAX_BODY_BYTES = 64 * 1024
# A message longer than this is cut before NLU (Zalo itself caps user text).
MAX_TEXT_CHARS = 4000
# Turns processed at once in this process; more wait their turn in memory.
# A turn's NLU and policies run on the event loop that also acknowledges
# events, so few at once keeps acknowledgements quick; turns mostly wait on
# the action server anyway.
MAX_CONCURRENT_TURNS = 4
# Acknowledgements first: a turn starts once no event has come in for
# QUIET_S, or after MAX_DEFER_S whatever the traffic.
QUIET_S = 0.05
MAX_DEFER_S = 1.0
# On shutdown, accepted events get this long to finish before the server stops.
DRAIN_S = 10.0
ONLY_TEXT = (
    "Dạ, hiện em chỉ đọc được tin nhắn chữ ạ. Anh/chị vui lòng gõ câu hỏi bằng chữ, "
    "ví dụ: “làm hộ chiếu cần giấy tờ gì?”"
)
# Events a citizen sends that carry no text we can read.
MEDIA_EVENTS = frozenset(
    f"user_send_{kind}"
    for kind in (
        "image",
        "gif",
        "sticker",
        "file",
        "audio",
        "video",
        "location",
        "link",
        "business_card",
    )
)


@dataclass(frozen=True)
class Event:
    """What the channel needs from a signed Zalo event."""

    name: str
    user_id: str
    text: str
    key: str  # de-duplication key: the msg_id, or what identifies the event without one
    timestamp_ms: int


def parse_event(data: dict, timestamp_ms: int) -> Event | None:
    """The event to act on, or None for events the bot does not answer (follow, seen, echoes…)."""
    name = str(data.get("event_name", ""))
    if name != "user_send_text" and name not in MEDIA_EVENTS:
        return None
    sender = data.get("sender")
    user_id = str(sender.get("id", "")) if isinstance(sender, dict) else ""
    if not user_id:
        return None
    message = data.get("message") if isinstance(data.get("message"), dict) else {}
    text = message.get("text") if isinstance(message.get("text"), str) else ""
    msg_id = str(message.get("msg_id") or "")
    key = msg_id or f"{name}:{user_id}:{timestamp_ms}"
    return Event(name, user_id, text[:MAX_TEXT_CHARS], key, timestamp_ms)


class ZaloOutput(OutputChannel):
    """Sends one bot turn to one Zalo user, numbering buttons across the turn."""

    @classmethod
    def name(cls) -> str:
        return "zalo"

    def __init__(self, client: ZaloClient) -> None:
        self.client = client
        self.payloads: list[str] = []  # every button shown this turn, in number order
        self.failures = 0

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._deliver(recipient_id, text)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        text, payloads = render.number_buttons(text, buttons, start=len(self.payloads) + 1)
        self.payloads += payloads
        await self._deliver(recipient_id, text)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._deliver(recipient_id, image)

    async def send_custom_json(self, recipient_id: str, json_message: dict, **kwargs: Any) -> None:
        """Custom payloads are for the web widget; a Zalo user would see raw JSON."""
        logger.debug("custom payload not sent to Zalo user %s", mask_user(recipient_id))

    async def _deliver(self, recipient_id: str, text: str) -> None:
        for part in render.split(text):
            try:
                await self.client.send_text(recipient_id, part)
            except SendError as error:
                # The rest of this message would read wrong without its start.
                self.failures += 1
                logger.error("Zalo reply to %s not delivered: %s", mask_user(recipient_id), error)
                return


class ZaloInput(InputChannel):
    """`POST /webhooks/zalo/webhook`: signed events in, 200 at once, the turn after."""

    @classmethod
    def name(cls) -> str:
        return "zalo"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls(ZaloConfig.from_env(credentials))

    def __init__(self, config: ZaloConfig, store: Store | None = None) -> None:
        self.config = config
        self.store: Store | None = store
        if self.store is None and config.enabled:
            self.store = open_store(config.store_url)
        self.client = ZaloClient(config, self.store) if self.store is not None else None
        self._started: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()
        self._users: dict[str, tuple[asyncio.Lock, int]] = {}
        self._slots: asyncio.Semaphore | None = None
        self._last_event = 0.0  # time.monotonic() of the latest webhook call

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("zalo_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "enabled": self.config.enabled})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self.receive(request, on_new_message)

        @webhook.listener("before_server_stop")
        async def drain(*_: Any) -> None:
            await self.drain()

        return webhook

    async def receive(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        """Checks and acknowledges one event; the bot's turn runs in the background."""
        self._last_event = time.monotonic()
        if not self.config.enabled or self.store is None:
            return response.json({"error": "zalo channel not configured"}, status=503)
        body = request.body or b""
        if len(body) > MAX_BODY_BYTES:
            return response.json({"error": "event too large"}, status=413)
        mac = request.headers.get("X-ZEvent-Signature")
        if not mac:
            return response.json({"error": "missing X-ZEvent-Signature"}, status=401)
        try:
            data = json.loads(body)
            timestamp = data["timestamp"]
            timestamp_ms = int(timestamp)
        except (ValueError, TypeError, KeyError):
            return response.json({"error": "malformed event"}, status=400)
        if not isinstance(timestamp, (str, int)) or not isinstance(data, dict):
            return response.json({"error": "malformed event"}, status=400)
        secret = self.config.oa_secret_key
        if (
            not signature.verify(mac, self.config.app_id, body, str(timestamp), secret)
            or str(data.get("app_id", self.config.app_id)) != self.config.app_id
        ):
            logger.warning("Zalo webhook: rejected an event with a bad signature")
            return response.json({"error": "bad signature"}, status=403)

        event = parse_event(data, timestamp_ms)
        if event is None:
            return response.json({"status": "ignored"})
        if time.time() * 1000 - timestamp_ms > SEEN_TTL_S * 1000:
            # Older than the de-duplication memory: processing it could answer twice.
            return response.json({"status": "ignored", "reason": "stale"})
        await self._start()
        if not await self.store.claim(event.key):
            return response.json({"status": "duplicate"})
        task = asyncio.create_task(self._turn(event, on_new_message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return response.json({"status": "accepted"})

    async def _start(self) -> None:
        """Seeds the token store once, on the first event (needs the running loop)."""
        if self._started is None:
            self._slots = asyncio.Semaphore(MAX_CONCURRENT_TURNS)
            self._started = asyncio.ensure_future(self.client.start())
        await asyncio.shield(self._started)

    async def _turn(
        self, event: Event, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        """One user's event, after that user's earlier events; errors are logged, not raised."""
        lock, waiting = self._users.get(event.user_id, (asyncio.Lock(), 0))
        self._users[event.user_id] = (lock, waiting + 1)
        try:
            async with lock, self._slots:
                await self._quiet()
                await self._handle(event, on_new_message)
        except Exception:
            logger.exception("Zalo event for %s failed", mask_user(event.user_id))
        finally:
            lock, waiting = self._users[event.user_id]
            if waiting <= 1:
                del self._users[event.user_id]
            else:
                self._users[event.user_id] = (lock, waiting - 1)

    async def _quiet(self) -> None:
        """Waits until the webhook has been idle for QUIET_S (at most MAX_DEFER_S)."""
        give_up = time.monotonic() + MAX_DEFER_S
        while (idle := time.monotonic() - self._last_event) < QUIET_S:
            if time.monotonic() >= give_up:
                return
            await asyncio.sleep(QUIET_S - idle)

    async def _handle(
        self, event: Event, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        output = ZaloOutput(self.client)
        if event.name in MEDIA_EVENTS:
            await output.send_text_message(event.user_id, ONLY_TEXT)
            return
        text = event.text
        shown = await self.store.buttons(event.user_id)
        picked = render.pick(text, shown) if shown else None
        await on_new_message(
            UserMessage(
                picked or text,
                output,
                event.user_id,
                input_channel=self.name(),
                metadata={"zalo_msg_id": event.key},
            )
        )
        await self.store.save_buttons(event.user_id, output.payloads)

    async def drain(self) -> None:
        """Lets accepted events finish (up to DRAIN_S) so a restart loses none of them."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=DRAIN_S)
        if self.client is not None:
            await self.client.close()
        if self.store is not None:
            await self.store.close()

    def get_output_channel(self) -> OutputChannel | None:
        return ZaloOutput(self.client) if self.client is not None else None
