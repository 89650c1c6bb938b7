"""The landing page of the hub's signed booking link, on a real gateway over TLS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import aiohttp
import pytest

from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.accounts.repository_customers import CustomerRepository
from cloud_gateway.billing.catalogue import BookingType
from cloud_gateway.billing.service import OrderLine, customer_from_data
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.entitlements.repository import EntitlementRepository
from cloud_gateway.entitlements.windows import Subject, WindowKind
from cloud_gateway.shop.repository import CartRepository
from cloud_gateway.tunnels.repository_certificates import DeviceCertificateRepository
from tests.cloud_gateway.shop.shopping import billing_of, give_customer_data, pay_and_activate
from tests.support.gateway import GatewayHarness, gateway_harness
from tests.support.hubs import Hub, enrol_hub
from tunnel.clock import ManualClock


@pytest.fixture
async def harness(tmp_path: Path, db_url: str, clock: ManualClock) -> AsyncIterator[GatewayHarness]:
    async with gateway_harness(tmp_path, db_url, clock) as started:
        await started.create_account("anna")
        await started.create_account("bernd")
        yield started


@pytest.fixture
async def hub(harness: GatewayHarness, tmp_path: Path) -> Hub:
    return await enrol_hub(harness, tmp_path / "hub", "anna")


async def get(http: aiohttp.ClientSession, path: str) -> tuple[int, str]:
    async with http.get(path) as resp:
        return resp.status, await resp.text()


async def test_anonymous_browser_sees_which_account_is_credited(
    harness: GatewayHarness, hub: Hub
) -> None:
    async with harness.client() as browser:
        status, page = await get(browser, hub.link(harness))
    assert status == 200
    assert 'id="credited-account">anna<' in page
    assert 'id="login" href="/login?next=' in page
    assert 'id="continue"' not in page


async def test_linked_account_continues_into_the_cart(harness: GatewayHarness, hub: Hub) -> None:
    link = hub.link(harness)
    async with harness.client() as browser:
        await harness.login(browser, "anna")
        status, page = await get(browser, link)
        assert status == 200
        assert 'id="continue"' in page
        token = await harness.form_token(browser, link)
        async with browser.post(
            link.replace("/shop/hub?", "/shop/hub/confirm?"),
            data={"csrf_token": token},
            allow_redirects=False,
        ) as resp:
            assert resp.status == 303
            cart_url = resp.headers["Location"]
        assert cart_url.startswith("/shop/cart?hub=")
        status, page = await get(browser, cart_url)
    assert status == 200
    assert 'id="cart-hub"' in page
    # no package booked yet: the first package, 12 months, single booking
    assert 'data-product="hub-remote" data-plan="12m" data-booking="single"' in page
    cart = await harness.gateway.store.repo(CartRepository).cart(hub.account_id)
    assert [(i.product, i.plan, i.booking.value) for i in cart.items] == [
        ("hub-remote", "12m", "single")
    ]


async def test_link_preselects_the_hubs_booked_package(harness: GatewayHarness, hub: Hub) -> None:
    await give_customer_data(harness, hub.account_id, "Anna Sonne")
    placed = await billing_of(harness).place_order(
        customer_from_data(
            await harness.gateway.store.repo(CustomerRepository).get(hub.account_id)  # type: ignore[arg-type]
        ),
        [OrderLine(product="hub-pro", plan="6m", booking=BookingType.SUBSCRIPTION)],
        key="order:hub-pro",
    )
    await pay_and_activate(harness, hub.account_id, placed["order_id"])
    windows = await harness.gateway.store.repo(EntitlementRepository).for_subjects(
        (Subject.ACCOUNT, hub.account_id)
    )
    package = next(w for w in windows if w.window.kind is WindowKind.PACKAGE)
    link = hub.link(harness, package=f"package-{package.id}")
    async with harness.client() as browser:
        await harness.login(browser, "anna")
        token = await harness.form_token(browser, link)
        async with browser.post(
            link.replace("/shop/hub?", "/shop/hub/confirm?"), data={"csrf_token": token}
        ) as resp:
            assert resp.status == 200
            page = await resp.text()
        assert 'data-product="hub-pro" data-plan="6m" data-booking="subscription"' in page
        # the portal shows the package, its end and "Zugang buchen" for the hub
        status, portal = await get(browser, "/portal")
    assert status == 200
    assert 'class="hub-package" data-device="' + hub.slug + '" data-entitled="yes"' in portal
    assert "Profi" in portal
    assert 'href="/shop/products/hub-pro?plan=6m&amp;booking=subscription"' in portal


async def test_link_on_another_host_name_goes_to_the_canonical_host(
    harness: GatewayHarness, hub: Hub
) -> None:
    link = hub.link(harness)
    async with harness.client() as browser:
        url = f"https://127.0.0.1:{harness.gateway.port}{link}"
        async with browser.get(url, allow_redirects=False, ssl=False) as resp:
            assert resp.status == 303
            assert resp.headers["Location"] == harness.url.rstrip("/") + link


async def test_link_for_a_while_logged_in_as_b_books_nothing_for_b(
    harness: GatewayHarness, hub: Hub
) -> None:
    link = hub.link(harness)
    async with harness.client() as browser:
        await harness.login(browser, "bernd")
        status, page = await get(browser, link)
        assert status == 200
        assert 'id="wrong-account"' in page
        assert "bernd" in page
        assert 'id="continue"' not in page
        token = await harness.form_token(browser, link)
        confirm = link.replace("/shop/hub?", "/shop/hub/confirm?")
        async with browser.post(confirm, data={"csrf_token": token}) as resp:
            assert resp.status == 409
            assert "data-account" not in await resp.text()
        # The explicit switch logs bernd out and leads to the login page for the link.
        async with browser.post(
            link.replace("/shop/hub?", "/shop/hub/switch?"),
            data={"csrf_token": token},
            allow_redirects=False,
        ) as resp:
            assert resp.status == 303
            location = urlsplit(resp.headers["Location"])
            assert location.path == "/login"
            assert dict(parse_qsl(location.query))["next"] == link
        async with browser.get("/portal", allow_redirects=False) as resp:
            assert resp.status == 303


async def test_tampered_link_is_refused(harness: GatewayHarness, hub: Hub) -> None:
    parts = urlsplit(hub.link(harness))
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query["account"] = str(hub.account_id + 1)
    async with harness.client() as browser:
        status, page = await get(browser, f"{parts.path}?{urlencode(query)}")
    assert status == 403
    assert 'data-reason="bad_signature"' in page


async def test_expired_link_is_refused(
    harness: GatewayHarness, hub: Hub, clock: ManualClock
) -> None:
    link = hub.link(harness)
    clock.advance(timedelta(minutes=11))
    async with harness.client() as browser:
        status, page = await get(browser, link)
    assert status == 403
    assert 'data-reason="expired"' in page


async def test_link_naming_another_account_than_the_hubs_is_refused(
    harness: GatewayHarness, hub: Hub
) -> None:
    bernd = await harness.gateway.store.repo(AccountRepository).find_by_login("bernd")
    assert bernd is not None
    async with harness.client() as browser:
        status, page = await get(browser, hub.link(harness, account_id=bernd.id))
    assert status == 403
    assert 'data-reason="wrong_account"' in page


async def test_revoked_hub_cannot_make_links(
    harness: GatewayHarness, hub: Hub, clock: ManualClock
) -> None:
    device = await harness.gateway.store.repo(DeviceRepository).get_by_slug(hub.slug)
    await harness.gateway.store.repo(DeviceCertificateRepository).revoke_device(
        device.id, now=clock.now()
    )
    async with harness.client() as browser:
        status, page = await get(browser, hub.link(harness))
    assert status == 403
    assert 'data-reason="untrusted_certificate"' in page


async def test_garbage_is_malformed(harness: GatewayHarness) -> None:
    async with harness.client() as browser:
        status, page = await get(browser, "/shop/hub?device=x")
    assert status == 400
    assert 'data-reason="malformed"' in page
