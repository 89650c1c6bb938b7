"""Gap-free document numbers: concurrent finalisations, rollbacks, and schema drift."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.exc import DBAPIError

from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.billing.documents import Draft
from cloud_gateway.billing.finalising import Pending, finalise_pending, seller_parties
from cloud_gateway.billing.rendering.view import DocumentKind, DocumentLine, Party
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.schema import billing_documents, billing_journal
from cloud_gateway.config import BillingConfig
from cloud_gateway.store import Store
from tests.support.schema_drift import schema_drift

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SELLER, BANK = seller_parties(BillingConfig())


def _pending(account_id: int, net: int = 1000) -> Pending:
    draft = Draft(
        kind=DocumentKind.INVOICE,
        issue_date=date(2026, 3, 1),
        lines=(DocumentLine(line_id="1", name="x", unit_price=net, net=net),),
    )
    return Pending(draft=draft, account_id=account_id, buyer=Party(name="B"))


async def _finalise(repo: BillingRepository, account_id: int, net: int = 1000) -> int:
    async with repo.transaction() as conn:
        [doc_id] = await finalise_pending(
            repo, conn, [_pending(account_id, net)], NOW, seller=SELLER, bank=BANK
        )
        return doc_id


async def _account(store: Store) -> int:
    account = await store.repo(AccountRepository).create(
        username="seq", email="seq@example.org", password_hash="h", created_at=NOW
    )
    return account.id


async def _numbers(repo: BillingRepository) -> list[str]:
    async with repo.transaction() as conn:
        return sorted(d.number for d in await repo.documents(conn))


class _AbortError(Exception):
    pass


async def _finalise_then_roll_back(repo: BillingRepository, account_id: int) -> None:
    async with repo.transaction() as conn:
        await finalise_pending(repo, conn, [_pending(account_id)], NOW, seller=SELLER, bank=BANK)
        raise _AbortError


async def test_rolled_back_finalisation_leaves_no_gap(store: Store) -> None:
    repo = store.repo(BillingRepository)
    account = await _account(store)
    await _finalise(repo, account)
    with pytest.raises(_AbortError):
        await _finalise_then_roll_back(repo, account)
    await _finalise(repo, account)
    assert await _numbers(repo) == ["RE-2026-00001", "RE-2026-00002"]


@pytest.mark.postgresql
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_fifty_concurrent_finalisations_get_fifty_numbers_without_gap(store: Store) -> None:
    repo = store.repo(BillingRepository)
    account = await _account(store)

    async def one(i: int) -> int:
        if i % 10 == 3:  # some of them roll back after taking a number
            with pytest.raises(_AbortError):
                await _finalise_then_roll_back(repo, account)
        return await _finalise(repo, account, 1000 + i)

    ids = await asyncio.gather(*(one(i) for i in range(50)))
    assert len(set(ids)) == 50
    assert await _numbers(repo) == [f"RE-2026-{n:05d}" for n in range(1, 51)]


async def test_migrations_match_the_billing_tables(store: Store) -> None:
    assert await schema_drift(store, "billing_") == []


async def test_documents_and_journal_refuse_update_and_delete(store: Store) -> None:
    repo = store.repo(BillingRepository)
    account = await _account(store)
    doc_id = await _finalise(repo, account)
    async with repo.transaction() as conn:
        await repo.append(
            conn, account_id=account, kind="payment", amount=100, source_key="k", created_at=NOW
        )
    for statement in (
        billing_documents.update().where(billing_documents.c.id == doc_id).values(gross=0),
        billing_documents.delete().where(billing_documents.c.id == doc_id),
        billing_journal.update().values(amount=1_000_000),
        billing_journal.delete(),
    ):
        with pytest.raises(DBAPIError, match=r"never change|append-only"):
            async with store.engine.begin() as conn:
                await conn.execute(statement)
    assert await _numbers(repo) == ["RE-2026-00001"]
