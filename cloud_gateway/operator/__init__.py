"""Operator console: staff second factor, console pages and audit, operator API, metrics."""
