"""How soon the portal widget shows its first answer, in a real browser.

Starts the real stack (tools/serve.sh: portal simulator, action server, Rasa,
the widget's page) on free loopback ports with the given catalogue, opens the
page in headless Chromium, and for each of N procedure questions, each in a
new conversation, measures inside the page (performance.now()) from the
form's submit to the next animation frame after the first answer bubble was
added: socket round trip, Rasa, the action server and the widget's rendering
together, without WebDriver's own latency.

Prints one JSON line per question, then
{"n": …, "p50_ms": …, "p95_ms": …, "max_ms": …}.

Usage (make bench-widget wraps it):
    python -m tools.widget_bench --catalogue procedures.jsonl --index models/index-eval
Needs selenium (the rasa venv) and Debian's chromium + chromium-driver.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tools.answer_bench import BENCH_QUESTIONS, ROOT, Stack, latency_summary
from tools.harness import wait_until_up

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Twenty distinct everyday questions: the REST bench's eight, and twelve more.
QUESTIONS = [
    *BENCH_QUESTIONS,
    "thủ tục đăng ký kết hôn cần những gì",
    "đăng ký khai tử cho người thân ở đâu",
    "cấp đổi giấy phép lái xe hết hạn",
    "đăng ký tạm trú cho người thuê trọ",
    "xin giấy phép xây dựng nhà ở riêng lẻ",
    "đăng ký thành lập doanh nghiệp tư nhân",
    "cấp hộ chiếu phổ thông lần đầu mất bao lâu",
    "trích lục bản sao giấy khai sinh",
    "đăng ký xe máy mới mua",
    "xác nhận tình trạng hôn nhân để kết hôn",
    "cấp giấy chứng nhận quyền sử dụng đất lần đầu",
    "hưởng trợ cấp thất nghiệp cần giấy tờ gì",
]

# Runs in the page: submits `text` and resolves with the milliseconds from the
# submit to the frame after the first new bot bubble, and that bubble's text.
MEASURE = """
const [text, done] = arguments;
const log = document.querySelector(".dvc-log");
const bubbles = () => log.querySelectorAll(".dvc-msg--bot");
const before = bubbles().length;
let started = 0;
const observer = new MutationObserver(() => {
  if (bubbles().length <= before) return;
  observer.disconnect();
  const first = bubbles()[before].textContent;
  requestAnimationFrame(() => done([performance.now() - started, first]));
});
observer.observe(log, { childList: true });
document.querySelector("#dvc-input").value = text;
started = performance.now();
document.querySelector(".dvc-form").requestSubmit();
"""


def chrome(width: int, height: int, phone: bool = False) -> WebDriver:
    """Headless Chromium from Debian with its own chromedriver: with a driver
    path given, Selenium Manager (which downloads drivers) never runs."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
    ):
        options.add_argument(argument)
    if phone:
        metrics = {"width": width, "height": height, "pixelRatio": 2, "touch": True}
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": metrics})
    # Every request and console message the page makes (the tests read them).
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)


def _new_conversation(driver: WebDriver) -> None:
    """A fresh Rasa session, so each question is a first question."""
    session = driver.execute_script("return JSON.parse(localStorage['dvc-chat:v1']).sessionId")
    driver.find_element(By.CSS_SELECTOR, ".dvc-restart").click()
    WebDriverWait(driver, 15).until(
        lambda d: (
            d.find_element(By.CSS_SELECTOR, ".dvc-status").text == "Trực tuyến"
            and d.execute_script("return JSON.parse(localStorage['dvc-chat:v1']).sessionId")
            not in {None, session}
        )
    )


def run(page: str, questions: list[str]) -> list[float]:
    driver = chrome(1280, 900)
    try:
        driver.set_script_timeout(60)
        driver.get(page)
        driver.find_element(By.CSS_SELECTOR, ".dvc-launcher").click()
        WebDriverWait(driver, 15).until(
            lambda d: d.find_element(By.CSS_SELECTOR, ".dvc-status").text == "Trực tuyến"
        )
        driver.execute_async_script(MEASURE, "xin chào")  # warms the socket path up
        timings = []
        for i, question in enumerate(questions):
            _new_conversation(driver)
            elapsed, first = driver.execute_async_script(MEASURE, question)
            timings.append(elapsed)
            row = {"i": i, "question": question, "ms": round(elapsed, 1), "first": first[:80]}
            print(json.dumps(row, ensure_ascii=False), flush=True)
        return timings
    finally:
        driver.quit()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.widget_bench")
    parser.add_argument("--catalogue", type=Path, required=True)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "vi-bot.tar.gz")
    parser.add_argument("-n", type=int, default=20, help=f"questions (≤ {len(QUESTIONS)})")
    args = parser.parse_args(argv)
    if not 1 <= args.n <= len(QUESTIONS):
        parser.error(f"-n must be between 1 and {len(QUESTIONS)}")
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        parser.exit(2, "needs Debian's chromium and chromium-driver\n")
    os.environ["SE_OFFLINE"] = "true"  # and should it run anyway, offline
    with Stack(args.catalogue, args.index, args.model) as stack:
        wait_until_up(stack.widget_url + "health", stack.process, timeout=30)
        timings = run(stack.widget_url, QUESTIONS[: args.n])
    print(json.dumps(latency_summary(timings)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
