"""The demo's payment providers: the PayPal and PSP simulators the gateway is configured with.

Both start before the gateway (their addresses go into its ``[payments]`` section); once the
gateway listens, PayPal's webhook is pointed at it. The demo prints the simulators' pages:
PayPal's "Automatische Zahlungen" (where a buyer cancels a subscription) and the APIs.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from cloud_gateway.config import PaymentsConfig
from simulator.paypal import PayPalSimulator
from simulator.psp import PspSimulator

__all__ = ["DemoPayments", "start_payment_simulators"]

#: the webhook id the demo's PayPal gives the gateway's listener
DEMO_WEBHOOK_ID = "WH-DEMO-0001"


@dataclass(frozen=True, slots=True)
class DemoPayments:
    """The running simulators."""

    paypal: PayPalSimulator
    psp: PspSimulator

    def config(self, gateway_url: str) -> PaymentsConfig:
        """The gateway's ``[payments]`` section for these simulators."""
        return PaymentsConfig(
            gateway_url=gateway_url,
            paypal_api_url=self.paypal.url,
            paypal_client_id=self.paypal.client_id,
            paypal_client_secret=self.paypal.client_secret,
            paypal_webhook_id=DEMO_WEBHOOK_ID,
            psp_url=self.psp.url,
            psp_api_key=self.psp.api_key,
            psp_secret=self.psp.secret,
        )

    def listen(self, gateway_url: str) -> None:
        """Deliver PayPal's webhooks to the gateway."""
        self.paypal.register_webhook(f"{gateway_url}/api/v1/payments/paypal/webhook")

    def facts(self) -> dict[str, Any]:
        """Where the simulators are (printed by the demo)."""
        return {
            "paypal": self.paypal.url,
            "paypal_autopay": f"{self.paypal.url}/myaccount/autopay",
            "psp": self.psp.url,
        }

    def text(self) -> str:
        """The same, for people."""
        facts = self.facts()
        return (
            f"  Payments:       PayPal simulator {facts['paypal']} "
            f"(subscriptions: {facts['paypal_autopay']}),\n"
            f"                  card/online transfer simulator {facts['psp']}\n"
        )


async def start_payment_simulators(stack: contextlib.AsyncExitStack) -> DemoPayments:
    """Start both simulators on free ports; ``stack`` stops them."""
    paypal = PayPalSimulator()
    paypal.webhook_id = DEMO_WEBHOOK_ID
    psp = PspSimulator()
    await stack.enter_async_context(paypal)
    await stack.enter_async_context(psp)
    return DemoPayments(paypal, psp)
