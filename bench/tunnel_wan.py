"""The tunnel where users are: over emulated DSL, LTE and fibre links, against direct
TCP and ``ssh -R`` (issue 19).

Every path crosses the same emulated access line (:mod:`bench._link`, a relay process
that delays and paces each direction) exactly once:

* ``direct``: client -> link -> target (the CCU at home, reached as if port-forwarded).
* ``tunnel``: client -> gateway node (:mod:`bench._nodes`) -> stream on the one
  WebSocket, which the device dialled *through the link* -> device node -> target.
* ``tunnel_v1``: the same with the gateway as before ADR 0016 (fixed 256 KiB windows,
  OPEN_OK awaited before the request): the A/B comparison within one run.
* ``ssh``: client -> sshd's ``-R`` port -> the ``ssh -R`` connection, dialled through the
  link -> target.
* ``snitun``: client -> TLS originator -> snitun's SNI proxy -> its multiplexer, which
  snitun's client dialled through the link -> TLS terminator -> target
  (:mod:`bench._snitun`; snitun routes by SNI, so this path alone is TLS end to end, and
  it has no upload leg: snitun channels cannot half-close).

Legs per path: one-stream download (the source target), upload (the sink), sequential
64-byte echoes, a "page load" of 30 resources from the simulated CCU WebUI over six
HTTP/1.1 connections, and the same page load while a 100 MiB backup downloads on the
same path. The link is checked against its own figures: the direct path's echo RTT and
download rate are reported next to the configured ones.

Last line: ``{"bench": "tunnel-wan", "metrics": {...}, "ratios": {...}}`` with, per
profile P, ``P_download_vs_direct``, ``P_download_vs_ssh``, ``P_download_vs_snitun``,
``P_page_load_vs_direct`` (page-load time over direct time
plus one RTT) and ``P_page_during_backup_vs_idle``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._certs import write_certs
from bench._client import bulk, echo_rtts, percentile
from bench._link import LinkProfile
from bench._proc import node
from bench._snitun import snitun_path
from bench._ssh import SshUnavailableError, reverse_tunnel
from bench._wan_client import backup_running, page_load, upload

__all__ = ["PATHS", "PROFILES", "Sizes", "run"]

MIB = 1024 * 1024
MBIT = 1_000_000 / 8  # bytes per second


@dataclass(frozen=True, slots=True, kw_only=True)
class Sizes:
    download: int
    upload: int
    echoes: int
    backup: int


FULL = Sizes(download=64 * MIB, upload=16 * MIB, echoes=200, backup=100 * MIB)
SMOKE = Sizes(download=1 * MIB, upload=256 * 1024, echoes=10, backup=8 * MIB)

PROFILES: dict[str, LinkProfile] = {
    "dsl": LinkProfile(rtt=0.050, down=50 * MBIT, up=10 * MBIT),
    "lte": LinkProfile(rtt=0.070, jitter=0.040, down=30 * MBIT, up=30 * MBIT),
    "fibre": LinkProfile(rtt=0.010, down=300 * MBIT, up=300 * MBIT),
}
TARGETS = ("echo", "source", "sink", "webui")
PATHS = ("direct", "tunnel", "tunnel_v1", "ssh", "snitun")


@contextlib.contextmanager
def _link(profile: LinkProfile, routes: list[str]) -> Iterator[list[int]]:
    with node("bench._link", profile.to_json(), *routes) as link:
        yield [int(port) for port in link.event()["ports"]]


@contextlib.contextmanager
def _one_hop(profile: LinkProfile, port: int) -> Iterator[int]:
    """A link in front of ``port``, dialled from home (device, ssh client)."""
    with _link(profile, [f"{port}h"]) as (relayed,):
        yield relayed


@contextlib.contextmanager
def _tunnel(
    certs: Path, targets: dict[str, int], profile: LinkProfile, *, v1: bool
) -> Iterator[dict[str, int]]:
    forwards = [f"{name}=tcp://127.0.0.1:{port}" for name, port in targets.items()]
    with node("bench._nodes", "gateway", str(certs), *forwards, *(["v1"] if v1 else [])) as gw:
        ready = gw.event()
        url: str = ready["url"]
        port = int(url.split(":")[2].split("/", maxsplit=1)[0])
        with (
            _one_hop(profile, port) as relayed,
            node("bench._nodes", "device", str(certs), url.replace(str(port), str(relayed))) as dev,
        ):
            dev.event()
            gw.event()
            yield dict(ready["forwards"])


def _measure(ports: dict[str, int], sizes: Sizes) -> dict[str, float]:
    download = bulk(ports["source"], sizes.download)
    up = upload(ports["sink"], sizes.upload) if "sink" in ports else None
    rtts = echo_rtts(ports["echo"], sizes.echoes, warmup=2)
    page = page_load(ports["webui"])
    with backup_running(ports["source"], sizes.backup):
        page_busy = page_load(ports["webui"])
    result = {
        "download_mbit_s": sizes.download / download / MBIT,
        "echo_p50_ms": percentile(rtts, 50) * 1e3,
        "echo_p99_ms": percentile(rtts, 99) * 1e3,
        "page_ms": page * 1e3,
        "page_during_backup_ms": page_busy * 1e3,
    }
    if up is not None:
        result["upload_mbit_s"] = sizes.upload / up / MBIT
    return result


def _profile(
    profile: LinkProfile, sizes: Sizes, certs: Path, targets: dict[str, int], paths: set[str]
) -> dict[str, dict[str, float]]:
    legs: dict[str, dict[str, float]] = {}
    if "direct" in paths:
        with _link(profile, [str(targets[t]) for t in TARGETS]) as direct:
            legs["direct"] = _measure(dict(zip(TARGETS, direct, strict=True)), sizes)
    for leg, v1 in (("tunnel", False), ("tunnel_v1", True)):
        if leg in paths:
            with _tunnel(certs, targets, profile, v1=v1) as ports:
                legs[leg] = _measure(ports, sizes)
    relay: Callable[[int], contextlib.AbstractContextManager[int]] = lambda port: _one_hop(  # noqa: E731
        profile, port
    )
    if "ssh" in paths:
        with (
            contextlib.suppress(SshUnavailableError),
            reverse_tunnel([targets[t] for t in TARGETS], relay=relay) as ssh,
        ):
            legs["ssh"] = _measure(dict(zip(TARGETS, ssh, strict=True)), sizes)
    if "snitun" in paths:
        plain = {t: targets[t] for t in TARGETS if t != "sink"}
        with (
            tempfile.TemporaryDirectory(prefix="bench-snitun-") as tmp,
            snitun_path(Path(tmp), plain, relay) as (ports, _),
        ):
            legs["snitun"] = _measure(ports, sizes)
    return legs


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _leg(legs: dict[str, dict[str, float]], path: str, key: str) -> float | None:
    return legs.get(path, {}).get(key)


def _derived(
    name: str, profile: LinkProfile, legs: dict[str, dict[str, float]]
) -> dict[str, float | None]:
    """The link's self-check and the A/B against the old behaviour (``tunnel_v1``)."""
    rtt, down = _leg(legs, "direct", "echo_p50_ms"), _leg(legs, "direct", "download_mbit_s")
    return {
        f"{name}_link_rtt_vs_config": None if rtt is None else rtt / 1e3 / profile.rtt,
        f"{name}_link_down_vs_config": None if down is None else down * MBIT / profile.down,
        f"{name}_download_vs_v1": _ratio(
            _leg(legs, "tunnel", "download_mbit_s"), _leg(legs, "tunnel_v1", "download_mbit_s")
        ),
        f"{name}_page_vs_v1": _ratio(
            _leg(legs, "tunnel", "page_ms"), _leg(legs, "tunnel_v1", "page_ms")
        ),
    }


