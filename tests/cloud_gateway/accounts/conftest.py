"""Fixtures of the accounts tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from simulator.vies import Registration, ViesSimulator


@pytest.fixture
async def vies() -> AsyncIterator[ViesSimulator]:
    """The simulated VIES service, knowing one German company's VAT ID."""
    sim = ViesSimulator(
        registrations={"DE147167387": Registration("AEI Power GmbH", "Uracherstr. 91, Metzingen")}
    )
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()
