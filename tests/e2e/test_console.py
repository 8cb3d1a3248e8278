"""The hotline staff console in headless Chromium, against the running console
(`python -m console serve`, the `console` fixture) sharing the bot's desk
database, mini catalogue (tests/data/mini_catalogue.jsonl, codes T.…) and
portal simulator, so a ticket a REST conversation opens is the one staff claim.

The tests run in file order on one desktop browser (1280×800): sign-in first,
then what a signed-in operator does. Screenshots go to
results/screenshots/console-*.png. Needs Debian's chromium and
chromium-driver; Selenium never downloads a browser or a driver here.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import ROOT
from tests.e2e.conftest import MINI, Bot, Console
from tools.widget_bench import CHROMEDRIVER, CHROMIUM, chrome

SCREENSHOTS = ROOT / "results" / "screenshots"
WAIT_S = 20  # the first search loads the index on two shared cores
APPLICATION = "H12.36-241125-0019"  # known to the portal simulator
CITIZEN = "console-e2e-1"

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
)

# Runs in the page: the JSON of a same-origin GET, with the page's session.
FETCH_JSON = """
const [path, done] = arguments;
fetch(path).then(r => r.json().then(body => done([r.status, body])), e => done([0, String(e)]));
"""


def record(code: str) -> dict:
    with open(MINI, encoding="utf-8") as lines:
        return next(r for r in map(json.loads, lines) if r["code"] == code)


@pytest.fixture(scope="module")
def offline_selenium() -> Iterator[None]:
    """Should Selenium Manager ever run, it may not download anything."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SE_OFFLINE", "true")
        yield


def sized(driver: WebDriver, width: int, height: int, mobile: bool) -> WebDriver:
    """The viewport itself at width×height: --window-size counts the browser's
    own frame, which headless Chromium takes off the page."""
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    return driver


@pytest.fixture(scope="module")
def desktop(offline_selenium: None) -> Iterator[WebDriver]:
    driver = sized(chrome(1280, 800), 1280, 800, mobile=False)
    driver.set_script_timeout(WAIT_S)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def phone(offline_selenium: None) -> Iterator[WebDriver]:
    driver = chrome(390, 844, phone=True)
    driver.set_script_timeout(WAIT_S)
    yield driver
    driver.quit()


class Page:
    """The console as an operator uses it, with explicit waits on what appears."""

    def __init__(self, driver: WebDriver, console: Console) -> None:
        self.driver = driver
        self.console = console

    def wait(self, timeout: float = WAIT_S) -> WebDriverWait:
        """The queue redraws itself every 10 s: an element found a moment ago
        may have been replaced, so a wait looks again rather than failing."""
        return WebDriverWait(
            self.driver, timeout, ignored_exceptions=(StaleElementReferenceException,)
        )

    def click(self, css: str) -> None:
        self.wait().until(lambda _: self.find(css).click() or True, f"cannot click {css}")

    def attribute(self, css: str, name: str) -> str | None:
        return self.wait().until(lambda _: [self.find(css).get_attribute(name)])[0]

    def text(self, css: str) -> str | None:
        """The element's text read in one step (no stale reference in between)."""
        return self.driver.execute_script(
            "const e = document.querySelector(arguments[0]); return e && e.innerText", css
        )

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def visible(self, css: str) -> WebElement:
        return self.wait().until(
            lambda _: next((e for e in self.all(css) if e.is_displayed()), None),
            f"{css} not shown",
        )

    def sign_in(self, password: str | None = None) -> None:
        self.driver.get(self.console.url + "/login")
        self.find("#username").clear()
        self.find("#username").send_keys(self.console.username)
        self.find("#password").send_keys(password or self.console.password)
        self.find(".login-form button[type=submit]").click()

    def signed_in(self) -> None:
        """Signs in unless the session is still there; the search view then."""
        self.driver.get(self.console.url + "/#/search")
        if self.driver.current_url.split("#")[0].endswith("/login"):
            self.sign_in()
        self.visible("#q")

    def api(self, path: str) -> tuple[int, object]:
        return self.driver.execute_async_script(FETCH_JSON, path)

    def type_query(self, text: str) -> WebElement:
        """Types `text` into the search box; the first result once its results are shown."""
        box = self.find("#q")
        box.clear()
        box.send_keys(text)
        self.wait().until(
            lambda d: d.execute_script(
                "return window.__searchTimings.some(t => t.query === arguments[0])", text
            ),
            f"no results shown for {text!r}",
        )
        return self.find("#results > .result")

    def overflow(self) -> int:
        return self.driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )

    def screenshot(self, name: str, capsys: pytest.CaptureFixture[str]) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / name
        self.driver.save_screenshot(str(path))
        with capsys.disabled():
            print(f"\nscreenshot: {path}")
        return path


