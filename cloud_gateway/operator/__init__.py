"""Operator API: live tunnels, disconnect, disable, revoke; Prometheus metrics."""
