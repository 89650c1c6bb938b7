"""Telemetry from inverter agents: ingest (commit, then ACK), day energy, MQTT fan-out."""
