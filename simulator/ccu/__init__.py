"""A simulated HomeMatic CCU: WebUI, JSON-RPC and the BidCos-RF / HmIP-RF XML-RPC interfaces.

A separate device: it imports no product package and is seen only through its sockets.
Start one with :class:`SimulatedCcu` (see :mod:`simulator.ccu.server`), or from the command
line with ``simulator ccu``.
"""

from simulator.ccu.catalog import MODELS, InterfaceName
from simulator.ccu.config import DEFAULT_DEVICES, CcuConfig, Clock, MonotonicClock, PairedDevice
from simulator.ccu.devices import ValueChange
from simulator.ccu.errors import CcuSimulatorError, RpcFaultError
from simulator.ccu.pages import big_file_chunks
from simulator.ccu.server import SimulatedCcu

__all__ = [
    "DEFAULT_DEVICES",
    "MODELS",
    "CcuConfig",
    "CcuSimulatorError",
    "Clock",
    "InterfaceName",
    "MonotonicClock",
    "PairedDevice",
    "RpcFaultError",
    "SimulatedCcu",
    "ValueChange",
    "big_file_chunks",
]
