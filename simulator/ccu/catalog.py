"""Device models of the simulated CCU: channels, parameters and their descriptions.

Pure data and pure functions. The shapes follow what a real CCU's interface processes
(``rfd`` for BidCos-RF, ``crRFD`` for HmIP-RF) return over XML-RPC:

- a device description is a struct with ``ADDRESS``, ``TYPE``, ``PARENT``, ``CHILDREN``,
  ``PARAMSETS``, ``FLAGS``, ``VERSION``, ``FIRMWARE``, ``RX_MODE``, ...; a channel description
  has ``PARENT_TYPE``, ``INDEX``, ``DIRECTION``, ``LINK_SOURCE_ROLES``, ``LINK_TARGET_ROLES``;
- a paramset description maps each parameter to ``TYPE``, ``OPERATIONS`` (1 read, 2 write,
  4 event), ``FLAGS``, ``DEFAULT``, ``MIN``, ``MAX``, ``UNIT``, ``ID``, ``TAB_ORDER`` and, for
  enumerations, ``VALUE_LIST``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

__all__ = [
    "MODELS",
    "ChannelSpec",
    "DeviceModel",
    "InterfaceName",
    "ParameterSpec",
    "channel_description",
    "device_description",
    "paramset_description",
]

READ, WRITE, EVENT = 1, 2, 4


class InterfaceName(StrEnum):
    """The radio interfaces of a CCU, by their real names."""

    BIDCOS_RF = "BidCos-RF"
    HMIP_RF = "HmIP-RF"


@dataclass(frozen=True, slots=True, kw_only=True)
class ParameterSpec:
    """One parameter of a paramset."""

    type: str
    """``BOOL``, ``FLOAT``, ``INTEGER``, ``ENUM``, ``ACTION`` or ``STRING``."""
    operations: int = READ | EVENT
    """Bit set of read (1), write (2) and event (4)."""
    default: Any = None
    """Value after pairing; also the simulator's start value unless a behaviour sets one."""
    min: Any = None
    """Lowest value (index for ``ENUM``)."""
    max: Any = None
    """Highest value (index for ``ENUM``)."""
    unit: str = ""
    """Unit as the CCU shows it (``W``, ``Wh``, ``°C``, ``%``)."""
    value_list: tuple[str, ...] = ()
    """Names of the ``ENUM`` values, by index."""
    flags: int = 1
    """1 visible, 2 internal, 8 service, 16 sticky."""

    def describe(self, name: str, tab_order: int) -> dict[str, Any]:
        """The XML-RPC ``getParamsetDescription`` entry of this parameter."""
        defaults: dict[str, tuple[Any, Any, Any]] = {
            "BOOL": (False, False, True),
            "FLOAT": (0.0, 0.0, 1.0),
            "INTEGER": (0, 0, 255),
            "ENUM": (0, 0, max(len(self.value_list) - 1, 0)),
            "ACTION": (False, False, True),
            "STRING": ("", "", ""),
        }
        default, low, high = defaults[self.type]
        entry: dict[str, Any] = {
            "TYPE": self.type,
            "OPERATIONS": self.operations,
            "FLAGS": self.flags,
            "DEFAULT": default if self.default is None else self.default,
            "MIN": low if self.min is None else self.min,
            "MAX": high if self.max is None else self.max,
            "UNIT": self.unit,
            "ID": name,
            "TAB_ORDER": tab_order,
        }
        if self.type == "ENUM":
            entry["VALUE_LIST"] = list(self.value_list)
        return entry


