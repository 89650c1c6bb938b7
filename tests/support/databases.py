"""One fresh database per test, on SQLite and on PostgreSQL.

A fresh database is empty, or with ``migrated=True`` already at the schema's head: a copy
of a template this process migrated once (PostgreSQL ``CREATE DATABASE … TEMPLATE``, SQLite
a copy of the file), so that the suite does not run every migration again for each of its
hundreds of database tests. The template is built on first use and dropped when the session
ends (:func:`drop_templates`); a database is still never shared between two tests.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from cloud_gateway.store import Store

__all__ = ["PG_ADMIN_DSN", "drop_templates", "fresh_database_url"]

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"

#: this process's migrated templates: backend -> PostgreSQL database name / SQLite file
_templates: dict[str, str] = {}


@asynccontextmanager
async def fresh_database_url(
    backend: str, tmp_path: Path, *, migrated: bool = False
) -> AsyncIterator[str]:
    """Yield the URL of a database of ``backend`` of its own: empty, or with ``migrated`` at
    the schema's head; drop it afterwards."""
    if backend == "sqlite":
        path = tmp_path / "test.sqlite3"
        if migrated:
            shutil.copyfile(await _sqlite_template(), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    name = f"t_{uuid.uuid4().hex[:16]}"
    template = f' TEMPLATE "{await _pg_template()}"' if migrated else ""
    await _admin(f'CREATE DATABASE "{name}"{template}')
    try:
        yield _PG_URL.format(name=name)
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _admin(statement: str) -> None:
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(statement)
    finally:
        await admin.close()


async def _migrate(url: str) -> None:
    store = await Store.open(url)
    await store.close()


async def _sqlite_template() -> str:
    if "sqlite" not in _templates:
        path = Path(tempfile.mkdtemp(prefix="cloudconnector-template-")) / "head.sqlite3"
        await _migrate(f"sqlite+aiosqlite:///{path}")
        with sqlite3.connect(path) as db:  # everything in the main file, no WAL to copy
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        _templates["sqlite"] = str(path)
    return _templates["sqlite"]


async def _pg_template() -> str:
    if "postgresql" not in _templates:
        name = f"tmpl_{uuid.uuid4().hex[:16]}"
        await _admin(f'CREATE DATABASE "{name}"')
        try:
            await _migrate(_PG_URL.format(name=name))
        except BaseException:
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            raise
        _templates["postgresql"] = name
    return _templates["postgresql"]


async def drop_templates() -> None:
    """Drop this process's templates (at the end of the session)."""
    sqlite_template = _templates.pop("sqlite", None)
    if sqlite_template is not None:
        shutil.rmtree(Path(sqlite_template).parent, ignore_errors=True)
    pg_template = _templates.pop("postgresql", None)
    if pg_template is not None:
        await _admin(f'DROP DATABASE IF EXISTS "{pg_template}" WITH (FORCE)')