def _ratios(
    name: str, profile: LinkProfile, legs: dict[str, dict[str, float]]
) -> dict[str, float | None]:
    down = _leg(legs, "tunnel", "download_mbit_s")
    direct_page = _leg(legs, "direct", "page_ms")
    return {
        f"{name}_download_vs_direct": _ratio(down, _leg(legs, "direct", "download_mbit_s")),
        f"{name}_download_vs_ssh": _ratio(down, _leg(legs, "ssh", "download_mbit_s")),
        f"{name}_download_vs_snitun": _ratio(down, _leg(legs, "snitun", "download_mbit_s")),
        f"{name}_page_load_vs_direct": _ratio(
            _leg(legs, "tunnel", "page_ms"),
            None if direct_page is None else direct_page + profile.rtt * 1e3,
        ),
        f"{name}_page_during_backup_vs_idle": _ratio(
            _leg(legs, "tunnel", "page_during_backup_ms"), _leg(legs, "tunnel", "page_ms")
        ),
    }


def run(*, smoke: bool) -> dict[str, Any]:
    """Every profile and leg; ``smoke``: tiny sizes over the fibre profile only."""
    sizes = SMOKE if smoke else FULL
    chosen = ["fibre"] if smoke else list(PROFILES)
    if os.environ.get("BENCH_WAN_PROFILES"):  # e.g. "dsl,lte" while iterating
        chosen = os.environ["BENCH_WAN_PROFILES"].split(",")
    paths = set(PATHS)
    if os.environ.get("BENCH_WAN_PATHS"):  # e.g. "tunnel" while iterating: other ratios None
        paths = set(os.environ["BENCH_WAN_PATHS"].split(","))
    metrics: dict[str, Any] = {}
    ratios: dict[str, float | None] = {}
    with (
        tempfile.TemporaryDirectory(prefix="bench-wan-") as tmp,
        node("bench._nodes", "target") as target,
        node("bench._nodes", "webui") as webui,
    ):
        certs = write_certs(Path(tmp))
        targets = {k: int(v) for k, v in target.event().items()}
        targets.update({k: int(v) for k, v in webui.event().items()})
        for name in chosen:
            profile = PROFILES[name]
            metrics[f"{name}_loadavg_before"] = os.getloadavg()[0]
            legs = _profile(profile, sizes, certs, targets, paths)
            metrics[f"{name}_loadavg_after"] = os.getloadavg()[0]
            for leg, values in legs.items():
                for key, value in values.items():
                    metrics[f"{name}_{key}_{leg}"] = value
            metrics.update(_derived(name, profile, legs))
            ratios.update(_ratios(name, profile, legs))
    return {"metrics": metrics, "ratios": ratios}
