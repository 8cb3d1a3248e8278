"""ZaloInput.receive without a Rasa server: the checks, the order of turns,
numeric replies, and a channel left unconfigured. (tests/e2e/test_zalo.py
runs the same channel inside the real Rasa server.)"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from types import SimpleNamespace

from rasa.core.channels.channel import UserMessage

from bot.channels.zalo import signature
from bot.channels.zalo.api import ZaloConfig
from bot.channels.zalo.channel import ZaloInput
from tests.bot.channels.zalo.conftest import APP_ID, APP_SECRET, fake_zalo, run

OA_SECRET = "oa-secret"


def request(user: str, text: str, msg_id: str, secret: str = OA_SECRET) -> SimpleNamespace:
    timestamp = str(int(time.time() * 1000))
    body = json.dumps(
        {
            "app_id": APP_ID,
            "event_name": "user_send_text",
            "sender": {"id": user},
            "message": {"text": text, "msg_id": msg_id},
            "timestamp": timestamp,
        }
    ).encode()
    mac = signature.header(APP_ID, body, timestamp, secret)
    return SimpleNamespace(body=body, headers={"X-ZEvent-Signature": mac})


def channel_for(base: str, tmp_path: Path) -> ZaloInput:
    config = ZaloConfig(
        APP_ID, OA_SECRET, APP_SECRET, base, base, "access-0", "refresh-0", str(tmp_path / "z.db")
    )
    return ZaloInput(config)


def status_of(reply) -> tuple[int, dict]:
    return reply.status, json.loads(reply.body)


def test_an_unconfigured_channel_says_so() -> None:
    async def scenario() -> tuple[int, dict]:
        channel = ZaloInput(ZaloConfig())
        return status_of(await channel.receive(request("u", "x", "m"), lambda _: None))

    assert run(scenario()) == (503, {"error": "zalo channel not configured"})


def test_turns_of_one_user_run_in_order_and_numbers_pick_buttons(tmp_path: Path) -> None:
    seen: list[str] = []

    async def bot(message: UserMessage) -> None:
        """Stands in for Rasa: slow on the first message, answers with buttons."""
        seen.append(message.text)
        if message.text == "chậm":
            await asyncio.sleep(0.3)
        await message.output_channel.send_response(
            message.sender_id,
            {
                "text": f"Dạ, về “{message.text}”.",
                "buttons": [{"title": "Lệ phí", "payload": "/ask_fee"}],
            },
        )

    async def scenario() -> tuple[list, list[str]]:
        async with fake_zalo() as (fake, base):
            channel = channel_for(base, tmp_path)
            started = time.perf_counter()
            replies = [
                status_of(await channel.receive(request("u1", text, f"m{i}"), bot))
                for i, text in enumerate(["chậm", "nhanh"])
            ]
            assert time.perf_counter() - started < 0.25  # acknowledged before the turns ran
            await asyncio.wait(set(channel._tasks))
            replies.append(status_of(await channel.receive(request("u1", "1", "m9"), bot)))
            replies.append(status_of(await channel.receive(request("u1", "1", "m9"), bot)))
            forged = request("u1", "x", "m10", secret="nope")
            replies.append(status_of(await channel.receive(forged, bot)))
            await channel.drain()
            return replies, [m["text"] for m in fake.messages]

    replies, texts = run(scenario())
    assert [r[0] for r in replies] == [200, 200, 200, 200, 403]
    assert [r[1].get("status") for r in replies[:4]] == ["accepted"] * 3 + ["duplicate"]
    assert seen == ["chậm", "nhanh", "/ask_fee"]  # in order; "1" became the button's payload
    assert texts[0].startswith("Dạ, về “chậm”.") and texts[0].endswith("1. Lệ phí")
