"""Portal simulator: the application-tracking API of DESIGN.md, served from
portal/data/demo_applications.json, with fault knobs.

It stands in for the real portal in demos (`make run` without PORTAL_API_URL)
and in tests, so it serves the whole published contract, errors included:

    GET /applications/{code}   200 record | 401 unauthorized | 404 not_found
    GET /health                200 {"status": "ok"} (no token)
    GET/POST /_admin/faults    read / change the faults (same bearer token)
    GET /_admin/stats          how many lookups it has received (same token)

Faults, settable at start (flags or SIM_* environment) and at run time:
latency_ms (every lookup waits), error_rate (500/502/503), rate_limit_rate
(429 with Retry-After: retry_after seconds), malformed_rate (a 200 the
contract does not allow: not JSON, wrong content type, bad fields, in turn),
slow_drip (a 200 body trickles out over that many seconds), outage (every
connection outside /_admin is dropped unanswered) and remaining (the faults
last that many more lookups, then clear: a burst). Rates are drawn from one
random number per authorised lookup, seeded by SIM_SEED for repeatable runs.

    python -m portal.simulator --host 127.0.0.1 --port 8070 --token demo-token
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import json
import os
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, fields, replace
from functools import partial
from pathlib import Path

from aiohttp import web

DATA = Path(__file__).resolve().parent / "data" / "demo_applications.json"
# The 200 body's fields, exactly as DESIGN.md lists them.
FIELDS = (
    "application_code",
    "procedure_code",
    "procedure_name",
    "agency",
    "status",
    "received_at",
    "due_at",
    "updated_at",
    "note",
)
MALFORMED = ("not_json", "wrong_type", "bad_fields")

_dumps = partial(json.dumps, ensure_ascii=False)


@dataclass(frozen=True)
class Faults:
    """What goes wrong, and how often; all off by default."""

    latency_ms: float = 0
    error_rate: float = 0.0
    rate_limit_rate: float = 0.0
    retry_after: int = 1
    outage: bool = False
    malformed_rate: float = 0.0
    slow_drip: float = 0.0
    remaining: int | None = None

    def changed(self, changes: object) -> Faults:
        """These faults with `changes` (a JSON object) applied; ValueError if invalid."""
        if not isinstance(changes, dict):
            raise ValueError("expected a JSON object")
        known = {field.name for field in fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown fault {name!r}")
            _check(name, value)
        return replace(self, **changes)


def _check(name: str, value: object) -> None:
    number = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
    count = number and isinstance(value, int)
    if name == "outage":
        ok = isinstance(value, bool)
    elif name == "remaining":
        ok = value is None or count
    elif name == "retry_after":  # HTTP's Retry-After is whole seconds
        ok = count
    elif name.endswith("_rate"):
        ok = number and value <= 1
    else:
        ok = number
    if not ok:
        raise ValueError(f"bad value for {name}")


@dataclass
class Simulator:
    """The simulator's state: its data, its faults and what it has seen."""

    token: str
    applications: dict[str, dict]
    faults: Faults
    rng: random.Random
    lookups: int = 0
    malformed_served: int = 0

    def authorised(self, request: web.Request) -> bool:
        given = request.headers.get("Authorization", "")
        expected = f"Bearer {self.token}"
        return hmac.compare_digest(given.encode(), expected.encode())

    def next_faults(self) -> Faults:
        """The faults for this lookup; a burst counts down and then clears."""
        faults = self.faults
        if faults.remaining == 0:
            faults = self.faults = Faults()
        elif faults.remaining is not None:
            self.faults = replace(faults, remaining=faults.remaining - 1)
        return faults


SIMULATOR = web.AppKey("simulator", Simulator)


def load_applications(path: Path = DATA) -> dict[str, dict]:
    """The demo applications by code, each checked to carry exactly the contract's fields."""
    rows = json.loads(path.read_text("utf-8"))["applications"]
    for row in rows:
        if set(row) != set(FIELDS):
            raise ValueError(f"{path}: {row.get('application_code')} does not match the contract")
    return {row["application_code"]: row for row in rows}


def make_app(
    token: str,
    *,
    faults: Faults | None = None,
    seed: int | None = None,
    data: Path = DATA,
) -> web.Application:
    """The simulator as an aiohttp app; `seed` makes the fault draws repeatable."""
    app = web.Application(middlewares=[_outage])
    app[SIMULATOR] = Simulator(
        token=token,
        applications=load_applications(data),
        faults=faults or Faults(),
        rng=random.Random(seed),
    )
    app.router.add_get("/applications/{code}", _lookup)
    app.router.add_get("/health", _health)
    app.router.add_get("/_admin/faults", _get_faults)
    app.router.add_post("/_admin/faults", _set_faults)
    app.router.add_get("/_admin/stats", _stats)
    return app