def _params(**specs: ParameterSpec) -> Mapping[str, ParameterSpec]:
    return MappingProxyType(specs)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelSpec:
    """One channel of a device model."""

    type: str
    """Channel type, e.g. ``SWITCH`` or ``HEATING_CLIMATECONTROL_TRANSCEIVER``."""
    values: Mapping[str, ParameterSpec] = field(default_factory=_params)
    """The ``VALUES`` paramset."""
    master: Mapping[str, ParameterSpec] = field(default_factory=_params)
    """The ``MASTER`` paramset (configuration)."""
    direction: int = 0
    """0 none, 1 sender, 2 receiver."""
    flags: int = 1
    """1 visible, 2 internal (the maintenance channel has 3)."""
    link_source_roles: str = ""
    """Roles this channel can be the sender of a direct link for."""
    link_target_roles: str = ""
    """Roles this channel can be the receiver of a direct link for."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceModel:
    """A device type: its interface, firmware and channels (index = position)."""

    type: str
    """Model name as printed on the device, e.g. ``HmIP-eTRV``."""
    interface: InterfaceName
    """The radio interface that serves it."""
    firmware: str
    """Firmware version string."""
    channels: tuple[ChannelSpec, ...]
    """Channel 0 (maintenance) first."""
    rx_mode: int = 1
    """1 always on, 2 burst, 4 config, 8 wakeup, 16 lazy config."""
    master: Mapping[str, ParameterSpec] = field(default_factory=_params)
    """The device-level ``MASTER`` paramset."""


def device_description(model: DeviceModel, address: str, radio_serial: str) -> dict[str, Any]:
    """The XML-RPC description of a device (the parent, without channels)."""
    description: dict[str, Any] = {
        "ADDRESS": address,
        "TYPE": model.type,
        "PARENT": "",
        "CHILDREN": [f"{address}:{index}" for index in range(len(model.channels))],
        "PARAMSETS": ["MASTER"],
        "FLAGS": 1,
        "VERSION": 1,
        "FIRMWARE": model.firmware,
        "AVAILABLE_FIRMWARE": model.firmware,
        "UPDATABLE": 1,
        "FIRMWARE_UPDATE_STATE": "UP_TO_DATE",
        "INTERFACE": radio_serial,
        "RX_MODE": model.rx_mode,
        "ROAMING": 0,
        "RF_ADDRESS": 0,
    }
    if model.interface is InterfaceName.HMIP_RF:
        description["SUBTYPE"] = model.type.removeprefix("HmIP-")
        del description["RF_ADDRESS"]
    return description


def channel_description(model: DeviceModel, address: str, index: int) -> dict[str, Any]:
    """The XML-RPC description of channel ``index`` of the device at ``address``."""
    spec = model.channels[index]
    paramsets = ["MASTER", "VALUES"]
    if spec.link_source_roles or spec.link_target_roles:
        paramsets.append("LINK")
    return {
        "ADDRESS": f"{address}:{index}",
        "TYPE": spec.type,
        "PARENT": address,
        "PARENT_TYPE": model.type,
        "INDEX": index,
        "PARAMSETS": paramsets,
        "FLAGS": spec.flags,
        "VERSION": 1,
        "DIRECTION": spec.direction,
        "AES_ACTIVE": 0,
        "LINK_SOURCE_ROLES": spec.link_source_roles,
        "LINK_TARGET_ROLES": spec.link_target_roles,
    }


def paramset_description(specs: Mapping[str, ParameterSpec]) -> dict[str, dict[str, Any]]:
    """The XML-RPC ``getParamsetDescription`` result for a paramset."""
    return {name: spec.describe(name, order) for order, (name, spec) in enumerate(specs.items())}


# -- the parameters the models share ------------------------------------------------------

_RW_EVENT = READ | WRITE | EVENT
_UNREACH = ParameterSpec(type="BOOL", flags=9)
_CONFIG_PENDING = ParameterSpec(type="BOOL", flags=9)
_LOW_BAT = ParameterSpec(type="BOOL", flags=9)
_RSSI = ParameterSpec(type="INTEGER", min=-128, max=127, default=-65)

_BIDCOS_MAINTENANCE = ChannelSpec(
    type="MAINTENANCE",
    flags=3,
    values=_params(UNREACH=_UNREACH, STICKY_UNREACH=_UNREACH, CONFIG_PENDING=_CONFIG_PENDING),
)
_HMIP_MAINTENANCE = ChannelSpec(
    type="MAINTENANCE",
    flags=3,
    values=_params(
        UNREACH=_UNREACH,
        CONFIG_PENDING=_CONFIG_PENDING,
        DUTY_CYCLE=ParameterSpec(type="BOOL", flags=9),
        RSSI_DEVICE=_RSSI,
        RSSI_PEER=_RSSI,
    ),
)
_HMIP_BATTERY_MAINTENANCE = ChannelSpec(
    type="MAINTENANCE",
    flags=3,
    values=_params(
        **_HMIP_MAINTENANCE.values,
        LOW_BAT=_LOW_BAT,
        OPERATING_VOLTAGE=ParameterSpec(type="FLOAT", min=0.0, max=25.2, default=3.0, unit="V"),
    ),
)
_SWITCH_STATE = ParameterSpec(type="BOOL", operations=_RW_EVENT)
_SWITCH_MASTER = _params(
    POWERUP_ACTION=ParameterSpec(
        type="ENUM", operations=READ | WRITE, value_list=("POWERUP_OFF", "POWERUP_ON")
    ),
)


def _power_channel() -> ChannelSpec:
    return ChannelSpec(
        type="POWERMETER",
        values=_params(
            POWER=ParameterSpec(type="FLOAT", max=3680.0, unit="W"),
            ENERGY_COUNTER=ParameterSpec(type="FLOAT", max=838860.7, unit="Wh"),
            CURRENT=ParameterSpec(type="FLOAT", max=16000.0, unit="mA"),
            VOLTAGE=ParameterSpec(type="FLOAT", max=254.0, default=230.0, unit="V"),
            FREQUENCY=ParameterSpec(type="FLOAT", min=48.72, max=51.27, default=50.0, unit="Hz"),
            BOOT=ParameterSpec(type="BOOL"),
        ),
    )


def _condition(kind: str) -> ChannelSpec:
    return ChannelSpec(
        type=f"CONDITION_{kind}",
        direction=1,
        values=_params(DECISION_VALUE=ParameterSpec(type="FLOAT", operations=READ | EVENT)),
        link_source_roles="SWITCH KEYMATIC WINMATIC",
    )


_VIRTUAL_RECEIVER = ChannelSpec(
    type="SWITCH_VIRTUAL_RECEIVER",
    direction=2,
    values=_params(STATE=_SWITCH_STATE),
    master=_SWITCH_MASTER,
    link_target_roles="SWITCH",
)

MODELS: Mapping[str, DeviceModel] = MappingProxyType(
    {
        "HM-LC-Sw1-Pl": DeviceModel(
            type="HM-LC-Sw1-Pl",
            interface=InterfaceName.BIDCOS_RF,
            firmware="1.9",
            channels=(
                _BIDCOS_MAINTENANCE,
                ChannelSpec(
                    type="SWITCH",
                    direction=2,
                    values=_params(STATE=_SWITCH_STATE, WORKING=ParameterSpec(type="BOOL")),
                    master=_SWITCH_MASTER,
                    link_target_roles="SWITCH",
                ),
            ),
        ),
        "HM-ES-PMSw1-Pl": DeviceModel(
            type="HM-ES-PMSw1-Pl",
            interface=InterfaceName.BIDCOS_RF,
            firmware="2.8",
            channels=(
                _BIDCOS_MAINTENANCE,
                ChannelSpec(
                    type="SWITCH",
                    direction=2,
                    values=_params(STATE=_SWITCH_STATE, WORKING=ParameterSpec(type="BOOL")),
                    master=_SWITCH_MASTER,
                    link_target_roles="SWITCH WEATHER_CS WCS_TIPTRONIC_SENSOR",
                ),
                _power_channel(),
                _condition("POWER"),
                _condition("CURRENT"),
                _condition("VOLTAGE"),
                _condition("FREQUENCY"),
            ),
        ),
        "HmIP-PS": DeviceModel(
            type="HmIP-PS",
            interface=InterfaceName.HMIP_RF,
            firmware="1.10.10",
            channels=(
                _HMIP_MAINTENANCE,
                ChannelSpec(
                    type="SWITCH_TRANSMITTER", values=_params(STATE=ParameterSpec(type="BOOL"))
                ),
                _VIRTUAL_RECEIVER,
                _VIRTUAL_RECEIVER,
                _VIRTUAL_RECEIVER,
            ),
        ),
        "HmIP-eTRV": DeviceModel(
            type="HmIP-eTRV",
            interface=InterfaceName.HMIP_RF,
            firmware="2.2.8",
            rx_mode=16 | 4 | 2,
            channels=(
                _HMIP_BATTERY_MAINTENANCE,
                ChannelSpec(
                    type="HEATING_CLIMATECONTROL_TRANSCEIVER",
                    direction=2,
                    values=_params(
                        ACTUAL_TEMPERATURE=ParameterSpec(
                            type="FLOAT", min=-3276.8, max=3276.7, unit="°C"
                        ),
                        SET_POINT_TEMPERATURE=ParameterSpec(
                            type="FLOAT", operations=_RW_EVENT, min=4.5, max=30.5, unit="°C"
                        ),
                        LEVEL=ParameterSpec(type="FLOAT", min=0.0, max=1.01, unit="%"),
                        SET_POINT_MODE=ParameterSpec(
                            type="ENUM", value_list=("AUTOMATIC", "MANUAL", "PARTY")
                        ),
                        BOOST_MODE=ParameterSpec(type="BOOL", operations=_RW_EVENT),
                        VALVE_STATE=ParameterSpec(
                            type="ENUM",
                            default=4,
                            value_list=(
                                "STATE_NOT_AVAILABLE",
                                "RUN_TO_START",
                                "WAIT_FOR_ADAPTION",
                                "ADAPTION_IN_PROGRESS",
                                "ADAPTION_DONE",
                                "TOO_TIGHT",
                                "ADJUSTMENT_TOO_BIG",
                                "ADJUSTMENT_TOO_SMALL",
                                "ERROR_POSITION",
                            ),
                        ),
                    ),
                    link_target_roles="HEATING_CLIMATECONTROL_TRANSCEIVER",
                ),
            ),
        ),
        "HmIP-SWDO": DeviceModel(
            type="HmIP-SWDO",
            interface=InterfaceName.HMIP_RF,
            firmware="1.2.12",
            rx_mode=4 | 2,
            channels=(
                _HMIP_BATTERY_MAINTENANCE,
                ChannelSpec(
                    type="SHUTTER_CONTACT_TRANSCEIVER",
                    direction=1,
                    values=_params(STATE=ParameterSpec(type="ENUM", value_list=("CLOSED", "OPEN"))),
                    link_source_roles="SHUTTER_CONTACT",
                ),
            ),
        ),
    }
)
