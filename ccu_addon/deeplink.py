"""The signed "Zugang buchen" link to the gateway's shop (R-CCU-11), device half.

The format is specified in ``docs/deeplink.md``; the gateway verifies it with its own
implementation (device code and gateway code never import each other). Pure: no I/O, the
instant comes from the caller.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final
from urllib.parse import urlencode

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey

__all__ = ["LINK_LIFETIME", "ShopLinkClaims", "build_shop_link", "canonical_payload"]

LINK_LIFETIME: Final = timedelta(minutes=10)
"""How long a freshly made link is valid."""
_HEADER: Final = "cloudconnector-shop-link/1"
SHOP_PATH: Final = "shop/hub"


@dataclass(frozen=True, slots=True, kw_only=True)
class ShopLinkClaims:
    """What the hub vouches for with its signature."""

    device_slug: str
    """The hub's device slug (CN of its certificate)."""
    account_id: int
    """The account the hub is linked to; the booking credits it."""
    package: str
    """The package code to renew, or empty."""
    expires: int
    """Unix seconds after which the link is void."""

    def __post_init__(self) -> None:
        for name in ("device_slug", "package"):
            if any(ch in getattr(self, name) for ch in "\r\n"):
                raise ValueError(f"{name} must not contain line breaks")
        if not self.device_slug:
            raise ValueError("device_slug must not be empty")
        if self.account_id < 0 or self.expires < 0:
            raise ValueError("account_id and expires must not be negative")


def canonical_payload(claims: ShopLinkClaims) -> bytes:
    """The exact bytes that are signed (see ``docs/deeplink.md``)."""
    lines = (
        _HEADER,
        f"device={claims.device_slug}",
        f"account={claims.account_id}",
        f"package={claims.package}",
        f"expires={claims.expires}",
    )
    return "".join(f"{line}\n" for line in lines).encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def build_shop_link(
    *,
    gateway_url: str,
    device_slug: str,
    account_id: int,
    package: str,
    key: EllipticCurvePrivateKey,
    certificate_der: bytes,
    now: datetime,
    lifetime: timedelta = LINK_LIFETIME,
) -> str:
    """A signed link to the gateway's landing page that names the hub's account.

    ``cryptography`` is imported here, on the first click, not with the module: the daemon
    stays without it otherwise (see :mod:`ccu_addon.identity`).
    """
    from cryptography.hazmat.primitives import hashes  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415

    claims = ShopLinkClaims(
        device_slug=device_slug,
        account_id=account_id,
        package=package,
        expires=int((now + lifetime).timestamp()),
    )
    signature = key.sign(canonical_payload(claims), ec.ECDSA(hashes.SHA256()))
    query = urlencode(
        {
            "device": claims.device_slug,
            "account": str(claims.account_id),
            "package": claims.package,
            "expires": str(claims.expires),
            "cert": _b64(certificate_der),
            "sig": _b64(signature),
        }
    )
    return f"{gateway_url.rstrip('/')}/{SHOP_PATH}?{query}"
