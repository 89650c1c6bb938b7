"""A loopback fleet: N gateway nodes on one PostgreSQL behind HAProxy (``simulator cluster``).

Every node is a real ``cloud-gateway serve`` process with ``[cluster] enabled``; HAProxy (Debian's
``haproxy``) passes TLS through in TCP mode and checks each node's ``/healthz``. Every port is
chosen by the kernel: the nodes listen on port 0 and print their URL, HAProxy gets its listening
socket handed over (``bind fd@…``). Used by ``make cluster``, the cluster e2e test and
``python -m bench cluster``; the production layout is in docs/operations.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult

from tunnel.cliutil import add_common_arguments

__all__ = [
    "ClusterNode",
    "LoopbackCluster",
    "LoopbackResolver",
    "haproxy_config",
    "loopback_cluster",
    "register",
]

_PR_SET_PDEATHSIG = 1
PORTAL = "gateway.localhost"
"""Portal host; devices are ``<slug>.gateway.localhost`` (``*.localhost`` resolves locally)."""


class LoopbackResolver(AbstractResolver):
    """Resolves ``localhost`` and every ``*.localhost`` to 127.0.0.1, as browsers do."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host != "localhost" and not host.endswith(".localhost"):
            raise OSError(f"tests resolve only *.localhost, not {host}")
        return [
            ResolveResult(
                hostname=host,
                host="127.0.0.1",
                port=port,
                family=socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        return None


def haproxy_config(
    servers: dict[str, int],
    *,
    listen: str,
    check_inter_ms: int = 1000,
    proxy_protocol: bool = False,
) -> str:
    """HAProxy in TCP mode passing TLS through to ``servers`` (name → port on loopback).

    ``proxy_protocol``: every connection to a node (health checks too) starts with a PROXY v2
    header, for nodes with ``[http] proxy_protocol = true``.
    """
    send_proxy = " send-proxy-v2" if proxy_protocol else ""
    lines = [
        "global",
        "    maxconn 5000",
        "defaults",
        "    mode tcp",
        "    timeout connect 2s",
        "    timeout check 3s",
        "    timeout client 1h",
        "    timeout server 1h",
        "    timeout tunnel 1h",
        "    retries 3",
        "    option redispatch",
        "frontend gateway",
        f"    bind {listen}",
        "    default_backend nodes",
        "backend nodes",
        "    balance leastconn",
        "    option httpchk",
        f"    http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host {PORTAL}",
        "    http-check expect status 200",
        f"    default-server check check-ssl verify none inter {check_inter_ms}ms fall 3 rise 1"
        + send_proxy,
    ]
    lines += [f"    server {name} 127.0.0.1:{port}" for name, port in servers.items()]
    return "\n".join(lines) + "\n"


def node_config(
    state_dir: Path,
    database_url: str,
    node_id: str,
    *,
    reconnect_window_s: float,
    proxy_protocol: bool = False,
) -> str:
    """The TOML of one loopback node (shared state folder: one CA, one fleet certificate).

    Without the PROXY protocol every connection comes from HAProxy's address: one source's
    share of the TLS handshake budget is then the whole budget (ADR 0032).
    """
    share = "" if proxy_protocol else "\ntls_handshakes_per_source = 64"
    return f"""\
state_dir = "{state_dir}"
remote_domain = "{PORTAL}"

[http]
host = "127.0.0.1"
port = 0
public_host = "{PORTAL}"
proxy_protocol = {"true" if proxy_protocol else "false"}{share}

[database]
url = "{database_url}"

[tunnel]
reconnect_window_s = {reconnect_window_s}

[plants]
demo_activation_key = true

[cluster]
enabled = true
node_id = "{node_id}"
heartbeat_s = 1.0
dead_after_s = 8.0
lease_poll_s = 0.5
drain_grace_s = 1.5
drain_spread_s = 5.0
"""


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the process that started it dies (Linux), so
    no node or HAProxy outlives a killed test run."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class ClusterNode:
    """One gateway process of the loopback fleet."""

    node_id: str
    config: Path
    process: asyncio.subprocess.Process | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"https://{PORTAL}:{self.port}/"


@dataclass
class LoopbackCluster:
    """The running fleet: nodes, HAProxy and the shared state folder."""

    state_dir: Path
    database_url: str
    nodes: dict[str, ClusterNode] = field(default_factory=dict)
    haproxy: asyncio.subprocess.Process | None = None
    port: int = 0
    """HAProxy's port: the one address devices and browsers use."""
    reconnect_window_s: float = 3.0
    extra_toml: str = ""
    """Appended to every node's configuration (further sections, e.g. ``[smtp]``)."""
    proxy_protocol: bool = False
    """HAProxy sends a PROXY v2 header and the nodes require it (then only HAProxy can reach
    them: a direct connection without the header is closed)."""
    profile_dir: Path | None = None
    """Run every node under cProfile (main-thread CPU time, ``bench._cpu_profile``), its stats
    written to ``profile_dir/node-<id>.prof`` when it stops (SIGTERM; a SIGKILLed node writes
    nothing). Benchmarks only."""

    @property
    def url(self) -> str:
        return f"https://{PORTAL}:{self.port}/"

    @property
    def ca_file(self) -> Path:
        """The CA of the gateways' server certificate."""
        return self.state_dir / "tls" / "ca.pem"

    async def start_node(self, node_id: str) -> ClusterNode:
        """Start (or restart) one node and wait for its URL."""
        node = self.nodes.get(node_id)
        if node is None:
            config = self.state_dir / f"node-{node_id}.toml"
            config.write_text(
                node_config(
                    self.state_dir,
                    self.database_url,
                    node_id,
                    reconnect_window_s=self.reconnect_window_s,
                    proxy_protocol=self.proxy_protocol,
                )
                + self.extra_toml
            )
            node = self.nodes[node_id] = ClusterNode(node_id, config)
        log = (self.state_dir / f"node-{node_id}.log").open("ab")
        profile = (
            ()
            if self.profile_dir is None
            else ("-m", "bench._cpu_profile", str(self.profile_dir / f"node-{node_id}.prof"))
        )
        node.process = await asyncio.create_subprocess_exec(
            sys.executable, *profile,
            "-m", "cloud_gateway.cli", "serve", "--config", str(node.config),
            stdout=asyncio.subprocess.PIPE, stderr=log, preexec_fn=_die_with_parent,
        )  # fmt: skip
        log.close()
        stdout = node.process.stdout
        if stdout is None:
            raise RuntimeError("no stdout pipe")
        async with asyncio.timeout(60):
            while line := (await stdout.readline()).decode():
                if line.startswith("cloud-gateway: serving "):
                    node.port = int(line.rsplit(":", 1)[1].strip().rstrip("/"))
                    break
            else:
                raise RuntimeError(f"node {node_id} ended before serving; see its log")
        return node

    def kill(self, node_id: str) -> None:
        """SIGKILL a node (no drain, no goodbye)."""
        process = self.nodes[node_id].process
        if process is not None and process.returncode is None:
            process.send_signal(signal.SIGKILL)

    async def stop_node(self, node_id: str, *, timeout: float = 30.0) -> None:
        """SIGTERM a node (it drains first) and wait for it."""
        process = self.nodes[node_id].process
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(timeout):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()

    async def start_haproxy(self) -> None:
        """HAProxy on a kernel-chosen port in front of every node."""
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        sock = socket.create_server(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = self.state_dir / "haproxy.cfg"
        config.write_text(
            haproxy_config(
                {n.node_id: n.port for n in self.nodes.values()},
                listen=f"fd@{sock.fileno()}",
                proxy_protocol=self.proxy_protocol,
            )
        )
        log = (self.state_dir / "haproxy.log").open("ab")
        try:
            self.haproxy = await asyncio.create_subprocess_exec(
                haproxy, "-db", "-f", str(config), pass_fds=(sock.fileno(),),
                stdout=log, stderr=log, preexec_fn=_die_with_parent,
            )  # fmt: skip
        finally:
            log.close()
            sock.close()

    async def stop(self) -> None:
        """Stop HAProxy and every node (SIGTERM, then SIGKILL)."""
        if self.haproxy is not None and self.haproxy.returncode is None:
            self.haproxy.terminate()
            await self.haproxy.wait()
        await asyncio.gather(*(self.stop_node(n, timeout=15) for n in self.nodes))


def prepare_state(state_dir: Path) -> None:
    """Make the shared TLS material once, before the nodes race for it."""
    from datetime import UTC, datetime  # noqa: PLC0415 - product code only when used

    from cloud_gateway.fleet.tls import ensure_fleet_tls  # noqa: PLC0415
    from cloud_gateway.tls import ensure_server_tls  # noqa: PLC0415
    from cloud_gateway.tunnels.device_ca import DeviceCa  # noqa: PLC0415

    state_dir.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    ensure_server_tls(state_dir, PORTAL, now, PORTAL)
    DeviceCa.ensure(state_dir, now)
    ensure_fleet_tls(state_dir, now)


async def migrate(database_url: str) -> None:
    """Bring the database to head once (nodes must not migrate at the same time)."""
    from cloud_gateway.store import Store  # noqa: PLC0415

    store = await Store.open(database_url)
    await store.close()


@contextlib.asynccontextmanager
async def loopback_cluster(
    state_dir: Path,
    database_url: str,
    nodes: int = 3,
    *,
    reconnect_window_s: float = 3.0,
    extra_toml: str = "",
    proxy_protocol: bool = False,
    profile_dir: Path | None = None,
) -> AsyncIterator[LoopbackCluster]:
    """Start ``nodes`` gateways and HAProxy; stop everything at the end."""
    await asyncio.to_thread(prepare_state, state_dir)
    await migrate(database_url)
    cluster = LoopbackCluster(
        state_dir,
        database_url,
        reconnect_window_s=reconnect_window_s,
        extra_toml=extra_toml,
        proxy_protocol=proxy_protocol,
        profile_dir=profile_dir,
    )
    try:
        await asyncio.gather(*(cluster.start_node(chr(ord("a") + i)) for i in range(nodes)))
        await cluster.start_haproxy()
        yield cluster
    finally:
        await cluster.stop()


async def ensure_database(database_url: str) -> None:
    """Create the PostgreSQL database of ``database_url`` when it does not exist yet."""
    import asyncpg  # noqa: PLC0415 - only for the command
    from sqlalchemy.engine.url import make_url  # noqa: PLC0415

    url = make_url(database_url)
    name = url.database or ""
    admin = url.set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _run(args: argparse.Namespace, stop: asyncio.Event) -> int:
    await ensure_database(args.database)
    async with loopback_cluster(
        args.state_dir.resolve(), args.database, args.nodes, proxy_protocol=args.proxy_protocol
    ) as cluster:
        lines = [
            f"node {n.node_id}: {n.url} (pid {n.process and n.process.pid})"
            for n in cluster.nodes.values()
        ]
        lines += [
            f"HAProxy: {cluster.url}  (CA: {cluster.ca_file})",
            "Ctrl-C stops the fleet; `kill -TERM <pid>` drains one node.",
        ]
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()
        await stop.wait()
    return 0


def register(subparsers: Any) -> None:
    """Add the ``cluster`` subcommand to ``simulator``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "cluster",
        help="run several gateway nodes on PostgreSQL behind HAProxy on loopback",
        description="Start N cloud-gateway nodes (one fleet, [cluster] enabled) on one "
        "PostgreSQL database and Debian's HAProxy in front, all on loopback.",
    )
    add_common_arguments(parser)
    parser.add_argument("--nodes", type=int, default=3, help="gateway nodes (default: 3)")
    parser.add_argument(
        "--database",
        default=os.environ.get(
            "CLUSTER_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/cloudconnector"
        ),
        help="SQLAlchemy URL of the PostgreSQL database (created when missing)",
    )
    parser.add_argument(
        "--state-dir", type=Path, default=Path("state/cluster"), help="shared state folder"
    )
    parser.add_argument(
        "--proxy-protocol",
        action="store_true",
        help="HAProxy sends PROXY v2 headers ([http] proxy_protocol on the nodes, which then "
        "refuse direct connections)",
    )
    parser.set_defaults(handler=_run)
