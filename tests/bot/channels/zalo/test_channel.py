"""The channel's own parts: reading events, and one bot turn sent to Zalo."""

from __future__ import annotations

from pathlib import Path

from bot.channels.zalo.api import ZaloClient, ZaloConfig
from bot.channels.zalo.channel import MAX_TEXT_CHARS, ZaloOutput, parse_event
from bot.channels.zalo.store import SQLiteStore
from tests.bot.channels.zalo.conftest import APP_ID, APP_SECRET, fake_zalo, run


def test_parse_event_keeps_what_the_bot_answers() -> None:
    base = {"sender": {"id": "u1"}, "message": {"msg_id": "m1", "text": "xin chào"}}
    event = parse_event({**base, "event_name": "user_send_text"}, 1)
    assert (event.user_id, event.text, event.key) == ("u1", "xin chào", "m1")
    image = parse_event({**base, "event_name": "user_send_image", "message": {"msg_id": "m2"}}, 1)
    assert (image.name, image.text) == ("user_send_image", "")
    for name in ("follow", "oa_send_text", "user_seen_message", ""):
        assert parse_event({**base, "event_name": name}, 1) is None
    assert parse_event({"event_name": "user_send_text", "message": {"text": "x"}}, 1) is None
    assert parse_event({"event_name": "user_send_text", "sender": "u1"}, 1) is None
    no_id = parse_event({"event_name": "user_send_text", "sender": {"id": "u1"}, "message": {}}, 7)
    assert no_id.key == "user_send_text:u1:7" and no_id.text == ""
    long = parse_event({**base, "event_name": "user_send_text", "message": {"text": "a" * 9000}}, 1)
    assert len(long.text) == MAX_TEXT_CHARS


def test_a_5000_character_answer_arrives_in_order_in_parts(tmp_path: Path) -> None:
    sentences = [f"Bước {i}: nộp bản sao giấy tờ tại bộ phận một cửa." for i in range(110)]
    answer = " ".join(sentences)
    assert len(answer) >= 5000

    async def scenario() -> tuple[list[dict], list[str]]:
        async with fake_zalo() as (fake, base):
            config = ZaloConfig(APP_ID, "oa", APP_SECRET, base, base, "access-0", "refresh-0")
            client = ZaloClient(config, SQLiteStore(tmp_path / "z.db"))
            await client.start()
            output = ZaloOutput(client)
            await output.send_text_with_buttons(
                "u1", answer, [{"title": "Lệ phí", "payload": "/ask_fee"}]
            )
            await output.send_text_with_buttons(
                "u1", "Có giúp được không ạ?", [{"title": "👍 Hữu ích", "payload": "/up"}]
            )
            await client.close()
            return fake.messages, output.payloads

    messages, payloads = run(scenario())
    texts = [m["text"] for m in messages]
    assert len(texts) == 4 and all(len(t) <= 2000 for t in texts)
    assert texts[0].startswith("Bước 0:") and all(
        t.rstrip().endswith((".", "phí")) for t in texts[:3]
    )
    assert " ".join(texts[:3]).startswith(answer)
    assert texts[2].endswith("1. Lệ phí") and texts[3].endswith("2. 👍 Hữu ích")
    assert payloads == ["/ask_fee", "/up"]
