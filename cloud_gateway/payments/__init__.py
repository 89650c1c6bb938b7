"""Payments: the port the shop starts payments through, providers, webhooks."""
