"""A model of a reconnect storm against the TLS handshake budget (ADR 0032, amendment).

Not a measurement: a seeded event model, so its figures hold on any machine. 10,000 devices
come back spread over the 120 s reconnect window to one node that completes ``rate``
handshakes a second; the budget takes 64 in progress plus a queue of 256 for at most 3 s and
refuses the rest before TLS. A refused device waits the product's own backoff
(:class:`tunnel.backoff.Backoff`, the gateway-busy schedule) and tries again. Reported: when
the last device is back, against the time the node needs to complete every handshake once
(``devices / rate``), with ``busy_cap`` at 30 s (now) and at 300 s (before: the plain cap),
and the refusals the fleet made (each costs the node ~80 µs, no TLS work).
"""

from __future__ import annotations

import heapq
import random
from typing import Any

from tunnel.backoff import Backoff, BackoffPolicy

__all__ = ["last_back", "run"]

PLACES = 64
QUEUE = 256
QUEUE_WAIT_S = 3.0


def last_back(
    *, devices: int, rate: float, busy_cap: float, seed: int, window: float = 120.0
) -> tuple[float, int]:
    """(seconds until the last device completed its handshake, refusals) for one seeded storm.

    The node works through admitted handshakes first come, first served at ``rate``; an
    arrival is admitted while fewer than ``PLACES`` are ahead of it, or into the queue while
    fewer than ``PLACES + QUEUE`` are and its place frees within ``QUEUE_WAIT_S``.
    """
    draw = random.Random(seed)
    policy = BackoffPolicy(busy_cap=busy_cap)
    backoffs = [Backoff(policy, rand=draw.random) for _ in range(devices)]
    arrivals = [(draw.random() * window, device) for device in range(devices)]
    heapq.heapify(arrivals)
    free_at = 0.0  # when the node has completed every handshake admitted so far
    last = 0.0
    refusals = 0
    while arrivals:
        now, device = heapq.heappop(arrivals)
        ahead = max(0.0, free_at - now) * rate
        if ahead < PLACES or (ahead < PLACES + QUEUE and (ahead - PLACES) / rate <= QUEUE_WAIT_S):
            free_at = max(free_at, now) + 1 / rate
            last = max(last, free_at)
        else:
            refusals += 1
            delay = backoffs[device].next_delay(busy=True)
            heapq.heappush(arrivals, (now + delay, device))
    return last, refusals


def run(smoke: bool = False) -> dict[str, Any]:
    """The model at 40, 60 and 80 handshakes a second (a loaded 2-core node), five seeds."""
    devices = 1_000 if smoke else 10_000
    seeds = range(2 if smoke else 5)
    metrics: dict[str, float] = {}
    ratios: dict[str, float] = {}
    for rate in (4.0, 6.0) if smoke else (40.0, 60.0, 80.0):
        label = f"{rate:g}_per_s"
        drain = devices / rate
        for cap in (30.0, 300.0):
            runs = [last_back(devices=devices, rate=rate, busy_cap=cap, seed=s) for s in seeds]
            metrics[f"last_back_s_{label}_cap_{cap:g}"] = round(max(t for t, _ in runs), 1)
            metrics[f"refusals_{label}_cap_{cap:g}"] = round(sum(r for _, r in runs) / len(runs))
        metrics[f"drain_s_{label}"] = round(drain, 1)
        ratios[f"last_back_cap_30_over_300_{label}"] = round(
            metrics[f"last_back_s_{label}_cap_30"] / metrics[f"last_back_s_{label}_cap_300"], 2
        )
    return {"metrics": metrics, "ratios": ratios}
