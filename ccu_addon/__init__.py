"""The CCU add-on: tunnel to the gateway, dashboard page in the CCU WebUI, remote access."""
