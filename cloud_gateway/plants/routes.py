"""Wiring of the plants area: texts, services, access policy, API and portal routes."""

from __future__ import annotations

import logging
from datetime import timedelta

from aiohttp import web

from cloud_gateway.app_keys import CONFIG, INVERTER_REGISTRATION, PLANT_ACCESS, STORE
from cloud_gateway.plants import api_data, texts, views
from cloud_gateway.plants.access import TrialPolicy
from cloud_gateway.plants.activation import GuessLimit
from cloud_gateway.plants.service import InverterRegistration
from cloud_gateway.web import CLOCK

__all__ = ["DEMO_ACTIVATION_KEY", "setup"]

_LOGGER = logging.getLogger(__name__)

#: the documented demo manufacturer key (docs/activation-codes.md); never for production
DEMO_ACTIVATION_KEY = b"cloudconnector-demo-manufacturer-key-v1"


def setup(app: web.Application) -> None:
    """Register the area on ``app`` (after CONFIG, STORE and CLOCK are set).

    ``app[PLANT_ACCESS]`` defaults to the trial-only policy; replace it before the app starts
    to enforce licences from the entitlements area.
    """
    config = app[CONFIG].plants
    key = config.activation_key.encode()
    if not key:
        _LOGGER.warning("plants.activation_key is not set: using the demo manufacturer key")
        key = DEMO_ACTIVATION_KEY
    texts.register()
    app[INVERTER_REGISTRATION] = InverterRegistration(
        app[STORE],
        app[CLOCK],
        key=key,
        limit=GuessLimit(
            max_failures=config.max_wrong_codes,
            window=timedelta(seconds=config.wrong_code_window_s),
        ),
    )
    if PLANT_ACCESS not in app:
        app[PLANT_ACCESS] = TrialPolicy()
    api_data.setup(app)
    views.setup(app)
