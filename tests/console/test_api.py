"""The console's HTTP API over loopback: sign-in, CSRF, search, procedures,
status lookups, the handoff queue and feedback (mini catalogue, in-process
portal simulator, a fresh desk database)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from yarl import URL

from console.accounts import Accounts
from console.server import Settings, make_app
from helpdesk import search as catalogue_search
from helpdesk.desk import Desk
from index.catalogue import ship
from portal.simulator import make_app as portal_app
from portal.simulator import serving

ROOT = Path(__file__).resolve().parent.parent.parent
STATIC = ROOT / "console" / "static"
MINI = ROOT / "tests" / "data" / "mini_catalogue.jsonl"
PASSWORD = "mật khẩu thử 123"
ENDPOINTS = [
    ("GET", "/api/me"),
    ("GET", "/api/facets"),
    ("GET", "/api/search?q=ket+hon"),
    ("GET", "/api/procedures/T.000003"),
    ("GET", "/api/status/H12.36-241125-0019"),
    ("GET", "/api/tickets"),
    ("GET", "/api/tickets/1"),
    ("POST", "/api/tickets/1/claim"),
    ("POST", "/api/tickets/1/notes"),
    ("POST", "/api/tickets/1/resolve"),
    ("GET", "/api/feedback"),
    ("GET", "/api/learn"),
    ("POST", "/api/learn/links"),
    ("POST", "/api/learn/links/1/undo"),
]


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Site:
    url: str
    accounts: Accounts
    clock: Clock
    desk: Desk
    portal: str

    def client(self) -> aiohttp.ClientSession:
        # unsafe=True: keep cookies from an IP-address host (127.0.0.1).
        return aiohttp.ClientSession(self.url, cookie_jar=aiohttp.CookieJar(unsafe=True))


@pytest.fixture(scope="module", autouse=True)
def mini_catalogue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The console searches the mini catalogue (its index built once, here)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CATALOGUE", str(MINI))
        patch.setenv("INDEX_DIR", str(tmp_path_factory.mktemp("index")))
        catalogue_search.reset()
        catalogue_search.searcher()
        yield
    catalogue_search.reset()


@asynccontextmanager
async def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Site]:
    clock = Clock()
    accounts = Accounts(tmp_path / "console.db", clock=clock)
    accounts.add_user("lan", "Nguyễn Thị Lan", PASSWORD)
    accounts.add_user("minh", "Trần Văn Minh", PASSWORD)
    monkeypatch.setenv("DESK_DB", str(tmp_path / "desk.db"))
    async with serving(portal_app("portal-token")) as portal:
        monkeypatch.setenv("PORTAL_API_URL", portal)
        monkeypatch.setenv("PORTAL_API_TOKEN", "portal-token")
        app = make_app(Settings(db=tmp_path / "console.db"), accounts)
        async with serving(app) as url:
            yield Site(url, accounts, clock, Desk(), portal)


async def sign_in(
    client: aiohttp.ClientSession, username: str = "lan", password: str = PASSWORD
) -> aiohttp.ClientResponse:
    async with client.get("/login") as page:
        assert page.status == 200
    csrf = client.cookie_jar.filter_cookies(client._base_url)["console_login_csrf"].value
    form = {"username": username, "password": password, "csrf": csrf}
    async with client.post("/login", data=form, allow_redirects=False) as response:
        await response.read()
        return response


async def api_csrf(client: aiohttp.ClientSession) -> str:
    async with client.get("/api/me") as me:
        return (await me.json())["csrf"]


def run(coroutine) -> None:
    asyncio.run(coroutine)


def test_nothing_without_a_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> None:
        async with site(tmp_path, monkeypatch) as s, s.client() as client:
            for method, path in ENDPOINTS:
                async with client.request(method, path, json={}) as response:
                    assert response.status == 401, path
                    assert await response.json() == {"error": "unauthorized"}
            async with client.get("/", allow_redirects=False) as response:
                assert response.status == 303 and response.headers["Location"] == "/login"
            for template in ("/static/app.html", "/static/login.html"):
                async with client.get(template) as response:
                    assert response.status == 404, template
            traversal = URL(f"{s.url}/static/..%2fserver.py", encoded=True)
            async with aiohttp.ClientSession() as raw, raw.get(traversal) as response:
                assert response.status == 404 and "make_app" not in await response.text()
            async with client.get("/favicon.ico", allow_redirects=False) as response:
                assert response.status == 404  # unknown paths are not sign-in redirects
            # A cookie that was never issued is no session either.
            client.cookie_jar.update_cookies({"console_session": "forged"})
            async with client.get("/api/me") as response:
                assert response.status == 401

    run(scenario())


def test_sign_in_csrf_lockout_and_sign_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> None:
        async with site(tmp_path, monkeypatch) as s, s.client() as client:
            # A form posted from elsewhere has no matching login token.
            form = {"username": "lan", "password": PASSWORD, "csrf": "guess"}
            async with client.post("/login", data=form, allow_redirects=False) as response:
                assert response.status == 403
            # Opening the form again (another tab) keeps the first form's token valid.
            async with client.get("/login") as page:
                first = client.cookie_jar.filter_cookies(client._base_url)["console_login_csrf"]
            async with client.get("/login") as page:
                assert f'value="{first.value}"' in await page.text()
            wrong = await sign_in(client, password="sai mật khẩu rồi")
            assert wrong.status == 401 and "console_session" not in wrong.cookies
            async with client.get("/api/me") as response:
                assert response.status == 401

            good = await sign_in(client)
            assert good.status == 303 and good.headers["Location"] == "/"
            cookie = good.cookies["console_session"]
            assert cookie["httponly"] and cookie["samesite"] == "Strict"
            async with client.get("/") as page:
                assert page.status == 200 and "Nguyễn Thị Lan" in await page.text()
                assert "script-src 'self'" in page.headers["Content-Security-Policy"]
            csrf = await api_csrf(client)
            s.desk.open_ticket("citizen-1", "request_human", [("citizen", "xin chào")])
            async with client.post("/api/tickets/1/claim") as response:
                assert response.status == 403  # no CSRF token
            async with client.post(
                "/api/tickets/1/claim", headers={"X-CSRF-Token": "x" * len(csrf)}
            ) as response:
                assert response.status == 403
            async with client.post(
                "/api/tickets/1/claim", headers={"X-CSRF-Token": csrf}
            ) as response:
                assert response.status == 200

            async with client.post(
                "/logout", data={"csrf": csrf}, allow_redirects=False
            ) as response:
                assert response.status == 303
            async with client.get("/api/me") as response:
                assert response.status == 401

        async with site(tmp_path / "again", monkeypatch) as s, s.client() as client:
            for _ in range(5):
                assert (await sign_in(client, password="không đúng đâu")).status == 401
            assert (await sign_in(client)).status == 429  # even the right password, for now

    run(scenario())


def test_the_pages_modules_are_served_as_javascript(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A browser runs an ES module only when it comes with a JavaScript type, and
    the asset route serves plain names straight in static/: every module the
    page's entry imports, directly or not, is one, and none is left unused."""

    async def scenario() -> None:
        async with site(tmp_path, monkeypatch) as s, s.client() as client:
            await sign_in(client)
            async with client.get("/") as page:
                html = await page.text()
            entry = re.search(r'<script type="module" src="/static/([a-z]+\.js)"></script>', html)
            assert entry, "app.html loads no entry module"
            served: set[str] = set()
            waiting = [entry.group(1)]
            while waiting:
                name = waiting.pop()
                if name in served:
                    continue
                served.add(name)
                async with client.get(f"/static/{name}") as response:
                    assert response.status == 200, name
                    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
                    assert response.headers["X-Content-Type-Options"] == "nosniff"
                    assert "Cache-Control" not in response.headers
                    text = await response.text()
                for imported in re.findall(r'^import [^;]* from "([^"]+)";$', text, re.M):
                    assert re.fullmatch(r"\./[a-z]+\.js", imported), (name, imported)
                    waiting.append(imported[2:])
            assert served == {path.name for path in STATIC.glob("*.js")}
            for path in ("/static/nested%2Fmain.js", "/static/main.mjs", "/static/app.html"):
                async with client.get(URL(f"{s.url}{path}", encoded=True)) as response:
                    assert response.status == 404, path

    run(scenario())


