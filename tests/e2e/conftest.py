"""The real Rasa server and the real action server, on loopback ports."""

from __future__ import annotations

import contextlib
import json
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, TEST_ENV, VENV_BIN
from tools.harness import free_port, service, wait_until_up

MINI = ROOT / "tests" / "data" / "mini_catalogue.jsonl"  # the actions' catalogue here

ACTIONS_PY = ROOT / ".venv" / "actions" / "bin" / "python"
TEST_HOTLINE = "1900 0000"
PORTAL_TOKEN = "e2e-portal-token"
RASA_API_TOKEN = "e2e-rasa-api-token"  # the HTTP API is never open without one
# The Zalo OA the Rasa server answers for; the fake Zalo API knows the same secrets.
ZALO_APP_ID, ZALO_OA_SECRET, ZALO_APP_SECRET = "e2e-app", "e2e-oa-secret", "e2e-app-secret"


def assert_no_traceback(log: Path) -> None:
    """A server that logged a traceback failed somewhere, even if every answer looked right."""
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, f"{log.name} has a traceback:\n{text[-4000:]}"


@dataclass
class Bot:
    url: str
    desk: Path  # the help-desk database the action server writes
    portal: str  # the portal simulator's URL (faults set through /_admin/faults)
    zalo_api: str  # the fake Zalo API's URL (deliveries read through /_admin/messages)

    def portal_faults(self, **faults: object) -> dict:
        """Sets the simulator's fault knobs (latency_ms, error_rate, outage, ...)."""
        request = urllib.request.Request(
            f"{self.portal}/_admin/faults",
            data=json.dumps(faults).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {PORTAL_TOKEN}"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())

    def send(self, sender: str, message: object) -> tuple[int, list[dict]]:
        """POSTs to the REST channel; returns status and the bot's messages."""
        body = json.dumps({"sender": sender, "message": message}).encode()
        return self.post(body)

    def post(self, body: bytes) -> tuple[int, list[dict]]:
        request = urllib.request.Request(
            f"{self.url}/webhooks/rest/webhook",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, []


@pytest.fixture(scope="session")
def bot(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    logs = tmp_path_factory.mktemp("servers")
    rasa_port, action_port, portal_port, zalo_port = (free_port() for _ in range(4))
    zalo_api = f"http://127.0.0.1:{zalo_port}"
    env = {
        **TEST_ENV,
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
        "TRACKER_DB_DIALECT": "sqlite",
        "TRACKER_DB": str(logs / "tracker.db"),
        "TRACKER_DB_HOST": "",
        "TRACKER_DB_USER": "",
        "TRACKER_DB_PASSWORD": "",
        "HOTLINE_NUMBER": TEST_HOTLINE,
        # Answers come from the fixed small catalogue; its index is built on start.
        "CATALOGUE": str(MINI),
        "INDEX_DIR": str(logs / "index"),
        "DESK_DB": str(logs / "desk.db"),
        "PORTAL_API_URL": f"http://127.0.0.1:{portal_port}",
        "PORTAL_API_TOKEN": PORTAL_TOKEN,
        "SANIC_HOST": "127.0.0.1",  # the action server's bind address
        "ZALO_APP_ID": ZALO_APP_ID,
        "ZALO_OA_SECRET_KEY": ZALO_OA_SECRET,
        "ZALO_APP_SECRET": ZALO_APP_SECRET,
        "ZALO_API_BASE": zalo_api,
        "ZALO_OAUTH_BASE": zalo_api,
        "ZALO_ACCESS_TOKEN": "access-0",
        "ZALO_REFRESH_TOKEN": "refresh-0",
        "ZALO_STORE_URL": str(logs / "zalo.db"),
    }
    commands = {
        "portal.log": [
            str(ACTIONS_PY),
            "-m",
            "portal.simulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(portal_port),
            "--token",
            PORTAL_TOKEN,
        ],
        "zalo.log": [
            str(ACTIONS_PY),
            "-m",
            "tools.fake_zalo",
            "--port",
            str(zalo_port),
            "--app-id",
            ZALO_APP_ID,
            "--app-secret",
            ZALO_APP_SECRET,
        ],
        "actions.log": [
            str(ACTIONS_PY),
            "-m",
            "actions",
            "--port",
            str(action_port),
        ],
        "rasa.log": [
            str(VENV_BIN / "rasa"),
            "run",
            "--model",
            str(trained_model),
            "--enable-api",
            "--auth-token",
            RASA_API_TOKEN,
            "--cors",
            "*",
            "--interface",
            "127.0.0.1",
            "--port",
            str(rasa_port),
            "--endpoints",
            "endpoints.yml",
            "--credentials",
            "credentials.yml",
        ],
    }
    health = {
        "portal.log": f"http://127.0.0.1:{portal_port}/health",
        "zalo.log": f"{zalo_api}/health",
        "actions.log": f"http://127.0.0.1:{action_port}/health",
        "rasa.log": f"http://127.0.0.1:{rasa_port}/status?token={RASA_API_TOKEN}",
    }
    with contextlib.ExitStack() as running:
        # All four start at once; then each is waited for.
        processes = {
            name: running.enter_context(service(command, None, env=env, log=logs / name))
            for name, command in commands.items()
        }
        for name, url in health.items():
            wait_until_up(url, processes[name])
        yield Bot(
            f"http://127.0.0.1:{rasa_port}",
            logs / "desk.db",
            f"http://127.0.0.1:{portal_port}",
            zalo_api,
        )
    for name in commands:
        assert_no_traceback(logs / name)


@dataclass
class Console:
    url: str
    username: str
    password: str


@pytest.fixture(scope="session")
def console(bot: Bot) -> Iterator[Console]:
    """The hotline console on a free port, over the bot's desk database and portal,
    with one staff account made by its CLI."""
    logs = bot.desk.parent
    port = free_port()
    env = {
        **TEST_ENV,
        "CATALOGUE": str(MINI),
        "INDEX_DIR": str(logs / "console-index"),
        "DESK_DB": str(bot.desk),
        "CONSOLE_DB": str(logs / "console.db"),
        "PORTAL_API_URL": bot.portal,
        "PORTAL_API_TOKEN": PORTAL_TOKEN,
    }
    account = Console(f"http://127.0.0.1:{port}", "tongdai1", "mật khẩu thử nghiệm 1")
    add_user = ["add-user", account.username, "--name", "Nguyễn Thị Lan", "--password-stdin"]
    made = subprocess.run(
        [str(ACTIONS_PY), "-m", "console", *add_user],
        input=account.password + "\n",
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    serve = [str(ACTIONS_PY), "-m", "console", "serve", "--port", str(port)]
    with service(serve, f"{account.url}/health", env=env, log=logs / "console.log"):
        yield account
    assert_no_traceback(logs / "console.log")
