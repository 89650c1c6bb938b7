"""Errors of the cloud gateway.

::

    GatewayError
    ├── ConfigError (tunnel.errors.ConfigError)   invalid configuration (file, key, problem)
    ├── StoreError                                 the database failed or refused a change
    │   ├── NotFoundError (LookupError)            no such row for this tenant
    │   ├── ConflictError                          a unique key or state rule was violated
    │   └── RefusedGroupError                      the database refused a telemetry group's
    │                                              data (telemetry.repository)
    ├── StateError (RuntimeError)                  an internal state rule was broken (a bug,
    │                                              never a user's doing)
    ├── CertificateError                           the device CA could not be created or used
    │   └── InvalidCsrError (ValueError)           a device's CSR is unusable (tunnels.device_ca)
    ├── AccountError                               an account rule refused a request
    │   ├── PasswordPolicyError (ValueError)       the new password breaks the policy (R-MON-2)
    │   ├── LinkError (ValueError)                 a validation or reset link is unknown,
    │   │                                          used or expired
    │   ├── AccountRateLimitedError                too many registrations from one source
    │   │                                          address; retry within the hour
    │   └── AccessDeniedError (PermissionError)    the actor may not do this to this object
    ├── PlantError                                 a plant rule refused a request (plants.errors)
    │   ├── InvalidPlantError (ValueError)         plant fields failed validation (per field)
    │   ├── ActivationCodeError (ValueError)       the activation code does not fit the serial
    │   ├── ActivationRateLimitedError             too many wrong codes; retry after a while
    │   └── SerialTakenError                       the serial is already registered
    ├── SpreadsheetError (ValueError)              an inverter sheet is unreadable or wrong
    │                                              (plants.spreadsheet)
    ├── PayloadError (ValueError)                  a TELEMETRY payload is malformed
    │                                              (telemetry.payload)
    ├── HubEventError (ValueError)                 a CCU event frame is malformed
    │                                              (telemetry.hub_events)
    ├── MqttError                                  the MQTT broker refused or broke the
    │                                              connection (telemetry.mqtt_wire)
    ├── RateLimitedError                           too many enrolment guesses (tunnels.enrolment)
    ├── ProxyError (ConnectionError)               a remote-access request could not be
    │                                              forwarded through the tunnel (remote.proxy)
    ├── RelayDeniedError (ConnectionError)         the node holding the tunnel refused a
    │                                              forwarded request (remote.relay)
    ├── ProxyHeaderError (ValueError)              a connection's PROXY protocol v2 header
    │                                              is missing or invalid (proxy_header)
    ├── InvalidLanTargetError (ValueError)        a hub's LAN target (Netzwerkgerät) has a bad
    │                                              name, host or port (remote.lan)
    ├── ShopLinkError (ValueError)                 a shop deep link is invalid (shop.deeplink)
    ├── CartError (ValueError)                     the cart or checkout refused a request
    │                                              (shop.errors)
    ├── MonitoringError                            forecast or alert state unusable
    │   │                                          (monitoring.errors)
    │   ├── ForecastUnavailableError (ValueError)  the plant lacks data the forecast needs
    │   └── AlertStateError (ValueError)           a stored alert state cannot be read
    ├── BillingError                               a money rule refused a request
    │   │                                          (billing.errors)
    │   ├── CatalogueError (ValueError)            a catalogue file is invalid (file, key)
    │   ├── UnknownProductError (LookupError)      no such product, plan or catalogue version
    │   ├── VoucherError (ValueError)              a voucher is expired, used up or not valid
    │   ├── SoldOutError                           the available quantity is booked
    │   ├── TransitionError                        a state machine refused an event
    │   ├── OverdraftError                         the payment account would go below its limit
    │   └── IdempotencyError                       a key was reused for another operation
    ├── RenderingError                             no document bytes could be made from a
    │   │                                          view (billing.rendering.errors)
    │   ├── IncompleteDocumentError (ValueError)   the view lacks data its type requires
    │   └── EInvoiceError                          the e-invoice library rejected XML or PDF
    ├── BankingError                               a bank-transfer rule refused a request
    │   │                                          (banking.errors)
    │   ├── StatementError (ValueError)            a camt.053 file is invalid (file, problem)
    │   └── QueueStateError                        a queued payment was already resolved
    ├── ContractError                              a service contract rule refused a request
    │   │                                          (contracts.errors)
    │   ├── InvalidSiteError (ValueError)          the site coordinates are missing or wrong
    │   ├── PrecheckRefusedError (ValueError)      the provider cannot serve the site
    │   └── ProviderUnavailableError               the provider timed out or failed
    │       (ConnectionError)
    ├── SupportError                               a support rule refused a request
    │   │                                          (support.errors)
    │   ├── AttachmentError (ValueError)           an attachment is too large or of a type
    │   │                                          not accepted (sniffed from its content)
    │   ├── TicketInputError (ValueError)          a ticket or repair form misses a field
    │   └── RepairStateError                       a repair order cannot take this step
    ├── PaymentError                               a payment could not be started or booked
    │   │                                          (payments.errors)
    │   ├── ProviderError (ConnectionError)        the payment provider refused or did not
    │   │                                          answer
    │   └── WebhookSignatureError (ValueError)     a webhook not signed by the provider
    ├── PortalError                                a portal rule refused a request
    │   │                                          (portal.errors)
    │   ├── InvalidIbanError (ValueError)          bank data: the IBAN or BIC is invalid
    │   └── ClosureRefusedError (PermissionError)  closing an account: wrong password
    ├── VatUnavailableError (ConnectionError)      the VIES-style service did not answer;
    │                                              the check stays pending (never "invalid")
    ├── LicenceError                               a licence rule refused a request
    │   │                                          (licences.errors)
    │   ├── QuoteError (ValueError)                no price for this choice (term, plants)
    │   ├── PurchaseRefusedError (PermissionError) the customer may not buy a licence now
    │   ├── PaymentMethodError (ValueError)        the payment method is not offered
    │   └── AgentOfflineError (ConnectionError)    no inverter agent of the plant is connected
    └── NotificationError                          an e-mail could not be handed to SMTP

Database driver errors (SQLAlchemy's ``DBAPIError``) are mapped to ``StoreError``
subclasses at the repository boundary, in one place: :func:`cloud_gateway.store.repository.
store_error`, applied to every repository by its base class. Classes defined in other modules
are named with their module; ``tests/test_layout.py`` checks that every exception class of the
gateway is under ``GatewayError`` and named here.
"""

