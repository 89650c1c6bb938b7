"""One simulated inverter over time: sun curve, counters, faults, Modbus semantics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from simulator.inverter.bus import InverterBus
from simulator.inverter.clock import ManualClock
from simulator.inverter.device import PendingConfiguration
from simulator.inverter.faults import apply_faults, parse_fault
from simulator.inverter.image import InverterModel, walk_models
from simulator.inverter.modbus import ModbusError, handle_request
from simulator.inverter.readings import OperatingState
from simulator.inverter.sun import Site, plane_irradiance, sun_position

MIDNIGHT = datetime(2026, 6, 21, 0, 0, tzinfo=UTC)
NOON = datetime(2026, 6, 21, 11, 0, tzinfo=UTC)


def make_bus(start: datetime, count: int = 2, seed: int = 5) -> tuple[InverterBus, ManualClock]:
    clock = ManualClock(start)
    return InverterBus.generate(count, seed=seed, clock=clock), clock


def test_fleet_is_deterministic_from_the_seed() -> None:
    first, _ = make_bus(NOON, 4, seed=9)
    again, _ = make_bus(NOON, 4, seed=9)
    other, _ = make_bus(NOON, 4, seed=10)
    assert first.describe() == again.describe()
    assert [i["serial"] for i in first.describe()] != [i["serial"] for i in other.describe()]
    assert len({i["serial"] for i in first.describe()}) == 4


def test_sun_position_in_berlin_at_midsummer() -> None:
    site = Site(latitude=52.52, longitude=13.40)
    noon = sun_position(site, datetime(2026, 6, 21, 11, 8, tzinfo=UTC))
    assert noon.elevation == pytest.approx(60.9, abs=1.0)
    assert noon.azimuth == pytest.approx(180, abs=5)
    night = sun_position(site, MIDNIGHT)
    assert night.elevation < 0
    assert plane_irradiance(site, night) == 0.0
    assert 850 < plane_irradiance(site, noon) < 1100


def test_day_curve_sleeps_at_night_and_counts_energy_monotonically() -> None:
    bus, clock = make_bus(MIDNIGHT)
    inverter = bus[1]
    night = inverter.readings()
    assert night.state is OperatingState.SLEEPING
    assert night.ac_power == 0.0
    assert all(m.voltage == 0.0 for m in night.mppts)
    energies = [night.energy_wh]
    peak = 0.0
    for _ in range(24 * 4):
        clock.advance(15 * 60)
        readings = inverter.readings()
        energies.append(readings.energy_wh)
        peak = max(peak, readings.ac_power)
    assert energies == sorted(energies)
    day_kwh_per_kw = (energies[-1] - energies[0]) / inverter.design.rated_power
    assert 4.0 < day_kwh_per_kw < 10.0
    assert peak <= inverter.design.rated_power


def test_noon_values_are_consistent() -> None:
    bus, _ = make_bus(NOON)
    r = bus[2].readings()
    assert r.state is OperatingState.MPPT
    assert r.ac_power > 0.5 * bus[2].design.rated_power
    assert r.dc_power > r.ac_power
    assert sum(v * a for v, a in zip(r.phase_voltages, r.phase_currents, strict=True)) == (
        pytest.approx(r.ac_power)
    )
    assert 49.9 < r.frequency < 50.1
    assert all(m.current * m.voltage == pytest.approx(m.power) for m in r.mppts)
    assert r.heatsink_temperature > r.cabinet_temperature


def test_clock_going_backwards_never_lowers_the_counter() -> None:
    bus, clock = make_bus(NOON)
    clock.advance(3600)
    later = bus[1].readings().energy_wh
    clock.set(NOON)
    assert bus[1].readings().energy_wh == later


def test_output_loss_is_exact() -> None:
    healthy, _ = make_bus(NOON)
    lossy, _ = make_bus(NOON)
    apply_faults(lossy, [parse_fault("1:loss=25")])
    assert lossy[1].readings().ac_power == pytest.approx(0.75 * healthy[1].readings().ac_power)


def test_stuck_registers_stay_while_the_counter_runs_on() -> None:
    bus, clock = make_bus(NOON)
    inverter = bus[1]
    inverter.freeze()
    frozen = inverter.image()
    clock.advance(1800)
    assert inverter.image() == frozen
    assert inverter.frozen
    inverter.unfreeze()
    thawed = inverter.image()
    wh = slice(70 + 24, 70 + 26)
    assert thawed[wh] != frozen[wh]
    assert thawed[wh] > frozen[wh]


def test_unknown_type_has_no_nameplate() -> None:
    bus, _ = make_bus(NOON)
    apply_faults(bus, [parse_fault("2:unknown-type")])
    assert [h.model_id for h in walk_models(bus[2].image())] == [1, 103, 122, 160, 0xFFFF]
    assert 120 in [h.model_id for h in walk_models(bus[1].image())]


def test_pending_configuration_wrong_until_reload_register_is_written() -> None:
    bus, _ = make_bus(NOON)
    inverter = bus[1]
    apply_faults(bus, [parse_fault("1:pending=wrong")])
    assert inverter.pending_configuration is PendingConfiguration.WRONG
    assert inverter.read_registers(40122, 4) == [120, 26, 4, 3000]
    request = bytes([6]) + (41000).to_bytes(2, "big") + (1).to_bytes(2, "big")
    assert bus.handle(1, request, "rtu") == request
    assert inverter.read_registers(40122, 4) == [120, 26, 4, inverter.design.rated_power]
    assert inverter.reload_count == 1


def test_pending_configuration_absent_until_reload_call() -> None:
    bus, _ = make_bus(NOON)
    apply_faults(bus, [parse_fault("1:pending")])
    assert 120 not in [h.model_id for h in walk_models(bus[1].image())]
    bus[1].reload_configuration()
    assert 120 in [h.model_id for h in walk_models(bus[1].image())]


def test_offline_and_unknown_units_per_transport() -> None:
    bus, _ = make_bus(NOON)
    read = bytes([3, 0x9C, 0x40, 0, 2])
    assert bus.handle(1, read, "tcp") == bytes([3, 4, 0x53, 0x75, 0x6E, 0x53])
    bus[1].set_offline()
    assert bus.handle(1, read, "tcp") is None
    assert bus.handle(1, read, "rtu") is None
    assert bus.handle(9, read, "rtu") is None
    assert bus.handle(9, read, "tcp") == bytes([0x83, 0x0B])
    bus[1].set_offline(False)
    assert bus.handle(1, read, "rtu") is not None


def test_broadcast_write_reaches_every_inverter_without_answer() -> None:
    bus, _ = make_bus(NOON, 3)
    for inverter in bus:
        inverter.pending_configuration = PendingConfiguration.ABSENT
    write = bytes([16, 0xA0, 0x28, 0, 1, 2, 0, 1])
    assert bus.handle(0, write, "rtu") is None
    assert [inv.reload_count for inv in bus] == [1, 1, 1]


@pytest.mark.parametrize(
    ("pdu", "answer"),
    [
        (bytes([3, 0x9C, 0x40, 0, 0]), bytes([0x83, 3])),  # count 0
        (bytes([3, 0x9C, 0x40, 0, 126]), bytes([0x83, 3])),  # count above 125
        (bytes([4, 0x9D, 0x30, 0, 10]), bytes([0x84, 2])),  # past the end model
        (bytes([3, 0, 0, 0, 1]), bytes([0x83, 2])),  # below the SunSpec base
        (bytes([3, 0xFF, 0xFF, 0, 2]), bytes([0x83, 2])),  # past 0xFFFF
        (bytes([6, 0x9C, 0x40, 0, 1]), bytes([0x86, 2])),  # read-only
        (bytes([16, 0xA0, 0x28, 0, 1, 3, 0, 1]), bytes([0x90, 3])),  # byte count mismatch
        (bytes([43, 14, 1, 0]), bytes([0xAB, 1])),  # device identification: not supported
        (bytes([3, 0x9C]), bytes([0x83, 3])),  # truncated
    ],
)
def test_modbus_exceptions(pdu: bytes, answer: bytes) -> None:
    bus, _ = make_bus(NOON)
    assert handle_request(bus[1], pdu) == answer


def test_float_model_image_and_bad_input() -> None:
    clock = ManualClock(NOON)
    bus = InverterBus.generate(1, seed=1, clock=clock, model=InverterModel.FLOAT)
    assert bus[1].read_registers(40070, 2) == [113, 60]
    with pytest.raises(ModbusError):
        bus[1].read_registers(40256, 3)
    with pytest.raises(ValueError, match="within"):
        bus[1].set_output_loss(120)
    with pytest.raises(ValueError, match="count"):
        InverterBus.generate(0, seed=1, clock=clock)
    with pytest.raises(ValueError, match="kind"):
        parse_fault("1:melted")
    with pytest.raises(ValueError, match="not on the bus"):
        apply_faults(bus, [parse_fault("7:offline")])
    with pytest.raises(ValueError, match="aware"):
        ManualClock(NOON.replace(tzinfo=None))
    assert clock.now() + timedelta(0) == NOON
