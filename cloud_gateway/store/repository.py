"""The store's error contract: driver errors become store errors at the repository boundary.

:func:`store_error` is the one mapping of SQLAlchemy's driver errors to the store's errors
(:mod:`cloud_gateway.errors`): an ``IntegrityError`` (a unique key, foreign key or check
refused the change) becomes :class:`~cloud_gateway.errors.ConflictError`, every other
``DBAPIError`` (connection lost, deadlock, bad data) :class:`~cloud_gateway.errors.StoreError`,
and so does the pool's ``TimeoutError`` (no connection free within the pool timeout: a node
overloaded, e.g. by a reconnect storm), always raised ``from`` the driver's error.

:class:`Repository` is the base of every area's repository. It applies the mapping to every
public coroutine method of a subclass, after the method's own handlers had their turn: a
repository that knows better (a taken serial is ``SerialTakenError``) still says so, and no
driver error leaves a repository unmapped.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from cloud_gateway.errors import ConflictError, StoreError
from cloud_gateway.store.database import Database

__all__ = ["Repository", "store_error"]

_P = ParamSpec("_P")
_T = TypeVar("_T")


def store_error(exc: DBAPIError, what: str) -> StoreError:
    """The store error for the driver error ``exc`` raised while doing ``what``."""
    if isinstance(exc, IntegrityError):
        return ConflictError(f"{what}: {exc.orig!r}")
    return StoreError(f"{what}: {exc.orig!r}")


def _mapped(method: Callable[_P, Awaitable[_T]]) -> Callable[_P, Awaitable[_T]]:
    what = method.__qualname__

    @functools.wraps(method)
    async def call(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return await method(*args, **kwargs)
        except DBAPIError as exc:
            raise store_error(exc, what) from exc
        except PoolTimeoutError as exc:
            raise StoreError(f"{what}: no database connection free: {exc}") from exc

    return call


class Repository:
    """Base of every repository: built on a :class:`Database`, driver errors mapped."""

    __slots__ = ("_db",)

    def __init__(self, db: Database) -> None:
        self._db = db

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, member in list(vars(cls).items()):
            if not name.startswith("_") and inspect.iscoroutinefunction(member):
                setattr(cls, name, _mapped(member))