@asynccontextmanager
async def serving(
    app: web.Application, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[str]:
    """Serves `app` on the running event loop for the block and yields its base URL.

    Port 0 takes a free one. Lookups still in flight at the end (a simulated
    latency) are cut short after half a second rather than waited out.
    """
    runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        yield f"http://{host}:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def _error(status: int, error: str, **headers: str) -> web.Response:
    return web.json_response({"error": error}, status=status, headers=headers, dumps=_dumps)


@web.middleware
async def _outage(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """In an outage, drops every connection unanswered, as a portal that is down
    does; /_admin stays up so that the outage can be ended."""
    if request.app[SIMULATOR].faults.outage and not request.path.startswith("/_admin/"):
        request.protocol.force_close()
        return web.Response(status=503)  # never sent: the connection is already gone
    return await handler(request)


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _lookup(request: web.Request) -> web.StreamResponse:
    sim = request.app[SIMULATOR]
    sim.lookups += 1
    faults = sim.next_faults()
    if faults.latency_ms:
        await asyncio.sleep(faults.latency_ms / 1000)
    if not sim.authorised(request):
        return _error(401, "unauthorized")
    draw = sim.rng.random()
    if draw < faults.error_rate:
        return _error(sim.rng.choice((500, 502, 503)), "server_error")
    draw -= faults.error_rate
    if draw < faults.rate_limit_rate:
        return _error(429, "rate_limited", **{"Retry-After": str(faults.retry_after)})
    draw -= faults.rate_limit_rate
    code = request.match_info["code"]
    if draw < faults.malformed_rate:
        return _malformed(sim, code)
    application = sim.applications.get(code)
    if application is None:
        return _error(404, "not_found")
    body = _dumps({name: application[name] for name in FIELDS}).encode()
    if faults.slow_drip:
        return await _drip(request, body, faults.slow_drip)
    return web.Response(body=body, content_type="application/json", charset="utf-8")


def _malformed(sim: Simulator, code: str) -> web.Response:
    """A 200 the contract does not allow; each kind in turn, so tests can predict it."""
    kind = MALFORMED[sim.malformed_served % len(MALFORMED)]
    sim.malformed_served += 1
    if kind == "not_json":
        return web.Response(
            text="<html><body>Hệ thống đang bảo trì</body></html>",
            content_type="application/json",
        )
    if kind == "wrong_type":
        return web.Response(text=_dumps({"application_code": code}), content_type="text/html")
    return web.json_response({"application_code": code, "status": "pending"}, dumps=_dumps)


async def _drip(request: web.Request, body: bytes, seconds: float) -> web.StreamResponse:
    """Sends `body` a byte at a time over `seconds`: headers come at once, the end never
    comes in time, which only a client's total deadline catches."""
    response = web.StreamResponse(headers={"Content-Type": "application/json; charset=utf-8"})
    response.content_length = len(body)
    await response.prepare(request)
    try:
        for index in range(len(body)):
            await response.write(body[index : index + 1])
            await asyncio.sleep(seconds / len(body))
        await response.write_eof()
    except ConnectionResetError:  # the client gave up waiting, as it should
        pass
    return response


async def _get_faults(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    if not sim.authorised(request):
        return _error(401, "unauthorized")
    return web.json_response(asdict(sim.faults))


async def _set_faults(request: web.Request) -> web.Response:
    """Merges the given knobs into the current faults and returns them all."""
    sim = request.app[SIMULATOR]
    if not sim.authorised(request):
        return _error(401, "unauthorized")
    try:
        sim.faults = sim.faults.changed(await request.json())
    except ValueError as error:  # also bad JSON (json.JSONDecodeError)
        return web.json_response({"error": "bad_request", "detail": str(error)}, status=400)
    return web.json_response(asdict(sim.faults))


async def _stats(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    if not sim.authorised(request):
        return _error(401, "unauthorized")
    return web.json_response({"lookups": sim.lookups})


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Portal application-tracking API simulator")
    parser.add_argument("--host", default=_env("PORTAL_SIM_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(_env("PORTAL_SIM_PORT", "8070")))
    parser.add_argument("--token", default=_env("PORTAL_API_TOKEN", "demo-token"))
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--latency-ms", type=float, default=float(_env("SIM_LATENCY_MS", "0")))
    parser.add_argument("--error-rate", type=float, default=float(_env("SIM_ERROR_RATE", "0")))
    parser.add_argument(
        "--rate-limit-rate", type=float, default=float(_env("SIM_RATE_LIMIT_RATE", "0"))
    )
    parser.add_argument("--retry-after", type=int, default=int(_env("SIM_RETRY_AFTER", "1")))
    parser.add_argument(
        "--malformed-rate", type=float, default=float(_env("SIM_MALFORMED_RATE", "0"))
    )
    parser.add_argument("--slow-drip", type=float, default=float(_env("SIM_SLOW_DRIP", "0")))
    parser.add_argument(
        "--outage",
        action="store_true",
        default=_env("SIM_OUTAGE", "").lower() in {"1", "true", "yes", "on"},
    )
    seed = _env("SIM_SEED", "")
    parser.add_argument("--seed", type=int, default=int(seed) if seed else None)
    args = parser.parse_args(argv)
    try:
        faults = Faults().changed(
            {
                "latency_ms": args.latency_ms,
                "error_rate": args.error_rate,
                "rate_limit_rate": args.rate_limit_rate,
                "retry_after": args.retry_after,
                "malformed_rate": args.malformed_rate,
                "slow_drip": args.slow_drip,
                "outage": args.outage,
            }
        )
    except ValueError as error:
        parser.error(str(error))
    app = make_app(args.token, faults=faults, seed=args.seed, data=args.data)

    def announce(_: str) -> None:
        print(f"Portal simulator: http://{args.host}:{args.port}", flush=True)

    # No access log: request paths carry application codes.
    web.run_app(
        app,
        host=args.host,
        port=args.port,
        print=announce,
        access_log=None,
        shutdown_timeout=1.0,
    )


if __name__ == "__main__":
    main()
