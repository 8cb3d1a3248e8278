"""What the bot and the console say about an application: its status in Vietnamese,
the due date and whether it is overdue, the next step, and the portal's errors; and
how an application code is read out of what a citizen typed.

Plain functions, no Rasa: the action server's status actions and the hotline
console word a lookup the same way.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from portal.client import Application, NotFound, PortalError
from replies.hotline import hotline_number

EXAMPLE = "H12.36-241125-0019"
VIETNAM = timezone(timedelta(hours=7))
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{8,38}[A-Z0-9]$")
# A run of code-like characters (spaces allowed inside: "h12.36 241125 0019").
_CANDIDATE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-_ ]*[A-Za-z0-9]")
# PREFIX-YYMMDD-NNNN with one or both dashes missing.
_DATED = re.compile(r"^(?P<prefix>[A-Z0-9.]*[A-Z.][A-Z0-9.]*?)-?(?P<date>\d{6})-?(?P<seq>\d{4})$")

LABELS = {
    "received": "Đã tiếp nhận",
    "in_progress": "Đang xử lý",
    "needs_supplement": "Cần bổ sung hồ sơ",
    "result_ready": "Đã có kết quả",
    "returned": "Đã trả kết quả",
    "rejected": "Từ chối giải quyết",
    "withdrawn": "Đã rút hồ sơ",
}
NEXT_STEPS = {
    "received": "Hồ sơ đang chờ cán bộ thụ lý; anh/chị chưa cần làm gì thêm.",
    "in_progress": "Cơ quan đang giải quyết; anh/chị theo dõi đến ngày hẹn trả.",
    "needs_supplement": "Anh/chị bổ sung giấy tờ theo ghi chú trên tại nơi đã nộp "
    "(hoặc trên Cổng Dịch vụ công nếu nộp trực tuyến).",
    "result_ready": "Anh/chị mang giấy biên nhận và giấy tờ tùy thân đến nơi nộp để nhận "
    "kết quả (hoặc chờ bưu điện nếu đã đăng ký trả qua bưu chính).",
    "returned": "Hồ sơ đã hoàn tất.",
    "rejected": "Anh/chị xem lý do ở trên; nếu cần, liên hệ cơ quan giải quyết hoặc tổng đài.",
    "withdrawn": "Hồ sơ đã được rút theo yêu cầu; muốn làm lại, anh/chị nộp hồ sơ mới.",
}
UNFINISHED = {"received", "in_progress", "needs_supplement"}


def normalize_code(text: str) -> str | None:
    """The application code in `text`, normalised, or None when there is none.

    Upper-cased; spaces and underscores inside read as dashes; a dash missing
    before the 6-digit date or the 4-digit number is put back. The result
    must be letters, digits, dots and dashes, 10-40 characters, with letters.
    """
    best = None
    for match in _CANDIDATE.finditer(text or ""):
        words = match.group().split()
        while words and not any(ch.isdigit() for ch in words[0]):
            words.pop(0)  # "ma ho so la H12..." → drop the leading words
        while words and not any(ch.isdigit() for ch in words[-1]):
            words.pop()
        if not words:
            continue
        code = re.sub(r"[-_ ]+", "-", "-".join(words).upper()).strip("-.")
        dated = _DATED.match(code.replace("-", "")) if code.count("-") < 2 else None
        if dated and "." in dated.group("prefix"):
            code = f"{dated.group('prefix')}-{dated.group('date')}-{dated.group('seq')}"
        # Real codes carry an agency prefix with letters; a bare number is
        # more likely a phone number, which must not be sent anywhere.
        valid = (
            _CODE.match(code)
            and sum(ch.isdigit() for ch in code) >= 6
            and any(ch.isalpha() for ch in code)
        )
        if valid and (best is None or len(code) > len(best)):
            best = code
    return best


def _date(moment: datetime) -> str:
    return moment.astimezone(VIETNAM).strftime("%d/%m/%Y")


def status_message(application: Application, now: datetime | None = None) -> str:
    """What the citizen reads about one application (only what the portal said)."""
    now = now or datetime.now(timezone.utc)
    lines = [
        f"Dạ, hồ sơ {application.application_code}: "
        f"{LABELS.get(application.status, application.status)}.",
        f"- Thủ tục: {application.procedure_name} (mã {application.procedure_code})",
        f"- Cơ quan giải quyết: {application.agency}",
        f"- Ngày tiếp nhận: {_date(application.received_at)}",
        f"- Ngày hẹn trả: {_date(application.due_at)}",
    ]
    if application.status in UNFINISHED and application.due_at < now:
        days = (now - application.due_at).days
        lines.append(
            f"- Hồ sơ đã quá hạn hẹn trả {days} ngày. Anh/chị có thể liên hệ cơ quan giải quyết "
            f"hoặc tổng đài {hotline_number()} để được kiểm tra."
            if days >= 1
            else f"- Hồ sơ đã quá giờ hẹn trả. Anh/chị có thể liên hệ tổng đài {hotline_number()}."
        )
    if application.note:
        lines.append(f"- Ghi chú của cơ quan: {application.note}")
    lines.append(NEXT_STEPS.get(application.status, ""))
    return "\n".join(line for line in lines if line)


def error_message(error: PortalError, code: str) -> str:
    if isinstance(error, NotFound):
        return (
            f"Dạ, em không tìm thấy hồ sơ mã {code}. Anh/chị kiểm tra lại mã in trên giấy "
            f"biên nhận (ví dụ {EXAMPLE}) rồi nhắn lại giúp em ạ."
        )
    return (
        "Dạ, hệ thống tra cứu hồ sơ đang tạm gián đoạn, em chưa kiểm tra được. Anh/chị vui lòng "
        f"thử lại sau ít phút hoặc gọi tổng đài {hotline_number()} ạ."
    )
