"""Zalo's webhook signature (DESIGN.md, "Zalo Official Account").

Zalo signs each event with `X-ZEvent-Signature: mac=<hex>` where
hex = sha256(app_id + raw body + timestamp + OA secret key). Anyone can POST to
a public webhook, so an event is processed only when this matches; the compare
is constant-time so a forger learns nothing from response times.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["header", "mac", "verify"]

_PREFIX = "mac="


def mac(app_id: str, body: bytes, timestamp: str, secret_key: str) -> str:
    """The hex digest Zalo puts after "mac=" for this event."""
    digest = hashlib.sha256()
    digest.update(app_id.encode())
    digest.update(body)
    digest.update(timestamp.encode())
    digest.update(secret_key.encode())
    return digest.hexdigest()


def header(app_id: str, body: bytes, timestamp: str, secret_key: str) -> str:
    """The whole header value, as Zalo (and the tests and benchmarks) send it."""
    return _PREFIX + mac(app_id, body, timestamp, secret_key)


def verify(value: str | None, app_id: str, body: bytes, timestamp: str, secret_key: str) -> bool:
    """True when `value` is the header Zalo would send for this body."""
    if not value or not value.startswith(_PREFIX):
        return False
    given = value[len(_PREFIX) :].strip().lower()
    expected = mac(app_id, body, timestamp, secret_key)
    # compare_digest wants both sides ASCII; a non-ASCII header is simply wrong.
    if not given.isascii():
        return False
    return hmac.compare_digest(given, expected)
