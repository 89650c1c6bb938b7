"""The processes of the ingest benchmark: ``python -m bench._ingest_nodes ROLE SPEC``.

* ``gateway SPEC``: the real gateway (:func:`cloud_gateway.server.start_gateway`: TLS,
  ``/tunnel/v1`` with client certificates from the device CA, the telemetry ingest, the MQTT
  outbox publisher when the spec names a broker) on a free loopback port, with the state
  folder and database the parent prepared. Prints ``{"url": ..., "server_ca": ...}``; then
  answers ``{"cmd": "cpu"}`` with ``{"cpu_s": ...}`` (this process, all threads).
* ``agents SPEC``: many inverter agents in one process, each a real
  :class:`~tunnel.connector.TunnelConnector` with its own client certificate. Every agent's
  payloads are encoded before the start (one JSON array per bus cycle, as the agent's outbox
  holds them), so the load generator spends its time on TLS and frames only. Prints
  ``{"connected": n}`` once every tunnel is up, waits for ``{"cmd": "go"}``, then each agent
  sends its frames with at most ``max_in_flight`` unacknowledged (as ``inverter_agent/uplink.py``
  does) and the process prints ``{"finished": <CLOCK_MONOTONIC>, "acked": n, ...}``.

SPEC is a JSON file the parent wrote. Each node ends when its stdin closes. With
``BENCH_PROFILE=DIR`` a node runs under cProfile and writes ``DIR/ROLE.prof``; with
``BENCH_SPY=DIR`` (py-spy on the PATH) the gateway samples itself for 8 s from "go".
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import logging
import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench._loop import run_end
from bench._nodes import emit, stdin_closed
from tunnel.clock import SystemClock
from tunnel.connector import TunnelConnector, client_ssl_context
from tunnel.device_end import DeviceSession
from tunnel.frames import PROTOCOL_VERSIONS, Hello

__all__ = ["AGENT_HELLO", "agent_frames", "main"]

AGENT_HELLO = Hello(
    versions=PROTOCOL_VERSIONS,
    capabilities=("telemetry",),
    software="inverter-agent/bench",
    device_kind="inverter_agent",
)
CYCLE_MS = 10_000
"""Time between two bus cycles of one agent in the generated data."""
UNIT_MS = 37
"""Time between two inverters' reads within one cycle (one bus, polled in turn)."""


def agent_frames(serials: list[str], cycles: int, start_ms: int) -> list[bytes]:
    """One agent's outbox entries: per bus cycle the JSON array of one reading per inverter.

    Encoded by the agent's own code (``inverter_agent.agent.encode_batch``) from readings with
    every field a three-phase inverter with two MPPT inputs reports.
    """
    from inverter_agent.agent import encode_batch  # noqa: PLC0415 - only this role needs it
    from inverter_agent.readings import MpptValues, Reading  # noqa: PLC0415

    frames = []
    for n in range(cycles):
        readings = []
        for u, serial in enumerate(serials):
            w = 1000.0 + 7 * n + u
            readings.append(
                Reading(
                    sn=serial,
                    unit=u + 1,
                    ts=start_ms + n * CYCLE_MS + u * UNIT_MS,
                    st="mppt",
                    w=w,
                    wh=1_000_000.0 + 3 * n + u,
                    va=w + 50.0,
                    var=-150.0,
                    pf=98.1,
                    hz=50.02,
                    a=12.34,
                    phv=(230.1, 230.9, 229.7),
                    dcw=w + 60.0,
                    dcv=650.2,
                    dca=8.1,
                    tmp=45.2,
                    tmp_snk=51.5,
                    evt=0,
                    mppt=(
                        MpptValues(
                            id=1,
                            label="PV1",
                            dcw=w / 2 + 30.0,
                            dcv=320.5,
                            dca=8.12,
                            dcwh=12345.0 + n,
                            st="mppt",
                        ),
                        MpptValues(
                            id=2,
                            label="PV2",
                            dcw=w / 2 + 30.0,
                            dcv=319.0,
                            dca=8.01,
                            dcwh=12299.0 + n,
                            st="mppt",
                        ),
                    ),
                )
            )
        frames.append(encode_batch(readings))
    return frames


