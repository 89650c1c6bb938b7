"""``simulator demo`` serves the portal over HTTPS, stops cleanly, and reuses its state."""

from __future__ import annotations

import asyncio
import json
import ssl
from pathlib import Path

import aiohttp
import pytest

from cloud_gateway.cli import main as gateway_cli
from cloud_gateway.config import GatewayConfig
from tests.e2e.demo_process import demo_process
from tests.support.device_webui import LoopbackResolver
from tests.support.gateway import GatewayHarness
from tunnel.tomlconfig import load_config


async def test_a_second_run_reuses_accounts_devices_and_plant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state, log = tmp_path / "state", tmp_path / "demo.log"
    async with demo_process(state, log) as first:
        facts = first.facts
        ctx = ssl.create_default_context(cafile=facts["ca_cert"])
        connector = aiohttp.TCPConnector(ssl=ctx, resolver=LoopbackResolver())
        async with aiohttp.ClientSession(connector=connector) as http:
            async with http.get(facts["urls"]["portal"]) as resp:
                assert resp.status == 200
                assert "CloudConnector" in await resp.text()
            # the remote-access host is covered by the server certificate too
            async with http.get(facts["urls"]["remote_access"]) as resp:
                assert resp.status == 401  # not logged in on the device host
        # the homeowner's money: a paid package with its invoice, one open pro-forma
        connector = aiohttp.TCPConnector(ssl=ctx, resolver=LoopbackResolver())
        portal = facts["urls"]["portal"]
        async with aiohttp.ClientSession(portal, connector=connector) as http:
            home = facts["logins"]["homeowner"]
            token = await GatewayHarness.form_token(http, "/login")
            form = {"csrf_token": token, "login": home["username"], "password": home["password"]}
            async with http.post("/login", data=form) as resp:
                assert resp.status == 200
            async with http.get("/api/v1/billing/documents") as resp:
                documents = (await resp.json())["documents"]
            async with http.get("/api/v1/billing/account") as resp:
                account = await resp.json()
        by_number = {d["number"]: d for d in documents}
        invoice = by_number[facts["billing"]["invoice"]]
        assert (invoice["kind"], invoice["due"]) == ("invoice", "0.00")  # paid by transfer
        proforma = by_number[facts["billing"]["open_proforma"]]
        assert proforma["kind"] == "proforma"
        assert proforma["due"] == proforma["gross"] != "0.00"
        assert account["balance"] == "0.00"  # the transfer paid exactly the package
    assert first.exit_code == 0
    assert "Traceback" not in first.log_text()
    assert {p.name for p in (state / "ccu-addon").iterdir()} >= {"device.key", "device.crt"}
    assert (state / "inverter-agent" / "device.crt").is_file()
    assert ((state / "ccu-addon" / "device.key").stat().st_mode & 0o777) == 0o600
    # every cloud-gateway command can be pointed at the demo's database
    config = load_config(state / "gateway" / "gateway.toml", GatewayConfig)
    assert config.state_dir == state / "gateway"  # tmp_path is absolute
    assert config.remote_domain == "gateway.localhost"
    database = Path(config.database_url.removeprefix("sqlite+aiosqlite:///"))
    assert await asyncio.to_thread(database.is_file)

    async with demo_process(state, log) as second:
        again = second.facts
    assert second.exit_code == 0
    assert "Traceback" not in second.log_text()
    assert again["devices"] == facts["devices"]
    assert again["logins"] == facts["logins"]
    assert again["plant"] == facts["plant"]
    for number in ("invoice", "open_proforma"):  # nothing booked twice
        assert again["billing"][number] == facts["billing"][number]
    assert (
        again["urls"]["remote_access"].split(".")[0] == facts["urls"]["remote_access"].split(".")[0]
    )
    # the simulated bank's statement pays the open pro-forma, once
    statement = again["billing"]["bank_statement"]
    argv = ["bank", "import", "--config", str(state / "gateway" / "gateway.toml"), statement]
    assert await asyncio.to_thread(gateway_cli, argv) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["matched"] == 1
    assert await asyncio.to_thread(gateway_cli, argv) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["duplicates"] == 1
