"""A fake Zalo OA API: the outside party the Zalo channel talks to, for tests and benchmarks.

It serves the two calls the channel makes, with Zalo's published errors:

    POST /v3.0/oa/message/cs      header access_token; {"recipient": {"user_id"},
                                  "message": {"text"}} → {"error": 0, "data": …}
                                  −216 unknown/expired token, −201 bad parameters
                                  (no user, empty text, text over 2,000 characters)
    POST /v4/oa/access_token      header secret_key; form refresh_token, app_id,
                                  grant_type=refresh_token → a new token pair;
                                  a refresh token works once (−14014 after)

and lets a test see and steer it (no auth: it only ever binds to loopback):

    GET  /_admin/messages[?user_id=]   what was delivered, in order
    GET  /_admin/stats                 deliveries, refreshes, rejections
    POST /_admin/expire                the current access token stops working
    POST /_admin/faults                {"fail_next": n, "fail_status": 500 | "fail_error": -230,
                                        "latency_ms": …, "refresh_latency_ms": …}
    POST /_admin/reset                 forget delivered messages and counters

    python -m tools.fake_zalo --port 8071 --app-id demo-app --app-secret demo-secret
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
import uuid
from dataclasses import dataclass, field

from aiohttp import web

MAX_TEXT = 2000


@dataclass
class FakeZalo:
    """The fake's state: one OA, its current token pair, what it delivered."""

    app_id: str
    app_secret: str
    access_token: str
    refresh_token: str
    messages: list[dict] = field(default_factory=list)
    stats: dict[str, int] = field(
        default_factory=lambda: {
            "delivered": 0,
            "refreshes": 0,
            "refresh_rejected": 0,
            "token_rejected": 0,
            "failed": 0,
        }
    )
    faults: dict[str, int] = field(default_factory=dict)
    _serial: itertools.count = field(default_factory=lambda: itertools.count(1))

    async def send(self, request: web.Request) -> web.Response:
        await asyncio.sleep(self.faults.get("latency_ms", 0) / 1000)
        if self.faults.get("fail_next", 0) > 0:
            self.faults["fail_next"] -= 1
            self.stats["failed"] += 1
            if "fail_error" in self.faults:
                return _zalo_error(self.faults["fail_error"], "Injected failure")
            return web.json_response(
                {"error": "injected"}, status=self.faults.get("fail_status", 500)
            )
        if request.headers.get("access_token") != self.access_token:
            self.stats["token_rejected"] += 1
            return _zalo_error(-216, "Access token is invalid")
        try:
            body = await request.json()
            user_id = str(body["recipient"]["user_id"])
            text = body["message"]["text"]
        except (ValueError, KeyError, TypeError):
            return _zalo_error(-201, "Parameters are invalid")
        if not isinstance(text, str) or not text or not user_id:
            return _zalo_error(-201, "Parameters are invalid")
        if len(text) > MAX_TEXT:
            return _zalo_error(-201, f"Text is too long (max {MAX_TEXT} characters)")
        message_id = uuid.uuid4().hex
        self.messages.append(
            {"user_id": user_id, "text": text, "message_id": message_id, "at": time.time()}
        )
        self.stats["delivered"] += 1
        return web.json_response(
            {
                "error": 0,
                "message": "Success",
                "data": {"message_id": message_id, "user_id": user_id},
            }
        )

    async def refresh(self, request: web.Request) -> web.Response:
        await asyncio.sleep(self.faults.get("refresh_latency_ms", 0) / 1000)
        form = await request.post()
        if request.headers.get("secret_key") != self.app_secret:
            self.stats["refresh_rejected"] += 1
            return _oauth_error(-14002, "Invalid secret key")
        if form.get("app_id") != self.app_id or form.get("grant_type") != "refresh_token":
            self.stats["refresh_rejected"] += 1
            return _oauth_error(-14001, "Invalid parameter")
        if form.get("refresh_token") != self.refresh_token:
            self.stats["refresh_rejected"] += 1
            return _oauth_error(-14014, "Invalid refresh token")
        serial = next(self._serial)
        self.access_token, self.refresh_token = f"access-{serial}", f"refresh-{serial}"
        self.stats["refreshes"] += 1
        return web.json_response(
            {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "expires_in": "90000",
            }
        )

    async def list_messages(self, request: web.Request) -> web.Response:
        user = request.query.get("user_id")
        return web.json_response([m for m in self.messages if user is None or m["user_id"] == user])

    async def get_stats(self, _: web.Request) -> web.Response:
        return web.json_response({**self.stats, "messages": len(self.messages)})

    async def expire(self, _: web.Request) -> web.Response:
        self.access_token = f"expired-{uuid.uuid4().hex}"  # nobody holds this one
        return web.json_response({"status": "expired"})

    async def set_faults(self, request: web.Request) -> web.Response:
        self.faults = {k: int(v) for k, v in (await request.json()).items()}
        return web.json_response(self.faults)

    async def reset(self, _: web.Request) -> web.Response:
        self.messages.clear()
        self.stats = dict.fromkeys(self.stats, 0)
        self.faults = {}
        return web.json_response({"status": "reset"})


def _zalo_error(code: int, message: str) -> web.Response:
    """The message API answers errors with HTTP 200 and a negative code."""
    return web.json_response({"error": code, "message": message})


def _oauth_error(code: int, description: str) -> web.Response:
    return web.json_response(
        {"error": code, "error_name": description, "error_description": description}
    )


def make_app(fake: FakeZalo) -> web.Application:
    app = web.Application()
    app.add_routes(
        [
            web.post("/v3.0/oa/message/cs", fake.send),
            web.post("/v4/oa/access_token", fake.refresh),
            web.get("/_admin/messages", fake.list_messages),
            web.get("/_admin/stats", fake.get_stats),
            web.post("/_admin/expire", fake.expire),
            web.post("/_admin/faults", fake.set_faults),
            web.post("/_admin/reset", fake.reset),
            web.get("/health", lambda _: web.json_response({"status": "ok"})),
        ]
    )
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8071)
    parser.add_argument("--app-id", default="demo-app")
    parser.add_argument("--app-secret", default="demo-app-secret")
    parser.add_argument("--access-token", default="access-0")
    parser.add_argument("--refresh-token", default="refresh-0")
    args = parser.parse_args()
    fake = FakeZalo(args.app_id, args.app_secret, args.access_token, args.refresh_token)
    web.run_app(make_app(fake), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
