"""Security review item 4: no global pairing lockout.

200 wrong pairing codes from 20 account/address pairs used to lock every owner out of pairing
for 15 minutes, right codes included. Now wrong codes count per source address and per
account only: the attackers exhaust their own budgets, an honest owner still pairs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.config import EnrolmentConfig
from cloud_gateway.devices.model import DeviceKind
from cloud_gateway.store import Store
from cloud_gateway.tunnels.device_ca import DeviceCa
from cloud_gateway.tunnels.enrolment import EnrolmentService, RateLimitedError
from tests.reliability.report import pick, record
from tests.support.tunnel_device import make_csr
from tunnel.clock import ManualClock


async def _account(store: Store, clock: ManualClock, name: str) -> int:
    account = await store.repo(AccountRepository).create(
        username=name, email=f"{name}@example.org", password_hash="x", created_at=clock.now()
    )
    return account.id


async def test_attackers_exhaust_their_budget_and_an_honest_owner_still_pairs(
    store: Store, clock: ManualClock, tmp_path: Path
) -> None:
    config = EnrolmentConfig()
    service = EnrolmentService(store, DeviceCa.ensure(tmp_path, clock.now()), config, clock)
    pairs = pick(20, 40)
    wrong = 0
    for n in range(pairs):
        attacker = await _account(store, clock, f"mallory{n}")
        address = f"198.51.100.{n + 1}"
        for _ in range(config.max_guesses_per_source):
            with pytest.raises(LookupError):
                await service.claim("ZZZZ-ZZZZ", account_id=attacker, source_address=address)
            wrong += 1
        # this attacker's budget is spent: from its address and from its account elsewhere
        with pytest.raises(RateLimitedError):
            await service.claim("ZZZZ-ZZZZ", account_id=attacker, source_address=address)
        with pytest.raises(RateLimitedError):
            await service.claim("ZZZZ-ZZZZ", account_id=attacker, source_address="203.0.113.9")
    owner = await _account(store, clock, "anna")
    issued = await service.request(
        csr_pem=make_csr(ec.generate_private_key(ec.SECP256R1())),
        kind=DeviceKind.CCU,
        name="Keller",
        source_address="192.0.2.10",
    )
    claimed = await service.claim(
        issued.pairing_code, account_id=owner, source_address="192.0.2.20"
    )
    passed = claimed.name == "Keller" and wrong == pairs * config.max_guesses_per_source
    record(
        "pairing_lockout",
        f"{wrong} wrong codes from {pairs} account/address pairs; honest owner paired",
        passed=passed,
    )
    assert passed
