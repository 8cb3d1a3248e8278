"""Figures for the Zalo channel: how fast the webhook acknowledges, and that
retried events are answered once.

Starts the real stack (tools/serve.sh: action server + Rasa, Zalo channel on)
and the fake Zalo API on free loopback ports, then

  1. acknowledgement: `--rounds` bursts of `--concurrency` signed events at
     once (procedure questions, each from its own user); prints p50/p95/p99
     of the time to the webhook's 200, while earlier bursts' turns still run;
  2. retries: `--retried` events, each delivered `--copies` times within
     two seconds (some copies at the same moment), as Zalo does when it
     misses an acknowledgement; counts what the fake Zalo API received per
     user against one turn's worth of replies: duplicates and losses.

Usage: python -m tools.zalo_bench --catalogue <jsonl> --index <dir>  (make bench-zalo)
Runs in the Rasa venv (it signs events with bot.channels.zalo.signature, posts with aiohttp).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from pathlib import Path

import aiohttp

from bot.channels.zalo import signature
from tools.answer_bench import BENCH_QUESTIONS, ROOT, Stack
from tools.harness import free_port, percentile, service

APP_ID, OA_SECRET, APP_SECRET = "bench-app", "bench-oa-secret", "bench-app-secret"


def _event(user: str, text: str) -> tuple[bytes, dict[str, str]]:
    timestamp = str(int(time.time() * 1000))
    body = {
        "app_id": APP_ID,
        "event_name": "user_send_text",
        "sender": {"id": user},
        "recipient": {"id": "oa-bench"},
        "message": {"text": text, "msg_id": uuid.uuid4().hex},
        "timestamp": timestamp,
    }
    raw = json.dumps(body, ensure_ascii=False).encode()
    mac = signature.header(APP_ID, raw, timestamp, OA_SECRET)
    return raw, {"Content-Type": "application/json", "X-ZEvent-Signature": mac}


async def _post(
    session: aiohttp.ClientSession, url: str, event: tuple[bytes, dict]
) -> tuple[float, str]:
    started = time.perf_counter()
    async with session.post(url, data=event[0], headers=event[1]) as reply:
        status = (await reply.json()).get("status", str(reply.status))
    return (time.perf_counter() - started) * 1000, status


async def _messages(session: aiohttp.ClientSession, api: str) -> list[dict]:
    async with session.get(f"{api}/_admin/messages") as reply:
        return await reply.json()


async def _settle(
    session: aiohttp.ClientSession, api: str, quiet_s: float, timeout_s: float
) -> list[dict]:
    """The fake API's deliveries once none has arrived for `quiet_s`."""
    deadline, count, since = time.monotonic() + timeout_s, -1, time.monotonic()
    while time.monotonic() < deadline:
        messages = await _messages(session, api)
        if len(messages) != count:
            count, since = len(messages), time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            break
        await asyncio.sleep(0.25)
    return messages


async def acknowledgement(url: str, api: str, concurrency: int, rounds: int) -> dict:
    async with aiohttp.ClientSession() as session:
        times: list[float] = []
        sent: dict[str, float] = {}
        for round_ in range(rounds):
            users = [f"ack-{round_}-{i}" for i in range(concurrency)]
            events = [
                _event(user, BENCH_QUESTIONS[i % len(BENCH_QUESTIONS)])
                for i, user in enumerate(users)
            ]
            sent.update(dict.fromkeys(users, time.time()))
            results = await asyncio.gather(*(_post(session, url, e) for e in events))
            assert all(status == "accepted" for _, status in results), results
            times += [ms for ms, _ in results]
            await asyncio.sleep(0.5)
        delivered = await _settle(session, api, quiet_s=3, timeout_s=600)
    first: dict[str, float] = {}
    for message in delivered:
        first.setdefault(message["user_id"], message["at"])
    waits = [first[user] - at for user, at in sent.items() if user in first]
    return {
        "test": "acknowledgement",
        "events": len(times),
        "concurrency": concurrency,
        "ack_p50_ms": round(percentile(times, 0.5), 2),
        "ack_p95_ms": round(percentile(times, 0.95), 2),
        "ack_p99_ms": round(percentile(times, 0.99), 2),
        "ack_max_ms": round(max(times), 1),
        "users_answered": len(waits),
        # From sending to the first reply reaching Zalo, bursts queueing included.
        "first_reply_p50_s": round(percentile(waits, 0.5), 2),
        "first_reply_p95_s": round(percentile(waits, 0.95), 2),
    }


