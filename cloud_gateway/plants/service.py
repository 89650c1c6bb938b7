"""Registering inverters: activation codes, the guessing limit, spreadsheet lists, swaps.

Used by the JSON API and the portal pages alike. Every call names the acting account; a plant
or inverter of another account is :class:`~cloud_gateway.errors.NotFoundError`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from cloud_gateway.errors import ConflictError
from cloud_gateway.plants.activation import GuessLimit, normalise_serial, verify_code
from cloud_gateway.plants.errors import (
    ActivationCodeError,
    ActivationRateLimitedError,
    InvalidPlantError,
    SerialTakenError,
)
from cloud_gateway.plants.model import Inverter
from cloud_gateway.plants.repository import PlantRepository
from cloud_gateway.plants.repository_inverters import InverterRepository
from cloud_gateway.plants.spreadsheet import BadRow, RawRow, RowProblem, check_rows
from cloud_gateway.store import Store
from tunnel.clock import Clock

__all__ = ["InverterRegistration", "UploadReport"]

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class UploadReport:
    """What an uploaded list did: inverters added, rows refused with their reasons."""

    added: list[Inverter]
    refused: list[BadRow]


def _serial(raw: str) -> str:
    try:
        return normalise_serial(raw)
    except ValueError:
        raise InvalidPlantError({"serial": "plants.err.serial"}) from None


class InverterRegistration:
    """Adds, swaps and lists inverters for their owners."""

    def __init__(
        self, store: Store, clock: Clock, *, key: bytes, limit: GuessLimit | None = None
    ) -> None:
        self._store = store
        self._clock = clock
        self._key = key
        self._limit = limit or GuessLimit()
        self.power_listeners: list[Callable[[int], Awaitable[object]]] = []
        """Told (plant id) after inverters were added or swapped: the plant's nominal power
        may have grown past its licence (the licences area, R-MON-14)."""

    async def _power_changed(self, plant_id: int) -> None:
        for listener in self.power_listeners:
            try:
                await listener(plant_id)
            except Exception:  # a failing listener must not undo a registered inverter
                _LOGGER.exception("power listener failed for plant %d", plant_id)

    async def _failures_left(self, account_id: int, source_address: str) -> int:
        """Wrong codes the account may still enter now; refused past either limit."""
        now = self._clock.now()
        by_account, by_source = await self._store.repo(
            InverterRepository
        ).activation_failures_since(account_id, source_address, now - self._limit.window)
        wait = self._limit.retry_after(by_account, now, by_source)
        if wait > 0:
            raise ActivationRateLimitedError(wait)
        return min(
            self._limit.max_failures - len(by_account),
            self._limit.max_failures_per_source - len(by_source),
        )

    async def _check_code(
        self, account_id: int, serial: str, code: str, source_address: str
    ) -> None:
        await self._failures_left(account_id, source_address)
        if not verify_code(serial, code, self._key):
            await self._store.repo(InverterRepository).record_activation_failure(
                account_id, self._clock.now(), source_address=source_address
            )
            _LOGGER.info(
                "wrong activation code for %s by account %d from %s",
                serial,
                account_id,
                source_address,
            )
            raise ActivationCodeError(f"the activation code does not fit inverter {serial}")

    async def add(
        self,
        *,
        account_id: int,
        plant_id: int,
        serial: str,
        code: str,
        source_address: str,
        name: str = "",
    ) -> Inverter:
        """Register one inverter by serial and activation code, typed from ``source_address``
        (the client's address: wrong codes count against it as well as the account)."""
        await self._store.repo(PlantRepository).get(plant_id, account_id)
        serial = _serial(serial)
        await self._check_code(account_id, serial, code, source_address)
        try:
            added = await self._store.repo(InverterRepository).add(
                plant_id=plant_id,
                account_id=account_id,
                serial=serial,
                name=name.strip()[:100],
                now=self._clock.now(),
            )
        except ConflictError as exc:
            raise SerialTakenError(f"inverter {serial} is already registered") from exc
        await self._power_changed(plant_id)
        return added

    async def swap(
        self, *, account_id: int, inverter_id: int, serial: str, code: str, source_address: str
    ) -> Inverter:
        """Replace the inverter in this slot by another one; history stays with the slot."""
        await self._store.repo(InverterRepository).get(inverter_id, account_id)
        serial = _serial(serial)
        await self._check_code(account_id, serial, code, source_address)
        try:
            swapped = await self._store.repo(InverterRepository).swap(
                inverter_id, account_id, serial, self._clock.now()
            )
        except ConflictError as exc:
            raise SerialTakenError(f"inverter {serial} is already registered") from exc
        await self._power_changed(swapped.plant_id)
        return swapped

    async def add_list(
        self, *, account_id: int, plant_id: int, rows: list[RawRow], source_address: str
    ) -> UploadReport:
        """Register every good row of an uploaded list; report every bad row with its reason."""
        await self._store.repo(PlantRepository).get(plant_id, account_id)
        budget = await self._failures_left(account_id, source_address)
        checked = check_rows(
            rows, verify=lambda s, c: verify_code(s, c, self._key), code_budget=budget
        )
        now = self._clock.now()
        for _ in range(checked.wrong_codes):
            await self._store.repo(InverterRepository).record_activation_failure(
                account_id, now, source_address=source_address
            )
        added: list[Inverter] = []
        refused = list(checked.bad)
        for row in checked.good:
            try:
                added.append(
                    await self._store.repo(InverterRepository).add(
                        plant_id=plant_id,
                        account_id=account_id,
                        serial=row.serial,
                        name=row.name,
                        now=now,
                    )
                )
            except ConflictError:
                refused.append(BadRow(row.line, row.serial, RowProblem.TAKEN))
        refused.sort(key=lambda r: r.line)
        if added:
            await self._power_changed(plant_id)
        return UploadReport(added=added, refused=refused)

    @property
    def guess_window(self) -> timedelta:
        """The window over which wrong codes are counted."""
        return self._limit.window
