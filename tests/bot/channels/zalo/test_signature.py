"""X-ZEvent-Signature: sha256(app_id + raw body + timestamp + OA secret key)."""

import hashlib

from bot.channels.zalo import signature

BODY = b'{"app_id":"1","event_name":"user_send_text","timestamp":"1700000000000"}'


def test_mac_is_sha256_of_the_four_parts_in_order() -> None:
    expected = hashlib.sha256(b"1" + BODY + b"1700000000000" + b"secret").hexdigest()
    assert signature.mac("1", BODY, "1700000000000", "secret") == expected
    assert signature.header("1", BODY, "1700000000000", "secret") == f"mac={expected}"


def test_verify_accepts_the_right_header_only() -> None:
    good = signature.header("1", BODY, "1700000000000", "secret")
    assert signature.verify(good, "1", BODY, "1700000000000", "secret")
    assert signature.verify(
        good.upper().replace("MAC=", "mac="), "1", BODY, "1700000000000", "secret"
    )
    assert not signature.verify(good, "1", BODY, "1700000000000", "other-secret")
    assert not signature.verify(good, "2", BODY, "1700000000000", "secret")
    assert not signature.verify(good, "1", BODY + b" ", "1700000000000", "secret")
    assert not signature.verify(good, "1", BODY, "1700000000001", "secret")


def test_verify_rejects_malformed_headers() -> None:
    digest = signature.mac("1", BODY, "1700000000000", "secret")
    for value in (
        None,
        "",
        digest,
        "mac=",
        "sha256=" + digest,
        "mac=" + digest[:-1],
        "mac=đ" + digest[1:],
    ):
        assert not signature.verify(value, "1", BODY, "1700000000000", "secret")
