"""Staff accounts: the KDF, sign-in checks and session lifetimes."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.accounts import Accounts, hash_password, verify_password


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_passwords_are_salted_scrypt_hashes() -> None:
    first, second = hash_password("mật khẩu dài"), hash_password("mật khẩu dài")
    assert first.startswith("scrypt$16384$8$1$") and first != second
    assert verify_password("mật khẩu dài", first) and verify_password("mật khẩu dài", second)
    assert not verify_password("mật khẩu dài ", first)
    for broken in ("", "plain", "md5$x$y", "scrypt$1$2$3$!!$??"):
        assert not verify_password("x", broken)


def test_sign_in_checks(tmp_path: Path) -> None:
    accounts = Accounts(tmp_path / "c.db")
    user = accounts.add_user("lan.nguyen", "Nguyễn Thị Lan", "mật khẩu 12345")
    assert accounts.authenticate("lan.nguyen", "mật khẩu 12345") == user
    assert accounts.authenticate("lan.nguyen", "mật khẩu 1234") is None
    assert accounts.authenticate("nobody", "mật khẩu 12345") is None
    for name, password in (
        ("ab", "long enough 1"),
        ("Lan Nguyen", "long enough 1"),
        ("lan2", "short"),
    ):
        with pytest.raises(ValueError):
            accounts.add_user(name, "", password)
    with pytest.raises(ValueError):
        accounts.add_user("lan.nguyen", "again", "mật khẩu 12345")
    accounts.set_disabled("lan.nguyen", True)
    assert accounts.authenticate("lan.nguyen", "mật khẩu 12345") is None
    assert b"12345" not in (tmp_path / "c.db").read_bytes()


def test_sessions_expire_and_end(tmp_path: Path) -> None:
    clock = Clock()
    accounts = Accounts(tmp_path / "c.db", session_hours=8, idle_minutes=30, clock=clock)
    user = accounts.add_user("lan", "Lan", "mật khẩu 12345")
    token, session = accounts.start_session(user)
    assert token.encode() not in (tmp_path / "c.db").read_bytes()  # only its hash is stored
    assert accounts.session(token).user == user
    assert accounts.session("forged") is None and accounts.session(None) is None

    clock.now += 29 * 60  # in use every 29 minutes: stays alive...
    assert accounts.session(token)
    for _ in range(16):
        clock.now += 29 * 60
        if accounts.session(token) is None:
            break
    assert clock.now - session.expires_at >= 0  # ...until the 8-hour limit

    token, _ = accounts.start_session(user)
    clock.now += 31 * 60  # idle too long
    assert accounts.session(token) is None

    token, _ = accounts.start_session(user)
    accounts.end_session(token)
    assert accounts.session(token) is None

    token, _ = accounts.start_session(user)
    accounts.set_password("lan", "mật khẩu mới 678")
    assert accounts.session(token) is None
    assert accounts.authenticate("lan", "mật khẩu mới 678") == user
