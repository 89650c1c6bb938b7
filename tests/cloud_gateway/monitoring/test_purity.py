"""The monitoring cores stay pure: no web, store or service imports; physics only in forecast."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[3] / "cloud_gateway" / "monitoring"
ALLOWED_GATEWAY = {
    "cloud_gateway.errors",
    "cloud_gateway.plants.model",
    "cloud_gateway.telemetry.topics",
}
IO_OR_WEB = {"aiohttp", "asyncio", "sqlalchemy", "asyncpg", "aiosqlite", "paho", "jinja2"}
PHYSICS = {"pvlib", "pandas", "numpy"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


SHELL = {
    "schema.py",
    "repository.py",
    "repository_figures.py",
    "service.py",
    "routes.py",
    "web_public.py",
    "web_owner.py",
    "web_texts.py",
}
"""The area's shell (store, scheduler, pages); everything else is the pure core."""

MODULES = sorted(p for p in PACKAGE.glob("*.py") if p.name not in SHELL)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_web_store_or_service_imports(path: Path) -> None:
    imports = _imports(path)
    gateway = {
        name
        for name in imports
        if name.startswith("cloud_gateway.") and not name.startswith("cloud_gateway.monitoring")
    }
    assert gateway <= ALLOWED_GATEWAY
    assert not {name.split(".")[0] for name in imports} & IO_OR_WEB


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_only_the_forecast_needs_the_physics_stack(path: Path) -> None:
    roots = {name.split(".")[0] for name in _imports(path)}
    if path.name != "forecast.py":
        assert not roots & PHYSICS
