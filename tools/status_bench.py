"""End-to-end figures for application-status lookups over the REST channel.

Starts the real stack (tools/serve.sh: portal simulator, action server, Rasa)
on free loopback ports and measures, each lookup from a fresh conversation:

- healthy: REST round trip of "kiểm tra hồ sơ <code>", p50/p95;
- outage: the first lookup while the portal drops every connection, then the
  later ones while the circuit breaker is open;
- faults: N lookups with a share of injected faults (5xx, 429, malformed
  answers); a conversation "crashes" when the REST call fails or the reply is
  empty or not a polite Vietnamese answer.

Usage: python -m tools.status_bench [--lookups 1000] [--fault-rate 0.2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.request
import uuid
from pathlib import Path

from tools.answer_bench import ROOT, Stack, send
from tools.harness import free_port, percentile

TOKEN = "bench-portal-token"


def _codes() -> list[str]:
    data = json.loads((ROOT / "portal/data/demo_applications.json").read_text("utf-8"))
    return [row["application_code"] for row in data["applications"]]


def _faults(base: str, **faults: object) -> None:
    request = urllib.request.Request(
        f"{base}/_admin/faults",
        json.dumps(faults).encode(),
        {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
    )
    urllib.request.urlopen(request, timeout=5).read()


def _lookup(url: str, code: str) -> tuple[float, list[dict] | None]:
    started = time.perf_counter()
    try:
        replies = send(url, f"status-{uuid.uuid4().hex[:8]}", f"kiểm tra hồ sơ {code}")
    except OSError:
        replies = None
    return (time.perf_counter() - started) * 1000, replies


def _ok(replies: list[dict] | None) -> bool:
    return bool(replies) and all(str(r.get("text", "")).startswith("Dạ") for r in replies)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.status_bench")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "vi-bot.tar.gz")
    parser.add_argument("--catalogue", type=Path, default=ROOT / "index/data/seed_catalogue.jsonl")
    parser.add_argument("--index", type=Path, default=ROOT / "models" / "index")
    parser.add_argument("--lookups", type=int, default=1000)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    args = parser.parse_args(argv)
    port = free_port()
    os.environ.update(
        {"PORTAL_API_URL": "", "PORTAL_SIM_PORT": str(port), "PORTAL_API_TOKEN": TOKEN}
    )
    portal = f"http://127.0.0.1:{port}"
    codes = _codes()
    with Stack(args.catalogue, args.index, args.model) as stack:
        timings = [_lookup(stack.url, codes[i % len(codes)])[0] for i in range(50)]
        print(json.dumps({"healthy_lookups": 50, "p50_ms": round(percentile(timings, 0.5), 1),
                          "p95_ms": round(percentile(timings, 0.95), 1)}), flush=True)  # fmt: skip

        _faults(portal, outage=True)
        first, first_replies = _lookup(stack.url, codes[0])
        later = [_lookup(stack.url, codes[i % len(codes)])[0] for i in range(1, 11)]
        _faults(portal, outage=False)
        print(json.dumps({"outage_first_ms": round(first, 1), "outage_first_ok": _ok(first_replies),
                          "outage_later_max_ms": round(max(later), 1)}), flush=True)  # fmt: skip

        time.sleep(31)  # let the circuit breaker half-open and close again
        share = args.fault_rate
        _faults(portal, outage=False, error_rate=share / 2, rate_limit_rate=share / 4,
                retry_after=1, malformed_rate=share / 4)  # fmt: skip
        crashed, timings = 0, []
        for i in range(args.lookups):
            elapsed, replies = _lookup(stack.url, codes[i % len(codes)])
            timings.append(elapsed)
            crashed += not _ok(replies)
        _faults(portal, error_rate=0, rate_limit_rate=0, malformed_rate=0)
        print(json.dumps({"fault_lookups": args.lookups, "fault_rate": share,
                          "crashed_conversations": crashed,
                          "p95_ms": round(percentile(timings, 0.95), 1),
                          "max_ms": round(max(timings), 1)}), flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
