"""Faithful stand-ins for the hardware (CCU, SunSpec inverters) and whole-system runs.

The hardware stand-ins (``simulator.ccu``, ``simulator.inverter``) import no product
package: they are separate devices, seen only through their network and serial
interfaces. Only ``simulator.fleet`` and ``simulator.demo`` start product code.
"""
