"""The Zalo OA channel end to end: signed webhook events into the real Rasa
server (and its action server), replies out through the fake Zalo API."""

from __future__ import annotations

import json
import re
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

from bot.channels.zalo import signature
from tests.e2e.conftest import ZALO_APP_ID, ZALO_OA_SECRET, Bot


def event(
    user: str, text: str | None = None, name: str = "user_send_text", **extra: object
) -> dict:
    """A Zalo webhook event as the OA platform sends it."""
    message: dict = {"msg_id": extra.pop("msg_id", uuid.uuid4().hex)}
    if text is not None:
        message["text"] = text
    return {
        "app_id": ZALO_APP_ID,
        "user_id_by_app": f"app-{user}",
        "event_name": name,
        "sender": {"id": user},
        "recipient": {"id": "oa-e2e"},
        "message": message,
        "timestamp": str(extra.pop("timestamp", int(time.time() * 1000))),
    }


def post(bot: Bot, body: bytes, mac: str | None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if mac is not None:
        headers["X-ZEvent-Signature"] = mac
    request = urllib.request.Request(f"{bot.url}/webhooks/zalo/webhook", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def send(bot: Bot, data: dict, secret: str = ZALO_OA_SECRET) -> tuple[int, dict]:
    """POSTs `data` signed as Zalo signs it (with `secret`)."""
    body = json.dumps(data, ensure_ascii=False).encode()
    return post(bot, body, signature.header(ZALO_APP_ID, body, data["timestamp"], secret))


def fake_api(bot: Bot, path: str, payload: dict | None = None) -> object:
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(f"{bot.zalo_api}{path}", data=data)
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def delivered(
    bot: Bot, user: str, at_least: int = 1, settle: float = 1.0, timeout: float = 40
) -> list[str]:
    """Texts the fake Zalo API got for `user`, once at least `at_least` came and no more arrive."""
    deadline = time.monotonic() + timeout
    seen, stable_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        texts = [m["text"] for m in fake_api(bot, f"/_admin/messages?user_id={user}")]
        if len(texts) != seen:
            seen, stable_since = len(texts), time.monotonic()
        elif len(texts) >= at_least and time.monotonic() - stable_since >= settle:
            return texts
        time.sleep(0.1)
    return [m["text"] for m in fake_api(bot, f"/_admin/messages?user_id={user}")]


def number_of(texts: list[str], label: str) -> str:
    """The number the bot gave the option `label` in its numbered list."""
    for text in texts:
        match = re.search(rf"^(\d+)\. {re.escape(label)}", text, re.MULTILINE)
        if match:
            return match.group(1)
    raise AssertionError(f"no numbered option {label!r} in {texts}")


def test_a_signed_question_is_acknowledged_and_answered(bot: Bot) -> None:
    user = "zalo-e2e-1"
    started = time.monotonic()
    status, body = send(bot, event(user, "thủ tục đăng ký kết hôn thế nào ạ"))
    assert (status, body) == (200, {"status": "accepted"})
    assert time.monotonic() - started < 2  # Zalo's limit; the turn itself runs after
    texts = delivered(bot, user, at_least=2)
    joined = "\n".join(texts)
    assert "T.000003" in joined and "Đăng ký kết hôn" in joined
    assert all(0 < len(t) <= 2000 for t in texts)
    assert "Hữu ích" in joined and "{" not in joined  # buttons as words, never raw payloads

    # "N" for the "Lệ phí" option answers the fee, as a click in the widget would.
    fee = number_of(texts, "Lệ phí")
    send(bot, event(user, fee))
    more = delivered(bot, user, at_least=len(texts) + 1)[len(texts) :]
    assert "T.000003" in more[0] and "lệ phí" in more[0].lower()


def test_a_numbered_procedure_choice(bot: Bot) -> None:
    user = "zalo-e2e-2"
    send(bot, event(user, "dang ky cho con"))
    texts = delivered(bot, user)
    assert "T.000001" in texts[0] and "T.000003" in texts[0]
    assert texts[0].count("1. ") == 1  # the options are listed once, not twice
    second = re.search(r"^2\. .*\((?:mã )?(T\.\d{6})\)", texts[0], re.MULTILINE).group(1)
    send(bot, event(user, "số 2"))
    more = delivered(bot, user, at_least=len(texts) + 1)[len(texts) :]
    assert second in more[0] and "Cơ quan thực hiện" in "\n".join(more)


def test_forged_unsigned_and_malformed_events_are_rejected_unprocessed(bot: Bot) -> None:
    user = "zalo-e2e-forged"
    data = event(user, "xin chào")
    assert send(bot, data, secret="guessed-secret")[0] == 403
    body = json.dumps(data).encode()
    assert post(bot, body, None)[0] == 401
    assert post(bot, body, "mac=" + "0" * 64)[0] == 403
    # A body altered after signing (another user slipped in).
    good = signature.header(ZALO_APP_ID, body, data["timestamp"], ZALO_OA_SECRET)
    assert post(bot, body.replace(user.encode(), b"zalo-e2e-other"), good)[0] == 403
    # Another OA's event, correctly signed with our secret, is still not ours.
    assert send(bot, {**data, "app_id": "another-app"})[0] == 403
    assert post(bot, b'{"event_name": "user_send_text", ', "mac=00")[0] == 400
    assert post(bot, b"[1, 2]", "mac=00")[0] == 400
    assert post(bot, b"\xff\xfe not json", "mac=00")[0] == 400
    assert post(bot, b"{" + b" " * 70_000 + b"}", "mac=00")[0] == 413
    time.sleep(2)
    assert delivered(bot, user, at_least=0, settle=0.2) == []
    assert delivered(bot, "zalo-e2e-other", at_least=0, settle=0.2) == []


def test_a_retried_event_is_answered_once(bot: Bot) -> None:
    control, user = "zalo-e2e-once-a", "zalo-e2e-once-b"
    send(bot, event(control, "xin chào"))
    data = event(user, "xin chào")
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: send(bot, data), range(8)))
    assert all(status == 200 for status, _ in statuses)
    assert sorted(body["status"] for _, body in statuses) == ["accepted"] + ["duplicate"] * 7
    one_turn = delivered(bot, control)
    assert delivered(bot, user) == one_turn
    assert send(bot, data) == (200, {"status": "duplicate"})  # a late retry, too
    time.sleep(1)
    assert delivered(bot, user, settle=0.2) == one_turn


