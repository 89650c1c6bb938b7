"""Copy bytes between a tunnel stream and a TCP connection, both ways, half-close aware."""

from __future__ import annotations

import asyncio
import contextlib
import socket

from tunnel.errors import StreamError
from tunnel.streams import MAX_BUFFER, Stream

__all__ = ["READ_SIZE", "nodelay", "parse_target", "splice"]

READ_SIZE = 256 * 1024
"""Bytes asked for per socket read (the stream cuts them into DATA frames)."""


def parse_target(target: str) -> tuple[str, int]:
    """``tcp://host:port`` -> (host, port)."""
    if not target.startswith("tcp://"):
        raise ValueError(f"bench targets are tcp://host:port, not {target!r}")
    host, _, port = target.removeprefix("tcp://").rpartition(":")
    return host, int(port)


def nodelay(writer: asyncio.StreamWriter) -> None:
    """Small echoes must not wait for Nagle."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def _stream_to_socket(stream: Stream, writer: asyncio.StreamWriter) -> None:
    while data := await stream.read(MAX_BUFFER):
        writer.write(data)
        await writer.drain()
    if writer.can_write_eof():
        writer.write_eof()


async def _socket_to_stream(reader: asyncio.StreamReader, stream: Stream) -> None:
    while data := await reader.read(READ_SIZE):
        await stream.write(data)
    await stream.write_eof()


async def splice(
    stream: Stream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Pump both directions until both have seen EOF (or one side failed)."""
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(_stream_to_socket(stream, writer), name="stream->tcp")
            group.create_task(_socket_to_stream(reader, stream), name="tcp->stream")
    except* (OSError, StreamError):
        stream.reset("splice failed")
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
