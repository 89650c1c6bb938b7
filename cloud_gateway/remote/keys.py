"""Typed application keys of the remote-access area."""

from __future__ import annotations

from aiohttp import web

from cloud_gateway.remote.gate import RemoteGate

__all__ = ["REMOTE_GATE"]

REMOTE_GATE: web.AppKey[RemoteGate] = web.AppKey("remote_gate", RemoteGate)
"""The per-request checks of device hosts and the traffic ledger (``.ledger``)."""
