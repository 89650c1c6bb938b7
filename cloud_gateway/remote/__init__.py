"""Remote access to device web UIs through their tunnels (R-DEV-7, R-DEV-11)."""
