"""AE SiteLink licences with literal dates: trial, licence, power increase, renewal offer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from cloud_gateway.entitlements.plant_rules import (
    licence_status,
    licence_window,
    on_power_change,
    plant_trial,
)
from cloud_gateway.entitlements.windows import WhyNot, entitlement_at
from cloud_gateway.localdays import local_instant

ACTIVATED = datetime(2026, 3, 27, 15, 0, tzinfo=UTC)  # Friday before the spring DST weekend
TRIAL_END = datetime(2026, 5, 6, 22, 0, tzinfo=UTC)  # 7 May 00:00 CEST


def test_forty_day_trial_from_first_activation_across_dst() -> None:
    trial = plant_trial(ACTIVATED)
    assert trial.end == TRIAL_END
    assert licence_status([trial], TRIAL_END - timedelta(minutes=1)).entitled
    status = licence_status([trial], TRIAL_END)
    assert not status.entitled
    assert status.why_not is WhyNot.EXPIRED


def test_licence_paid_during_trial_follows_it() -> None:
    trial = plant_trial(ACTIVATED)
    lic = licence_window([trial], datetime(2026, 4, 10, tzinfo=UTC), 365, 10_000, "order:9")
    assert lic.start == TRIAL_END
    assert lic.end == datetime(2027, 5, 6, 22, 0, tzinfo=UTC)
    assert entitlement_at([trial, lic], ACTIVATED).until == lic.end


def test_only_365_or_730_days() -> None:
    with pytest.raises(ValueError, match="365 or 730"):
        licence_window([], ACTIVATED, 100, 10_000, "x")


def test_power_increase_ends_the_licence_and_credits_the_rest() -> None:
    trial = plant_trial(ACTIVATED)
    lic = licence_window([trial], datetime(2026, 4, 10, tzinfo=UTC), 365, 10_000, "order:9")
    at = datetime(2026, 8, 31, 12, 0, tzinfo=UTC)
    assert on_power_change([trial, lic], 10_000, at).ended == ()
    change = on_power_change([trial, lic], 12_000, at)
    (ended,) = change.ended
    assert ended.ended_at == at
    assert not entitlement_at([trial, ended], at).entitled
    (credit,) = change.credits
    assert credit.total_days == 365
    assert credit.remaining_days == 249  # 31 Aug 2026 .. 6 May 2027
    assert credit.fraction == Decimal(249) / Decimal(365)
    assert credit.value(Decimal("120.00")) == Decimal("81.86")
    new = licence_window([trial, ended], at, 365, 12_000, "order:10", start=at)
    assert new.end == local_instant(date(2027, 9, 1))
    assert entitlement_at([trial, ended, new], at).entitled


def test_a_future_licence_is_credited_in_full() -> None:
    trial = plant_trial(ACTIVATED)
    lic = licence_window([trial], datetime(2026, 4, 10, tzinfo=UTC), 730, 10_000, "order:9")
    (credit,) = on_power_change([trial, lic], 15_000, datetime(2026, 4, 20, tzinfo=UTC)).credits
    assert credit.remaining_days == credit.total_days == 730
    assert credit.value(Decimal("199.99")) == Decimal("199.99")


def test_renew_offered_from_forty_days_before_the_end() -> None:
    lic = licence_window([], ACTIVATED, 365, 10_000, "order:1")
    assert lic.end == local_instant(date(2027, 3, 28))  # first full day 28 March 2026 + 365
    day_before = licence_status([lic], local_instant(date(2027, 2, 15)))
    assert not day_before.renew_offered
    first = licence_status([lic], local_instant(date(2027, 2, 16)))
    assert first.renew_offered
    assert first.last_day == date(2027, 3, 27)
    assert first.days_left == 40
