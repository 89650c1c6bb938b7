"""``cloud-gateway``'s commands import the application only when they need it."""

from __future__ import annotations

import json
import subprocess
import sys

_LOADED = """
import json, sys
from cloud_gateway.cli import main
try:
    main({argv!r})
except SystemExit:
    pass
heavy = ("aiohttp", "cloud_gateway.server", "cloud_gateway.store", "sqlalchemy")
print(json.dumps(sorted(name for name in heavy if name in sys.modules)))
"""


def _loaded_after(argv: list[str]) -> list[str]:
    code = _LOADED.format(argv=argv)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded: list[str] = json.loads(run.stdout.strip().splitlines()[-1])
    return loaded


def test_help_and_usage_errors_import_no_application() -> None:
    assert _loaded_after(["--help"]) == []
    assert _loaded_after(["serve", "--help"]) == []
    assert _loaded_after(["serve", "--no-such-option"]) == []


def test_contracts_preview_needs_no_server_or_database() -> None:
    argv = ["contracts", "preview", "--product", "satellite-uplink", "--start", "2026-01-01"]
    assert _loaded_after(argv) == []