async def retries(url: str, api: str, events: int, copies: int) -> dict:
    async with aiohttp.ClientSession() as session:
        # One turn's worth of replies to "xin chào", from a user sent it once.
        await _post(session, url, _event("retry-control", "xin chào"))
        control = [m for m in await _settle(session, api, 2, 60) if m["user_id"] == "retry-control"]
        rng = random.Random(7)
        batch = [_event(f"retry-{i}", "xin chào") for i in range(events)]

        async def deliver(event: tuple[bytes, dict], delay: float) -> str:
            await asyncio.sleep(delay)
            return (await _post(session, url, event))[1]

        # Copy 0 at once; the others within 2 s, some of them at the same instant.
        jobs = [
            deliver(event, 0 if copy == 0 else rng.choice([0, rng.uniform(0, 2)]))
            for event in batch
            for copy in range(copies)
        ]
        statuses = await asyncio.gather(*jobs)
        delivered = await _settle(session, api, quiet_s=3, timeout_s=600)
    per_user: dict[str, int] = {}
    for message in delivered:
        if message["user_id"].startswith("retry-") and message["user_id"] != "retry-control":
            per_user[message["user_id"]] = per_user.get(message["user_id"], 0) + 1
    one_turn = len(control)
    return {
        "test": "retries",
        "events": events,
        "copies_each": copies,
        "accepted": statuses.count("accepted"),
        "duplicates_acknowledged": statuses.count("duplicate"),
        "replies_per_turn": one_turn,
        "users_with_duplicate_replies": sum(1 for n in per_user.values() if n > one_turn),
        "duplicate_replies": sum(max(0, n - one_turn) for n in per_user.values()),
        "users_unanswered": events - len(per_user),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.zalo_bench")
    parser.add_argument("--catalogue", type=Path, required=True)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "vi-bot.tar.gz")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--retried", type=int, default=200)
    parser.add_argument("--copies", type=int, default=3)
    args = parser.parse_args(argv)

    api_port = free_port()
    api = f"http://127.0.0.1:{api_port}"
    store = ROOT / "run" / "bench-zalo.db"
    for path in (store, Path(f"{store}-wal"), Path(f"{store}-shm")):
        path.unlink(missing_ok=True)
    fake_command = ["-m", "tools.fake_zalo", "--port", str(api_port)]
    fake_command += ["--app-id", APP_ID, "--app-secret", APP_SECRET]
    stack = Stack(args.catalogue, args.index, args.model)
    stack.env.update(
        {
            "ZALO_APP_ID": APP_ID,
            "ZALO_OA_SECRET_KEY": OA_SECRET,
            "ZALO_APP_SECRET": APP_SECRET,
            "ZALO_API_BASE": api,
            "ZALO_OAUTH_BASE": api,
            "ZALO_ACCESS_TOKEN": "access-0",
            "ZALO_REFRESH_TOKEN": "refresh-0",
            "ZALO_STORE_URL": str(store),
        }
    )
    webhook = f"http://127.0.0.1:{stack.rasa_port}/webhooks/zalo/webhook"
    with service([sys.executable, *fake_command], f"{api}/health", timeout=30), stack:
        ack = asyncio.run(acknowledgement(webhook, api, args.concurrency, args.rounds))
        print(json.dumps(ack), flush=True)
        retried = asyncio.run(retries(webhook, api, args.retried, args.copies))
        print(json.dumps(retried), flush=True)
    summary = {
        "ack_p99_ms": ack["ack_p99_ms"],
        "ack_max_ms": ack["ack_max_ms"],
        "retried_events": retried["events"],
        "duplicate_replies": retried["duplicate_replies"],
        "unanswered": retried["users_unanswered"]
        + args.concurrency * args.rounds
        - ack["users_answered"],
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