@pytest.fixture
def page(desktop: WebDriver, console: Console) -> Page:
    return Page(desktop, console)


def test_anonymous_visit_goes_to_sign_in(page: Page) -> None:
    page.driver.delete_all_cookies()
    page.driver.get(page.console.url + "/")
    assert page.driver.current_url == page.console.url + "/login"
    assert page.find("h1").text == "Đăng nhập tổng đài viên"
    assert not page.find(".error").is_displayed()  # no error before a try
    assert page.api("/api/me") == [401, {"error": "unauthorized"}]
    with urllib.request.urlopen(page.console.url + "/login", timeout=5) as response:
        policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self';" in policy


def test_a_wrong_password_shows_the_error_and_opens_no_session(page: Page) -> None:
    page.driver.delete_all_cookies()
    page.sign_in(password="không phải mật khẩu")
    error = page.visible(".error")
    assert "không đúng" in error.text
    assert page.find("#username").get_attribute("value") == page.console.username
    assert page.driver.get_cookie("console_session") is None
    page.driver.get(page.console.url + "/")
    assert page.driver.current_url == page.console.url + "/login"


def test_sign_in(page: Page) -> None:
    page.driver.delete_all_cookies()
    page.sign_in()
    page.visible("#q")
    assert page.driver.current_url.startswith(page.console.url + "/#/search")
    assert page.find(".user-name").text == "Nguyễn Thị Lan"
    assert page.driver.switch_to.active_element == page.find("#q")  # ready to type
    assert page.api("/api/me")[1]["username"] == page.console.username


def test_search_without_diacritics_and_open_the_procedure(
    page: Page, capsys: pytest.CaptureFixture[str]
) -> None:
    page.signed_in()
    first = page.type_query("dang ky ket hon")
    assert first.get_attribute("data-code") == "T.000003"
    assert "Đăng ký kết hôn" in first.find_element(By.CSS_SELECTOR, ".result-name").text
    marks = [m.text for m in first.find_elements(By.CSS_SELECTOR, ".result-match mark")]
    assert marks and all(m in "Đăng ký kết hôn" for m in marks)  # the accented words lit
    assert len(page.all("#results > .result")) <= 10
    assert "q=dang+ky+ket+hon" in page.driver.current_url  # reload keeps the query
    page.screenshot("console-search.png", capsys)

    page.find("#q").send_keys(Keys.ENTER)  # the first result is the active one
    page.wait().until(lambda d: d.current_url.endswith("#/procedure/T.000003"))
    title = page.visible("#view-procedure .proc-name")
    expected = record("T.000003")
    assert title.text == expected["name"]
    sheet = page.find("#view-procedure").text
    checklist = page.all("#sec-documents input[type=checkbox]")
    assert len(checklist) == len(expected["documents"])
    for document in expected["documents"]:
        assert document["name"] in sheet
    rows = page.all("#sec-channels tbody tr")
    assert len(rows) == len(expected["channels"])
    for channel in expected["channels"]:
        assert channel["channel"] in sheet and channel["fee"] in sheet and channel["time"] in sheet
    for key in ("agency", "applicants", "result"):
        assert expected[key] in sheet, key
    checklist[0].click()
    assert "Đã kiểm 1/" in page.find(".checklist-count").text
    page.screenshot("console-procedure.png", capsys)

    page.driver.back()  # the results as they were
    page.wait().until(lambda _: page.find("#view-procedure").get_attribute("hidden"))
    assert page.find("#q").get_attribute("value") == "dang ky ket hon"
    assert page.find("#results > .result").get_attribute("data-code") == "T.000003"


def test_copy_answer_gives_the_bots_text(page: Page) -> None:
    page.signed_in()
    page.driver.execute_cdp_cmd(
        "Browser.grantPermissions",
        {
            "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"],
            "origin": page.console.url,
        },
    )
    page.driver.get(page.console.url + "/#/procedure/T.000003")
    status, body = page.api("/api/procedures/T.000003")
    assert status == 200 and "T.000003" in body["answer"]
    copy = page.visible("#copy-answer")
    assert copy.text == "Sao chép câu trả lời"
    copy.click()
    page.wait(5).until(lambda _: copy.get_attribute("data-copied") == "yes")
    assert copy.text == "Đã sao chép ✓"
    # With the permission granted, headless Chromium's clipboard API works: the
    # clipboard itself is read back (the fallback textarea is not needed here).
    copied = page.driver.execute_async_script(
        "const done = arguments[0]; navigator.clipboard.readText().then(done, e => done('!' + e))"
    )
    assert copied == body["answer"]

    fee = page.find("#sec-channels .copy-aspect[data-aspect=fee]")
    fee.click()
    page.wait(5).until(lambda _: fee.get_attribute("data-copied") == "yes")
    copied = page.driver.execute_async_script(
        "const done = arguments[0]; navigator.clipboard.readText().then(done, e => done('!' + e))"
    )
    assert copied == body["answers"]["fee"]


