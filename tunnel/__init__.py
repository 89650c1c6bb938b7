"""Tunnel v1: the wire protocol and both session ends, shared by every product part.

Modules (the package itself imports nothing, so ``tunnel.frames`` stays free of asyncio):

- ``frames`` (with ``frame_types``, ``payloads``): pure encode/decode of every frame.
- ``streams``, ``stream_table``: multiplexed streams with credit windows.
- ``transport``: the ``MessageTransport`` protocol and ``memory_pair()`` for tests.
- ``session``: the session core; ``gateway_end.GatewaySession``, ``device_end.DeviceSession``.
- ``ws``: aiohttp WebSockets (the gateway's side) as a ``MessageTransport``.
- ``ws_client``, ``ws_frames``: the device's own WebSocket client (wsproto for the upgrade,
  lean RFC 6455 framing), delivering frames by callback (ADR 0009).
- ``tcp_splice``: a stream joined to a TCP connection by callbacks, without tasks.
- ``connector``, ``connector_status``, ``backoff``: the device's reconnect loop.
- ``errors``, ``clock``, ``tomlconfig``, ``cliutil``: shared plumbing.

The protocol is described in ``docs/protocol.md``.
"""
