"""Several gateway nodes as one fleet: tunnel directory, control bus, singleton leases, drain."""