def test_an_expired_session_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> None:
        async with site(tmp_path, monkeypatch) as s, s.client() as client:
            await sign_in(client)
            async with client.get("/api/me") as response:
                assert response.status == 200
            s.clock.now += 31 * 60
            async with client.get("/api/me") as response:
                assert response.status == 401

    run(scenario())


def test_search_is_accent_insensitive_filtered_and_highlighted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        async with site(tmp_path, monkeypatch) as s, s.client() as client:
            await sign_in(client)
            async with client.get("/api/search", params={"q": "dang ky ket hon"}) as response:
                body = await response.json()
            first = body["results"][0]
            assert first["code"] == "T.000003" and len(body["results"]) <= 10
            assert body["elsewhere"] is None
            match = first["match"]
            assert match["field"] == "name" and match["label"] == "Tên thủ tục"
            marked = [match["text"][a:b] for a, b in match["spans"]]
            assert marked == ["Đăng", "ký", "kết", "hôn"]

            # While typing: a last word of two letters or more matches as a prefix.
            for typed, words in (("ket h", ["kết"]), ("ket ho", ["kết", "hôn"])):
                async with client.get("/api/search", params={"q": typed}) as response:
                    match = (await response.json())["results"][0]["match"]
                assert [match["text"][a:b] for a, b in match["spans"]] == words, typed

            async with client.get("/api/facets") as response:
                facets = await response.json()
            assert "Bộ Tư pháp" in facets["ministries"] and "Cấp xã" in facets["levels"]
            params = {"q": "dang ky ket hon", "ministry": "Bộ Công an"}
            async with client.get("/api/search", params=params) as response:
                codes = [r["code"] for r in (await response.json())["results"]]
            assert "T.000003" not in codes
            params = {"q": "giấy phép xây dựng", "level": "Cấp tỉnh"}
            async with client.get("/api/search", params=params) as response:
                results = (await response.json())["results"]
            assert results and all("Cấp tỉnh" in r["levels"] for r in results)
            # A need served by a ministry outside the catalogue is flagged for staff.
            params = {"q": "xin giấy phép lao động cho người nước ngoài"}
            async with client.get("/api/search", params=params) as response:
                body = await response.json()
            expected = {"ministry": "Bộ Nội vụ", "field": "việc làm", "foreign": False}
            assert body["elsewhere"] == expected
            async with client.get("/api/search", params={"q": "   "}) as response:
                assert (await response.json())["results"] == []
            async with client.get("/api/search", params={"q": "<script>x" * 100}) as response:
                assert response.status == 200

    run(scenario())


