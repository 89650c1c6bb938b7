"""The application keys moved to :mod:`cloud_gateway.http.keys` (the web layer).

This alias keeps branches written before the move importable until they are merged; new code
imports :mod:`cloud_gateway.http.keys`.
"""

from __future__ import annotations

from cloud_gateway.http.keys import *  # noqa: F403
from cloud_gateway.http.keys import __all__  # noqa: F401 - re-exported
