"""The Zalo OA message API, as the channel's way out (DESIGN.md, "Zalo Official Account").

`POST {ZALO_API_BASE}/v3.0/oa/message/cs` with the OA's access token. The
token expires (error −216); then the refresh token buys a new pair at
`{ZALO_OAUTH_BASE}/v4/oa/access_token`. A refresh token works once, so with
several Rasa processes only one may refresh: it takes the store's lease, the
others wait for the new token to appear in the store. A process that lost the
race never spends the already-used refresh token.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from dataclasses import dataclass

import aiohttp

from bot.channels.zalo.store import Store, Tokens

__all__ = ["SendError", "ZaloClient", "ZaloConfig", "mask_user"]

logger = logging.getLogger(__name__)

TOKEN_EXPIRED = -216
# How long one process may hold the refresh lease, and others wait for it.
REFRESH_LEASE_S = 15.0
# Refused connections and 5xx are retried after these pauses; Zalo's error codes are not.
RETRY_PAUSES_S = (0.5, 1.5)


def mask_user(user_id: str) -> str:
    """A Zalo user id as logs show it: enough to match a complaint, not to message them."""
    return f"…{user_id[-4:]}" if len(user_id) > 4 else "…"


@dataclass(frozen=True)
class ZaloConfig:
    """The OA's settings; the channel is off unless app id and OA secret key are set."""

    app_id: str = ""
    oa_secret_key: str = ""  # signs webhook events
    app_secret: str = ""  # the app's secret key: authorises token refreshes
    api_base: str = "https://openapi.zalo.me"
    oauth_base: str = "https://oauth.zaloapp.com"
    access_token: str = ""  # first tokens only: the store keeps the rotated ones
    refresh_token: str = ""
    store_url: str = "run/zalo.db"

    @property
    def enabled(self) -> bool:
        return bool(self.app_id and self.oa_secret_key)

    @classmethod
    def from_env(cls, overrides: dict | None = None) -> ZaloConfig:
        """ZALO_* variables; values given in credentials.yml win."""
        env = {
            "app_id": "ZALO_APP_ID",
            "oa_secret_key": "ZALO_OA_SECRET_KEY",
            "app_secret": "ZALO_APP_SECRET",
            "api_base": "ZALO_API_BASE",
            "oauth_base": "ZALO_OAUTH_BASE",
            "access_token": "ZALO_ACCESS_TOKEN",
            "refresh_token": "ZALO_REFRESH_TOKEN",
            "store_url": "ZALO_STORE_URL",
        }
        values = {field: os.environ[name] for field, name in env.items() if os.environ.get(name)}
        values.update({k: str(v) for k, v in (overrides or {}).items() if k in env and v})
        values = {k: v.rstrip("/") if k.endswith("_base") else v for k, v in values.items()}
        return cls(**values)