def test_a_procedure_with_the_bots_answer_and_feedback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        async with site(tmp_path, monkeypatch) as s, s.client() as client:
            await sign_in(client)
            s.desk.record_vote("c1", "T.000003", "down")
            s.desk.record_vote("c2", "T.000003", "up")
            s.desk.record_vote("c3", "T.000003", "down")
            s.desk.record_complaint("c3", "Trả lời sai lệ phí", "T.000003")
            s.desk.record_vote("c4", "T.000001", "up")
            async with client.get("/api/procedures/T.000003") as response:
                body = await response.json()
            assert body["procedure"]["code"] == "T.000003"
            assert body["procedure"]["documents"] and body["procedure"]["channels"]
            assert body["answer"].startswith("Dạ") and "T.000003" in body["answer"]
            assert "bấm" not in body["answer"]  # no pointer to buttons staff cannot press
            assert set(body["answers"]) == {"documents", "fee", "time", "where", "online"}
            assert body["feedback"]["up"] == 1 and body["feedback"]["down"] == 2
            assert [c["text"] for c in body["feedback"]["complaints"]] == ["Trả lời sai lệ phí"]
            async with client.get("/api/procedures/NOPE") as response:
                assert response.status == 404
            async with client.get("/api/feedback") as response:
                rows = (await response.json())["procedures"]
            assert rows[0] == {
                "code": "T.000003",
                "name": "Đăng ký kết hôn",
                "up": 1,
                "down": 2,
                "complaints": 1,
            }

    run(scenario())


