"""Prepaid service contracts (seed 004): provider pre-check, ordering, views, refunds."""
