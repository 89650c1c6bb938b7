"""The cloud gateway: tunnel endpoint, remote access, telemetry, accounts, shop, portal."""
