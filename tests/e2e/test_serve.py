"""`make run`'s launcher: starts the servers (the portal simulator and the
widget's page too), prints the URLs, answers from the national catalogue the
project ships (no CATALOGUE, no ../shared), and Ctrl-C stops all."""

import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, TEST_ENV, VENV_BIN
from tests.e2e.conftest import ACTIONS_PY
from tools.harness import free_port, wait_until_up


@pytest.fixture(scope="module")
def national_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The index `make run` builds on a fresh clone: the default (national) catalogue."""
    out = tmp_path_factory.mktemp("national-index")
    env = {key: value for key, value in TEST_ENV.items() if key != "CATALOGUE"}
    built = subprocess.run(
        [str(ACTIONS_PY), "-m", "index", "--index", str(out), "build"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-3000:]
    assert "built 2849 procedures" in built.stdout
    return out


def ask(rasa: str, sender: str, message: str) -> str:
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(
        f"{rasa}/webhooks/rest/webhook", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=120) as response:  # the first waits for the index
        return "\n".join(m.get("text") or "" for m in json.loads(response.read()))


def test_serve_starts_both_and_ctrl_c_stops_both(
    trained_model: Path, national_index: Path, tmp_path: Path
) -> None:
    rasa_port, action_port, portal_port = free_port(), free_port(), free_port()
    widget_port, console_port = free_port(), free_port()
    env = {
        **TEST_ENV,
        "RASA_BIN": str(VENV_BIN / "rasa"),
        "ACTIONS_PY": str(ACTIONS_PY),
        "MODEL": str(trained_model),
        "RASA_PORT": str(rasa_port),
        "ACTION_PORT": str(action_port),
        "ACTION_ENDPOINT_URL": f"http://localhost:{action_port}/webhook",
        "TRACKER_DB_DIALECT": "sqlite",
        "TRACKER_DB": str(tmp_path / "tracker.db"),
        "TRACKER_DB_HOST": "",
        "TRACKER_DB_USER": "",
        "TRACKER_DB_PASSWORD": "",
        "PORTAL_API_URL": "",  # so the launcher starts the simulator
        "PORTAL_SIM_PORT": str(portal_port),
        "PORTAL_API_TOKEN": "",
        "DESK_DB": str(tmp_path / "desk.db"),
        "WIDGET_PORT": str(widget_port),
        "CONSOLE_PORT": str(console_port),
        "CONSOLE_DB": str(tmp_path / "console.db"),
        "RASA_API_TOKEN": "serve-test-token",
        "INDEX_DIR": str(national_index),
    }
    env.pop("CATALOGUE", None)  # the default, as on a fresh clone
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        serve = subprocess.Popen(
            ["tools/serve.sh"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, like a terminal's
        )
    try:
        rasa = f"http://127.0.0.1:{rasa_port}"
        try:
            wait_until_up(f"{rasa}/status?token=serve-test-token", serve)
        except RuntimeError as error:  # say why: the launcher's own log
            raise RuntimeError(f"{error}\n{log.read_text(errors='replace')[-3000:]}") from None
        # Conversations are not readable through the HTTP API without the token.
        for url in (f"{rasa}/conversations/demo/tracker", f"{rasa}/status"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(url, timeout=5)
            assert refused.value.code == 401, url
        deadline = time.monotonic() + 30
        while "Ctrl-C" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        printed = log.read_text()
        assert f"http://localhost:{rasa_port}/webhooks/rest/webhook" in printed
        assert f"http://localhost:{action_port}/health" in printed
        assert f"http://127.0.0.1:{portal_port}" in printed
        assert f"Portal widget:  http://localhost:{widget_port}/" in printed
        wait_until_up(f"http://127.0.0.1:{widget_port}/health", serve, timeout=5)
        assert f"Staff console:  http://localhost:{console_port}/" in printed
        wait_until_up(f"http://127.0.0.1:{console_port}/health", serve, timeout=5)
        # Beyond the seed: the national catalogue answers, and says honestly what it lacks.
        lost_land_title = ask(rasa, "serve-1", "làm lại sổ đỏ bị mất")
        assert "1.012786" in lost_land_title, lost_land_title  # Cấp lại Giấy chứng nhận do bị mất
        trademark = ask(rasa, "serve-2", "đăng ký nhãn hiệu")
        assert "Khoa học và Công nghệ" in trademark and "chưa có" in trademark, trademark
    finally:
        with contextlib.suppress(ProcessLookupError):  # a group that is already gone
            os.killpg(serve.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's group
        serve.wait(timeout=60)
    time.sleep(1)
    left = subprocess.run(
        [
            "pgrep",
            "-f",
            f"--port {rasa_port}|--port {action_port}|--port {portal_port}|--port {widget_port}"
            f"|--port {console_port}",
        ],
        capture_output=True,
    )
    assert left.stdout == b"", left.stdout
