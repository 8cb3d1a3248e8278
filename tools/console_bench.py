"""How soon the hotline console shows search results after typing stops.

The target (issue: hotline staff console) is results on screen ≤ 150 ms after
the last keystroke, p95 over 100 queries, on localhost. This signs in to a
console with Selenium, types each query into the search box one character at a
time (~50 ms apart, as a person types) and reads the page's own measurement,
window.__searchTimings (console/static/console.js): from the last input event
to the frame after the results were rendered — debounce, request, search,
rendering — without WebDriver's latency.

Prints one JSON line per query, then
{"n": …, "p50_ms": …, "p95_ms": …, "max_ms": …}.

Usage:
    python -m tools.console_bench --url http://127.0.0.1:8090 --username U --password P
    python -m tools.console_bench --catalogue procedures.jsonl --index models/index-eval
The second form (make bench-console) starts its own console on a free port
over a throwaway account and desk. Runs in the rasa venv (selenium); needs
Debian's chromium + chromium-driver.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from bot.language.text import fold
from tools.answer_bench import ROOT, latency_summary
from tools.harness import free_port, service
from tools.widget_bench import CHROMEDRIVER, CHROMIUM, chrome

ACTIONS_PY = ROOT / ".venv" / "actions" / "bin" / "python"
KEY_INTERVAL_S = 0.05
RESULT_WAIT_S = 10
INDEX_WAIT_S = 300  # the national index loads in the background when the console starts
# What callers say on the phone, as staff would type it: procedure names,
# keywords and the abbreviations citizens use. Each is typed with and
# without diacritics (abbreviations are the same both ways).
QUERIES = [
    "đăng ký khai sinh",
    "đăng ký kết hôn",
    "cccd",
    "làm lại căn cước",
    "gplx",
    "đổi giấy phép lái xe",
    "hộ chiếu",
    "khai sinh",
    "khai tử",
    "đăng ký thường trú",
    "tạm trú",
    "lý lịch tư pháp",
    "chứng thực bản sao",
    "giấy phép xây dựng",
    "thành lập doanh nghiệp",
    "đăng ký xe máy",
    "sổ đỏ",
    "chuyển nhượng quyền sử dụng đất",
    "trợ cấp thất nghiệp",
    "bảo hiểm y tế",
    "xác nhận tình trạng hôn nhân",
    "cấp lại giấy khai sinh",
    "mst cá nhân",
    "giấy phép kinh doanh",
    "ly hôn",
]

# Runs in the page: an empty box (and an emptied timing list) before a query.
RESET = """
const box = document.querySelector("#q");
box.value = "";
box.dispatchEvent(new Event("input", { bubbles: true }));
window.__searchTimings.length = 0;
"""
# The last on-screen timing for exactly this query, and what was shown.
LAST_TIMING = """
const timing = window.__searchTimings.filter(t => t.query === arguments[0]).pop();
if (!timing) return null;
const first = document.querySelector("#results > .result");
return [timing.ms, timing.server_ms, document.querySelectorAll("#results > .result").length,
        first ? first.dataset.code : null];
"""


def queries(n: int) -> list[str]:
    """n queries: each phrase with its diacritics, then without, round and round."""
    variants = [v for q in QUERIES for v in dict.fromkeys((q, fold(q)))]
    return list(itertools.islice(itertools.cycle(variants), n))


def sign_in(driver: WebDriver, url: str, username: str, password: str) -> None:
    driver.get(url.rstrip("/") + "/login")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]").click()
    try:
        WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.ID, "q"))
    except Exception:
        raise SystemExit(f"could not sign in to {url} as {username}") from None


def measure(
    driver: WebDriver, query: str, wait_s: float = RESULT_WAIT_S
) -> tuple[float, float | None, int, str | None]:
    driver.execute_script(RESET)
    box = driver.find_element(By.ID, "q")
    for char in query:
        box.send_keys(char)
        time.sleep(KEY_INTERVAL_S)
    return WebDriverWait(driver, wait_s).until(
        lambda d: d.execute_script(LAST_TIMING, query), f"no results shown for {query!r}"
    )


def run(url: str, username: str, password: str, n: int) -> list[float]:
    driver = chrome(1280, 800)
    try:
        sign_in(driver, url, username, password)
        measure(driver, "khai sinh", INDEX_WAIT_S)  # not counted: waits for the index
        timings = []
        for i, query in enumerate(queries(n)):
            ms, server_ms, shown, first = measure(driver, query)
            timings.append(ms)
            row = {
                "i": i,
                "query": query,
                "ms": round(ms, 1),
                "server_ms": server_ms,
                "results": shown,
                "first": first,
            }
            print(json.dumps(row, ensure_ascii=False), flush=True)
        return timings
    finally:
        driver.quit()


@contextlib.contextmanager
def own_console(catalogue: Path, index: Path) -> Iterator[tuple[str, str, str]]:
    """A console over the given catalogue and index, with a throwaway account
    and desk; yields (url, username, password)."""
    log = ROOT / "run" / "bench-console.log"
    log.parent.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="console-bench-") as tmp:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "CATALOGUE": str(catalogue.resolve()),
            "INDEX_DIR": str(index.resolve()),
            "CONSOLE_DB": str(Path(tmp) / "console.db"),
            "DESK_DB": str(Path(tmp) / "desk.db"),
        }
        username, password = "bench", secrets.token_urlsafe(18)
        made = subprocess.run(
            [str(ACTIONS_PY), "-m", "console", "add-user", username, "--password-stdin"],
            input=password + "\n",
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if made.returncode != 0:
            raise SystemExit(f"console add-user failed: {made.stderr.strip()}")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        serve = [str(ACTIONS_PY), "-m", "console", "serve", "--port", str(port)]
        try:
            with service(serve, f"{url}/health", env=env, log=log, timeout=120):
                yield url, username, password
        except RuntimeError as error:  # did not start: the log says why
            raise SystemExit(f"{error}: see {log}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.console_bench")
    parser.add_argument("--url", help="a running console, e.g. http://127.0.0.1:8090")
    parser.add_argument("--username")
    parser.add_argument("--password", help="or CONSOLE_BENCH_PASSWORD")
    parser.add_argument("--catalogue", type=Path, help="start a console over this catalogue…")
    parser.add_argument("--index", type=Path, help="…and this index directory")
    parser.add_argument("-n", type=int, default=100, help="queries (default 100)")
    args = parser.parse_args(argv)
    password = args.password or os.environ.get("CONSOLE_BENCH_PASSWORD")
    if bool(args.url) == bool(args.catalogue):
        parser.error("give either --url (with --username, --password) or --catalogue and --index")
    if args.url and not (args.username and password):
        parser.error("--url needs --username and --password (or CONSOLE_BENCH_PASSWORD)")
    if args.catalogue and not args.index:
        parser.error("--catalogue needs --index")
    if args.n < 1:
        parser.error("-n must be at least 1")
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        parser.exit(2, "needs Debian's chromium and chromium-driver\n")
    os.environ["SE_OFFLINE"] = "true"  # should Selenium Manager run anyway, offline
    if args.url:
        timings = run(args.url, args.username, password, args.n)
    else:
        with own_console(args.catalogue, args.index) as (url, username, password):
            timings = run(url, username, password, args.n)
    print(json.dumps(latency_summary(timings)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