def test_events_without_text(bot: Bot) -> None:
    user = "zalo-e2e-media"
    for name in (
        "follow",
        "user_seen_message",
        "oa_send_text",
        "user_received_message",
        "nonsense",
    ):
        assert send(bot, event(user, "x", name=name)) == (200, {"status": "ignored"})
    assert send(bot, event(user, name="user_send_image")) == (200, {"status": "accepted"})
    texts = delivered(bot, user)
    assert len(texts) == 1 and "chỉ đọc được tin nhắn chữ" in texts[0]
    # Older than the de-duplication memory: acknowledged, not answered.
    stale = event(user, "xin chào", timestamp=int(time.time() * 1000) - 3 * 86_400_000)
    assert send(bot, stale)[1]["status"] == "ignored"
    time.sleep(1)
    assert delivered(bot, user, settle=0.2) == texts


def test_an_expired_token_is_refreshed_and_the_reply_still_delivered(bot: Bot) -> None:
    user = "zalo-e2e-token"
    before = fake_api(bot, "/_admin/stats")
    fake_api(bot, "/_admin/expire", {})
    send(bot, event(user, "xin chào"))
    texts = delivered(bot, user)
    after = fake_api(bot, "/_admin/stats")
    assert texts and after["refreshes"] == before["refreshes"] + 1
    assert after["refresh_rejected"] == before["refresh_rejected"]


def test_a_failing_zalo_api_loses_the_reply_but_not_the_channel(bot: Bot) -> None:
    user, later = "zalo-e2e-down", "zalo-e2e-after"
    fake_api(bot, "/_admin/faults", {"fail_next": 100, "fail_status": 502})
    send(bot, event(user, "xin chào"))
    time.sleep(5)
    fake_api(bot, "/_admin/faults", {})
    assert delivered(bot, user, at_least=0, settle=0.2) == []
    send(bot, event(later, "xin chào"))
    assert delivered(bot, later)
