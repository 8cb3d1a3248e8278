"""The portal chat widget in headless Chromium against the real stack: Rasa's
socketio channel, the action server (tests/data/mini_catalogue.jsonl, codes
T.…) and `python -m widget` serving the page.

Screenshots (desktop and phone) go to results/screenshots/. Needs Debian's
chromium and chromium-driver (.ci/run installs them); Selenium never downloads
a browser or a driver here.
"""

from __future__ import annotations

import json
import re
import sqlite3
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import ROOT, TEST_ENV
from tests.e2e.conftest import ACTIONS_PY, TEST_HOTLINE, Bot, assert_no_traceback
from tools.harness import free_port, service
from tools.widget_bench import CHROMEDRIVER, CHROMIUM, chrome

SCREENSHOTS = ROOT / "results" / "screenshots"
LOOPBACK = {"127.0.0.1", "localhost"}
ANSWER_WAIT_S = 30  # an answer on two shared cores, with the index warming up

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
)


@pytest.fixture(scope="module")
def page_url(bot: Bot, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m widget` on a free port, its socket pointed at the test Rasa."""
    port = free_port()
    log = tmp_path_factory.mktemp("widget") / "widget.log"
    command = [str(ACTIONS_PY), "-m", "widget", "--host", "127.0.0.1", "--port", str(port)]
    health = f"http://127.0.0.1:{port}/health"
    with service([*command, "--rasa-url", bot.url], health, env=TEST_ENV, log=log, timeout=30):
        yield f"http://127.0.0.1:{port}/"
    assert_no_traceback(log)


@pytest.fixture(scope="module")
def offline_selenium() -> Iterator[None]:
    """Should Selenium Manager ever run, it may not download anything."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SE_OFFLINE", "true")
        yield


@pytest.fixture(scope="module")
def desktop(offline_selenium: None) -> Iterator[WebDriver]:
    driver = chrome(1280, 900)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def phone(offline_selenium: None) -> Iterator[WebDriver]:
    driver = chrome(390, 844, phone=True)
    yield driver
    driver.quit()


class Widget:
    """The widget as a citizen uses it, with explicit waits on what appears."""

    def __init__(self, driver: WebDriver, url: str) -> None:
        self.driver = driver
        self.url = url

    def wait(self, timeout: float = ANSWER_WAIT_S) -> WebDriverWait:
        return WebDriverWait(self.driver, timeout)

    def open_fresh(self) -> None:
        """The page with nothing stored, the panel opened, Rasa's session confirmed."""
        # Cleared from a page of the same origin without the widget, which
        # would otherwise save its state again as soon as the socket answers.
        self.driver.get(self.url + "health")
        self.driver.execute_script("localStorage.clear()")
        self.driver.get(self.url)
        self.driver.find_element(By.CSS_SELECTOR, ".dvc-launcher").click()
        self.wait_online()

    def wait_online(self) -> None:
        self.wait(15).until(lambda d: self.find(".dvc-status").text == "Trực tuyến")

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def messages(self, who: str = "bot") -> list[WebElement]:
        """Conversation bubbles so far (the local welcome not counted)."""
        return self.driver.find_elements(
            By.CSS_SELECTOR, f".dvc-log > .dvc-msg--{who}:not(.dvc-welcome)"
        )

    def transcript(self) -> list[str]:
        """The text of every bubble on screen, welcome included, in order."""
        return [
            m.get_attribute("textContent")
            for m in self.driver.find_elements(By.CSS_SELECTOR, ".dvc-log > .dvc-msg")
        ]

    def session_id(self) -> str | None:
        return self.driver.execute_script(
            "return (JSON.parse(localStorage.getItem('dvc-chat:v1')) || {}).sessionId"
        )

    def ask(self, text: str, *expected: str) -> str:
        """Types `text`, presses Enter; the new bot text once it holds `expected`."""
        before = len(self.messages())
        field = self.find("#dvc-input")
        field.send_keys(text)
        field.send_keys(Keys.ENTER)
        return self.reply(before, *expected)

    def press(self, element: WebElement, *expected: str) -> str:
        before = len(self.messages())
        element.click()
        return self.reply(before, *expected)

    def reply(self, before: int, *expected: str) -> str:
        """Waits until the bot messages after the first `before` hold every
        expected string (an answer arrives as several socket events)."""

        def new_text(_: WebDriver) -> str | None:
            text = "\n".join(m.get_attribute("textContent") for m in self.messages()[before:])
            return text if text and all(e in text for e in expected) else None

        return self.wait().until(new_text, f"no reply containing {expected!r}")

    def choices(self, before: int, title_part: str = "") -> list[WebElement]:
        """Enabled buttons of the bot messages after the first `before`."""

        def found(_: WebDriver) -> list[WebElement] | None:
            buttons = [
                b
                for m in self.messages()[before:]
                for b in m.find_elements(By.CSS_SELECTOR, ".dvc-choice")
                if b.is_enabled() and title_part in b.text
            ]
            return buttons or None

        return self.wait().until(found, f"no button with {title_part!r}")

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / name
        self.driver.save_screenshot(str(path))
        return path


@pytest.fixture
def widget(desktop: WebDriver, page_url: str) -> Widget:
    return Widget(desktop, page_url)


def show(capsys: pytest.CaptureFixture[str], path: Path) -> None:
    with capsys.disabled():
        print(f"\nscreenshot: {path}")


def test_question_answer_buttons_and_links(
    widget: Widget, capsys: pytest.CaptureFixture[str]
) -> None:
    widget.open_fresh()
    before = len(widget.messages())
    widget.ask("đăng ký cho con", "T.000001", "T.000003")
    choices = widget.choices(before, "T.0000")
    assert len(choices) == 2 and all(c.tag_name == "button" for c in choices)

    title = choices[1].text
    code = re.search(r"T\.\d{6}", title).group()
    widget.press(choices[1], code, "Cơ quan thực hiện")
    assert widget.messages("user")[-1].get_attribute("textContent").endswith(title)
    assert not any(c.is_enabled() for c in choices)  # that question is answered

    # The vote sits on the answer's own bubble, not in a bubble of its own.
    last = widget.messages()[-2:]
    assert any(m.find_elements(By.CSS_SELECTOR, ".dvc-bubble .dvc-votes .dvc-vote") for m in last)
    assert not any(
        "thông tin trên có giúp" in m.get_attribute("textContent") for m in widget.messages()
    )

    code = "T.000010"
    answer = widget.ask(
        "xin giấy phép xây dựng công trình thì nộp ở đâu", code, "Cơ quan thực hiện"
    )
    link = widget.driver.find_element(By.CSS_SELECTOR, f".dvc-link[href$='/p/{code}']")
    assert link.get_attribute("target") == "_blank"
    assert link.get_attribute("rel") == "noopener noreferrer"
    assert link.text in answer

    before = len(widget.messages())
    useful = widget.choices(before - 2, "Hữu ích")[0]  # on the answer, before its related bubble
    widget.find(".dvc-log").send_keys(Keys.END)
    show(capsys, widget.screenshot("widget-desktop.png"))
    assert "cảm ơn anh/chị đã phản hồi" in widget.press(useful)


def test_reload_keeps_the_history_and_the_conversation(widget: Widget) -> None:
    widget.open_fresh()
    before = len(widget.messages())
    widget.ask("thủ tục đăng ký kết hôn thế nào ạ", "T.000003")
    widget.choices(before, "Hữu ích")  # the turn's last message has come
    session = widget.session_id()
    shown = widget.transcript()

    widget.driver.refresh()
    widget.wait_online()  # the panel stayed open
    assert widget.transcript() == shown
    assert widget.session_id() == session
    follow_up = widget.ask("lệ phí bao nhiêu?", "T.000003")
    assert "lệ phí" in follow_up.lower()


def test_handoff_button_in_a_new_conversation(widget: Widget, bot: Bot) -> None:
    widget.open_fresh()
    widget.ask("đăng ký khai sinh cần giấy tờ gì", "T.000001")
    old = widget.session_id()

    widget.find(".dvc-restart").click()
    widget.wait(15).until(lambda _: widget.session_id() not in {None, old})
    widget.wait_online()
    assert widget.messages() == [] and widget.messages("user") == []

    handoff = widget.find(".dvc-handoff")
    assert handoff.is_displayed() and handoff.text == "Gặp tổng đài viên"
    reply = widget.press(handoff, TEST_HOTLINE, "phiếu số")
    assert widget.messages("user")[-1].get_attribute("textContent").endswith("Gặp tổng đài viên")
    with sqlite3.connect(bot.desk) as db:
        tickets = db.execute(
            "SELECT id, status FROM tickets WHERE sender = ?", (widget.session_id(),)
        ).fetchall()
    assert len(tickets) == 1 and tickets[0][1] == "open"
    assert str(tickets[0][0]) in reply


def test_html_typed_by_the_citizen_is_shown_as_text(widget: Widget) -> None:
    widget.open_fresh()
    typed = """<img src=x onerror="document.title='xss'"><b>đậm</b>"""
    widget.ask(typed)  # any answer: the turn went through
    assert widget.messages("user")[-1].get_attribute("textContent").endswith(typed)
    assert widget.driver.find_elements(By.CSS_SELECTOR, ".dvc-log img, .dvc-log b") == []
    assert widget.driver.title.startswith("Cổng Dịch vụ công")


def test_phone_layout(phone: WebDriver, page_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    widget = Widget(phone, page_url)
    widget.open_fresh()
    width, height = phone.execute_script("return [innerWidth, innerHeight]")
    assert (width, height) == (390, 844)  # the page's viewport meta works
    widget.ask("đăng ký khai sinh cho con cần giấy tờ gì", "T.000001")
    widget.choices(0, "Hữu ích")
    overflow = phone.execute_script(
        """const log = document.querySelector('.dvc-log');
        return [document.documentElement.scrollWidth - innerWidth,
                log.scrollWidth - log.clientWidth]"""
    )
    assert overflow == [0, 0]  # no horizontal scrolling, page or conversation
    panel = widget.find(".dvc-panel").rect
    assert (panel["x"], panel["y"], panel["width"], panel["height"]) == (0, 0, 390, 844)
    for css in ("#dvc-input", ".dvc-send", ".dvc-handoff", ".dvc-close"):
        box = widget.find(css).rect
        assert widget.find(css).is_displayed(), css
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, css
        assert box["y"] >= 0 and box["y"] + box["height"] <= 844, css
    show(capsys, widget.screenshot("widget-phone.png"))


def test_the_page_reaches_only_this_machine(widget: Widget, page_url: str) -> None:
    widget.open_fresh()
    widget.ask("đăng ký thường trú cần giấy tờ gì", "T.000005")
    urls = []
    for entry in widget.driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
        elif message["method"] == "Network.webSocketCreated":
            urls.append(message["params"]["url"])
    assert any(u.startswith("ws://") for u in urls)  # the socket itself was seen
    remote = [
        u
        for u in urls
        if urlsplit(u).scheme not in {"data", "about"} and urlsplit(u).hostname not in LOOPBACK
    ]
    assert remote == []
    errors = [e["message"] for e in widget.driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []  # no script error, no request the CSP blocked

    with urllib.request.urlopen(page_url, timeout=5) as response:
        policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "default-src 'none'" in policy
    connect = next(p for p in policy.split("; ") if p.startswith("connect-src"))
    assert {urlsplit(s).hostname for s in connect.split()[2:]} <= LOOPBACK