# -- gateway -----------------------------------------------------------------------------


def _thread_cpu() -> dict[str, float]:
    """CPU seconds per live thread of this process, by thread name (Linux ``/proc``)."""
    ticks = os.sysconf("SC_CLK_TCK")
    found: dict[str, float] = {}
    for thread in threading.enumerate():
        try:
            stat = Path(f"/proc/self/task/{thread.native_id}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        name = thread.name.split(" ")[0].split("(")[0].rstrip("-0123456789") or thread.name
        found[name] = found.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return found


async def gateway(spec: dict[str, Any]) -> None:
    from cloud_gateway.config import (  # noqa: PLC0415 - the agents role does not need these
        DatabaseConfig,
        GatewayConfig,
        HttpConfig,
        MqttConfig,
        PlantsConfig,
    )
    from cloud_gateway.server import start_gateway  # noqa: PLC0415

    mqtt = spec.get("mqtt")
    config = replace(
        GatewayConfig(),
        state_dir=Path(spec["state_dir"]),
        http=HttpConfig(host="127.0.0.1", port=0, public_host="localhost"),
        database=DatabaseConfig(url=spec["db_url"]),
        plants=PlantsConfig(demo_activation_key=True),  # the public demo key
        mqtt=(
            MqttConfig(
                enabled=True, host=mqtt["host"], port=mqtt["port"], topic_prefix=mqtt["prefix"]
            )
            if mqtt
            else MqttConfig(enabled=False)
        ),
    )
    running = await start_gateway(config, SystemClock())
    assert running.tls.ca_cert is not None
    emit(url=f"wss://127.0.0.1:{running.port}/tunnel/v1", server_ca=str(running.tls.ca_cert))
    spy = os.environ.get("BENCH_SPY")
    polls = 0
    try:
        while line := await asyncio.to_thread(sys.stdin.readline):
            if json.loads(line)["cmd"] == "cpu":
                if spy and polls == 0:  # the first poll comes just before "go"
                    _spy(Path(spy), spec["db_url"].partition(":")[0])
                polls += 1
                emit(cpu_s=time.process_time(), threads=_thread_cpu())
    finally:
        await running.stop()


def _spy(folder: Path, backend: str) -> None:
    """``BENCH_SPY=DIR``: sample this process with py-spy for 8 s from "go" (raw stacks)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"gateway-{backend}-{os.getpid()}.txt"
    command = ["py-spy", "record", "-p", str(os.getpid()), "-d", "8", "-r", "250", "-f", "raw"]
    subprocess.Popen(
        [*command, "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


# -- agents ------------------------------------------------------------------------------


class _Agent:
    """One agent: a connector and its pre-encoded frames, resent after a reconnect."""

    def __init__(self, spec: dict[str, Any], common: dict[str, Any]) -> None:
        self.name: str = spec["slug"]
        self.frames = agent_frames(spec["serials"], common["cycles"], common["start_ms"])
        self.connector = TunnelConnector(
            url=common["url"],
            ssl_context=client_ssl_context(common["server_ca"], spec["cert"], spec["key"]),
            hello=AGENT_HELLO,
            clock=SystemClock(),
            name=self.name,
        )
        self.latencies: list[float] = []
        self.acked = 0
        self.resent_sessions = 0
        """Sessions that ended with frames unacknowledged (those were sent again)."""
        self._done = [False] * len(self.frames)

    async def send_all(self, max_in_flight: int) -> int:
        """Send every frame until each is ACKed; the number of frames."""
        previous: DeviceSession | None = None
        while self.acked < len(self.frames):
            session = await self.connector.wait_connected()
            if session is previous:  # the connector has not noticed the end yet
                await asyncio.sleep(0.05)
                continue
            previous = session
            try:
                await self._send_on(session, max_in_flight)
            except ConnectionError:  # the session ended: resend the rest on the next one
                self.resent_sessions += 1
        return len(self.frames)

    async def _send_on(self, session: DeviceSession, max_in_flight: int) -> None:
        """What is not yet ACKed, oldest first, at most ``max_in_flight`` unacknowledged."""
        room = asyncio.Semaphore(max_in_flight)
        loop = asyncio.get_running_loop()
        acks: list[asyncio.Future[None]] = []

        def settled(index: int, sent: float) -> Any:
            def done(ack: asyncio.Future[None]) -> None:
                room.release()
                if not ack.cancelled() and ack.exception() is None and not self._done[index]:
                    self._done[index] = True
                    self.acked += 1
                    self.latencies.append(loop.time() - sent)

            return done

        for index, payload in enumerate(self.frames):
            if self._done[index]:
                continue
            await room.acquire()
            ack = await session.send_telemetry(index + 1, payload)
            ack.add_done_callback(settled(index, loop.time()))
            acks.append(ack)
        await asyncio.gather(*acks)


async def _watchdog(fleet: list[_Agent], stall_s: float) -> None:
    """Fail the run when no ACK arrived for ``stall_s`` (a lost ACK would hang it forever)."""
    last = -1
    while True:
        await asyncio.sleep(stall_s)
        now = sum(a.acked for a in fleet)
        if now == last:
            raise TimeoutError(f"no ACK for {stall_s} s ({now} frames acknowledged)")
        last = now


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def agents(spec: dict[str, Any]) -> None:
    fleet = [_Agent(a, spec) for a in spec["agents"]]
    runners = [asyncio.create_task(a.connector.run(), name=f"connector {a.name}") for a in fleet]
    await asyncio.gather(*(a.connector.wait_connected() for a in fleet))
    emit(connected=len(fleet))
    line = await asyncio.to_thread(sys.stdin.readline)
    if line and json.loads(line)["cmd"] == "go":
        cpu = time.process_time()
        async with asyncio.TaskGroup() as group:  # a stall fails the node, not hangs it
            watchdog = group.create_task(_watchdog(fleet, 60.0), name="watchdog")
            counts = await asyncio.gather(*(a.send_all(spec["max_in_flight"]) for a in fleet))
            watchdog.cancel()
        finished = time.monotonic()
        latencies = [x for a in fleet for x in a.latencies]
        emit(
            finished=finished,
            acked=sum(counts),
            cpu_s=time.process_time() - cpu,
            resent_sessions=sum(a.resent_sessions for a in fleet),
            ack_p50_ms=_percentile(latencies, 0.5) * 1000,
            ack_p99_ms=_percentile(latencies, 0.99) * 1000,
        )
        await stdin_closed()
    await asyncio.gather(*(a.connector.stop() for a in fleet))
    await asyncio.gather(*runners, return_exceptions=True)


def main(argv: list[str]) -> None:
    """Run one role; with ``BENCH_PROFILE=DIR`` under cProfile, stats to ``DIR/ROLE.prof``."""
    logging.basicConfig(level=logging.WARNING)
    role, spec_file = argv
    spec = json.loads(Path(spec_file).read_text())
    if role == "gateway":
        work, end = gateway(spec), "gateway"
    elif role == "agents":
        work, end = agents(spec), "device"
    else:
        raise SystemExit(f"unknown role {role!r}")
    profile_dir = os.environ.get("BENCH_PROFILE")
    if profile_dir:
        profiler = cProfile.Profile()
        try:
            profiler.runcall(run_end, work, end)
        finally:
            profiler.dump_stats(str(Path(profile_dir) / f"{role}-{os.getpid()}.prof"))
    else:
        run_end(work, end)


if __name__ == "__main__":
    main(sys.argv[1:])
