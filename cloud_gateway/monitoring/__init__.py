"""Monitoring (R-MON-6, R-MON-16..18): yield forecast, alert rules, public plant list (pure cores).

``forecast`` is the physics (pvlib); ``daylight`` the sun-up intervals the alerts count in;
``alert_rules`` the three alert kinds and their state machine; ``public`` the public plant list.
None of them does I/O: the gateway's shell feeds readings in and turns events into mails and MQTT.
"""
