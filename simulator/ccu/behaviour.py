"""Live behaviour of the simulated devices over time, deterministic from the store's seed.

Pure functions of the store and a time step; no clock is read here. The same seed and the
same sequence of steps give the same values.

- ``HM-ES-PMSw1-Pl``: while switched on, ``POWER`` wanders around a per-device base load,
  ``VOLTAGE``/``FREQUENCY`` jitter around 230 V/50 Hz, ``CURRENT`` follows, and
  ``ENERGY_COUNTER`` integrates the power (Wh).
- ``HmIP-eTRV``: ``ACTUAL_TEMPERATURE`` approaches ``SET_POINT_TEMPERATURE`` with a time
  constant of ten minutes; the valve ``LEVEL`` opens with the difference.
- ``HmIP-SWDO``: the window opens or closes now and then (about once an hour).
"""

from __future__ import annotations

import math

from simulator.ccu.devices import Device, DeviceStore, ValueChange

__all__ = ["initialise", "step"]

_ROOM_TIME_CONSTANT = 600.0
_WINDOW_MEAN_INTERVAL = 3600.0


def initialise(store: DeviceStore) -> None:
    """Give every device seeded start values (called once, after pairing)."""
    rng = store.random
    for device in store.devices.values():
        address = device.address
        match device.model.type:
            case "HM-ES-PMSw1-Pl":
                store.force(f"{address}:1", "STATE", True)
                store.force(f"{address}:2", "ENERGY_COUNTER", round(rng.uniform(1e4, 9e4), 1))
                _meter(store, device, 0.0)
            case "HmIP-eTRV":
                channel = f"{address}:1"
                store.force(channel, "SET_POINT_TEMPERATURE", 21.0)
                store.force(channel, "ACTUAL_TEMPERATURE", round(rng.uniform(17.0, 20.0), 1))
                store.force(channel, "LEVEL", _valve_level(store, channel))
            case _:
                pass


def step(store: DeviceStore, seconds: float) -> list[ValueChange]:
    """Advance every device by ``seconds``; returns the values that changed."""
    if seconds < 0:
        raise ValueError("time only moves forward")
    changes: list[ValueChange] = []
    if seconds == 0:
        return changes
    for device in store.devices.values():
        match device.model.type:
            case "HM-ES-PMSw1-Pl":
                changes += _meter(store, device, seconds)
            case "HmIP-eTRV":
                changes += _thermostat(store, device, seconds)
            case "HmIP-SWDO":
                changes += _window(store, device, seconds)
            case _:
                pass
    return changes


def _update(store: DeviceStore, address: str, key: str, value: object) -> list[ValueChange]:
    if store.get_value(address, key) == value:
        return []
    return store.force(address, key, value)


def _base_load(device: Device) -> float:
    # a stable per-device load between 20 and 220 W, independent of the random stream
    return 20.0 + sum(device.address.encode()) % 200


def _meter(store: DeviceStore, device: Device, seconds: float) -> list[ValueChange]:
    rng = store.random
    channel = f"{device.address}:2"
    on = bool(store.get_value(f"{device.address}:1", "STATE"))
    voltage = round(230.0 + rng.uniform(-2.0, 2.0), 1)
    frequency = round(50.0 + rng.uniform(-0.05, 0.05), 2)
    power = round(max(0.0, _base_load(device) + rng.gauss(0.0, 5.0)), 2) if on else 0.0
    current = round(power / voltage * 1000.0, 1)
    energy = store.get_value(channel, "ENERGY_COUNTER") + power * seconds / 3600.0
    changes: list[ValueChange] = []
    for key, value in (
        ("VOLTAGE", voltage),
        ("FREQUENCY", frequency),
        ("POWER", power),
        ("CURRENT", current),
        ("ENERGY_COUNTER", round(energy, 4)),
    ):
        changes += _update(store, channel, key, value)
    return changes


def _valve_level(store: DeviceStore, channel: str) -> float:
    target = float(store.get_value(channel, "SET_POINT_TEMPERATURE"))
    difference = target - float(store.get_value(channel, "ACTUAL_TEMPERATURE"))
    return round(min(max(difference / 2.0, 0.0), 1.0), 2)


def _thermostat(store: DeviceStore, device: Device, seconds: float) -> list[ValueChange]:
    channel = f"{device.address}:1"
    target = store.get_value(channel, "SET_POINT_TEMPERATURE")
    actual = store.get_value(channel, "ACTUAL_TEMPERATURE")
    approach = 1.0 - math.exp(-seconds / _ROOM_TIME_CONSTANT)
    actual += (target - actual) * approach + store.random.uniform(-0.05, 0.05)
    changes = _update(store, channel, "ACTUAL_TEMPERATURE", round(actual, 1))
    changes += _update(store, channel, "LEVEL", _valve_level(store, channel))
    return changes


def _window(store: DeviceStore, device: Device, seconds: float) -> list[ValueChange]:
    channel = f"{device.address}:1"
    if store.random.random() >= 1.0 - math.exp(-seconds / _WINDOW_MEAN_INTERVAL):
        return []
    return store.force(channel, "STATE", 1 - store.get_value(channel, "STATE"))
