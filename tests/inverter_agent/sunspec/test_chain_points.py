"""The model chain behind the SunS marker, and the typed points with their sentinels."""

from __future__ import annotations

import pytest

from inverter_agent.errors import SunSpecError
from inverter_agent.sunspec import ChainWalker, is_marker, model_data, parse_chain
from inverter_agent.sunspec.points import Registers, scaled
from tests.inverter_agent.sunspec import images


def test_chain_lists_every_model_including_unknown_ones() -> None:
    layout = parse_chain(images.IMAGE, base=images.BASE)
    assert layout.base == 40000
    assert layout.model_ids == (1, 103, 120, 126, 122, 160)
    common, inverter, plate, unknown, status, mppt = layout.models
    assert (common.address, common.length, common.data_address) == (40002, 66, 40004)
    assert (inverter.address, inverter.length) == (40070, 50)
    assert (plate.address, unknown.address, status.address) == (40122, 40150, 40156)
    assert (mppt.address, mppt.length, mppt.end) == (40202, 48, 40252)
    assert layout.find(101, 102, 103) == inverter
    assert layout.find(113) is None


def test_model_data_slices_the_image() -> None:
    layout = parse_chain(images.IMAGE, base=images.BASE)
    block = layout.find(122)
    assert block is not None
    assert list(model_data(images.IMAGE, block, image_start=images.BASE)) == images.STATUS_122[2:]


def test_marker_at_base_zero_inside_a_larger_image() -> None:
    image = [0x1234] * 10 + [0x5375, 0x6E53, *images.COMMON, *images.END]
    layout = parse_chain(image, base=10, image_start=0)
    assert layout.model_ids == (1,)


def test_missing_marker() -> None:
    assert not is_marker([0x5375, 0x6E54])
    with pytest.raises(SunSpecError, match="no SunS marker at 40000"):
        parse_chain([0, 0, *images.COMMON, *images.END], base=40000)


def test_chain_without_end_model() -> None:
    with pytest.raises(SunSpecError, match="ends inside the model chain"):
        parse_chain([0x5375, 0x6E53, *images.COMMON], base=0)


def test_first_model_must_be_common() -> None:
    walker = ChainWalker(0)
    with pytest.raises(SunSpecError, match="not 1"):
        walker.feed(103, 50)


def test_chain_past_the_register_space() -> None:
    walker = ChainWalker(50000)
    walker.feed(1, 66)
    with pytest.raises(SunSpecError, match="past the register space"):
        walker.feed(64000, 0xFFF0)


def test_walker_reports_next_header_address_and_end() -> None:
    walker = ChainWalker(40000)
    assert walker.address == 40002
    walker.feed(1, 66)
    assert walker.address == 40070
    assert not walker.done
    walker.feed(0xFFFF, 0)
    assert walker.layout().model_ids == (1,)
    with pytest.raises(SunSpecError, match="already ended"):
        walker.feed(1, 66)
    with pytest.raises(SunSpecError, match="no end model"):
        ChainWalker(0).layout()


def regs(*values: int) -> Registers:
    return Registers(values, model_id=0, length=len(values))


@pytest.mark.parametrize(
    ("method", "values", "expected"),
    [
        ("uint16", (0xFFFF,), None),
        ("uint16", (0xFFFE,), 0xFFFE),
        ("int16", (0x8000,), None),
        ("int16", (0x8001,), -32767),
        ("int16", (0x7FFF,), 32767),
        ("sunssf", (0x8000,), None),
        ("sunssf", (0xFFF6,), -10),
        ("sunssf", (0xFFF5,), None),
        ("uint32", (0xFFFF, 0xFFFF), None),
        ("uint32", (0x0001, 0x0000), 65536),
        ("acc32", (0, 0), None),
        ("acc32", (0, 1), 1),
        ("acc64", (0, 0, 0, 0), None),
        ("acc64", (1, 0, 0, 0), 1 << 48),
        ("float32", (0x7FC0, 0x0000), None),
        ("float32", (0x7F80, 0x0000), None),
        ("float32", (0x3F80, 0x0000), 1.0),
        ("bitfield32", (0xFFFF, 0xFFFF), None),
        ("bitfield16", (0xFFFF,), None),
        ("enum16", (0xFFFF,), None),
    ],
)
def test_not_implemented_sentinels(
    method: str, values: tuple[int, ...], expected: float | None
) -> None:
    assert getattr(regs(*values), method)(0) == expected


def test_strings() -> None:
    assert regs(0, 0, 0).string(0, 3) is None
    assert regs(0x4869, 0x2100, 0x4142).string(0, 3) == "Hi!"
    assert regs(0x2041, 0x2020).string(0, 2) == "A"


@pytest.mark.parametrize(
    ("value", "sf", "expected"),
    [(2301, -1, 230.1), (5002, -2, 50.02), (51, 2, 5100.0), (7, 0, 7.0), (None, 0, None)],
)
def test_scaled(value: int | None, sf: int | None, expected: float | None) -> None:
    assert scaled(value, sf) == expected
    assert scaled(value if value is not None else 1, None) is None
