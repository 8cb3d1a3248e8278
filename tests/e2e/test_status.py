"""Application status over REST: real Rasa, real action server, portal simulator."""

from __future__ import annotations

import json
import time

from tests.conftest import ROOT
from tests.e2e.conftest import TEST_HOTLINE, Bot

DEMO = json.loads((ROOT / "portal" / "data" / "demo_applications.json").read_text("utf-8"))


def texts(replies: list[dict]) -> str:
    return " ".join(r.get("text", "") for r in replies)


def demo(status: str) -> dict:
    rows = DEMO if isinstance(DEMO, list) else DEMO["applications"]
    return next(row for row in rows if row["status"] == status)


def test_code_in_the_first_message(bot: Bot) -> None:
    app = demo("needs_supplement")
    _, replies = bot.send("st-1", f"kiểm tra giúp em hồ sơ {app['application_code']} với")
    text = texts(replies)
    assert "Cần bổ sung hồ sơ" in text and app["procedure_name"] in text
    assert app["note"] in text


def test_asks_for_the_code_fixes_typos_and_answers(bot: Bot) -> None:
    _, replies = bot.send("st-2", "hồ sơ của tôi đến đâu rồi")
    assert "mã hồ sơ" in texts(replies)
    app = demo("result_ready")
    typed = app["application_code"].lower().replace("-", " ")
    _, replies = bot.send("st-2", typed)
    assert "Đã có kết quả" in texts(replies)


def test_bad_codes_then_gives_up_politely(bot: Bot) -> None:
    bot.send("st-3", "tra cứu hồ sơ")
    _, replies = bot.send("st-3", "không nhớ")
    assert "ví dụ" in texts(replies)
    bot.send("st-3", "vẫn không nhớ mã")
    _, replies = bot.send("st-3", "chịu")
    assert TEST_HOTLINE in texts(replies)
    _, replies = bot.send("st-3", "lệ phí đăng ký kết hôn")  # the form is over
    assert "T.000003" in texts(replies)


def test_the_citizen_can_cancel(bot: Bot) -> None:
    bot.send("st-4", "kiểm tra tình trạng hồ sơ")
    _, replies = bot.send("st-4", "thôi")
    assert "hủy tra cứu" in texts(replies)


def test_unknown_code_and_dead_portal(bot: Bot) -> None:
    _, replies = bot.send("st-5", "kiểm tra hồ sơ H99.99-991231-9999")
    assert "không tìm thấy hồ sơ" in texts(replies)
    app = demo("in_progress")
    bot.portal_faults(outage=True)
    try:
        started = time.monotonic()
        _, replies = bot.send("st-6", f"hồ sơ {app['application_code']} đến đâu rồi")
        first = time.monotonic() - started
        assert "tạm gián đoạn" in texts(replies) and TEST_HOTLINE in texts(replies)
        assert first <= 3.5
        for _ in range(3):  # the circuit opens: later ones are quick
            started = time.monotonic()
            _, replies = bot.send("st-6", f"hồ sơ {app['application_code']} đến đâu rồi")
        assert "tạm gián đoạn" in texts(replies)
        assert time.monotonic() - started <= 0.5
    finally:
        bot.portal_faults(outage=False)
