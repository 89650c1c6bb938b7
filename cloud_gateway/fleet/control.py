"""Control messages between the nodes of a fleet (``NOTIFY cloudconnector_fleet``).

One message is a small JSON object: what happened (``k``), to which device (``d``), a session
(``s``: the new one where a tunnel moved; for a disconnect or a CONTROL the one it is meant
for, so that a message arriving late never reaches a session opened after it was sent), what
the device is told (``r``: the operator's reason, at most 500 characters), a CONTROL body for
the device (``c``, kind ``control``) and the sending node (``n``), which ignores its own
messages. Pure; the node (:mod:`.node`) sends and acts on them. A payload must stay below
PostgreSQL's 8000 bytes (:data:`PAYLOAD_LIMIT`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["CHANNEL", "PAYLOAD_LIMIT", "ControlKind", "ControlMessage", "decode", "encode"]

CHANNEL = "cloudconnector_fleet"
PAYLOAD_LIMIT = 7900
"""Bytes of one encoded message at most (``NOTIFY`` takes fewer than 8000)."""


class ControlKind(StrEnum):
    """What a control message asks the node holding the tunnel to do."""

    ENTITLEMENT = "entitlement"
    """Re-ask the entitlement policy (a window, package, licence or the disable flag moved)."""
    REVOKED = "revoked"
    """The device's certificate was revoked: refuse the tunnel."""
    DISCONNECT = "disconnect"
    """Operator disconnect: close the tunnel cleanly."""
    REPLACED = "replaced"
    """The device opened a newer session (``s``) on another node: close the older one."""
    CONTROL = "control"
    """Send the device the CONTROL body ``c`` through its tunnel (e.g. an inverter agent's
    ``resend_configuration``)."""


@dataclass(frozen=True, slots=True)
class ControlMessage:
    """One message on the control channel."""

    kind: ControlKind
    device_id: int
    origin: str
    session_id: str = ""
    #: what the device is told (an operator's reason); empty: the receiver's default
    detail: str = ""
    #: the CONTROL body a ``control`` message carries to the device
    control: dict[str, object] | None = None


def encode(message: ControlMessage) -> str:
    """The NOTIFY payload (far below PostgreSQL's 8000-byte limit)."""
    body: dict[str, object] = {"k": message.kind.value, "d": message.device_id, "n": message.origin}
    if message.session_id:
        body["s"] = message.session_id
    if message.detail:
        body["r"] = message.detail[:500]
    if message.control is not None:
        body["c"] = message.control
    return json.dumps(body, separators=(",", ":"))


def decode(payload: str) -> ControlMessage | None:
    """The message in ``payload``, or None when it is not one (logged by the caller)."""
    try:
        body = json.loads(payload)
        control = body.get("c")
        if control is not None and not isinstance(control, dict):
            return None
        return ControlMessage(
            ControlKind(body["k"]),
            int(body["d"]),
            str(body["n"]),
            str(body.get("s", "")),
            str(body.get("r", "")),
            control,
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