def test_application_status_lookup(page: Page) -> None:
    page.signed_in()
    page.find(".tab[data-view=status]").click()
    field = page.visible("#app-code")
    field.send_keys(APPLICATION, Keys.ENTER)
    status, body = page.api(f"/api/status/{APPLICATION}")
    assert status == 200 and body["found"]
    badge = page.visible("#status-result .status-badge")
    assert badge.text == body["application"]["status_label"]
    assert page.find("#status-result .status-message").text.startswith("Dạ, hồ sơ")
    assert page.driver.current_url.endswith(f"#/status/{APPLICATION}")

    field = page.find("#app-code")
    field.clear()
    field.send_keys("không phải mã", Keys.ENTER)
    error = page.visible("#status-result .notice--error")
    assert "không hợp lệ" in error.text


def test_claim_note_and_resolve_a_ticket_the_bot_opened(
    page: Page, bot: Bot, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _ = bot.send(CITIZEN, "thủ tục đăng ký kết hôn thế nào ạ")
    assert status == 200
    status, replies = bot.send(CITIZEN, "cho tôi gặp tổng đài viên")
    assert status == 200 and replies
    with sqlite3.connect(bot.desk) as db:
        (ticket,) = db.execute(
            "SELECT id FROM tickets WHERE sender = ? AND status = 'open'", (CITIZEN,)
        ).fetchone()

    page.signed_in()
    page.click(".tab[data-view=tickets]")
    page.visible("#ticket-list > .ticket-item")
    assert page.attribute("#ticket-list > .ticket-item", "data-id") == str(ticket)  # newest first
    assert int(page.text("#ticket-count")) >= 1
    page.click("#ticket-list > .ticket-item a")
    page.wait().until(lambda d: d.current_url.endswith(f"#/tickets/{ticket}"))
    page.wait().until(lambda _: page.attribute("#ticket-detail", "data-id") == str(ticket))
    transcript = page.text("#ticket-detail .transcript")
    assert "thủ tục đăng ký kết hôn thế nào ạ" in transcript
    assert "cho tôi gặp tổng đài viên" in transcript
    assert page.all("#ticket-detail .msg--citizen") and page.all("#ticket-detail .msg--bot")
    assert "T.000003" in page.text("#ticket-detail .ticket-procedure")

    page.click("#ticket-detail button.claim")
    page.wait().until(lambda _: page.text("#ticket-detail button.claim") == "Đã nhận: tongdai1")
    assert page.attribute("#ticket-detail button.claim", "disabled") == "true"

    note = "Đã gọi lại cho công dân, hẹn nộp hồ sơ thứ Hai."
    page.find("#note-text").send_keys(note)  # the form outlives the refreshes
    page.click("#ticket-detail .add-note")
    page.wait().until(lambda _: note in (page.text("#ticket-detail .msg--note") or ""))
    assert page.find("#note-text").get_attribute("value") == ""
    page.driver.execute_script("window.scrollTo(0, 0)")
    page.screenshot("console-tickets.png", capsys)

    page.click("#ticket-detail button.resolve")
    page.driver.switch_to.alert.accept()  # "Đóng phiếu …?"
    page.wait().until(lambda _: page.text("#ticket-detail .status-badge") == "Đã xử lý")
    with sqlite3.connect(bot.desk) as db:
        (state,) = db.execute("SELECT status FROM tickets WHERE id = ?", (ticket,)).fetchone()
    assert state == "resolved"
    listed = page.driver.execute_script(
        "return [...document.querySelectorAll('.ticket-item')].map(e => e.dataset.id)"
    )
    assert str(ticket) not in listed

    status, replies = bot.send(CITIZEN, "lệ phí đăng ký kết hôn bao nhiêu")
    assert status == 200
    assert "T.000003" in "\n".join(r.get("text", "") for r in replies)  # the bot answers again


def test_feedback_the_citizens_gave(page: Page, bot: Bot) -> None:
    assert bot.send("console-e2e-2", "đăng ký thường trú cần giấy tờ gì")[0] == 200
    assert bot.send("console-e2e-2", '/feedback{"vote": "down"}')[0] == 200
    page.signed_in()
    page.find(".tab[data-view=feedback]").click()
    row = page.wait().until(
        lambda _: next(
            (r for r in page.all("#feedback-table tbody tr") if "T.000005" in r.text), None
        ),
        "T.000005 not in the feedback table",
    )
    assert int(row.find_elements(By.CSS_SELECTOR, "td")[3].text) >= 1  # 👎
    row.find_elements(By.CSS_SELECTOR, "td")[1].click()
    page.wait().until(lambda d: d.current_url.endswith("#/procedure/T.000005"))
    votes = page.visible("#view-procedure .vote-down")
    assert int(votes.text.split()[1]) >= 1


# A citizen's way of asking that the mini catalogue's texts do not serve (the bot
# answers "kết hôn"), and another citizen asking the same another way.
TAUGHT = "cưới xong muốn đưa vợ về ở hẳn nhà mình thì làm thủ tục gì"
ASKED = "mới lấy vợ, muốn đưa vợ về ở hẳn với nhà mình thì phải làm thủ tục gì"


def answered(replies: list[dict]) -> str | None:
    """The procedure the bot answered with: the code its first message cites."""
    first = next((r.get("text") or "" for r in replies if r.get("text")), "")
    found = re.search(r"^Dạ, (?:[^\n]*?)\(mã (T\.\d{6})\)", first)
    return found.group(1) if found else None


def test_staff_teach_a_missed_question_and_the_next_citizen_is_answered(
    page: Page, bot: Bot, capsys: pytest.CaptureFixture[str]
) -> None:
    _, before = bot.send("learn-e2e-0", ASKED)
    assert answered(before) != "T.000005"  # not known yet
    _, wrong = bot.send("learn-e2e-1", TAUGHT)
    assert answered(wrong) != "T.000005"
    offered = [b["payload"] for r in wrong for b in r.get("buttons") or []]
    # The citizen says the bot got it wrong: 👎 on an answer, "không phải" to a choice.
    reply = "không phải" if "/deny" in offered else '/feedback{"vote": "down"}'
    assert bot.send("learn-e2e-1", reply)[0] == 200
    page.signed_in()
    page.find(".tab[data-view=learn]").click()
    item = page.wait().until(
        lambda _: next((i for i in page.all("#learn-list .learn-item") if TAUGHT in i.text), None),
        "the question the bot got wrong is not waiting for staff",
    )
    item.find_element(By.CSS_SELECTOR, "button.teach").click()
    box = page.visible("#link-q")
    box.clear()
    box.send_keys("đăng ký thường trú")
    attach = page.wait().until(
        lambda _: next(
            (
                r.find_element(By.CSS_SELECTOR, "button.attach")
                for r in page.all("#link-results .link-result")
                if "T.000005" in r.text
            ),
            None,
        ),
        "T.000005 not among the dialog's results",
    )
    page.screenshot("console-learn.png", capsys)
    attach.click()
    page.wait().until(lambda _: not page.find("#link-dialog").get_attribute("open"))
    row = page.wait().until(
        lambda _: next((r for r in page.all("#links-table tbody tr") if TAUGHT in r.text), None),
        "the link is not listed",
    )
    assert "T.000005" in row.text and page.console.username in row.text
    # A new conversation asking it another way is answered with that procedure
    # (the action server polls the desk at most once a second: no restart).
    for attempt in range(5):
        _, replies = bot.send(f"learn-e2e-2-{attempt}", ASKED)
        if answered(replies) == "T.000005":
            break
        time.sleep(1)
    assert answered(replies) == "T.000005"
    assert "Đăng ký thường trú" in replies[0]["text"]


def test_no_script_error_and_nothing_blocked(page: Page) -> None:
    """Whatever the earlier tests did raised no error and broke no CSP rule.
    Chromium also logs each 4xx response as SEVERE: the 401s and the 400 that
    the tests above asked for on purpose are left out."""
    errors = [
        e["message"]
        for e in page.driver.get_log("browser")
        if e["level"] == "SEVERE"
        and not re.search(r"Failed to load resource: .* status of (400|401)\b", e["message"])
    ]
    assert errors == []


def test_phone_layout(
    phone: WebDriver, console: Console, capsys: pytest.CaptureFixture[str]
) -> None:
    page = Page(phone, console)
    page.signed_in()
    assert phone.execute_script("return [innerWidth, innerHeight]") == [390, 844]
    first = page.type_query("cccd")
    assert first.get_attribute("data-code") == "T.000008"  # the abbreviation citizens use
    assert page.overflow() == 0
    first.find_element(By.CSS_SELECTOR, "a").click()
    page.visible("#view-procedure .proc-name")
    assert page.overflow() == 0
    for css in ("#copy-answer", "#sec-documents input[type=checkbox]", ".tab[data-view=feedback]"):
        box = page.find(css).rect
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, css
    page.screenshot("console-phone.png", capsys)
    page.find(".tab[data-view=tickets]").click()
    page.visible("#ticket-list")
    assert page.overflow() == 0
