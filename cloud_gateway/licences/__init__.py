"""Monitoring licences for plants (seed 002 §11-15; R-MON-3, 4, 10..16).

Pure rules (``quote``, ``eligibility``), the service that orders them through the money core and
the shop's payment port (``service``), the power-increase credit, the agent's configuration
request, and the portal pages (``routes``, ``texts``, ``templates``).
"""