def test_status_lookups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> None:
        async with site(tmp_path, monkeypatch) as s, s.client() as client:
            await sign_in(client)
            async with client.get("/api/status/h12.36-241125-0019") as response:
                body = await response.json()
            assert body["found"] and body["application"]["application_code"] == "H12.36-241125-0019"
            assert body["application"]["status_label"] in body["message"]
            async with client.get("/api/status/H99.99-990101-0001") as response:
                body = await response.json()
            assert response.status == 200 and body["found"] is False
            async with client.get("/api/status/abc") as response:
                assert response.status == 400
            async with aiohttp.ClientSession() as admin:
                await admin.post(
                    f"{s.portal}/_admin/faults",
                    json={"outage": True},
                    headers={"Authorization": "Bearer portal-token"},
                )
            async with client.get("/api/status/H12.36-241125-0019") as response:
                body = await response.json()
            assert response.status == 503 and "tạm gián đoạn" in body["message"]

    run(scenario())


def test_status_without_a_configured_portal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        async with site(tmp_path, monkeypatch) as s, s.client() as client:
            monkeypatch.delenv("PORTAL_API_URL")
            await sign_in(client)
            async with client.get("/api/status/H12.36-241125-0019") as response:
                body = await response.json()
            assert response.status == 503 and body["error"] == "unavailable"
            assert body["message"]

    run(scenario())


def test_the_handoff_queue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> None:
        async with site(tmp_path, monkeypatch) as s, s.client() as lan, s.client() as minh:
            await sign_in(lan)
            await sign_in(minh, "minh")
            lan_csrf, minh_csrf = await api_csrf(lan), await api_csrf(minh)
            older = s.desk.open_ticket("c-old", "not_understood", [("citizen", "???")])
            s.clock.now += 1
            newer = s.desk.open_ticket(
                "c-new",
                "request_human",
                [("citizen", "lệ phí kết hôn"), ("bot", "Dạ, ... (mã T.000003)")],
                "T.000003",
            )
            s.desk.add_message(newer, "citizen", "alo có ai không")
            async with lan.get("/api/tickets") as response:
                tickets = (await response.json())["tickets"]
            assert [t["id"] for t in tickets][:2] == [newer, older]
            assert tickets[0]["procedure_name"] == "Đăng ký kết hôn"
            assert tickets[0]["last_text"] == "alo có ai không" and tickets[0]["messages"] == 3

            headers = {"X-CSRF-Token": lan_csrf}
            async with lan.post(f"/api/tickets/{newer}/claim", headers=headers) as response:
                assert (await response.json())["ticket"]["claimed_by"] == "lan"
            async with minh.post(
                f"/api/tickets/{newer}/claim", headers={"X-CSRF-Token": minh_csrf}
            ) as response:
                assert response.status == 409
                assert await response.json() == {"error": "claimed", "claimed_by": "lan"}
            for text, status in (("Đã gọi lại cho công dân", 201), ("", 400), ("x" * 2001, 400)):
                async with lan.post(
                    f"/api/tickets/{newer}/notes", json={"text": text}, headers=headers
                ) as response:
                    assert response.status == status
            async with lan.post(f"/api/tickets/{newer}/resolve", headers=headers) as response:
                ticket = (await response.json())["ticket"]
            assert ticket["status"] == "resolved" and ticket["closed_by"] == "lan"
            assert s.desk.open_ticket_for("c-new") is None  # the bot answers c-new again
            async with lan.post(f"/api/tickets/{newer}/claim", headers=headers) as response:
                assert response.status == 409 and (await response.json())["error"] == "resolved"
            async with lan.get(f"/api/tickets/{newer}") as response:
                body = await response.json()
            assert [m["author"] for m in body["messages"]] == [
                "citizen",
                "bot",
                "citizen",
                "note:lan",
            ]
            async with lan.get("/api/tickets", params={"status": "resolved"}) as response:
                assert [t["id"] for t in (await response.json())["tickets"]] == [newer]
            for path in ("/api/tickets/999", "/api/tickets/abc"):
                async with lan.get(path) as response:
                    assert response.status == 404

    run(scenario())


