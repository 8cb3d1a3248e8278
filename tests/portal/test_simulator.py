"""The portal simulator: its demo data, the contract it serves and its fault knobs,
over real loopback HTTP with a plain aiohttp client."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest

from portal.client import STATUSES
from portal.simulator import (
    DATA,
    FIELDS,
    SIMULATOR,
    Faults,
    Simulator,
    load_applications,
    main,
    make_app,
    serving,
)
from tests.conftest import ROOT
from tests.portal.conftest import synchronously
from tools.harness import free_port

TOKEN = "sim-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CODE = "H12.36-241125-0019"
TODAY = datetime(2026, 11, 28, tzinfo=timezone(timedelta(hours=7)))
UNFINISHED = {"received", "in_progress", "needs_supplement"}
# DESIGN.md: letters, digits, dots and dashes, 10-40 characters.
CODE_FORMAT = re.compile(r"[A-Za-z0-9.\-]{10,40}")


@asynccontextmanager
async def simulator(
    seed: int = 1, **faults: Any
) -> AsyncIterator[tuple[Simulator, aiohttp.ClientSession]]:
    app = make_app(TOKEN, faults=Faults(**faults), seed=seed)
    async with serving(app) as url, aiohttp.ClientSession(base_url=url) as http:
        yield app[SIMULATOR], http


async def get(http: aiohttp.ClientSession, path: str, **headers: str) -> tuple[int, Any]:
    async with http.get(path, headers=headers) as response:
        body = await response.read()
        if response.content_type == "application/json":
            return response.status, json.loads(body)
        return response.status, body


# The demo data


def test_demo_data_covers_every_status_with_realistic_records() -> None:
    applications = load_applications()
    rows = list(applications.values())
    assert len(rows) == len(json.loads(DATA.read_text("utf-8"))["applications"])  # codes unique
    counts = Counter(row["status"] for row in rows)
    assert set(counts) == STATUSES and min(counts.values()) >= 2
    for row in rows:
        assert CODE_FORMAT.fullmatch(row["application_code"])
        times = [datetime.fromisoformat(row[name]) for name in ("received_at", "updated_at")]
        due = datetime.fromisoformat(row["due_at"])
        assert all(moment.utcoffset() == timedelta(hours=7) for moment in [*times, due])
        assert times[0] <= times[1] <= TODAY and times[0] <= due
        if row["status"] in {"needs_supplement", "rejected"}:
            assert row["note"], "the citizen must read what to add, or why"
    assert CODE in applications and "000.00.20.H12" in " ".join(applications)


def test_demo_data_has_unfinished_applications_past_and_before_due() -> None:
    unfinished = [row for row in load_applications().values() if row["status"] in UNFINISHED]
    past_due = [row for row in unfinished if datetime.fromisoformat(row["due_at"]) < TODAY]
    assert past_due
    assert all(datetime.fromisoformat(row["due_at"]).month < 11 for row in past_due)
    assert all(row["due_at"] > "2027" for row in unfinished if row not in past_due)


# The contract


@synchronously
async def test_health_needs_no_token() -> None:
    async with simulator() as (_, http):
        assert await get(http, "/health") == (200, {"status": "ok"})


@synchronously
async def test_a_lookup_answers_exactly_the_contract_fields() -> None:
    async with simulator() as (_, http), http.get(f"/applications/{CODE}", headers=AUTH) as r:
        assert r.status == 200 and r.content_type == "application/json"
        body = await r.json()
    assert tuple(body) == FIELDS
    assert body == load_applications()[CODE]


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}]
)
@synchronously
async def test_a_missing_or_wrong_token_is_401(headers: dict[str, str]) -> None:
    async with simulator() as (_, http):
        assert await get(http, f"/applications/{CODE}", **headers) == (
            401,
            {"error": "unauthorized"},
        )
        assert (await get(http, "/_admin/faults", **headers))[0] == 401
        assert (await get(http, "/_admin/stats", **headers))[0] == 401


@synchronously
async def test_an_unknown_code_is_404() -> None:
    async with simulator() as (_, http):
        assert await get(http, "/applications/H99.99-991231-9999", **AUTH) == (
            404,
            {"error": "not_found"},
        )


# Faults


@synchronously
async def test_faults_are_read_and_merged_at_run_time() -> None:
    async with simulator(latency_ms=5) as (sim, http):
        async with http.post("/_admin/faults", json={"error_rate": 0.5}, headers=AUTH) as r:
            assert r.status == 200
            assert (await r.json())["error_rate"] == 0.5
        assert sim.faults == Faults(latency_ms=5, error_rate=0.5)
        status, faults = await get(http, "/_admin/faults", **AUTH)
        assert status == 200 and faults["latency_ms"] == 5 and faults["outage"] is False
        async with http.post("/_admin/faults", json={"error_rate": 0.5}) as r:
            assert r.status == 401


@pytest.mark.parametrize(
    "body",
    [
        {"error_rate": 1.5},
        {"error_rate": "0.5"},
        {"outage": 1},
        {"latency_ms": -1},
        {"retry_after": 0.5},
        {"remaining": True},
        {"chaos": True},
        [],
    ],
)
@synchronously
async def test_bad_faults_are_refused(body: object) -> None:
    async with simulator() as (sim, http):
        async with http.post("/_admin/faults", json=body, headers=AUTH) as r:
            assert r.status == 400 and (await r.json())["error"] == "bad_request"
        async with http.post("/_admin/faults", data=b"{not json", headers=AUTH) as r:
            assert r.status == 400
        assert sim.faults == Faults()


@synchronously
async def test_server_errors_and_rate_limits() -> None:
    async with simulator(error_rate=1.0) as (sim, http):
        statuses = {(await get(http, f"/applications/{CODE}", **AUTH))[0] for _ in range(30)}
        assert statuses == {500, 502, 503}
        sim.faults = Faults(rate_limit_rate=1.0, retry_after=7)
        async with http.get(f"/applications/{CODE}", headers=AUTH) as r:
            assert r.status == 429 and r.headers["Retry-After"] == "7"


@synchronously
async def test_the_same_seed_gives_the_same_faults() -> None:
    async def statuses(seed: int) -> list[int]:
        async with simulator(seed=seed, error_rate=0.3, rate_limit_rate=0.3) as (_, http):
            return [(await get(http, f"/applications/{CODE}", **AUTH))[0] for _ in range(40)]

    first = await statuses(5)
    assert first == await statuses(5)
    assert {200, 429} <= set(first) and set(first) - {200, 429}
    assert first != await statuses(6)


@synchronously
async def test_a_burst_ends_after_remaining_lookups() -> None:
    async with simulator(error_rate=1.0, remaining=2) as (sim, http):
        statuses = [(await get(http, f"/applications/{CODE}", **AUTH))[0] for _ in range(4)]
        assert statuses[0] >= 500 and statuses[1] >= 500 and statuses[2:] == [200, 200]
        assert sim.faults == Faults()
        status, stats = await get(http, "/_admin/stats", **AUTH)
        assert status == 200 and stats == {"lookups": 4}


@synchronously
async def test_malformed_answers_come_in_turn() -> None:
    async with simulator(malformed_rate=1.0) as (_, http):
        answers = []
        for _ in range(3):
            async with http.get(f"/applications/{CODE}", headers=AUTH) as r:
                answers.append((r.status, r.content_type, await r.text()))
    assert all(status == 200 for status, _, _ in answers)
    (_, type1, text1), (_, type2, text2), (_, type3, text3) = answers
    assert type1 == "application/json" and not text1.startswith("{")
    assert type2 == "text/html" and json.loads(text2)
    assert type3 == "application/json" and set(json.loads(text3)) < set(FIELDS)


@synchronously
async def test_an_outage_drops_connections_but_not_the_admin() -> None:
    async with simulator(outage=True) as (sim, http):
        for path in (f"/applications/{CODE}", "/health"):
            with pytest.raises(aiohttp.ServerDisconnectedError):
                await get(http, path, **AUTH)
        async with http.post("/_admin/faults", json={"outage": False}, headers=AUTH) as r:
            assert r.status == 200 and not sim.faults.outage
        assert (await get(http, f"/applications/{CODE}", **AUTH))[0] == 200


@synchronously
async def test_latency_and_slow_drip_delay_a_whole_answer() -> None:
    async with simulator(latency_ms=300) as (sim, http):
        started = time.monotonic()
        assert (await get(http, f"/applications/{CODE}", **AUTH))[0] == 200
        assert time.monotonic() - started >= 0.3
        sim.faults = Faults(slow_drip=0.5)
        started = time.monotonic()
        async with http.get(f"/applications/{CODE}", headers=AUTH) as r:
            assert r.status == 200 and time.monotonic() - started < 0.2  # headers at once
            body = await r.json()
        assert time.monotonic() - started >= 0.45 and body["application_code"] == CODE


# The command line


def test_the_command_line_serves_and_prints_its_url() -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PORTAL_SIM_PORT": str(port)}
    env |= {"PORTAL_API_TOKEN": TOKEN, "SIM_ERROR_RATE": "1", "SIM_SEED": "3"}
    with subprocess.Popen(
        [sys.executable, "-m", "portal.simulator"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.readline().strip().endswith(f"http://127.0.0.1:{port}")
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
                assert json.loads(response.read()) == {"status": "ok"}
            request = urllib.request.Request(f"http://127.0.0.1:{port}/_admin/faults", headers=AUTH)
            with urllib.request.urlopen(request, timeout=5) as response:
                assert json.loads(response.read())["error_rate"] == 1.0
        finally:
            process.terminate()
    assert process.returncode == 0  # a graceful stop on SIGTERM


def test_the_command_line_refuses_bad_faults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--error-rate", "2"])
    assert exit_.value.code == 2 and "error_rate" in capsys.readouterr().err
