"""The pure core of the simulated CCU: catalog, device store, live behaviour."""

from __future__ import annotations

import pytest

from simulator.ccu import behaviour
from simulator.ccu.catalog import MODELS, InterfaceName
from simulator.ccu.config import DEFAULT_DEVICES, CcuConfig, PairedDevice
from simulator.ccu.devices import DeviceStore, coerce
from simulator.ccu.errors import InvalidParameterError, UnknownInstanceError

METER = "MEQ0123402"
TRV = "000A18A9A64DAD"


def fresh(seed: int = 1) -> DeviceStore:
    store = DeviceStore(((d.address, d.type) for d in DEFAULT_DEVICES), seed=seed)
    behaviour.initialise(store)
    return store


def run(store: DeviceStore, steps: int) -> list[tuple[str, str, object]]:
    trace = []
    for _ in range(steps):
        trace += [(c.address, c.key, c.value) for c in behaviour.step(store, 30.0)]
    return trace


def test_same_seed_same_values() -> None:
    assert run(fresh(5), 50) == run(fresh(5), 50)
    assert run(fresh(5), 50) != run(fresh(6), 50)


def test_every_model_is_described_with_the_real_keys() -> None:
    store = fresh()
    for interface in InterfaceName:
        for entry in store.descriptions(interface):
            assert {"ADDRESS", "TYPE", "PARENT", "PARAMSETS", "FLAGS", "VERSION"} <= set(entry)
            if entry["PARENT"]:
                assert {"PARENT_TYPE", "INDEX", "DIRECTION"} <= set(entry)
            else:
                assert MODELS[entry["TYPE"]].interface is interface
                assert {"CHILDREN", "FIRMWARE", "RX_MODE"} <= set(entry)


def test_energy_counter_integrates_power() -> None:
    store = fresh()
    before = store.get_value(f"{METER}:2", "ENERGY_COUNTER")
    run(store, 120)  # one hour
    after = store.get_value(f"{METER}:2", "ENERGY_COUNTER")
    assert 15.0 < after - before < 260.0


def test_switching_the_meter_off_drops_power() -> None:
    store = fresh()
    changes = store.set_value(f"{METER}:1", "STATE", False)
    assert ("POWER", 0.0) in [(c.key, c.value) for c in changes]
    run(store, 3)
    assert store.get_value(f"{METER}:2", "POWER") == 0.0


def test_room_warms_up_to_the_set_point() -> None:
    store = fresh()
    store.set_value(f"{TRV}:1", "SET_POINT_TEMPERATURE", 22.0)
    assert store.get_value(f"{TRV}:1", "LEVEL") > 0
    run(store, 240)  # two hours
    assert store.get_value(f"{TRV}:1", "ACTUAL_TEMPERATURE") == pytest.approx(22.0, abs=0.2)
    assert store.get_value(f"{TRV}:1", "LEVEL") <= 0.1


def test_window_moves_now_and_then() -> None:
    trace = run(fresh(), 2000)
    assert any(key == "STATE" and address.startswith("0000D3C99C3C93") for address, key, _ in trace)


def test_errors() -> None:
    store = fresh()
    with pytest.raises(UnknownInstanceError):
        store.get_value("XXX0000000:1", "STATE")
    with pytest.raises(UnknownInstanceError):
        store.get_value(f"{TRV}:9", "STATE")
    with pytest.raises(InvalidParameterError):
        store.set_value(f"{TRV}:1", "ACTUAL_TEMPERATURE", 20.0)
    with pytest.raises(ValueError, match="unknown device model"):
        store.add("NEQ0000001", "HM-Nope")


def test_coerce() -> None:
    channel = MODELS["HmIP-eTRV"].channels[1].values
    assert coerce(channel["SET_POINT_TEMPERATURE"], "21") == 21.0
    assert coerce(channel["SET_POINT_TEMPERATURE"], 2) == 4.5
    assert coerce(channel["BOOST_MODE"], "false") is False
    assert coerce(channel["VALVE_STATE"], "ADAPTION_DONE") == 4
    with pytest.raises(InvalidParameterError):
        coerce(channel["SET_POINT_TEMPERATURE"], "warm")


def test_config_rejects_unknown_models() -> None:
    with pytest.raises(ValueError, match="unknown device models"):
        CcuConfig(devices=(PairedDevice(address="NEQ0000001", type="HM-Nope"),))
    with pytest.raises(ValueError, match="webui_port"):
        CcuConfig(webui_port=2**17)
