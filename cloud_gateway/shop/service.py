"""The shop: the stored cart, "Gutschein einlösen", checkout, and the "Zugang buchen" line.

Checkout ("Jetzt kaufen") is idempotent by the cart's checkout key (its account, revision and
content): the payment page carries the key, and the same key always leads to the same order.
In one transaction the order is placed through ``BillingService.place_order`` under that key
(a concurrent second request gets the first one's order), the checkout is recorded and the
cart emptied once, and the payment port claims the payment attempt under the same key (a
retry never starts a second one); after the commit the port asks the provider (ADR 0022).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime

from cloud_gateway.accounts.repository_customers import CustomerData, CustomerRepository
from cloud_gateway.billing.catalogue import (
    BookingType,
    Catalogue,
    CatalogueSet,
    Family,
    PaymentMedium,
    Plan,
    Product,
)
from cloud_gateway.billing.errors import (
    BillingError,
    SoldOutError,
    UnknownProductError,
    VoucherError,
)
from cloud_gateway.billing.pricing import Buyer, Voucher
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.service import BillingService, OrderLine, customer_from_data
from cloud_gateway.config import BillingConfig
from cloud_gateway.entitlements.service import EntitlementService
from cloud_gateway.entitlements.windows import WindowKind
from cloud_gateway.errors import NotFoundError
from cloud_gateway.localdays import local_date
from cloud_gateway.payments.port import PaymentClaim, PaymentPort, PaymentStart
from cloud_gateway.shop.cart import (
    Cart,
    CartItem,
    CartQuote,
    applicable_lines,
    check_line,
    check_voucher,
    quote_cart,
)
from cloud_gateway.shop.errors import CartError, CartProblem
from cloud_gateway.shop.orders import OrderBook
from cloud_gateway.shop.repository import CartRepository, Checkout
from cloud_gateway.store import Store, UnitOfWork
from tunnel.clock import Clock

__all__ = ["CartView", "HubLine", "HubStatus", "ShopService"]

#: a buyer without customer data yet is priced as a private customer in Germany
_DEFAULT_BUYER = Buyer(business=False, country="DE")


@dataclass(frozen=True, slots=True, kw_only=True)
class CartView:
    """The cart as its page shows it."""

    cart: Cart
    quote: CartQuote
    #: why the remembered voucher no longer applies (it is then left out of the prices)
    voucher_problem: CartProblem | None
    #: the payment methods offered for this cart
    methods: tuple[PaymentMedium, ...]
    #: whether the account has customer data (needed to buy)
    has_customer: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class HubLine:
    """What "Zugang buchen" from a hub puts into the cart."""

    product: str
    plan: str
    booking: BookingType


@dataclass(frozen=True, slots=True, kw_only=True)
class HubStatus:
    """A hub's access as the portal shows it (R-CCU-12)."""

    entitled: bool
    kind: WindowKind | None
    #: the package the access ends with (a trial followed by a package: the package)
    product: Product | None
    #: the end of the continuous access (``None`` when not entitled)
    until: datetime | None
    #: what "Zugang buchen" offers for this hub
    line: HubLine


