"""Status lookup: reading codes, wording the portal's answer, the form's checks."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.status import ValidateStatusForm
from portal.client import Application, NotFound, Unavailable
from replies.status import LABELS, error_message, normalize_code, status_message

VN = timezone(timedelta(hours=7))
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=VN)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("H12.36-241125-0019", "H12.36-241125-0019"),
        ("mã hồ sơ của tôi là h12.36-241125-0019 ạ", "H12.36-241125-0019"),
        ("h12.36 241125 0019", "H12.36-241125-0019"),
        ("H12.36-2411250019", "H12.36-241125-0019"),
        ("H12.362411250019", "H12.36-241125-0019"),
        ("000.00.20.H12-241118-0007", "000.00.20.H12-241118-0007"),
        ("ma ho so 000.00.20.h12 241118 0007 nhe", "000.00.20.H12-241118-0007"),
    ],
)
def test_codes_are_read_and_typos_fixed(typed: str, code: str) -> None:
    assert normalize_code(typed) == code


@pytest.mark.parametrize(
    "typed",
    ["", "hồ sơ của tôi đến đâu rồi", "12345", "abc-def", "x" * 60, "<script>", "0912345678"],
)
def test_no_code_is_invented(typed: str) -> None:
    assert normalize_code(typed) is None


def application(status: str, due_days: int, note: str | None = None) -> Application:
    received = NOW - timedelta(days=10)
    return Application(
        application_code="H12.36-241125-0019",
        procedure_code="1.001193",
        procedure_name="Đăng ký khai sinh",
        agency="UBND phường Bến Nghé",
        status=status,
        received_at=received,
        due_at=NOW + timedelta(days=due_days),
        updated_at=received,
        note=note,
    )


@pytest.mark.parametrize("status", sorted(LABELS))
def test_every_status_is_worded_with_dates_and_a_next_step(status: str) -> None:
    text = status_message(application(status, 5), NOW)
    assert text.startswith("Dạ") and LABELS[status] in text
    assert "Đăng ký khai sinh" in text and "1.001193" in text and "UBND phường Bến Nghé" in text
    assert "18/11/2026" in text and "03/12/2026" in text
    assert "quá hạn" not in text


def test_overdue_unfinished_applications_say_so_finished_ones_do_not() -> None:
    assert "quá hạn hẹn trả 3 ngày" in status_message(application("in_progress", -3), NOW)
    assert "quá hạn" not in status_message(application("returned", -3), NOW)


def test_the_supplement_note_is_shown() -> None:
    text = status_message(application("needs_supplement", 5, "Bổ sung giấy chứng sinh"), NOW)
    assert "Bổ sung giấy chứng sinh" in text


def test_errors_are_honest() -> None:
    assert "không tìm thấy hồ sơ mã X" in error_message(NotFound("x"), "X")
    assert "tạm gián đoạn" in error_message(Unavailable("timeout"), "X")


def validate(text: str, tries: int = 0) -> tuple[dict, list[dict]]:
    tracker = Tracker(
        "u1",
        {"status_tries": tries, "requested_slot": "application_code"},
        {"text": text, "intent": {"name": "provide_application_code"}, "entities": []},
        [],
        False,
        None,
        {"name": "status_form"},
        "action_listen",
    )
    dispatcher = CollectingDispatcher()
    slots = asyncio.run(
        ValidateStatusForm().validate_application_code(text, dispatcher, tracker, {})
    )
    return slots, dispatcher.messages


def test_form_accepts_fixes_reasks_and_gives_up() -> None:
    slots, messages = validate("h12.36 241125 0019")
    assert slots["application_code"] == "H12.36-241125-0019" and not messages
    slots, messages = validate("không nhớ mã")
    assert slots == {"application_code": None, "status_tries": 1}
    assert "H12.36-241125-0019" in messages[0]["text"]  # an example
    slots, messages = validate("vẫn không nhớ", tries=2)
    assert slots["requested_slot"] is None and "tổng đài" in messages[0]["text"]


def test_the_citizen_can_abandon_the_form() -> None:
    for text in ("thôi", "Hủy", "thoi khong tra nua"):
        slots, messages = validate(text)
        assert slots["requested_slot"] is None and "hủy tra cứu" in messages[0]["text"]