from __future__ import annotations

from tunnel.errors import ConfigError

__all__ = [
    "AccessDeniedError",
    "AccountError",
    "AccountRateLimitedError",
    "CertificateError",
    "ConfigError",
    "ConflictError",
    "GatewayError",
    "LinkError",
    "NotFoundError",
    "NotificationError",
    "PasswordPolicyError",
    "StateError",
    "StoreError",
    "VatUnavailableError",
]


class GatewayError(Exception):
    """Root of every error the gateway raises."""


class StoreError(GatewayError):
    """The database failed or refused a change."""


class NotFoundError(StoreError, LookupError):
    """No such row (or not visible to this tenant)."""


class ConflictError(StoreError):
    """A unique key or a state rule was violated."""


class StateError(GatewayError, RuntimeError):
    """An internal state rule was broken: a bug, never something a user or device did."""


class CertificateError(GatewayError):
    """The gateway's own CA or server certificate could not be created or loaded."""


class AccountError(GatewayError):
    """An account rule refused a request."""


class PasswordPolicyError(AccountError, ValueError):
    """A new password breaks the password policy; ``violations`` names each broken rule."""

    def __init__(self, violations: tuple[str, ...]) -> None:
        super().__init__("password policy: " + ", ".join(violations))
        self.violations = violations


class LinkError(AccountError, ValueError):
    """A validation or reset link is unknown, already used or expired."""


class AccountRateLimitedError(AccountError):
    """Too many registrations from one source address; retry within the hour."""


class AccessDeniedError(AccountError, PermissionError):
    """The actor may not perform this action on this object."""


class VatUnavailableError(GatewayError, ConnectionError):
    """The VAT ID service did not answer; the check stays pending and is retried."""


class NotificationError(GatewayError):
    """An e-mail could not be handed to the SMTP server."""
