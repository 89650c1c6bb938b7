"""No per-connection TLS read buffer, for processes that hold thousands of idle TLS links.

CPython's asyncio (3.11 to 3.13) gives every TLS connection an ``SSLProtocol`` whose
ciphertext read buffer is ``bytearray(SSLProtocol.max_size)``: 256 KiB, zero-filled, so
every page of it is resident for as long as the connection lives. A gateway with 10,000
idle tunnels spends 2.5 GiB on buffers that hold a few hundred bytes of PING now and then.

The buffer is only ever used between two calls that asyncio's transports make back to
back, with no other callback in between: ``get_buffer()`` lends it, the transport fills it
(``recv_into``, or a copy in the proactor's ``_feed_data_to_buffered_proto``), and
``buffer_updated(n)`` at once copies the ``n`` bytes into the connection's ``MemoryBIO``.
Nothing of it outlives ``buffer_updated``. So one buffer per thread serves every
connection of that thread's event loop, at the full 256 KiB (bulk transfers still read in
large chunks): :class:`SharedBufferSSLProtocol`.

:func:`install` makes asyncio build that class instead of ``SSLProtocol``. It overrides
``__init__`` (to drop the private buffer), ``get_buffer`` and ``buffer_updated``, and
``_do_read__copied`` (to skip the read that can only raise SSLWantReadError); everything
else is the stdlib's. ADR 0007 records why this is a patch of
``asyncio.sslproto`` and not a custom loop or uvloop. The patch is process-wide and
idempotent, and applied only on the CPython versions whose ``sslproto`` it was checked
against; :func:`install` returns False (and does nothing) elsewhere. uvloop does not use
``asyncio.sslproto`` (its own buffers are not zero-filled), so it is unaffected.
"""

from __future__ import annotations

import sys
import threading
from asyncio import sslproto
from typing import Any, Final

__all__ = ["SharedBufferSSLProtocol", "install", "installed"]

_CHECKED_VERSIONS: Final = ((3, 11), (3, 12), (3, 13))
"""``sslproto`` layouts this was written against (``_ssl_buffer``/``_ssl_buffer_view``)."""
_STDLIB_PROTOCOL: Final = sslproto.SSLProtocol
_EMPTY: Final = memoryview(bytearray())


class _ThreadBuffer(threading.local):
    view: memoryview = _EMPTY


_SHARED: Final = _ThreadBuffer()


def _shared_view(size: int) -> memoryview:
    if len(_SHARED.view) < size:
        _SHARED.view = memoryview(bytearray(size))
    return _SHARED.view


class SharedBufferSSLProtocol(sslproto.SSLProtocol):
    """``SSLProtocol`` reading ciphertext through one buffer shared by its thread."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The stdlib's __init__ allocates bytearray(self.max_size): make that an empty one
        # (a 256 KiB allocation freed at once would still fragment the heap), then let the
        # class attribute (256 KiB, the size of one read) show through again.
        self.max_size = 0  # type: ignore[misc]  # an instance value for __init__ only
        try:
            super().__init__(*args, **kwargs)
        finally:
            del self.max_size
        self._ssl_buffer_view = _EMPTY

    def get_buffer(self, n: int) -> memoryview:
        return _shared_view(self.max_size)

    def buffer_updated(self, nbytes: int) -> None:
        # super() copies from self._ssl_buffer_view; point it at the filled bytes only
        # for the duration of the call.
        self._ssl_buffer_view = _SHARED.view
        try:
            super().buffer_updated(nbytes)
        finally:
            self._ssl_buffer_view = _EMPTY

    def _do_read__copied(self) -> None:
        # The stdlib reads plaintext until OpenSSL raises SSLWantReadError, so every
        # TLS record that arrives alone (each small tunnel frame) costs one exception
        # (~2 us). When the incoming BIO is empty and OpenSSL holds no decrypted bytes,
        # that read can only raise: stop before it. (Without read-ahead, which asyncio
        # does not enable, OpenSSL takes no more from the BIO than the record it reads.)
        state: Any = self  # the stdlib's private attributes, untyped in typeshed
        sslobj = state._sslobj
        incoming = state._incoming
        chunks: list[bytes] = []
        chunk = b"1"
        try:
            while True:
                chunk = sslobj.read(self.max_size)
                if not chunk:
                    break
                chunks.append(chunk)
                if not incoming.pending and not sslobj.pending():
                    break
        except sslproto.SSLAgainErrors:
            pass
        if chunks:
            state._app_protocol.data_received(chunks[0] if len(chunks) == 1 else b"".join(chunks))
        if not chunk:  # close_notify
            state._call_eof_received()
            state._start_shutdown()


def installed() -> bool:
    """Whether asyncio currently builds :class:`SharedBufferSSLProtocol`."""
    return sslproto.SSLProtocol is SharedBufferSSLProtocol


def install() -> bool:
    """Make asyncio's TLS connections in this process share one read buffer per thread.

    Call once at process start, before the listener accepts connections (connections
    made earlier keep their private 256 KiB). Returns whether the patch is active.
    """
    if installed():
        return True
    if sys.version_info[:2] not in _CHECKED_VERSIONS:
        return False
    if sslproto.SSLProtocol is not _STDLIB_PROTOCOL:
        return False  # someone else replaced it: do not stack patches
    sslproto.SSLProtocol = SharedBufferSSLProtocol  # type: ignore[misc]
    return True
