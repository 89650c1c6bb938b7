"""``simulator satellite``: the simulated provider's pre-check API as a separate process."""

from __future__ import annotations

import asyncio
import signal
import sys
from decimal import Decimal

import pytest

from cloud_gateway.contracts.errors import PrecheckRefusedError, ProviderUnavailableError
from cloud_gateway.contracts.provider import HttpServiceProvider, Site


async def test_the_satellite_subcommand_serves_its_coverage() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simulator.cli", "satellite", "--port", "0",
        "--coverage", "47,55,5,15", "--log-level", "WARNING",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        async with asyncio.timeout(20):
            line = (await process.stdout.readline()).decode()
        assert line.startswith("simulator satellite: http://127.0.0.1:"), line
        url = line.split(": ", 1)[1].strip().removesuffix("/v1/precheck")
        provider = HttpServiceProvider(url, 5.0)
        accepted = await provider.precheck(
            "satellite-uplink", Site(latitude=Decimal("53.2"), longitude=Decimal("7.4"))
        )
        assert accepted.reference == "SIM-PC-00000001"
        with pytest.raises(PrecheckRefusedError, match="outside_coverage"):  # Vienna: east of 15
            await provider.precheck(
                "satellite-uplink", Site(latitude=Decimal("48.2"), longitude=Decimal("16.4"))
            )
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            await process.communicate()
    assert process.returncode == 0
    with pytest.raises(ProviderUnavailableError):  # nobody listens any more
        await provider.precheck(
            "satellite-uplink", Site(latitude=Decimal("53.2"), longitude=Decimal("7.4"))
        )
