"""Configuration of ``cloud-gateway``, loaded once from TOML at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tunnel.cliutil import EventLoop
from tunnel.tomlconfig import load_config

__all__ = [
    "AccountsConfig",
    "BillingConfig",
    "ClusterConfig",
    "ContractsConfig",
    "DatabaseConfig",
    "EnrolmentConfig",
    "EntitlementsConfig",
    "GatewayConfig",
    "HttpConfig",
    "MqttConfig",
    "OperatorConfig",
    "PaymentsConfig",
    "PlantsConfig",
    "PortalConfig",
    "RemoteAccessConfig",
    "SmtpConfig",
    "TlsConfig",
    "TunnelEndpointConfig",
    "VatConfig",
    "load_gateway_config",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpConfig:
    """Where the gateway listens for HTTPS (portal, API, tunnels, remote access)."""

    host: str = "127.0.0.1"
    """Address to bind; ``0.0.0.0`` for every interface."""
    port: int = 8443
    """TCP port; 0 picks a free one (the chosen port is logged and printed)."""
    public_host: str = "localhost"
    """Host name browsers and devices use to reach the gateway (portal and tunnel)."""
    proxy_protocol: bool = False
    """Every connection starts with a PROXY protocol v2 header (HAProxy ``send-proxy-v2``),
    read before TLS; connections without one are closed. Only behind such a balancer."""
    tls_close_timeout_s: float = 3.0
    """How long a connection the gateway closed waits for the client's TLS close_notify
    before it is dropped (asyncio's own default, 30 s, let silent clients hold it)."""
    tls_handshake_timeout_s: float = 10.0
    """How long a new connection may take to complete its TLS handshake (asyncio's own
    default, 60 s, let a client that connects and stays silent hold it)."""
    tls_handshakes_max: int = 64
    """TLS handshakes in progress at once, decided before any TLS work (ADR 0032): a new
    connection beyond them and the queue is closed at once, and the device backs off."""
    tls_handshake_queue: int = 256
    """Connections waiting, unread, for a handshake place (dropped without TLS work when
    their peer gives up meanwhile)."""
    tls_handshake_queue_wait_s: float = 3.0
    """Longest wait for a handshake place; with ``tls_handshake_timeout_s`` under a
    device's 15 s connect timeout."""
    tls_handshakes_per_source: int = 16
    """Places (in progress and queued) one client address may hold (behind HAProxy: the
    address the PROXY header names)."""
    listen_backlog: int = 1024
    """The listening socket's queue of connections not yet accepted (aiohttp's default, 128,
    overflowed in a 10,000-device reconnect storm: SYNs retried, a slow ramp); the kernel caps
    it at ``net.core.somaxconn``."""

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port {self.port} is outside 0..65535")
        if self.tls_close_timeout_s <= 0 or self.tls_handshake_timeout_s <= 0:
            raise ValueError("http: the TLS timeouts (tls_*_timeout_s) must be positive")
        if self.tls_handshakes_max < 1 or self.tls_handshakes_per_source < 1:
            raise ValueError("http: tls_handshakes_max and tls_handshakes_per_source >= 1")
        if self.tls_handshake_queue < 0 or self.tls_handshake_queue_wait_s <= 0:
            raise ValueError("http: tls_handshake_queue >= 0, tls_handshake_queue_wait_s > 0")
        if self.listen_backlog < 1:
            raise ValueError("http: listen_backlog must be at least 1")


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsConfig:
    """The server certificate; created with a local CA on first start when not given."""

    cert_file: Path | None = None
    """PEM server certificate chain; when unset, one is created in the state folder."""
    key_file: Path | None = None
    """PEM private key of the server certificate."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DatabaseConfig:
    """The gateway's database."""

    url: str = ""
    """SQLAlchemy URL: ``sqlite+aiosqlite:///path`` or ``postgresql+asyncpg://…``;
    empty means a SQLite file in the state folder."""

    def __post_init__(self) -> None:
        if self.url and not self.url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "database.url must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class MqttConfig:
    """The MQTT broker telemetry is fanned out to."""

    enabled: bool = False
    """Whether to publish to a broker at all."""
    host: str = "127.0.0.1"
    """Broker host."""
    port: int = 1883
    """Broker port."""
    topic_prefix: str = "cloudconnector"
    """First topic level of every published message."""
    tls: bool = False
    """Connect with TLS (port 8883 by convention); the broker's certificate is verified."""
    ca_file: Path | None = None
    """CA bundle the broker's certificate is checked against (empty: the system's)."""
    cert_file: Path | None = None
    """Client certificate (PEM) for brokers that authenticate clients by certificate."""
    key_file: Path | None = None
    """Its private key (PEM)."""
    username: str = ""
    """MQTT user name (empty: none is sent)."""
    password: str = ""
    """MQTT password (sent only with a user name; only over TLS in production)."""
    client_id: str = ""
    """MQTT client id (empty: one per gateway node is made up)."""

    def __post_init__(self) -> None:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("mqtt: cert_file and key_file go together")
        if self.password and not self.username:
            raise ValueError("mqtt: a password needs a username")


@dataclass(frozen=True, slots=True, kw_only=True)
class EnrolmentConfig:
    """Pairing devices with accounts and issuing their certificates (R-DEV-8)."""

    code_ttl_s: float = 900.0
    """How long a pairing code (and its polling token) stays valid, in seconds."""
    poll_interval_s: float = 5.0
    """How often a waiting device is told to poll for its certificate, in seconds."""
    certificate_days: int = 1825
    """Validity of an issued device certificate, in days."""
    guess_window_s: float = 900.0
    """Window over which wrong pairing codes are counted, in seconds."""
    max_guesses_per_source: int = 10
    """Wrong codes one source address may enter per window."""
    max_guesses_per_account: int = 10
    """Wrong codes one account may enter per window (from any address).

    There is deliberately no global limit: it would let a few attackers lock every owner
    out of pairing (security review, issue 20 item 4). The code space (≈ 2^39) and the
    code's short lifetime are the defence against guessing from many sources."""
    max_enrolments_per_source: int = 30
    """Enrolment requests one source address may start per window."""

    def __post_init__(self) -> None:
        if self.code_ttl_s <= 0 or self.guess_window_s <= 0 or self.certificate_days < 1:
            raise ValueError("enrolment durations must be positive")


@dataclass(frozen=True, slots=True, kw_only=True)
class TunnelEndpointConfig:
    """The gateway end of the device tunnels (``/tunnel/v1``)."""

    heartbeat_s: float = 20.0
    """Interval of heartbeats offered in WELCOME, in seconds."""
    hello_timeout_s: float = 10.0
    """How long a new connection may take to send HELLO, in seconds."""
    reconnect_window_s: float = 120.0
    """Sent in WELCOME: devices spread their first reconnect after a lost session over this
    many seconds. Size it to the node: its tunnels / the handshakes it completes per second
    (10,000 tunnels at ~80/s: 120 s); a node with a few dozen hubs can use 5-10 s."""

    def __post_init__(self) -> None:
        if not 0 <= self.reconnect_window_s <= 3600:
            raise ValueError("tunnel.reconnect_window_s must be between 0 and 3600 seconds")


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteAccessConfig:
    """Remote access to device web UIs at ``https://<slug>.<remote_domain>/`` (R-DEV-7)."""

    handover_ttl_s: float = 60.0
    """How long a one-time handover token from the portal stays valid, in seconds."""
    session_idle_s: float = 3600.0
    """A remote-access session ends after this many seconds without a request."""
    access_recheck_s: float = 2.0
    """How long a remote session's checks (session, access, entitlement) are reused, in
    seconds; a change nobody announces is enforced at most this late (keep it below 5)."""
    audit_flush_s: float = 30.0
    """How often counted remote-access traffic is written to the audit records, in seconds."""

    def __post_init__(self) -> None:
        if not 0 <= self.access_recheck_s <= 5:
            raise ValueError("remote.access_recheck_s must be between 0 and 5 seconds")
        if self.audit_flush_s <= 0:
            raise ValueError("remote.audit_flush_s must be positive")

    target: str = "webui"
    """Stream target opened on the device for proxied HTTP (the local web UI)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorConfig:
    """The operator API and metrics."""

    metrics_token: str = ""
    """Bearer token that may scrape ``/metrics``; empty: operator sessions only."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountsConfig:
    """Registration, password policy (R-MON-2) and lockout; seed values are the defaults."""

    password_min_length: int = 8
    """Fewest characters a password may have."""
    password_specials: str = "!@#$%^&*_-+=;:|./?()[]{}<>"  # noqa: S105 - a character set
    """A password needs at least one of these (and a letter and a digit)."""
    password_max_age_days: int = 365
    """After this many days the password must be changed at the next login."""
    password_min_age_days: int = 2
    """A changed password cannot be changed again for this many days."""
    password_history: int = 8
    """How many previous passwords cannot be reused."""
    lockout_failures: int = 5
    """Failed logins for one account (or login name) within the window that lock it."""
    lockout_failures_per_address: int = 20
    """Failed logins from one source address within the window that lock that address
    (higher than per account: many customers share one NAT address)."""
    lockout_window_minutes: int = 5
    """Window in which failures are counted."""
    lockout_minutes: int = 15
    """How long a lock lasts after the failure that caused it."""
    validation_link_hours: int = 72
    """Validity of the e-mail validation link."""
    reset_link_minutes: int = 60
    """Validity of a single-use password reset link."""
    mails_per_address_per_hour: int = 3
    """Reset links and "already registered" notices one address gets per hour at most."""
    requests_per_source_per_hour: int = 30
    """Registrations (and, silently, reset requests) one source address may make per hour."""

    def __post_init__(self) -> None:
        if self.password_min_length < 8:
            raise ValueError("password_min_length below 8 weakens the seed's policy")
        if not self.password_specials:
            raise ValueError("password_specials must not be empty")
        numbers = (
            self.password_max_age_days,
            self.lockout_failures,
            self.lockout_failures_per_address,
            self.lockout_window_minutes,
            self.lockout_minutes,
            self.validation_link_hours,
            self.reset_link_minutes,
        )
        if min(numbers) < 1 or self.password_min_age_days < 0 or self.password_history < 0:
            raise ValueError("account policy values must be positive")


@dataclass(frozen=True, slots=True, kw_only=True)
class EntitlementsConfig:
    """Trials and reminders of hub packages and plant licences."""

    hub_trial_days: int = 30
    """Free trial of an account's hubs from account creation (R-CCU-2)."""
    plant_trial_days: int = 40
    """Free trial of a plant from its first inverter's activation (R-MON-8)."""
    reminder_days_before: int = 5
    """First expiry reminder of a single booking, days before the expiry day (R-CCU-6)."""
    renew_offer_days: int = 40
    """"Lizenz erneuern" is offered from this many days before a licence ends (R-MON-15)."""
    expired_retry_after_s: float = 86400.0
    """Retry-after sent with an ``expired`` refusal."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpConfig:
    """Outgoing e-mail (the notification outbox's worker)."""

    host: str = ""
    """SMTP server; empty keeps mails in the outbox unsent (logged)."""
    port: int = 25
    """SMTP port (587 with ``starttls``, 465 with ``tls``)."""
    sender: str = "CloudConnector <noreply@localhost>"
    """From address."""
    starttls: bool = False
    """Upgrade the connection with STARTTLS."""
    tls: bool = False
    """Connect with implicit TLS."""
    username: str = ""
    """Login name; empty for no authentication."""
    password: str = ""
    """Login password (never logged)."""
    timeout_s: float = 30.0
    """Timeout of one SMTP conversation, in seconds."""
    poll_interval_s: float = 30.0
    """How often the worker looks for due mails when not woken, in seconds."""
    max_attempts: int = 10
    """A mail that failed this often is marked failed and left for an operator."""


@dataclass(frozen=True, slots=True, kw_only=True)
class VatConfig:
    """VAT ID checks against a VIES-style service (R-MON-3)."""

    vies_url: str = "https://ec.europa.eu/taxation_customs/vies/rest-api"
    """Base URL of the VIES REST API (``/check-vat-number`` is appended)."""
    timeout_s: float = 15.0
    """Timeout of one check, in seconds."""
    retry_minutes: int = 60
    """A pending check (service unavailable) is retried after this many minutes."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PlantsConfig:
    """PV plants: inverter activation codes (R-MON-7)."""

    activation_key: str = ""
    """Manufacturer key the activation codes on inverter labels derive from (secret);
    empty: the gateway refuses to start unless ``demo_activation_key`` is set."""
    max_wrong_codes: int = 5
    """Wrong activation codes an account may enter per window before it must wait."""
    max_wrong_codes_per_source: int = 20
    """Wrong activation codes one source address may enter per window (by any account).

    There is deliberately no global limit: it would let a few attackers lock every owner out
    of registering inverters (as for pairing codes, issue 20)."""
    wrong_code_window_s: float = 900.0
    """Window over which wrong activation codes are counted, in seconds."""
    demo_activation_key: bool = False
    """Without ``activation_key``, use the public demo manufacturer key (anyone can compute
    codes with it): for the demo and tests only, never for a real gateway."""

    def __post_init__(self) -> None:
        if (
            self.max_wrong_codes < 1
            or self.max_wrong_codes_per_source < 1
            or self.wrong_code_window_s <= 0
        ):
            raise ValueError(
                "plants: max_wrong_codes, max_wrong_codes_per_source and wrong_code_window_s"
                " must be positive"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class BillingConfig:
    """The seller printed on every document (demo defaults; set real data in production)."""

    seller_name: str = "CloudConnector Demo GmbH"
    """Legal name of the seller."""
    seller_street: str = "Hafenstraße 1"
    """Street and house number."""
    seller_postcode: str = "26789"
    """Postcode."""
    seller_city: str = "Leer"
    """City."""
    seller_country: str = "DE"
    """ISO 3166-1 alpha-2 country code; reverse charge applies to EU businesses elsewhere."""
    vat_id: str = "DE999999999"
    """The seller's VAT identification number."""
    tax_number: str = ""
    """Local tax number (optional)."""
    register: str = "Amtsgericht Aurich HRB 999999"
    """Commercial register entry."""
    email: str = "rechnung@cloudconnector.example"
    """Address for questions about documents."""
    iban: str = "DE02120300000000202051"
    """Account customers pay to (demo: a public test IBAN)."""
    bic: str = "BYLADEM1001"
    """BIC of that account."""
    bank_name: str = "Demo Bank"
    """Name of the bank."""

    def __post_init__(self) -> None:
        if len(self.seller_country) != 2 or not self.iban or not self.seller_name:
            raise ValueError("billing: seller_country (2 letters), iban and seller_name are needed")


@dataclass(frozen=True, slots=True, kw_only=True)
class ContractsConfig:
    """The service provider that pre-checks prepaid service contracts (R-BIL-2)."""

    provider_url: str = "http://127.0.0.1:8470"
    """Base URL of the provider's pre-check API (``simulator satellite`` listens here)."""
    provider_timeout_s: float = 5.0
    """How long a pre-check may take before the order is refused as "provider unavailable"."""

    def __post_init__(self) -> None:
        if not self.provider_url.startswith(("http://", "https://")):
            raise ValueError("contracts: provider_url must be an http(s) URL")
        if self.provider_timeout_s <= 0:
            raise ValueError("contracts: provider_timeout_s must be > 0")


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentsConfig:
    """Payment providers: PayPal and the payment service provider's hosted page.

    Empty URLs switch a provider off (its methods then answer "not available").
    """

    gateway_url: str = ""
    """Public base URL the providers send buyers and notifications back to (default: the
    origin of the shop page the checkout came from)."""
    paypal_api_url: str = ""
    """PayPal's REST base URL (``https://api-m.paypal.com``; the simulator's address)."""
    paypal_client_id: str = ""
    """REST app client id."""
    paypal_client_secret: str = ""
    """REST app secret."""
    paypal_webhook_id: str = ""
    """The id PayPal gave the webhook listener; part of every signature."""
    psp_url: str = ""
    """The payment service provider's API and hosted page base URL."""
    psp_api_key: str = ""
    """API key for creating checkouts."""
    psp_secret: str = ""
    """Shared secret of the signed server-to-server notifications."""
    notification_tolerance_s: int = 300
    """How old a signed PSP notification may be (replay protection)."""
    currency: str = "EUR"
    """Currency of every payment."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PortalConfig:
    """The customer portal's operator-edited pages and the demo's mailbox."""

    legal_dir: Path | None = None
    """Folder with the operator's legal texts (``impressum.de.txt``, ``datenschutz.en.txt``,
    ``agb.de.txt``, ...); unset or a missing file: the shipped demo texts."""
    demo_mailbox_dir: Path | None = None
    """Maildir the demo's mail catcher writes to; set, the portal shows it as "Postfach
    (Demo)" to everybody. Never set it in production."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterConfig:
    """Several gateway nodes on one PostgreSQL (docs/operations.md, ADR 0020)."""

    enabled: bool = False
    """Run as one node of a fleet (needs PostgreSQL): tunnel directory, control bus, leases."""
    node_id: str = ""
    """This node's name in the fleet (empty: host name and process id)."""
    heartbeat_s: float = 2.0
    """How often the node refreshes its row."""
    dead_after_s: float = 10.0
    """A node silent this long is dead: its row and directory rows are removed."""
    loop_grace_s: float = 60.0
    """How long the node's event loop may be too busy to answer (a storm of TLS handshakes)
    before its heartbeat thread stops beating and the others reap it (ADR 0020)."""
    lease_poll_s: float = 1.0
    """How often a node without a singleton's lease asks for it."""
    drain_grace_s: float = 3.0
    """After /healthz turns to draining: how long the load balancer gets to notice."""
    drain_spread_s: float = 10.0
    """Devices of a draining node come back spread over this many seconds."""
    internal_host: str = "127.0.0.1"
    """Where the node listens for the other nodes (forwarded remote access, mutual TLS)."""
    internal_port: int = 0
    """Its port (0: any free port; the fleet table tells the others)."""
    internal_address: str = ""
    """How the other nodes reach this one (``host``; empty: ``internal_host``)."""
    internal_ca_file: Path | None = None
    """The fleet CA (PEM) every node certificate is checked against (empty: made locally)."""
    internal_cert_file: Path | None = None
    """This node's fleet certificate (PEM), for serverAuth and clientAuth."""
    internal_key_file: Path | None = None
    """Its private key (PEM)."""

    def __post_init__(self) -> None:
        if self.heartbeat_s <= 0 or self.dead_after_s <= 2 * self.heartbeat_s:
            raise ValueError("cluster: dead_after_s must exceed two heartbeats")
        if self.loop_grace_s < self.dead_after_s:
            raise ValueError("cluster: loop_grace_s must be at least dead_after_s")
        if self.lease_poll_s <= 0 or self.drain_grace_s < 0 or self.drain_spread_s < 0:
            raise ValueError("cluster: lease_poll_s must be positive, drain times not negative")


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayConfig:
    """Everything ``cloud-gateway serve`` needs."""

    state_dir: Path = Path("state/gateway")
    """Folder for the SQLite database, the CA and generated certificates."""
    event_loop: EventLoop = EventLoop.ASYNCIO
    """``asyncio`` (default): asyncio's own loop; ``uvloop`` (``pip install
    'cloudconnector[gateway]'``) runs on uvloop, a configuration error without it; ``auto``:
    uvloop when installed (ADR 0027: supported and tested, not the default while it halves
    the WAN bench's fibre upload)."""
    remote_domain: str = "localhost"
    """Devices are reached at ``https://<device-slug>.<remote_domain>/``."""
    http: HttpConfig = field(default_factory=HttpConfig)
    """HTTPS listener."""
    tls: TlsConfig = field(default_factory=TlsConfig)
    """Server certificate."""
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    """Database connection."""
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    """MQTT fan-out."""
    plants: PlantsConfig = field(default_factory=PlantsConfig)
    """PV plants and inverter activation."""
    accounts: AccountsConfig = field(default_factory=AccountsConfig)
    """Registration, password policy and lockout."""
    entitlements: EntitlementsConfig = field(default_factory=EntitlementsConfig)
    """Trials, reminders and refusals."""
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    """Outgoing e-mail."""
    vat: VatConfig = field(default_factory=VatConfig)
    """VAT ID checks."""
    enrolment: EnrolmentConfig = field(default_factory=EnrolmentConfig)
    """Device enrolment by pairing code."""
    tunnel: TunnelEndpointConfig = field(default_factory=TunnelEndpointConfig)
    """Device tunnel endpoint."""
    remote: RemoteAccessConfig = field(default_factory=RemoteAccessConfig)
    """Remote access to device web UIs."""
    operator: OperatorConfig = field(default_factory=OperatorConfig)
    """Operator API and metrics."""
    billing: BillingConfig = field(default_factory=BillingConfig)
    """Seller data on documents."""
    contracts: ContractsConfig = field(default_factory=ContractsConfig)
    """The service provider of prepaid service contracts."""
    payments: PaymentsConfig = field(default_factory=PaymentsConfig)
    """Payment providers (PayPal, hosted payment page)."""
    portal: PortalConfig = field(default_factory=PortalConfig)
    """Legal pages and the demo mailbox."""
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    """Running as one of several nodes."""

    @property
    def database_url(self) -> str:
        """The configured URL, or the default SQLite file in the state folder."""
        return self.database.url or f"sqlite+aiosqlite:///{self.state_dir / 'gateway.sqlite3'}"


def load_gateway_config(path: Path | None) -> GatewayConfig:
    """Load ``path``, or the defaults when no file is given."""
    return GatewayConfig() if path is None else load_config(path, GatewayConfig)
