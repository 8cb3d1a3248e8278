"""Client for the portal's application-tracking API (DESIGN.md, "Portal
application-tracking API"): `GET {PORTAL_API_URL}/applications/{code}`.

A citizen is waiting while the action server asks, so a lookup answers or
fails within `total_timeout` whatever the portal does: attempts, backoff,
Retry-After waits and body reads all share one deadline, and a circuit breaker
stops a dead portal from costing every conversation that deadline again.
Errors are typed so that the bot can tell "no such application" (NotFound)
from "cannot tell right now" (the other PortalErrors).

Codes are personal data (with one, anyone can read an application's status),
so logs carry them only through `mask_code`, and nothing logs the token or a
response body.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Literal
from urllib.parse import quote

import aiohttp
from yarl import URL

logger = logging.getLogger(__name__)

STATUSES = frozenset(
    {
        "received",
        "in_progress",
        "needs_supplement",
        "result_ready",
        "returned",
        "rejected",
        "withdrawn",
    }
)
# An application record is well under 2 KiB; a body past this cap is not one,
# and reading it whole would let a broken portal fill our memory.
MAX_BODY = 64 * 1024

Reason = Literal["timeout", "server_error", "connection", "rate_limited", "circuit_open"]


def mask_code(code: str) -> str:
    """The code as logs may show it: the first 3 and last 2 characters, the rest "*".

    That is enough to match a log line to a citizen's complaint, not enough to
    look their application up. Anything shorter than a valid code (10
    characters) is masked whole, so no short input is ever logged in full.
    """
    if len(code) < 10:
        return "*" * len(code)
    return f"{code[:3]}{'*' * (len(code) - 5)}{code[-2:]}"


class PortalError(Exception):
    """Any failure to get an application from the portal; the bot catches this one."""


# The names read as answers ("not found", "unavailable") where the bot catches
# them, and actions/ already imports them by these names: hence no Error suffix.
class NotFound(PortalError):  # noqa: N818
    """The portal answered that no application has this code."""


class Unauthorized(PortalError):  # noqa: N818
    """The portal refused the token (401/403): a configuration fault, never retried."""


class Unavailable(PortalError):  # noqa: N818
    """The portal gave no usable answer in time; `reason` says how, for logs and metrics.

    `retry_after` is the wait a 429 asked for, in seconds, when it asked for one.
    """

    def __init__(self, reason: Reason, detail: str = "", *, retry_after: float | None = None):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason: Reason = reason
        self.retry_after = retry_after


class MalformedResponse(PortalError):  # noqa: N818
    """The portal answered outside the published contract (body, type or fields)."""


@dataclass(frozen=True)
class Application:
    """One application as the portal reports it; the bot says nothing beyond these fields."""

    application_code: str
    procedure_code: str
    procedure_name: str
    agency: str
    status: str
    received_at: datetime
    due_at: datetime
    updated_at: datetime
    note: str | None

    @classmethod
    def from_json(cls, data: object) -> Application:
        """Reads a 200 body, strictly: a wrong field would reach a citizen as fact.

        Every contract field must be there with the right type, times must carry
        an offset and the status must be a known one. Extra fields are ignored,
        so the portal can add some without breaking the bot.
        """
        if not isinstance(data, dict):
            raise MalformedResponse("body is not a JSON object")
        status = _text(data, "status")
        if status not in STATUSES:
            raise MalformedResponse("unknown status")
        if "note" not in data:
            raise MalformedResponse("missing field note")
        note = data["note"]
        if note is not None and not isinstance(note, str):
            raise MalformedResponse("note is neither text nor null")
        return cls(
            application_code=_text(data, "application_code"),
            procedure_code=_text(data, "procedure_code"),
            procedure_name=_text(data, "procedure_name"),
            agency=_text(data, "agency"),
            status=status,
            received_at=_time(data, "received_at"),
            due_at=_time(data, "due_at"),
            updated_at=_time(data, "updated_at"),
            note=note,
        )


def _text(data: dict, name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise MalformedResponse(f"{name} is missing or not text")
    return value


def _time(data: dict, name: str) -> datetime:
    value = _text(data, name)
    try:
        # Python 3.10's fromisoformat does not read a "Z" suffix.
        moment = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        raise MalformedResponse(f"{name} is not an ISO 8601 time") from None
    if moment.utcoffset() is None:
        raise MalformedResponse(f"{name} has no UTC offset")
    return moment


class CircuitBreaker:
    """Fails fast while the portal is down, instead of making each citizen wait it out.

    Closed: calls go through, and `failure_threshold` consecutive Unavailable
    failures open it. Open: calls fail at once with Unavailable("circuit_open").
    Once `reset_after` seconds have passed, one trial call goes through
    (half-open): its success closes the breaker, its failure opens it again.
    NotFound, Unauthorized and MalformedResponse are answers from a live
    portal, so they count as successes. `clock` is injectable for tests.
    """

    def __init__(
        self,
        failure_threshold: int = 3,
        reset_after: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.reset_after = reset_after
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial = False  # the half-open trial call is in flight

    @property
    def state(self) -> Literal["closed", "open", "half_open"]:
        if self._opened_at is None:
            return "closed"
        if self._trial or self._clock() - self._opened_at >= self.reset_after:
            return "half_open"
        return "open"

    def acquire(self) -> None:
        """Lets a call through, or raises Unavailable("circuit_open") without one."""
        if self._opened_at is None:
            return
        if self._trial or self._clock() - self._opened_at < self.reset_after:
            raise Unavailable("circuit_open")
        self._trial = True

    def succeeded(self) -> None:
        """The portal answered: the failure count starts again, and the breaker closes."""
        if self._opened_at is not None:
            logger.info("portal circuit closed: the portal answers again")
        self._failures = 0
        self._opened_at = None
        self._trial = False

    def failed(self) -> None:
        """The portal did not answer usefully; enough of these in a row open the breaker."""
        self._failures += 1
        self._trial = False
        if self._opened_at is not None or self._failures >= self.failure_threshold:
            if self._opened_at is None:
                logger.warning(
                    "portal circuit open after %d failures; next try in %.0f s",
                    self._failures,
                    self.reset_after,
                )
            self._opened_at = self._clock()

    def abandoned(self) -> None:
        """A call ended without a verdict (it was cancelled): another may be the trial."""
        self._trial = False


class PortalClient:
    """Looks applications up on the portal: one per process, shared by all conversations.

    It holds one HTTP session (connections are reused) and one circuit breaker,
    so that every conversation learns at once that the portal is down.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        total_timeout: float = 3.0,
        connect_timeout: float = 0.5,
        read_timeout: float = 1.5,
        retries: int = 2,
        backoff: float = 0.1,
        max_retry_after: float = 1.0,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self._base_url = str(URL(base_url)).rstrip("/")
        self._token = token
        self._total_timeout = total_timeout
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._retries = retries
        self._backoff = backoff
        self._max_retry_after = max_retry_after
        self.breaker = breaker or CircuitBreaker()
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_env(cls) -> PortalClient:
        """The client for PORTAL_API_URL / PORTAL_API_TOKEN.

        A missing URL raises PortalError, which the bot already answers with
        "cannot check right now", rather than crashing the action.
        """
        url = os.environ.get("PORTAL_API_URL", "").strip()
        if not url:
            raise PortalError("PORTAL_API_URL is not set")
        return cls(url, os.environ.get("PORTAL_API_TOKEN", ""))

    async def __aenter__(self) -> PortalClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Closes the HTTP session; a later lookup opens a new one."""
        if self._session is not None and self._loop is asyncio.get_running_loop():
            await self._session.close()
        elif self._session is not None:
            self._let_go()
        self._session = None

    async def get_application(self, code: str) -> Application:
        """The application with this code, within `total_timeout` seconds.

        Raises NotFound, Unauthorized, Unavailable (see `reason`) or
        MalformedResponse, all PortalErrors.
        """
        if not code:
            raise NotFound("empty application code")
        self.breaker.acquire()
        try:
            application = await self._lookup(code)
        except Unavailable:
            self.breaker.failed()
            raise
        except PortalError:
            self.breaker.succeeded()
            raise
        except BaseException:
            self.breaker.abandoned()
            raise
        self.breaker.succeeded()
        return application

    async def _lookup(self, code: str) -> Application:
        """Tries, waits and retries until an answer or the deadline.

        GET is idempotent, so 5xx, timeouts and dropped connections are retried
        with exponential backoff (jittered, so that many action servers do not
        retry in step); a 429 is retried after its Retry-After when that is
        short enough; any other 4xx is an answer and is never retried.
        wait_for is the hard stop; each attempt's own timeouts are clipped to
        the time left, so it rarely has to fire.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._total_timeout
        url = self._url(code)

        async def attempts() -> Application:
            attempt = 0
            while True:
                try:
                    return await self._attempt(url, code, deadline)
                except Unavailable as error:
                    if attempt >= self._retries:
                        raise
                    if error.retry_after is not None and error.retry_after > self._max_retry_after:
                        raise
                    wait = error.retry_after
                    if wait is None:
                        wait = self._backoff * 2**attempt * (1 + random.random() / 4)
                    if loop.time() + wait >= deadline:
                        raise
                    logger.info(
                        "portal %s: %s, retry %d in %.2f s",
                        mask_code(code),
                        error.reason,
                        attempt + 1,
                        wait,
                    )
                await asyncio.sleep(wait)
                attempt += 1

        try:
            return await asyncio.wait_for(attempts(), self._total_timeout)
        except asyncio.TimeoutError:
            raise Unavailable("timeout", "deadline passed") from None

    def _url(self, code: str) -> URL:
        """The lookup URL, with the code as exactly one path segment.

        Quoting "/" keeps the code in its segment; a code of only dots would
        still be read as "." or ".." (path traversal), so its dots are
        percent-encoded too, and the URL is passed on as already encoded.
        """
        segment = quote(code, safe="")
        if not segment.strip("."):
            segment = segment.replace(".", "%2E")
        return URL(f"{self._base_url}/applications/{segment}", encoded=True)

    async def _attempt(self, url: URL, code: str, deadline: float) -> Application:
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            raise Unavailable("timeout", "deadline passed")
        timeout = aiohttp.ClientTimeout(
            total=left,
            sock_connect=min(self._connect_timeout, left),
            sock_read=min(self._read_timeout, left),
        )
        try:
            async with self._session_for_loop().get(
                url, timeout=timeout, allow_redirects=False
            ) as response:
                return await _answer(response, code)
        except asyncio.TimeoutError:
            raise Unavailable("timeout", "no answer in time") from None
        except aiohttp.ClientError as error:
            # `from None`: aiohttp's messages can hold the URL, hence the code.
            raise Unavailable("connection", type(error).__name__) from None

    def _session_for_loop(self) -> aiohttp.ClientSession:
        """The shared session, made on first use on the running event loop.

        A session belongs to the loop it was made on; when the loop changes
        (tests, or a server restarted in-process) the old one cannot be used
        and a new one is made.
        """
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            if self._session is not None:
                self._let_go()
            self._session = aiohttp.ClientSession(
                headers={"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
            )
            self._loop = loop
        return self._session

    def _let_go(self) -> None:
        """Closes the session of another event loop, which cannot be awaited from this one.

        On a loop that still exists, the close is handed to it. On a closed loop
        its connections are already dead: the session and connector are only
        marked closed, so that they do not log "Unclosed ..." when collected.
        """
        session, loop = self._session, self._loop
        if session is None or loop is None or session.closed:
            return
        if not loop.is_closed():
            asyncio.run_coroutine_threadsafe(session.close(), loop)
            return
        connector = session.connector
        session.detach()
        if connector is not None:
            connector._close()  # aiohttp's only close that needs no running loop


async def _answer(response: aiohttp.ClientResponse, code: str) -> Application:
    """Maps one HTTP response to an Application or a PortalError."""
    status = response.status
    if status == 200:
        application = Application.from_json(await _json(response))
        # An answer about another application must never reach this citizen.
        if application.application_code.upper() != code.upper():
            raise MalformedResponse("the answer is about another application")
        return application
    if status == 404:
        body = await _json(response)
        if isinstance(body, dict) and body.get("error") == "not_found":
            raise NotFound()
        # A bare 404 is a wrong PORTAL_API_URL, not "no such application".
        raise MalformedResponse("404 without the not_found body")
    if status in (401, 403):
        raise Unauthorized(f"HTTP {status}")
    if status == 429:
        raise Unavailable(
            "rate_limited", "HTTP 429", retry_after=_seconds(response.headers.get("Retry-After"))
        )
    if status >= 500:
        raise Unavailable("server_error", f"HTTP {status}")
    raise MalformedResponse(f"unexpected HTTP {status}")


def _seconds(retry_after: str | None) -> float | None:
    """Retry-After in seconds; an HTTP-date or junk reads as "too long to wait"."""
    if retry_after is None:
        return None
    try:
        return max(0.0, float(retry_after))
    except ValueError:
        return float("inf")


async def _json(response: aiohttp.ClientResponse) -> object:
    """The body as JSON, read up to MAX_BODY (the read timeouts bound a slow drip)."""
    if response.content_type != "application/json":
        raise MalformedResponse("content type is not application/json")
    if response.content_length is not None and response.content_length > MAX_BODY:
        raise MalformedResponse("body too large")
    body = bytearray()
    while chunk := await response.content.read(MAX_BODY + 1 - len(body)):
        body += chunk
        if len(body) > MAX_BODY:
            raise MalformedResponse("body too large")
    try:
        return json.loads(body.decode(response.charset or "utf-8"))
    except (LookupError, ValueError):
        raise MalformedResponse("body is not JSON") from None
