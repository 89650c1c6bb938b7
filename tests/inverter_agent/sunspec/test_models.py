"""Decoding of literal register images, model by model."""

from __future__ import annotations

import pytest

from inverter_agent.errors import SunSpecError
from inverter_agent.sunspec import (
    OperatingState,
    decode_common,
    decode_inverter,
    decode_mppt,
    decode_nameplate,
    decode_status,
)
from tests.inverter_agent.sunspec import images
from tests.inverter_agent.sunspec.images import data


def test_lengths_of_the_literal_images_match_their_l_register() -> None:
    for model in (
        images.COMMON,
        images.INVERTER_103,
        images.INVERTER_113,
        images.NAMEPLATE_120,
        images.STATUS_122,
        images.MPPT_160,
    ):
        assert len(model) == 2 + model[1], model[0]


def test_common_model() -> None:
    common = decode_common(data(images.COMMON))
    assert common.manufacturer == "Acme Solar"
    assert common.model == "AS-6000-3"
    assert common.options is None  # all zero
    assert common.version == "1.2.3"
    assert common.serial == "SN-0042"
    assert common.device_address == 1


def test_integer_inverter_model_103_with_scale_factors() -> None:
    inv = decode_inverter(103, data(images.INVERTER_103))
    assert inv.model_id == 103
    assert inv.phases == 3
    assert inv.a == 12.34
    assert inv.a_ph == (4.12, 4.11, 4.11)
    assert inv.v_ph_ph == (400.2, 399.9, 400.1)
    assert inv.v_ph == (230.1, 230.9, None)
    assert inv.w == 5000.0
    assert inv.hz == 50.02
    assert inv.va == 5100.0
    assert inv.var == -150.0
    assert inv.pf is None
    assert inv.wh == 1234560.0
    assert inv.dc_a is None
    assert inv.dc_v == 650.2
    assert inv.dc_w == 5200.0
    assert (inv.tmp_cab, inv.tmp_snk, inv.tmp_trns, inv.tmp_ot) == (45.2, -50.0, None, None)
    assert inv.state is OperatingState.MPPT
    assert inv.vendor_state is None
    assert inv.events == 0x81
    assert inv.events2 == 0
    assert inv.vendor_events == (None, None, None, None)


def test_float_inverter_model_113() -> None:
    inv = decode_inverter(113, data(images.INVERTER_113))
    assert inv.phases == 3
    assert inv.a == 12.5
    assert inv.a_ph == (7.2, 7.1, 7.2)
    assert inv.v_ph_ph == (400.1, None, None)
    assert inv.v_ph == (230.9, 230.9, 230.9)
    assert (inv.w, inv.hz, inv.va, inv.var, inv.pf) == (5000.0, 50.02, 5100.0, -150.0, 98.0)
    assert inv.wh == 1234567.0
    assert (inv.dc_a, inv.dc_v, inv.dc_w) == (None, 410.0, 5125.0)
    assert (inv.tmp_cab, inv.tmp_snk) == (41.5, None)
    assert inv.state is OperatingState.FAULT
    assert inv.vendor_state == 12
    assert inv.vendor_events == (0x10, None, None, None)


@pytest.mark.parametrize("model_id", [101, 102])
def test_single_and_split_phase_share_the_layout(model_id: int) -> None:
    inv = decode_inverter(model_id, data(images.INVERTER_103))
    assert inv.phases == model_id - 100
    assert inv.w == 5000.0


def test_unknown_operating_state_is_none() -> None:
    regs = data(images.INVERTER_103)
    regs[36] = 42
    assert decode_inverter(103, regs).state is None


def test_acc32_zero_means_not_implemented() -> None:
    regs = data(images.INVERTER_103)
    regs[22:24] = [0, 0]
    assert decode_inverter(103, regs).wh is None


def test_out_of_range_scale_factor_is_treated_as_not_implemented() -> None:
    regs = data(images.INVERTER_103)
    regs[13] = 11  # W_SF outside -10..10
    assert decode_inverter(103, regs).w is None


def test_nameplate_model_120() -> None:
    plate = decode_nameplate(data(images.NAMEPLATE_120))
    assert plate.der_type == 4
    assert plate.w_rtg == 6000.0
    assert plate.va_rtg == 6000.0
    assert plate.var_rtg == (3000.0, 3000.0, -3000.0, -3000.0)
    assert plate.a_rtg == 8.7
    assert plate.pf_rtg == (0.8, 0.8, None, None)
    assert (plate.wh_rtg, plate.ahr_rtg, plate.max_cha_rte, plate.max_dis_cha_rte) == (
        None,
        None,
        None,
        None,
    )


def test_status_model_122() -> None:
    status = decode_status(data(images.STATUS_122))
    assert (status.pv_conn, status.stor_conn, status.ecp_conn) == (7, None, 1)
    assert status.act_wh == 123456
    assert status.act_vah is None
    assert status.act_varh == (5, None, None, 7)
    assert status.var_aval is None
    assert status.w_aval == 4800.0
    assert status.st_set_lim_msk == 1
    assert status.st_act_ctl is None
    assert status.tm_src == "NTP"
    assert status.tms is None
    assert status.rt_st == 0
    assert status.ris == 25_000_000.0


def test_mppt_model_160_with_two_modules() -> None:
    mppt = decode_mppt(data(images.MPPT_160))
    assert mppt.events == 0
    assert mppt.timestamp_period is None
    one, two = mppt.modules
    assert (one.input_id, one.label) == (1, "PV1")
    assert (one.dc_a, one.dc_v, one.dc_w, one.dc_wh) == (8.12, 320.5, 2602.0, 12345.0)
    assert one.tms == 0x2E5C2A00
    assert one.tmp == 38
    assert one.state is OperatingState.MPPT
    assert (two.input_id, two.label) == (2, "PV2")
    assert (two.dc_a, two.dc_v, two.dc_w, two.dc_wh) == (None, 319.0, 2598.0, None)
    assert (two.tms, two.tmp) == (None, None)
    assert two.state is OperatingState.SLEEPING
    assert two.events == 0x80


def test_mppt_count_follows_length_when_n_is_not_implemented() -> None:
    regs = data(images.MPPT_160)
    regs[6] = 0xFFFF
    assert len(decode_mppt(regs).modules) == 2


def test_mppt_n_larger_than_the_model_is_an_error() -> None:
    regs = data(images.MPPT_160)
    regs[6] = 3
    with pytest.raises(SunSpecError, match="N=3"):
        decode_mppt(regs)


def test_truncated_model_is_an_error() -> None:
    with pytest.raises(SunSpecError, match="model 103"):
        decode_inverter(103, data(images.INVERTER_103)[:30])


def test_not_an_inverter_model() -> None:
    with pytest.raises(SunSpecError, match="not an inverter model"):
        decode_inverter(120, data(images.NAMEPLATE_120))


def test_register_values_must_be_16_bit() -> None:
    regs = data(images.NAMEPLATE_120)
    regs[0] = 0x10000
    with pytest.raises(SunSpecError, match="out of"):
        decode_nameplate(regs)