class SendError(Exception):
    """A message Zalo did not accept; `code` is Zalo's error code (or the HTTP status)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"Zalo error {code}: {message}")
        self.code = code


class ZaloClient:
    """Sends customer-service text messages, refreshing the token when Zalo says so."""

    def __init__(self, config: ZaloConfig, store: Store, timeout_s: float = 10.0) -> None:
        self.config = config
        self.store = store
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None
        self._refreshing = asyncio.Lock()
        self._holder = uuid.uuid4().hex  # this process's name on the refresh lease

    async def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def start(self) -> None:
        """Seeds the store with the configured tokens unless it already holds newer ones."""
        if self.config.access_token and self.config.refresh_token:
            await self.store.seed_tokens(
                Tokens(self.config.access_token, self.config.refresh_token)
            )

    async def send_text(self, user_id: str, text: str) -> None:
        """Delivers one message (≤ 2,000 characters); raises SendError if Zalo refuses."""
        tokens = await self.store.tokens()
        if tokens is None:
            raise SendError(TOKEN_EXPIRED, "no access token configured (ZALO_ACCESS_TOKEN)")
        code, message = await self._post(tokens.access_token, user_id, text)
        if code == TOKEN_EXPIRED:
            fresh = await self.refresh(tokens.access_token)
            if fresh is None:
                raise SendError(code, "access token expired and could not be refreshed")
            code, message = await self._post(fresh, user_id, text)
        if code != 0:
            raise SendError(code, message)

    async def _post(self, token: str, user_id: str, text: str) -> tuple[int, str]:
        """One message with retries for transport failures; Zalo's (error, message)."""
        body = {"recipient": {"user_id": user_id}, "message": {"text": text}}
        url = f"{self.config.api_base}/v3.0/oa/message/cs"
        for attempt in range(len(RETRY_PAUSES_S) + 1):
            try:
                session = await self._http()
                async with session.post(url, json=body, headers={"access_token": token}) as reply:
                    if reply.status >= 500:
                        raise aiohttp.ClientResponseError(
                            reply.request_info, (), status=reply.status, message=reply.reason or ""
                        )
                    data = await reply.json(content_type=None)
                    if reply.status != 200 or not isinstance(data, dict):
                        return reply.status, f"HTTP {reply.status}"
                    return int(data.get("error", -1)), str(data.get("message", ""))
            except (aiohttp.ClientConnectorError, aiohttp.ClientResponseError) as error:
                # Not connected, or Zalo said it failed: the message was not delivered.
                if attempt == len(RETRY_PAUSES_S):
                    raise SendError(-1, f"Zalo API unavailable: {error}") from error
                logger.warning("Zalo send to %s failed (%s); retrying", mask_user(user_id), error)
                await asyncio.sleep(RETRY_PAUSES_S[attempt])
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
                # Sent but no clear answer: a retry could show the citizen the text twice.
                raise SendError(
                    -1, f"no answer from the Zalo API: {type(error).__name__}"
                ) from error
        raise AssertionError("unreachable")

    async def refresh(self, stale: str) -> str | None:
        """A valid access token in place of `stale`, refreshing at most once across processes."""
        async with self._refreshing:
            deadline = time.monotonic() + REFRESH_LEASE_S
            while True:
                current = await self.store.tokens()
                if current is None:
                    return None
                if current.access_token != stale:
                    return current.access_token  # another request or process refreshed it
                if await self.store.acquire_lease(self._holder, REFRESH_LEASE_S):
                    break
                if time.monotonic() > deadline:
                    logger.error("Zalo token refresh: another process held the lease too long")
                    return None
                await asyncio.sleep(0.2)
            try:
                current = await self.store.tokens()  # it may have changed before the lease
                if current is None or current.access_token != stale:
                    return current.access_token if current else None
                fresh = await self._exchange(current.refresh_token)
                if fresh is None:
                    return None
                await self.store.save_tokens(fresh)
                logger.info("Zalo access token refreshed")
                return fresh.access_token
            finally:
                await self.store.release_lease(self._holder)

    async def _exchange(self, refresh_token: str) -> Tokens | None:
        """The OAuth call itself; None (logged) when Zalo refuses or cannot be reached."""
        form = {
            "refresh_token": refresh_token,
            "app_id": self.config.app_id,
            "grant_type": "refresh_token",
        }
        url = f"{self.config.oauth_base}/v4/oa/access_token"
        try:
            session = await self._http()
            async with session.post(
                url, data=form, headers={"secret_key": self.config.app_secret}
            ) as reply:
                data = await reply.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            logger.error("Zalo token refresh failed: %s", type(error).__name__)
            return None
        if (
            not isinstance(data, dict)
            or not data.get("access_token")
            or not data.get("refresh_token")
        ):
            error = data.get("error") if isinstance(data, dict) else None
            logger.error("Zalo refused the refresh token (error %s)", error)
            return None
        try:
            expires_at = time.time() + float(data.get("expires_in") or 0) or None
        except (TypeError, ValueError):
            expires_at = None
        return Tokens(str(data["access_token"]), str(data["refresh_token"]), expires_at)
