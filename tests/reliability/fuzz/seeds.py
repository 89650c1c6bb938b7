"""``python -m tests.reliability.fuzz.seeds``: write the seed inputs of every target.

Valid inputs to start from, made by the product's own encoders and the shared simulator, so the
fuzzer begins past the first checks (a ``SunS`` marker, a version 1 payload, a 101 answer). The
files (``seed-*``) are committed next to the found inputs (``crash-*``) in
``tests/reliability/corpus/NAME/``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime

from ccu_addon.xmlrpc_codec import dumps_call, dumps_fault, dumps_response
from cloud_gateway.plants.spreadsheet import template_csv, template_xlsx
from simulator.inverter import InverterBus, InverterModel, ManualClock
from tests.reliability.fuzz.runner import CORPUS
from tests.tunnel.test_frames import LITERALS
from tunnel import ws_frames

__all__ = ["main", "seeds"]

_NOON = datetime(2026, 6, 21, 11, 0, tzinfo=UTC)


def _images() -> Iterator[list[int]]:
    for model in InverterModel:
        bus = InverterBus.generate(1, seed=1, clock=ManualClock(_NOON), model=model)
        yield bus[1].image()


def _words(registers: list[int]) -> bytes:
    return b"".join(r.to_bytes(2, "big") for r in registers)


def _ws_frames() -> Iterator[bytes]:
    key = bytes(4)
    for opcode, payload in (
        (ws_frames.Opcode.BINARY, b"\x01\x30\x00\x00\x00\x00\x00\x00" + bytes(8)),
        (ws_frames.Opcode.PING, b"hi"),
        (ws_frames.Opcode.CLOSE, (1000).to_bytes(2, "big") + b"bye"),
    ):
        # server frames are not masked: drop the mask bit and key from the client encoding
        frame = bytearray(ws_frames.encode(opcode, payload, key))
        frame[1] &= 0x7F
        yield bytes(frame[:2]) + bytes(frame[6:])


_READING = (
    b'{"v":1,"k":"reading","sn":"SN-0042","unit":1,"ts":1768467600000,"st":"mppt","w":5000.0,'
    b'"wh":1234560.0,"va":5100.0,"var":-150.0,"hz":50.02,"a":12.34,"phv":[230.1,230.9,null],'
    b'"dcw":5200.0,"dcv":650.2,"tmp":45.2,"tmp_snk":-50.0,"evt":129,"mppt":[{"id":1,'
    b'"label":"PV1","dcw":2602.0,"dcv":320.5,"dca":8.12,"dcwh":12345.0,"st":"mppt"}]}'
)
_INFO = (
    b'{"v":1,"k":"info","sn":"SN-0042","unit":1,"ts":1768467600000,"mn":"Acme Solar",'
    b'"md":"AS-6000-3","vr":"1.2.3","wrtg":6000.0,"models":[1,103,120,126,122,160]}'
)


def seeds() -> dict[str, list[bytes]]:
    """Seed inputs per target."""
    frames = list(_ws_frames())
    images = list(_images())
    return {
        "tunnel_frames": [wire for _frame, wire in LITERALS],
        "websocket_client": [
            b"\x01\x00" + b"".join(frames),
            b"\x01\x03" + b"".join(frames),
            b"\x00\x00HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno",
            (
                b"\x00\x00HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n"
            ),
        ],
        "sunspec_image": [_words(image[2:]) for image in images],
        "modbus_answers": [b"\x0f" + _words(image) for image in images],
        "telemetry_payload": [_READING, _INFO, b"[" + _INFO + b"," + _READING + b"]"],
        "ccu_xmlrpc": [
            dumps_call("event", ["CCU-RF", "OEQ0001:1", "STATE", True]),
            dumps_call("newDevices", ["CCU-RF", [{"ADDRESS": "OEQ0001", "VERSION": 7}]]),
            dumps_response([1.5, "x", b"\x00\x01", datetime(2026, 1, 1, 12, 0), {"a": [1, 2]}]),
            dumps_fault(-1, "Failure"),
        ],
        "spreadsheet_upload": [b"c" + template_csv(), b"x" + template_xlsx()],
    }


def main() -> None:
    for name, inputs in seeds().items():
        folder = CORPUS / name
        folder.mkdir(parents=True, exist_ok=True)
        for data in inputs:
            (folder / f"seed-{hashlib.sha1(data).hexdigest()[:12]}").write_bytes(data)
        print(f"{folder}: {len(inputs)} seeds")


if __name__ == "__main__":
    main()
