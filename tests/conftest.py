"""Shared fixtures: clock, CA, SMTP server, MQTT probe, databases on both backends."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path

import pytest
import trustme
import uvloop

from cloud_gateway.store import Store
from tests.support import netguard
from tests.support.databases import drop_templates, fresh_database_url
from tests.support.loops import loop_for
from tests.support.mqtt import MqttProbe
from tests.support.smtp import RecordingSmtp
from tunnel.clock import ManualClock

netguard.install()

_PASSED_BY_PART: Counter[str] = Counter()


@pytest.fixture
def clock() -> ManualClock:
    """A clock that moves only when the test says so."""
    return ManualClock()


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    """A throwaway certificate authority for TLS tests."""
    return trustme.CA()


@pytest.fixture
async def smtp_server() -> AsyncIterator[RecordingSmtp]:
    """A real SMTP server on a free loopback port that records what it receives."""
    server = RecordingSmtp()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def mqtt_probe() -> AsyncIterator[MqttProbe]:
    """A subscriber on the local Mosquitto with a unique topic prefix."""
    probe = MqttProbe()
    await probe.start()
    try:
        yield probe
    finally:
        await probe.stop()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
    ]
)
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of a fresh database at the schema's head (a copy of the session's migrated
    template, see ``tests/support/databases.py``); every test runs once per backend."""
    async with fresh_database_url(request.param, tmp_path, migrated=True) as url:
        yield url


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
    ]
)
async def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of a fresh, empty database (for the migrations themselves), per backend."""
    async with fresh_database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    """A migrated store on a fresh database of each backend."""
    opened = await Store.open(db_url)
    try:
        yield opened
    finally:
        await opened.close()


class _EventLoops:
    """Gives each asyncio test the loop :func:`loop_for` names."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def pytest_asyncio_loop_factories(
        self, config: pytest.Config, item: pytest.Item
    ) -> Mapping[str, Callable[[], object]]:
        if loop_for(item, self.mode) == "uvloop":
            return {"uvloop": uvloop.new_event_loop}
        return {"asyncio": asyncio.new_event_loop}

    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        """A test on uvloop times out by a thread: pytest-timeout's signal cannot interrupt
        a loop waiting inside libuv (the worker ends with every thread's stack printed)."""
        for item in items:
            if loop_for(item, self.mode) != "uvloop":
                continue
            marker = item.get_closest_marker("timeout")
            seconds = (
                (marker.args[0] if marker.args else marker.kwargs.get("timeout"))
                if marker is not None
                else float(config.getini("timeout"))
            )
            item.add_marker(pytest.mark.timeout(seconds, method="thread"))


def pytest_configure(config: pytest.Config) -> None:
    """``TEST_LOOP`` = ``split`` (default), ``asyncio`` or ``uvloop``: see :func:`loop_for`."""
    mode = os.environ.get("TEST_LOOP", "split")
    if mode not in ("split", "asyncio", "uvloop"):
        raise pytest.UsageError(f"TEST_LOOP={mode!r}: split, asyncio or uvloop")
    config.pluginmanager.register(_EventLoops(mode), "cloudconnector-event-loops")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use the broker are marked ``mqtt`` so they can be selected and counted."""
    for item in items:
        if "mqtt_probe" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.mqtt)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count passed tests per backend so the summary can say what ran where."""
    if report.when != "call" or not report.passed:
        return
    keys = report.keywords
    if "postgresql" in keys:
        _PASSED_BY_PART["PostgreSQL"] += 1
    if "sqlite" in keys:
        _PASSED_BY_PART["SQLite"] += 1
    if "mqtt" in keys:
        _PASSED_BY_PART["Mosquitto"] += 1
    if "browser" in keys:
        _PASSED_BY_PART["chromium"] += 1


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The migrated templates of this process go (``tests/support/databases.py``)."""
    asyncio.run(drop_templates())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line: how many tests passed against each real service."""
    if _PASSED_BY_PART:
        parts = ", ".join(f"{name}: {n}" for name, n in sorted(_PASSED_BY_PART.items()))
        terminalreporter.write_line(f"real services exercised (passed tests) - {parts}")
