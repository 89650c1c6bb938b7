"""What ``simulator demo`` prints: the facts as one JSON object, or as text for a person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cloud_gateway.plants.model import Plant
from cloud_gateway.server import RunningGateway
from simulator.ccu import SimulatedCcu
from simulator.demo_billing import DemoMoney
from simulator.demo_devices import ADDON_ID
from simulator.demo_gateway import HOMEOWNER, INSTALLER, OPERATOR, PUBLIC_HOST, DemoLogin
from simulator.inverter import DEMO_MANUFACTURER_KEY, InverterBus, RtuInverterServer

__all__ = ["Running", "describe", "render_text"]


@dataclass(slots=True, kw_only=True)
class Running:
    """What the demo started and learnt, for :func:`describe`."""

    gateway: RunningGateway
    ccu: SimulatedCcu
    bus: InverterBus
    rtu: RtuInverterServer
    plant: Plant
    money: DemoMoney
    ccu_slug: str
    agent_slug: str
    sid: str
    inverter_clock_start: datetime
    state_dir: Path


def _login(login: DemoLogin) -> dict[str, str]:
    return {"username": login.username, "password": login.password, "role": login.role.value}


def describe(run: Running) -> dict[str, Any]:
    """The facts the demo prints: URLs, logins, devices, the plant."""
    gateway, ccu = run.gateway, run.ccu
    portal = gateway.url
    labels = run.bus.describe(DEMO_MANUFACTURER_KEY)
    start = run.inverter_clock_start
    return {
        "urls": {
            "portal": portal,
            "remote_access": f"https://{run.ccu_slug}.{PUBLIC_HOST}:{gateway.port}/",
            "remote_access_open": f"{portal}remote/{run.ccu_slug}/open",
            "addon_dashboard": f"{ccu.webui_url}/addons/{ADDON_ID}/?sid=@{run.sid}@",
            "ccu_webui": f"{ccu.webui_url}/",
            "plant": f"{portal}plants/{run.plant.id}",
            "shop": f"{portal}shop/products",
            "plant_licence": f"{portal}plants/{run.plant.id}/licence",
            "demo_mailbox": f"{portal}demo/mailbox",
            "console": f"{portal}console",
        },
        "logins": {
            "homeowner": _login(HOMEOWNER),
            "installer": _login(INSTALLER),
            "operator": _login(OPERATOR),
            "ccu": {"username": ccu.config.username, "password": ccu.config.password},
        },
        "devices": {"ccu": run.ccu_slug, "inverter_agent": run.agent_slug},
        "plant": {
            "id": run.plant.id,
            "name": run.plant.fields.name,
            "inverters": [
                {k: i[k] for k in ("unit_id", "serial", "activation_code", "rated_power_w")}
                for i in labels
            ],
        },
        "billing": {
            "invoice": run.money.invoice,
            "open_proforma": run.money.open_proforma,
            "documents_api": f"{portal}api/v1/billing/documents",
            "bank_statement": run.money.statement,
        },
        "inverter_clock": {"start": start.isoformat(), "runs": "real time from the start"},
        "modbus_rtu": run.rtu.path,
        "ca_cert": str(gateway.tls.ca_cert) if gateway.tls.ca_cert else None,
        "state_dir": str(run.state_dir),
    }


def render_text(facts: dict[str, Any]) -> str:
    urls, logins = facts["urls"], facts["logins"]
    home, inst, ccu = logins["homeowner"], logins["installer"], logins["ccu"]
    inverters = "\n".join(
        f"      unit {i['unit_id']}  {i['serial']}  activation code {i['activation_code']}"
        for i in facts["plant"]["inverters"]
    )
    return (
        "\nCloudConnector demo is running (Ctrl-C stops it; a second run reuses the state)\n"
        f"  Portal:         {urls['portal']}\n"
        f"    homeowner     {home['username']} / {home['password']}  (CCU paired, trial running)\n"
        f"    installer     {inst['username']} / {inst['password']}  (plant with 3 inverters)\n"
        f"    money         invoice {facts['billing']['invoice']} (package paid by transfer), "
        f"pro-forma {facts['billing']['open_proforma']} open\n"
        f"                  {facts['billing']['documents_api']}  (JSON, PDF under .../ID/pdf)\n"
        f"                  {facts['billing']['bank_statement']}  (camt.053 paying it: "
        "cloud-gateway bank import)\n"
        f"  Shop:           {urls['shop']}  (as {home['username']}: book a package by transfer;\n"
        "                  also 'Zugang buchen' in the portal and on the add-on's dashboard)\n"
        f"  Demo mailbox:   {urls['demo_mailbox']}  (every mail the system sent)\n"
        f"  Remote access:  {urls['remote_access']}\n"
        f"    (log in as {home['username']} first, then open it from "
        f"{urls['remote_access_open']})\n"
        f"  Add-on:         {urls['addon_dashboard']}\n"
        f"    (or log in at the simulated CCU {urls['ccu_webui']} as "
        f"{ccu['username']} / {ccu['password']} and open Zusatzsoftware > {ADDON_ID})\n"
        f"  Live PV power:  {urls['plant']}  (log in as {inst['username']})\n"
        f"    3 simulated inverters on Modbus RTU {facts['modbus_rtu']}:\n{inverters}\n"
        f"    Their clock starts at midsummer noon ({facts['inverter_clock']['start']}) and runs\n"
        "    with real time, so they produce power whenever the demo runs.\n"
        f"  Buy a licence:  {urls['plant_licence']}  (installer: Lizenz kaufen, bank transfer)\n"
        f"  Console:        {urls['console']}  (operator {logins['operator']['username']} / "
        f"{logins['operator']['password']}; set up an authenticator app at the first visit)\n"
        f"  CA certificate: {facts['ca_cert']} (self-signed; your browser will warn)\n"
        f"  State:          {facts['state_dir']}\n"
    )
