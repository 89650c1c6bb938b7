"""The paired devices of the simulated CCU and their current values (pure, no I/O).

:class:`DeviceStore` answers what the interface processes answer (descriptions, paramsets,
values) and applies writes; every accepted change comes back as a list of
:class:`ValueChange` so the caller can send the events a real CCU sends. Live behaviour over
time is in :mod:`simulator.ccu.behaviour`.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from simulator.ccu.catalog import (
    MODELS,
    DeviceModel,
    InterfaceName,
    ParameterSpec,
    channel_description,
    device_description,
    paramset_description,
)
from simulator.ccu.errors import InvalidParameterError, UnknownInstanceError, UnknownParamsetError

__all__ = ["Device", "DeviceStore", "ValueChange"]

_RADIO_SERIALS = {InterfaceName.BIDCOS_RF: "KEQ0000001", InterfaceName.HMIP_RF: "3014F711A0000EDA"}


class ValueChange(NamedTuple):
    """A value that changed: the payload of one XML-RPC ``event`` call."""

    interface: InterfaceName
    address: str
    key: str
    value: Any


@dataclass(frozen=True, slots=True)
class Device:
    """A paired device."""

    address: str
    model: DeviceModel

    @property
    def interface(self) -> InterfaceName:
        return self.model.interface


class DeviceStore:
    """Devices, their ``VALUES`` and ``MASTER`` paramsets, and the seeded random source."""

    def __init__(self, devices: Iterable[tuple[str, str]], *, seed: int) -> None:
        self.random = random.Random(seed)
        self.devices: dict[str, Device] = {}
        self._values: dict[tuple[str, str], Any] = {}
        self._master: dict[tuple[str, str], Any] = {}
        for address, model_type in devices:
            self.add(address, model_type)

    # -- devices and descriptions --------------------------------------------------------

    def add(self, address: str, model_type: str) -> list[dict[str, Any]]:
        """Pair a device; returns its descriptions (device first, then channels)."""
        if model_type not in MODELS:
            raise ValueError(f"unknown device model {model_type!r}; known: {sorted(MODELS)}")
        if address in self.devices or ":" in address:
            raise ValueError(f"address {address!r} is taken or malformed")
        device = Device(address, MODELS[model_type])
        self.devices[address] = device
        for index, channel in enumerate(device.model.channels):
            for key, spec in channel.values.items():
                self._values[f"{address}:{index}", key] = _start_value(spec)
            for key, spec in channel.master.items():
                self._master[f"{address}:{index}", key] = _start_value(spec)
        return self.device_descriptions(address)

    def device_descriptions(self, address: str) -> list[dict[str, Any]]:
        """Descriptions of one device and its channels."""
        device = self.devices[address]
        serial = _RADIO_SERIALS[device.interface]
        result = [device_description(device.model, address, serial)]
        result += [
            channel_description(device.model, address, index)
            for index in range(len(device.model.channels))
        ]
        return result

    def descriptions(self, interface: InterfaceName) -> list[dict[str, Any]]:
        """``listDevices``: every device of ``interface`` and its channels."""
        result: list[dict[str, Any]] = []
        for device in self.devices.values():
            if device.interface is interface:
                result += self.device_descriptions(device.address)
        return result

    def description(self, address: str) -> dict[str, Any]:
        """``getDeviceDescription`` of a device or channel address."""
        device, index = self._resolve(address)
        if index is None:
            return self.device_descriptions(device.address)[0]
        return channel_description(device.model, device.address, index)

    def interface_of(self, address: str) -> InterfaceName:
        """Which interface serves the device or channel at ``address``."""
        return self._resolve(address)[0].interface

    # -- paramsets and values ----------------------------------------------------------

    def paramset_description(self, address: str, key: str) -> dict[str, dict[str, Any]]:
        """``getParamsetDescription(address, key)``."""
        return paramset_description(self._specs(address, key))

    def paramset(self, address: str, key: str) -> dict[str, Any]:
        """``getParamset(address, key)``: the current values."""
        specs = self._specs(address, key)
        source = self._values if key == "VALUES" else self._master
        return {name: source[address, name] for name in specs}

    def get_value(self, address: str, key: str) -> Any:
        """``getValue(address, key)`` on the ``VALUES`` paramset."""
        self._spec(address, key)
        return self._values[address, key]

    def set_value(self, address: str, key: str, value: Any) -> list[ValueChange]:
        """A client's ``setValue``: only writable parameters; the value is coerced."""
        spec = self._spec(address, key)
        if not spec.operations & 2:
            raise InvalidParameterError(f"parameter {key} of {address} is not writable")
        return self.force(address, key, coerce(spec, value))

    def put_master(self, address: str, values: dict[str, Any]) -> None:
        """``putParamset(address, "MASTER", values)``."""
        specs = self._specs(address, "MASTER")
        for key, value in values.items():
            if key not in specs:
                raise InvalidParameterError(f"unknown MASTER parameter {key} of {address}")
            self._master[address, key] = coerce(specs[key], value)

    def force(self, address: str, key: str, value: Any) -> list[ValueChange]:
        """Store a value as the device reported it (any parameter), with side effects."""
        spec = self._spec(address, key)
        value = coerce(spec, value)
        changes = [ValueChange(self.interface_of(address), address, key, value)]
        self._values[address, key] = value
        changes += self._side_effects(address, key, value)
        return changes

    def _side_effects(self, address: str, key: str, value: Any) -> list[ValueChange]:
        device, index = self._resolve(address)
        if device.model.type == "HmIP-PS" and key == "STATE" and index in (2, 3, 4):
            return self.force(f"{device.address}:1", "STATE", value)
        if device.model.type == "HM-ES-PMSw1-Pl" and key == "STATE" and not value:
            channel = f"{device.address}:2"
            return [*self.force(channel, "POWER", 0.0), *self.force(channel, "CURRENT", 0.0)]
        return []

    # -- lookups -------------------------------------------------------------------------

    def _resolve(self, address: str) -> tuple[Device, int | None]:
        device_address, _, channel = address.partition(":")
        device = self.devices.get(device_address)
        if device is None:
            raise UnknownInstanceError(f"Unknown instance {address}")
        if not channel:
            return device, None
        if not channel.isdigit() or int(channel) >= len(device.model.channels):
            raise UnknownInstanceError(f"Unknown instance {address}")
        return device, int(channel)

    def _specs(self, address: str, key: str) -> dict[str, ParameterSpec]:
        device, index = self._resolve(address)
        if index is None:
            if key != "MASTER":
                raise UnknownParamsetError(f"Unknown paramset {key} of {address}")
            return dict(device.model.master)
        channel = device.model.channels[index]
        if key == "VALUES":
            return dict(channel.values)
        if key == "MASTER":
            return dict(channel.master)
        raise UnknownParamsetError(f"Unknown paramset {key} of {address}")

    def _spec(self, address: str, key: str) -> ParameterSpec:
        spec = self._specs(address, "VALUES").get(key)
        if spec is None:
            raise InvalidParameterError(f"Unknown parameter {key} of {address}")
        return spec


def _start_value(spec: ParameterSpec) -> Any:
    return spec.describe("", 0)["DEFAULT"]


def coerce(spec: ParameterSpec, value: Any) -> Any:
    """Bring ``value`` into the parameter's type and range, as the CCU's interfaces do."""
    try:
        if spec.type in ("BOOL", "ACTION"):
            if isinstance(value, str):
                return value.strip().lower() in ("1", "true", "on")
            return bool(value)
        if spec.type == "STRING":
            return str(value)
        if spec.type == "ENUM" and isinstance(value, str) and value in spec.value_list:
            return spec.value_list.index(value)
        number: float = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"value {value!r} does not fit {spec.type}") from exc
    described = spec.describe("", 0)
    number = min(max(number, described["MIN"]), described["MAX"])
    if spec.type == "FLOAT":
        return number
    return round(number)