TAUGHT = "cưới xong muốn đưa vợ về ở hẳn nhà mình thì làm thủ tục gì"
ASKED = "mới lấy vợ, muốn đưa vợ về ở hẳn với nhà mình thì phải làm thủ tục gì"


def test_staff_teach_the_bank_and_the_search_knows_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("index.bank.REFRESH_EVERY", 0.0)

    async def scenario() -> None:
        async with site(tmp_path, monkeypatch) as s, s.client() as client:
            await sign_in(client)
            headers = {"X-CSRF-Token": await api_csrf(client)}
            miss = s.desk.record_miss("citizen-9", TAUGHT, "not_found")
            async with client.get("/api/learn") as response:
                waiting = (await response.json())["to_learn"]
            assert [(w["origin"], w["question"]) for w in waiting] == [(f"miss:{miss}", TAUGHT)]
            before = catalogue_search.searcher().search(ASKED, k=1).hits[0].procedure.code
            assert before != "T.000005"
            body = {"question": TAUGHT, "procedure_code": "T.000005", "origin": f"miss:{miss}"}
            for bad in (
                {**body, "procedure_code": "X.404"},
                {**body, "question": ""},
                {**body, "origin": "<script>"},
            ):
                async with client.post("/api/learn/links", json=bad, headers=headers) as response:
                    assert response.status == 400, bad
            async with client.post("/api/learn/links", json=body) as response:
                assert response.status == 403  # no CSRF token
            async with client.post("/api/learn/links", json=body, headers=headers) as response:
                assert response.status == 201
                link = (await response.json())["id"]
            catalogue_search.searcher().bank.refresh(wait=True)  # as the next search would
            result = catalogue_search.searcher().search(ASKED, k=1)
            assert result.hits[0].procedure.code == "T.000005" and not result.abstained
            async with client.get("/api/learn") as response:
                data = await response.json()
            assert data["to_learn"] == []
            assert data["links"][0]["created_by"] == "lan"
            assert data["links"][0]["procedure_name"] == "Đăng ký thường trú"
            async with client.post(f"/api/learn/links/{link}/undo", headers=headers) as response:
                assert response.status == 200
            async with client.post(f"/api/learn/links/{link}/undo", headers=headers) as response:
                assert response.status == 404
            catalogue_search.searcher().bank.refresh(wait=True)
            after = catalogue_search.searcher().search(ASKED, k=1).hits[0].procedure.code
            assert after == before

    run(scenario())


def test_the_procedure_sheet_says_how_fresh_the_catalogue_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = ship(MINI, tmp_path / "shipped", "2026-11-30", "tests")

    async def scenario() -> None:
        async with site(tmp_path, monkeypatch) as s, s.client() as client:
            await sign_in(client)
            async with client.get("/api/procedures/T.000003") as response:
                body = await response.json()
            assert body["as_of"] == "2026-11-30"
            assert "(Theo danh mục thủ tục cập nhật ngày 30/11/2026: " in body["answer"]

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CATALOGUE", str(tmp_path / "shipped" / shipped["file"]))
        patch.setenv("INDEX_DIR", str(tmp_path / "index"))
        catalogue_search.reset()
        try:
            asyncio.run(scenario())
        finally:
            catalogue_search.reset()  # the next test loads the module's catalogue again
