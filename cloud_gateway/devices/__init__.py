"""Devices: the CCU hubs and inverter agents known to the gateway (model, table, repository)."""
