"""The OA message API client against the fake Zalo API over loopback HTTP."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.channels.zalo import api
from bot.channels.zalo.api import SendError, ZaloClient, ZaloConfig
from bot.channels.zalo.store import SQLiteStore, Tokens
from tests.bot.channels.zalo.conftest import APP_ID, APP_SECRET, fake_zalo, run


def client_for(base: str, db: Path) -> ZaloClient:
    config = ZaloConfig(
        app_id=APP_ID,
        oa_secret_key="oa-secret",
        app_secret=APP_SECRET,
        api_base=base,
        oauth_base=base,
        access_token="access-0",
        refresh_token="refresh-0",
    )
    return ZaloClient(config, SQLiteStore(db))


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "RETRY_PAUSES_S", (0.01, 0.01))


def test_a_message_is_delivered(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with fake_zalo() as (fake, base):
            client = client_for(base, tmp_path / "z.db")
            await client.start()
            await client.send_text("u1", "Dạ, em chào anh/chị ạ.")
            await client.close()
        assert [(m["user_id"], m["text"]) for m in fake.messages] == [
            ("u1", "Dạ, em chào anh/chị ạ.")
        ]

    run(scenario())


def test_an_expired_token_is_refreshed_once_and_the_message_resent(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with fake_zalo() as (fake, base):
            client = client_for(base, tmp_path / "z.db")
            await client.start()
            await fake.expire(None)
            await client.send_text("u1", "một")
            await client.send_text("u1", "hai")
            await client.close()
            assert [m["text"] for m in fake.messages] == ["một", "hai"]
            assert fake.stats["refreshes"] == 1 and fake.stats["token_rejected"] == 1
            stored = await client.store.tokens()
            assert stored.access_token == fake.access_token
            assert stored.refresh_token == fake.refresh_token != "refresh-0"

    run(scenario())


def test_two_processes_racing_on_expiry_spend_the_refresh_token_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with fake_zalo(refresh_latency_ms=300) as (fake, base):
            # Two clients with their own stores on one file: two Rasa processes.
            clients = [client_for(base, tmp_path / "z.db") for _ in range(2)]
            for client in clients:
                await client.start()
            await fake.expire(None)
            await asyncio.gather(
                *(c.send_text(f"u{i}", f"tin {i}") for i in range(10) for c in clients)
            )
            for client in clients:
                await client.close()
            assert fake.stats["refreshes"] == 1
            assert fake.stats["refresh_rejected"] == 0
            assert len(fake.messages) == 20

    run(scenario())


def test_a_refused_refresh_gives_up_without_looping(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with fake_zalo() as (fake, base):
            client = client_for(base, tmp_path / "z.db")
            await client.store.seed_tokens(Tokens("access-0", "already-used"))
            await fake.expire(None)
            with pytest.raises(SendError) as error:
                await client.send_text("u1", "x")
            await client.close()
            assert error.value.code == api.TOKEN_EXPIRED
            assert fake.stats["refresh_rejected"] == 1 and fake.messages == []

    run(scenario())


def test_server_errors_are_retried_zalo_errors_are_not(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with fake_zalo(fail_next=2, fail_status=503) as (fake, base):
            client = client_for(base, tmp_path / "z.db")
            await client.start()
            await client.send_text("u1", "qua được")
            assert [m["text"] for m in fake.messages] == ["qua được"]
            fake.faults = {"fail_next": 1, "fail_error": -230}
            with pytest.raises(SendError) as error:
                await client.send_text("u1", "không gửi được")
            assert error.value.code == -230 and fake.stats["failed"] == 3
            fake.faults = {"fail_next": 5, "fail_status": 500}
            with pytest.raises(SendError):
                await client.send_text("u1", "hỏng hẳn")
            await client.close()
            assert len(fake.messages) == 1

    run(scenario())


def test_text_over_the_limit_is_refused_by_zalo(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with fake_zalo() as (_, base):
            client = client_for(base, tmp_path / "z.db")
            await client.start()
            with pytest.raises(SendError) as error:
                await client.send_text("u1", "x" * 2001)
            await client.close()
            assert error.value.code == -201

    run(scenario())


def test_an_unreachable_api_fails_cleanly(tmp_path: Path) -> None:
    async def scenario() -> None:
        client = client_for("http://127.0.0.1:9", tmp_path / "z.db")
        await client.start()
        with pytest.raises(SendError):
            await client.send_text("u1", "x")
        await client.close()

    run(scenario())


def test_config_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZALO_APP_ID", "env-app")
    monkeypatch.setenv("ZALO_OA_SECRET_KEY", "env-secret")
    monkeypatch.setenv("ZALO_API_BASE", "http://127.0.0.1:1/")
    config = ZaloConfig.from_env({"app_id": "yml-app"})
    assert (config.app_id, config.oa_secret_key, config.api_base) == (
        "yml-app",
        "env-secret",
        "http://127.0.0.1:1",
    )
    assert config.enabled
    monkeypatch.delenv("ZALO_OA_SECRET_KEY")
    assert not ZaloConfig.from_env().enabled
