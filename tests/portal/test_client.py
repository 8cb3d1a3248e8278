"""The portal client over real loopback HTTP: against the simulator (the contract,
its errors and faults) and against a small rogue server for answers the
simulator never gives (huge bodies, bare 404s, someone else's application)."""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote

import pytest
from aiohttp import web

from portal.client import (
    MAX_BODY,
    STATUSES,
    Application,
    CircuitBreaker,
    MalformedResponse,
    NotFound,
    PortalClient,
    PortalError,
    Unauthorized,
    Unavailable,
    mask_code,
)
from portal.simulator import SIMULATOR, Faults, Simulator, load_applications, make_app, serving
from tests.portal.conftest import synchronously

TOKEN = "test-token"
DEMO = load_applications()
CODE = "H12.36-241125-0019"  # in the demo data
FAST = {"total_timeout": 1.0, "read_timeout": 0.5}  # timeouts that keep tests quick


@asynccontextmanager
async def simulator(**faults: Any) -> AsyncIterator[tuple[Simulator, str]]:
    app = make_app(TOKEN, faults=Faults(**faults), seed=7)
    async with serving(app) as url:
        yield app[SIMULATOR], url


class Clock:
    """A hand-moved clock for the circuit breaker."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def demo_code(status: str) -> str:
    return next(code for code, row in DEMO.items() if row["status"] == status)


@pytest.mark.parametrize("status", sorted(STATUSES))
@synchronously
async def test_every_status_is_read(status: str) -> None:
    code = demo_code(status)
    row = DEMO[code]
    async with simulator() as (_, url), PortalClient(url, TOKEN) as client:
        application = await client.get_application(code)
    assert application == Application(
        application_code=code,
        procedure_code=row["procedure_code"],
        procedure_name=row["procedure_name"],
        agency=row["agency"],
        status=status,
        received_at=datetime.fromisoformat(row["received_at"]),
        due_at=datetime.fromisoformat(row["due_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]),
        note=row["note"],
    )
    assert application.due_at.utcoffset() == timedelta(hours=7)


@synchronously
async def test_unknown_code_is_not_found() -> None:
    async with simulator() as (sim, url), PortalClient(url, TOKEN) as client:
        with pytest.raises(NotFound):
            await client.get_application("H99.99-991231-9999")
        assert sim.lookups == 1  # an answer: never retried


@pytest.mark.parametrize("token", ["wrong-token", ""])
@synchronously
async def test_a_bad_token_is_unauthorized_and_not_retried(token: str) -> None:
    async with simulator() as (sim, url), PortalClient(url, token) as client:
        with pytest.raises(Unauthorized):
            await client.get_application(CODE)
        assert sim.lookups == 1


@synchronously
async def test_a_burst_of_server_errors_is_retried() -> None:
    async with simulator(error_rate=1.0, remaining=2) as (sim, url):
        async with PortalClient(url, TOKEN) as client:
            application = await client.get_application(CODE)
        assert application.application_code == CODE
        assert sim.lookups == 3


@synchronously
async def test_persistent_server_errors_end_within_the_deadline() -> None:
    async with simulator(error_rate=1.0) as (sim, url), PortalClient(url, TOKEN) as client:
        started = time.monotonic()
        with pytest.raises(Unavailable) as caught:
            await client.get_application(CODE)
        assert time.monotonic() - started < 3.0
        assert caught.value.reason == "server_error"
        assert sim.lookups == 3  # the first try and two retries


@synchronously
async def test_a_short_retry_after_is_waited_out() -> None:
    async with simulator(rate_limit_rate=1.0, retry_after=1, remaining=1) as (sim, url):
        async with PortalClient(url, TOKEN) as client:
            started = time.monotonic()
            application = await client.get_application(CODE)
            elapsed = time.monotonic() - started
        assert application.application_code == CODE
        assert 1.0 <= elapsed < 2.0
        assert sim.lookups == 2


@pytest.mark.parametrize(
    ("retry_after", "total_timeout"),
    [(5, 3.0), (1, 0.5)],  # over max_retry_after; under it, but past the deadline
)
@synchronously
async def test_a_long_retry_after_fails_fast(retry_after: int, total_timeout: float) -> None:
    async with simulator(rate_limit_rate=1.0, retry_after=retry_after) as (sim, url):
        async with PortalClient(url, TOKEN, total_timeout=total_timeout) as client:
            started = time.monotonic()
            with pytest.raises(Unavailable) as caught:
                await client.get_application(CODE)
            assert time.monotonic() - started < 0.3
        assert caught.value.reason == "rate_limited"
        assert caught.value.retry_after == retry_after
        assert sim.lookups == 1


@synchronously
async def test_malformed_answers_are_rejected() -> None:
    # The simulator serves its malformed kinds in turn: not JSON, wrong type, bad fields.
    async with simulator(malformed_rate=1.0) as (sim, url):
        async with PortalClient(url, TOKEN) as client:
            messages = []
            for _ in range(3):
                with pytest.raises(MalformedResponse) as caught:
                    await client.get_application(CODE)
                messages.append(str(caught.value))
        assert messages == [
            "body is not JSON",
            "content type is not application/json",
            "unknown status",
        ]
        assert sim.lookups == 3  # a malformed answer is an answer: not retried


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@synchronously
async def test_connection_refused_is_unavailable_quickly() -> None:
    async with PortalClient(f"http://127.0.0.1:{closed_port()}", TOKEN) as client:
        started = time.monotonic()
        with pytest.raises(Unavailable) as caught:
            await client.get_application(CODE)
        assert time.monotonic() - started < 1.0  # three tries and two short backoffs
    assert caught.value.reason == "connection"


@pytest.mark.parametrize(
    ("faults", "options"),
    [
        ({"slow_drip": 10.0}, FAST),
        ({"latency_ms": 5000}, FAST),
        ({"latency_ms": 5000}, {}),  # the production defaults: a 3 s deadline
    ],
)
@synchronously
async def test_a_slow_portal_costs_at_most_the_deadline(
    faults: dict[str, float], options: dict[str, float]
) -> None:
    async with simulator(**faults) as (_, url), PortalClient(url, TOKEN, **options) as client:
        started = time.monotonic()
        with pytest.raises(Unavailable) as caught:
            await client.get_application(CODE)
        elapsed = time.monotonic() - started
    assert caught.value.reason == "timeout"
    assert elapsed <= options.get("total_timeout", 3.0) + 0.3


@synchronously
async def test_the_circuit_opens_fails_fast_half_opens_and_closes() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=3, reset_after=30.0, clock=clock)
    async with (
        simulator(error_rate=1.0) as (sim, url),
        PortalClient(url, TOKEN, retries=0, breaker=breaker) as client,
    ):
        for _ in range(3):
            with pytest.raises(Unavailable, match="server_error"):
                await client.get_application(CODE)
        assert breaker.state == "open" and sim.lookups == 3

        started = time.monotonic()
        with pytest.raises(Unavailable) as caught:
            await client.get_application(CODE)
        assert time.monotonic() - started < 0.05
        assert caught.value.reason == "circuit_open" and sim.lookups == 3

        clock.now += 29.9
        with pytest.raises(Unavailable, match="circuit_open"):
            await client.get_application(CODE)
        clock.now += 0.1
        assert breaker.state == "half_open"
        with pytest.raises(Unavailable, match="server_error"):  # the trial fails
            await client.get_application(CODE)
        assert breaker.state == "open" and sim.lookups == 4
        with pytest.raises(Unavailable, match="circuit_open"):
            await client.get_application(CODE)

        clock.now += 30.0
        sim.faults = Faults()  # the portal is back
        assert (await client.get_application(CODE)).application_code == CODE
        assert breaker.state == "closed" and sim.lookups == 5
        await client.get_application(CODE)
        assert sim.lookups == 6


@synchronously
async def test_half_open_lets_one_trial_through() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, reset_after=10.0, clock=clock)
    async with (
        simulator(error_rate=1.0) as (sim, url),
        PortalClient(url, TOKEN, retries=0, breaker=breaker) as client,
    ):
        with pytest.raises(Unavailable):
            await client.get_application(CODE)
        clock.now += 10.0
        sim.faults = Faults(latency_ms=200)
        results = await asyncio.gather(
            client.get_application(CODE), client.get_application(CODE), return_exceptions=True
        )
    assert isinstance(results[0], Application)
    assert isinstance(results[1], Unavailable) and results[1].reason == "circuit_open"
    assert sim.lookups == 2 and breaker.state == "closed"


@synchronously
async def test_answers_that_prove_the_portal_alive_reset_the_count() -> None:
    breaker = CircuitBreaker(failure_threshold=3)
    async with (
        simulator() as (sim, url),
        PortalClient(url, TOKEN, retries=0, breaker=breaker) as client,
    ):
        for _ in range(3):
            sim.faults = Faults(error_rate=1.0, remaining=2)
            for _ in range(2):
                with pytest.raises(Unavailable):
                    await client.get_application(CODE)
            with pytest.raises(NotFound):
                await client.get_application("H99.99-991231-9999")
        assert breaker.state == "closed"


@pytest.mark.parametrize(
    "code", ["..", ".", "../health", "../../_admin/stats", "a/b", "x?y#z", "%2F", "H12 36"]
)
@synchronously
async def test_a_code_stays_one_path_segment(code: str) -> None:
    # NotFound comes only from the lookup route, with the code as it was sent:
    # /health or /_admin would answer otherwise, and a bare 404 reads as malformed.
    async with simulator() as (sim, url), PortalClient(url, TOKEN) as client:
        with pytest.raises(NotFound):
            await client.get_application(code)
        assert sim.lookups == 1


@synchronously
async def test_an_empty_code_is_not_found_without_a_request() -> None:
    async with simulator() as (sim, url), PortalClient(url, TOKEN) as client:
        with pytest.raises(NotFound):
            await client.get_application("")
        assert sim.lookups == 0


@synchronously
async def test_one_session_serves_concurrent_lookups() -> None:
    codes = list(DEMO)
    async with simulator() as (sim, url), PortalClient(url, TOKEN) as client:
        found = await asyncio.gather(*(client.get_application(code) for code in codes))
        session = client._session
        await client.get_application(CODE)
        assert client._session is session
    assert [application.application_code for application in found] == codes
    assert sim.lookups == len(codes) + 1


def test_a_new_event_loop_gets_a_new_session(caplog: pytest.LogCaptureFixture) -> None:
    """One client kept across loops (as a module-level one is, across asyncio.run calls)."""
    client = PortalClient("http://unused.invalid", TOKEN)

    async def lookup() -> Application:
        async with simulator() as (_, url):
            client._base_url = url  # each loop has its own simulator, on its own port
            return await client.get_application(CODE)

    with caplog.at_level(logging.ERROR):
        assert asyncio.run(lookup()).application_code == CODE
        first = client._session
        assert asyncio.run(lookup()).application_code == CODE
        assert client._session is not first and first is not None and first.closed
        asyncio.run(client.close())
        gc.collect()
    assert not [record for record in caplog.records if "Unclosed" in record.getMessage()]


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_API_URL", "http://127.0.0.1:8070/")
    monkeypatch.setenv("PORTAL_API_TOKEN", "secret")
    client = PortalClient.from_env()
    assert client._base_url == "http://127.0.0.1:8070" and client._token == "secret"
    monkeypatch.setenv("PORTAL_API_URL", "")
    with pytest.raises(PortalError, match="PORTAL_API_URL"):
        PortalClient.from_env()


# A rogue portal: valid HTTP, but answers the simulator never gives.
RECORD = {
    "application_code": CODE,
    "procedure_code": "1.001193",
    "procedure_name": "Đăng ký khai sinh",
    "agency": "UBND phường Bến Nghé, Quận 1",
    "status": "in_progress",
    "received_at": "2026-11-25T08:40:00+07:00",
    "due_at": "2027-01-06T17:00:00+07:00",
    "updated_at": "2026-11-27T15:30:00+07:00",
    "note": None,
}


ROGUE_REQUESTS = web.AppKey("requests", list[str])


async def rogue(request: web.Request) -> web.StreamResponse:
    """Answers by code: each code names one way of breaking the contract."""
    request.app[ROGUE_REQUESTS].append(request.raw_path)
    answer = request.match_info["code"]
    if answer == "HUGE-BODY-0001":
        return web.json_response({**RECORD, "note": "x" * (2 * MAX_BODY)})
    if answer == "HUGE-STREAM-01":  # no Content-Length: the cap must hold while reading
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        try:
            for _ in range(64):
                await response.write(b" " * 16384)
        except ConnectionResetError:
            pass
        return response
    if answer == "BARE-404-0001":
        return web.Response(status=404, text="404: Not Found")
    if answer == "FORBIDDEN-001":
        return web.json_response({"error": "forbidden"}, status=403)
    if answer == "REDIRECT-0001":
        raise web.HTTPFound("/applications/" + CODE)
    if answer == "BAD-GATEWAY-1":
        return web.Response(status=502, text="<html>nginx</html>", content_type="text/html")
    return web.json_response(RECORD)  # the same record, whatever was asked


@asynccontextmanager
async def rogue_portal() -> AsyncIterator[tuple[list[str], str]]:
    app = web.Application()
    app[ROGUE_REQUESTS] = []
    app.router.add_get("/applications/{code}", rogue)
    async with serving(app) as url:
        yield app[ROGUE_REQUESTS], url


@pytest.mark.parametrize(
    ("code", "error", "tries"),
    [
        ("HUGE-BODY-0001", MalformedResponse, 1),
        ("HUGE-STREAM-01", MalformedResponse, 1),
        ("BARE-404-0001", MalformedResponse, 1),  # a wrong PORTAL_API_URL, not "no such code"
        ("FORBIDDEN-001", Unauthorized, 1),
        ("REDIRECT-0001", MalformedResponse, 1),  # never follows the token elsewhere
        ("BAD-GATEWAY-1", Unavailable, 3),
        ("H12.36-261120-0012", MalformedResponse, 1),  # someone else's application
    ],
)
@synchronously
async def test_answers_outside_the_contract(code: str, error: type, tries: int) -> None:
    async with rogue_portal() as (requests, url), PortalClient(url, TOKEN) as client:
        with pytest.raises(error):
            await client.get_application(code)
    assert requests == [f"/applications/{code}"] * tries


@pytest.mark.parametrize("code", ["..", ".", "../health", "a/b", "..%2F"])
@synchronously
async def test_no_dot_segment_reaches_the_wire(code: str) -> None:
    # aiohttp's server takes "/applications/.." literally; a proxy in front of
    # the real portal would resolve it to "/", so dot-only segments go encoded.
    async with rogue_portal() as (requests, url), PortalClient(url, TOKEN) as client:
        with pytest.raises(MalformedResponse):  # the rogue's record is for another code
            await client.get_application(code)
    [raw] = requests
    segment = raw.removeprefix("/applications/")
    assert "/" not in segment and segment.strip(".") and unquote(segment) == code


@synchronously
async def test_a_base_url_with_a_path_is_kept() -> None:
    async def answer(request: web.Request) -> web.Response:
        return web.json_response(RECORD)

    app = web.Application()
    app.router.add_get("/api/v1/applications/{code}", answer)
    async with serving(app) as url, PortalClient(url + "/api/v1/", TOKEN) as client:
        assert (await client.get_application(CODE)).status == "in_progress"


def record(**changes: object) -> dict:
    return {name: value for name, value in {**RECORD, **changes}.items() if value != "DROP"}


@pytest.mark.parametrize(
    "body",
    [
        [RECORD],
        record(status="pending"),
        record(status="DROP"),
        record(note="DROP"),
        record(note=5),
        record(agency=""),
        record(procedure_name=None),
        record(application_code=19),
        record(due_at="2027-01-06T17:00:00"),  # no offset
        record(due_at="06/01/2027"),
        record(received_at=1764000000),
    ],
)
def test_records_are_read_strictly(body: object) -> None:
    with pytest.raises(MalformedResponse):
        Application.from_json(body)


def test_records_may_grow_and_use_utc() -> None:
    application = Application.from_json(record(extra="ignored", updated_at="2026-11-27T08:30:00Z"))
    assert application.updated_at.utcoffset() == timedelta(0)
    assert application == Application.from_json(RECORD)  # the same moment


@pytest.mark.parametrize("code", [*DEMO, "000.00.20.H12-241118-0007", "ABCDEFGHIJ", "ABC", ""])
def test_mask_code_never_shows_a_whole_code(code: str) -> None:
    masked = mask_code(code)
    assert len(masked) == len(code)
    if code:
        assert masked != code and code not in masked
    if len(code) >= 10:
        assert masked[:3] == code[:3] and masked[-2:] == code[-2:]
        assert set(masked[3:-2]) == {"*"}
    else:
        assert set(masked) <= {"*"}
    assert mask_code("H12.36-241125-0019") == "H12*************19"
