"""End-to-end figures for guidance answers over the REST channel.

Starts the real stack (tools/serve.sh: action server + Rasa) on free loopback
ports with the given catalogue, then either

  eval  --questions <jsonl>   sends each question once, from a fresh sender,
                              and scores the first reply: does it name an
                              expected procedure's code (in-catalogue rows),
                              does it say nothing matched (out-of-catalogue)?
  bench --users 1,20          REST round trips of procedure questions, p50/p95
                              per number of concurrent users.

Usage (make targets wrap it): python -m tools.answer_bench eval --questions q.jsonl
Stdlib only, so it runs in either virtualenv.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_FOUND = "chưa tìm thấy thủ tục phù hợp"
# Questions for the latency benchmark: everyday procedure questions.
BENCH_QUESTIONS = [
    "làm lại căn cước bị mất cần giấy tờ gì",
    "lệ phí đăng ký kết hôn bao nhiêu",
    "đăng ký khai sinh cho con ở đâu",
    "xin cấp phiếu lý lịch tư pháp mất bao lâu",
    "đăng ký thường trú nộp online được không",
    "thủ tục đăng ký hộ kinh doanh",
    "cap lai giay phep lai xe bi mat",
    "chứng thực bản sao giấy tờ ở đâu",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    """tools/serve.sh on free ports, stopped on exit: `url` is the REST
    webhook, `widget_url` the portal page with the chat widget."""

    def __init__(self, catalogue: Path, index_dir: Path, model: Path) -> None:
        self.rasa_port, self.action_port = _free_port(), _free_port()
        self.widget_port, self.console_port = _free_port(), _free_port()
        self.env = {
            **os.environ,
            "RASA_BIN": str(ROOT / ".venv/rasa/bin/rasa"),
            "ACTIONS_PY": str(ROOT / ".venv/actions/bin/python"),
            "MODEL": str(model),
            "RASA_PORT": str(self.rasa_port),
            "ACTION_PORT": str(self.action_port),
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{self.action_port}/webhook",
            "CATALOGUE": str(catalogue),
            "INDEX_DIR": str(index_dir),
            "TRACKER_DB_DIALECT": "sqlite",
            "TRACKER_DB": str(ROOT / "run" / "bench-tracker.db"),
            "TRACKER_DB_HOST": "",
            "TRACKER_DB_USER": "",
            "TRACKER_DB_PASSWORD": "",
            "DESK_DB": str(ROOT / "run" / "bench-desk.db"),
            "WIDGET_PORT": str(self.widget_port),
            "WIDGET_RASA_URL": f"http://127.0.0.1:{self.rasa_port}",
            "CONSOLE_PORT": str(self.console_port),
            "CONSOLE_DB": str(ROOT / "run" / "bench-console.db"),
        }
        self.url = f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/webhook"
        self.widget_url = f"http://127.0.0.1:{self.widget_port}/"

    def __enter__(self) -> Stack:
        (ROOT / "run").mkdir(exist_ok=True)
        self.log = open(ROOT / "run" / "bench-serve.log", "w")
        self.process = subprocess.Popen(
            ["bash", str(ROOT / "tools/serve.sh")],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit("the stack stopped during start-up: see run/bench-serve.log")
            try:
                send(self.url, "warm-up", "xin chào")
                # The first procedure question waits for the index to load.
                send(self.url, "warm-up", "đăng ký khai sinh", timeout=120)
                return self
            except OSError:
                time.sleep(1)
        raise SystemExit("the stack did not answer in 300 s: see run/bench-serve.log")

    def __exit__(self, *_: object) -> None:
        os.killpg(self.process.pid, 2)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
        self.log.close()


def send(url: str, sender: str, message: str, timeout: float = 30) -> list[dict]:
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def reply_text(replies: list[dict]) -> str:
    parts = []
    for reply in replies:
        parts.append(reply.get("text") or "")
        parts += [b.get("title", "") for b in reply.get("buttons") or []]
    return "\n".join(parts)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def latency_summary(timings: list[float]) -> dict:
    """The last line the browser benches print: {"n", "p50_ms", "p95_ms", "max_ms"}."""
    return {
        "n": len(timings),
        "p50_ms": round(percentile(timings, 0.5), 1),
        "p95_ms": round(percentile(timings, 0.95), 1),
        "max_ms": round(max(timings, default=0.0), 1),
    }


def evaluate(url: str, questions: Path) -> dict:
    rows = [
        json.loads(line)
        for line in questions.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    inside = named = named_expected = outside = abstained = wrong_abstain = 0
    for row in rows:
        text = reply_text(send(url, f"eval-{uuid.uuid4().hex[:8]}", row["question"]))
        gold = set(row["expected"]) | set(row.get("acceptable") or [])
        # Abstaining: saying nothing matched, or naming no procedure at all
        # (out of scope, not understood); a listed "(mã …)" is an answer.
        said_not_found = NOT_FOUND in text or "(mã " not in text
        if row["expected"]:
            inside += 1
            named += any(code in text for code in gold) and not said_not_found
            named_expected += any(code in text for code in row["expected"]) and not said_not_found
            wrong_abstain += said_not_found
        else:
            outside += 1
            abstained += said_not_found
    return {
        "n": len(rows),
        "in_catalogue": inside,
        "first_reply_names_gold_code": round(named / inside, 4) if inside else 0.0,
        "first_reply_names_expected_code": round(named_expected / inside, 4) if inside else 0.0,
        "in_catalogue_said_not_found": round(wrong_abstain / inside, 4) if inside else 0.0,
        "out_of_catalogue": outside,
        "out_of_catalogue_abstained": round(abstained / outside, 4) if outside else 0.0,
    }


def bench(url: str, users: int, rounds: int) -> dict:
    def one_user(index: int) -> list[float]:
        sender = f"bench-{users}-{index}-{uuid.uuid4().hex[:6]}"
        timings = []
        for r in range(rounds):
            question = BENCH_QUESTIONS[(index + r) % len(BENCH_QUESTIONS)]
            started = time.perf_counter()
            send(url, sender, question)
            timings.append((time.perf_counter() - started) * 1000)
        return timings

    started = time.perf_counter()
    with ThreadPoolExecutor(users) as pool:
        timings = [t for user in pool.map(one_user, range(users)) for t in user]
    elapsed = time.perf_counter() - started
    return {
        "users": users,
        "requests": len(timings),
        "p50_ms": round(percentile(timings, 0.5), 1),
        "p95_ms": round(percentile(timings, 0.95), 1),
        "throughput_rps": round(len(timings) / elapsed, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.answer_bench")
    parser.add_argument("--catalogue", type=Path, required=True)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "vi-bot.tar.gz")
    commands = parser.add_subparsers(dest="command", required=True)
    eval_cmd = commands.add_parser("eval")
    eval_cmd.add_argument("--questions", type=Path, required=True)
    bench_cmd = commands.add_parser("bench")
    bench_cmd.add_argument("--users", default="1,20")
    bench_cmd.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args(argv)
    with Stack(args.catalogue, args.index, args.model) as stack:
        if args.command == "eval":
            print(json.dumps(evaluate(stack.url, args.questions)))
        else:
            for users in (int(u) for u in args.users.split(",")):
                print(json.dumps(bench(stack.url, users, args.rounds)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
