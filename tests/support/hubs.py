"""A hub enrolled through the real enrolment API and claimed by an account, with the signed
"Zugang buchen" link its add-on makes (shared by the shop, add-on and e2e tests; it imports no
test extra beyond the gateway harness, so the add-on suite under the bundled interpreter can use
it too)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from ccu_addon.deeplink import build_shop_link
from cloud_gateway.accounts.repository import AccountRepository
from tests.support.gateway import GatewayHarness
from tunnel.enrolment import DeviceIdentity, load_identity

__all__ = ["Hub", "enrol_hub"]


@dataclass
class Hub:
    identity: DeviceIdentity
    slug: str
    account_id: int

    def link(
        self, harness: GatewayHarness, *, account_id: int | None = None, package: str = "remote-12m"
    ) -> str:
        """The path and query of a fresh link, as the add-on makes it."""
        url = build_shop_link(
            gateway_url=harness.url,
            device_slug=self.slug,
            account_id=self.account_id if account_id is None else account_id,
            package=package,
            key=self.identity.key,
            certificate_der=self.identity.certificate_der,
            now=harness.clock.now(),
        )
        parts = urlsplit(url)
        return f"{parts.path}?{parts.query}"


async def enrol_hub(
    harness: GatewayHarness,
    state_dir: Path,
    owner: str,
    client: Callable[[], aiohttp.ClientSession] | None = None,
) -> Hub:
    """Enrol a hub through the real enrolment API, claimed by ``owner`` (``client`` makes
    the HTTP sessions; the harness's by default)."""
    identity = load_identity(state_dir)
    make = client or harness.client
    async with make() as device, make() as browser:
        async with device.post(
            "/api/v1/enrol",
            json={"csr": identity.csr_pem("Ferienhaus"), "kind": "ccu", "name": "Ferienhaus"},
        ) as resp:
            assert resp.status == 201
            started = await resp.json()
        await harness.login(browser, owner)
        token = await harness.form_token(browser, "/portal/devices/pair")
        async with browser.post(
            "/portal/devices/pair", data={"csrf_token": token, "code": started["pairing_code"]}
        ) as resp:
            assert resp.status == 200
        async with device.get(started["poll_url"]) as resp:
            assert resp.status == 200
            issued = await resp.json()
    identity = identity.store_certificate(issued["certificate"], issued["ca_certificate"])
    account = await harness.gateway.store.repo(AccountRepository).find_by_login(owner)
    assert account is not None
    return Hub(identity, issued["device"]["slug"], account.id)
