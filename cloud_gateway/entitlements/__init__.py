"""Entitlements: may this hub or plant use the service at instant t? (windows, pure rules)."""