class ShopService:
    """Carts, vouchers and checkout of the shop."""

    def __init__(
        self,
        store: Store,
        billing: BillingService,
        catalogues: CatalogueSet,
        clock: Clock,
        config: BillingConfig,
        *,
        entitlements: EntitlementService,
        payments: PaymentPort,
        methods: frozenset[PaymentMedium],
    ) -> None:
        self._store = store
        self._billing = billing
        self._catalogues = catalogues
        self._clock = clock
        self._config = config
        self._payments = payments
        #: the methods the payment port can start
        self._methods = methods
        self._carts = store.repo(CartRepository)
        self._entitlements = entitlements
        #: the account's orders, documents and booked windows (read only)
        self.book = OrderBook(store, catalogues)

    # --- catalogue --------------------------------------------------------------------------
    def today(self) -> date:
        """The Berlin day of now (prices and vouchers are per day)."""
        return local_date(self._clock.now())

    def catalogue(self) -> Catalogue:
        """The catalogue version in force today."""
        return self._catalogues.effective(self.today())

    def packages(self) -> list[Product]:
        """The hub packages the shop sells ("Produkte")."""
        return [
            p
            for p in self.catalogue().products
            if p.shop_released and p.family is Family.HUB_PACKAGE
        ]

    def package(self, code: str) -> Product:
        """One hub package; raises :class:`NotFoundError` for anything else."""
        for product in self.packages():
            if product.code == code:
                return product
        raise NotFoundError(f"no package {code!r}")

    # --- the cart ---------------------------------------------------------------------------
    async def add(self, account_id: int, product: str, plan: str, booking: BookingType) -> None:
        """Add a line ("In den Warenkorb"); raises :class:`CartError` for what is not sold.

        The cart takes hub packages; licences are bought on their plants' pages.
        """
        if product not in {p.code for p in self.packages()}:
            raise CartError(CartProblem.UNKNOWN_PRODUCT, f"{product} is not a hub package")
        check_line(self.catalogue(), product, plan, booking)
        await self._carts.add(account_id, product, plan, booking, self._clock.now())

    async def remove(self, account_id: int, item_ids: list[int]) -> int:
        """Take the ticked lines out ("Löschen" + "Aktualisierung")."""
        return await self._carts.remove(account_id, item_ids, self._clock.now())

    async def _voucher(self, code: str) -> Voucher:
        repo = self._store.repo(BillingRepository)
        async with repo.reading() as conn:
            try:
                return await repo.voucher(conn, code)
            except NotFoundError as exc:
                raise CartError(CartProblem.VOUCHER_UNKNOWN, code) from exc

    async def _uses(self, code: str) -> int:
        repo = self._store.repo(BillingRepository)
        async with repo.reading() as conn:
            return await repo.voucher_uses(conn, code)

    async def redeem(self, account_id: int, code: str) -> None:
        """Redeem a voucher ("Gutschein einlösen"): checked against the cart, then remembered."""
        code = code.strip()
        if not code:
            raise CartError(CartProblem.VOUCHER_UNKNOWN, "empty code")
        voucher = await self._voucher(code)
        cart = await self._carts.cart(account_id)
        check_voucher(voucher, cart.items, self.today(), await self._uses(code))
        await self._carts.set_voucher(account_id, voucher.code, self._clock.now())

    async def view(self, account_id: int, language: str) -> CartView:
        """The cart priced for the account's customer (VAT treatment) in ``language``."""
        cart = await self._carts.cart(account_id)
        voucher: Voucher | None = None
        problem: CartProblem | None = None
        if cart.voucher_code:
            try:
                voucher = await self._voucher(cart.voucher_code)
                uses = await self._uses(voucher.code)
                check_voucher(voucher, cart.items, self.today(), uses)
            except CartError as error:
                voucher, problem = None, error.problem
        data = await self._store.repo(CustomerRepository).get(account_id)
        buyer = customer_from_data(data).buyer if data is not None else _DEFAULT_BUYER
        quote = quote_cart(
            self.catalogue(), cart.items, buyer=buyer, voucher=voucher, language=language,
            today=self.today(), seller_country=self._config.seller_country,
        )  # fmt: skip
        methods = tuple(m for m in quote.payment_media if m in self._methods)
        return CartView(
            cart=cart,
            quote=quote,
            voucher_problem=problem,
            methods=methods,
            has_customer=data is not None,
        )

    # --- checkout ---------------------------------------------------------------------------
    async def _place(
        self,
        unit: UnitOfWork,
        view: CartView,
        data: CustomerData,
        key: str,
        language: str,
        *,
        placed: Callable[[int, int], Awaitable[None]],
    ) -> int:
        """Place the cart's order in ``unit`` (the checkout's transaction); ``placed`` runs
        before its pro-formas are numbered (see ``BillingService.place_order``)."""
        voucher = view.quote.voucher
        reduced = {i.id for i in applicable_lines(voucher, view.cart.items)} if voucher else set()
        lines = [
            OrderLine(
                product=i.product,
                plan=i.plan,
                booking=i.booking,
                voucher=voucher.code if voucher and i.id in reduced else None,
            )
            for i in view.cart.items
        ]
        billing = self._billing.within(unit.repo(BillingRepository))
        try:
            order = await billing.place_order(
                customer_from_data(data, language), lines, key=key, placed=placed
            )
        except VoucherError as exc:
            raise CartError(CartProblem.VOUCHER_USED_UP, str(exc)) from exc
        except SoldOutError as exc:
            raise CartError(CartProblem.SOLD_OUT, str(exc)) from exc
        except UnknownProductError as exc:
            raise CartError(CartProblem.UNKNOWN_PRODUCT, str(exc)) from exc
        except BillingError as exc:
            raise CartError(CartProblem.BOOKING_TYPE, str(exc)) from exc
        return int(order["order_id"])

    async def checkout(
        self, account_id: int, *, key: str, method: PaymentMedium, language: str, base_url: str
    ) -> Checkout:
        """Buy ("Jetzt kaufen") the cart the page showed (``key``), paid by ``method``.

        The same key gives the same order and payment every time. A cart that changed since
        the page was shown, a method the cart cannot be paid by, a voucher no longer valid or
        missing customer data raise :class:`CartError` and place nothing.

        One transaction places the order, records the checkout (the cart emptied) and claims
        the payment attempt; the provider is asked after its commit, and its answer stored
        with the checkout's redirect in a second one.
        """
        done = await self._carts.checkout(key)
        if done is None:
            view = await self.view(account_id, language)
            if not view.cart.items:
                raise CartError(CartProblem.EMPTY)
            if view.cart.checkout_key() != key:
                raise CartError(CartProblem.CHANGED)
            if view.voucher_problem is not None:
                raise CartError(view.voucher_problem)
            if method not in view.methods:
                raise CartError(CartProblem.METHOD, method.value)
            data = await self._store.repo(CustomerRepository).get(account_id)
            if data is None:
                raise CartError(CartProblem.NO_CUSTOMER)
            async with self._store.transaction() as unit:
                carts = unit.repo(CartRepository)
                recorded: list[Checkout] = []
                claims: list[PaymentClaim] = []

                async def record(order_id: int, gross: int) -> None:
                    """The checkout and its payment attempt, before the pro-formas' numbers."""
                    now = self._clock.now()
                    checkout = await carts.record_checkout(
                        view.cart, key=key, order_id=order_id, method=method, now=now
                    )
                    recorded.append(checkout)
                    if checkout.account_id == account_id and gross > 0:
                        claims.append(await self._claim(unit, checkout, base_url, amount=gross))

                order_id = await self._place(unit, view, data, key, language, placed=record)
                if not recorded:  # placed before under this key (a concurrent click)
                    now = self._clock.now()
                    recorded.append(
                        await carts.record_checkout(
                            view.cart, key=key, order_id=order_id, method=method, now=now
                        )
                    )
                done = recorded[0]
                if done.account_id != account_id:
                    raise CartError(CartProblem.CHANGED, "another account's checkout")
                claim = claims[0] if claims else await self._claim(unit, done, base_url)
        else:
            if done.account_id != account_id:
                raise CartError(CartProblem.CHANGED, "another account's checkout")
            async with self._store.transaction() as unit:
                claim = await self._claim(unit, done, base_url)
        first = done

        async def remember(unit: UnitOfWork, started: PaymentStart) -> None:
            if started.redirect_url and started.redirect_url != first.redirect_url:
                await unit.repo(CartRepository).set_redirect(key, started.redirect_url)

        started = await self._payments.launch(claim, started=remember)
        if started.redirect_url and started.redirect_url != done.redirect_url:
            if claim.answer is not None:  # known before: not stored with a provider's answer
                await self._carts.set_redirect(key, started.redirect_url)
            return dataclasses.replace(done, redirect_url=started.redirect_url)
        return done

    async def _claim(
        self, unit: UnitOfWork, done: Checkout, base_url: str, amount: int | None = None
    ) -> PaymentClaim:
        """The checkout's payment attempt, claimed in ``unit`` (``amount``: while placing)."""
        return await self._payments.claim(
            unit,
            order_id=done.order_id,
            account_id=done.account_id,
            method=done.method,
            return_url=f"{base_url}shop/orders/{done.order_id}",
            cancel_url=f"{base_url}shop/cart",
            key=done.key,
            amount=amount,
        )

    # --- "Zugang buchen" ----------------------------------------------------------------------
    async def hub_line(self, account_id: int, package_code: str) -> HubLine:
        """The cart line for a hub's "Zugang buchen": its current package, else a default.

        The booked package's product, runtime and booking type when the hub's package came
        from the shop; a hub package's own code as it is; otherwise the first package with
        its 12-month runtime as a single booking.
        """
        packages = {p.code: p for p in self.packages()}
        booked = await self.book.booked_line(account_id, package_code)
        if booked is not None and booked[0] in packages:
            product = packages[booked[0]]
            if any(plan.code == booked[1] for plan in product.plans):
                return HubLine(product=booked[0], plan=booked[1], booking=booked[2])
        product = packages.get(package_code) or next(iter(packages.values()))
        plans = [plan.code for plan in product.plans]
        return HubLine(
            product=product.code,
            plan="12m" if "12m" in plans else plans[0],
            booking=BookingType.SINGLE,
        )

    async def hub_status(self, account_id: int, device_id: int) -> HubStatus:
        """The hub's current access: package (or trial), until when."""
        answer = await self._entitlements.hub_answer(account_id, self._clock.now(), device_id)
        window = answer.window if answer.entitled else None
        code = f"{window.kind.value}-{window.id}" if window else ""
        # the hub line follows the latest booked package (booked_line), whatever covers now
        return HubStatus(
            entitled=answer.entitled,
            kind=window.kind if window else None,
            product=await self.book.chain_product(account_id, answer.until)
            if answer.entitled and answer.until
            else None,
            until=answer.until if answer.entitled else None,
            line=await self.hub_line(account_id, code),
        )

    def plan_prices(self, product: Product, language: str) -> list[tuple[Plan, int]]:
        """Each runtime of ``product`` with its gross price (German VAT), for the pages."""
        booking = product.booking_types[0]
        prices = []
        for plan in product.plans:
            item = CartItem(id=0, product=product.code, plan=plan.code, booking=booking)
            quote = quote_cart(
                self.catalogue(), [item], buyer=_DEFAULT_BUYER, voucher=None, language=language,
                today=self.today(), seller_country=self._config.seller_country,
            )  # fmt: skip
            prices.append((plan, quote.gross))
        return prices
