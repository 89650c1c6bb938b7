"""The inverter agent: SunSpec over Modbus RTU/TCP, durable outbox, telemetry through the tunnel."""
