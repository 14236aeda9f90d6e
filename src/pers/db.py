"""Engine, sessions, model base, tenant context: the one place that commits.

Two connections exist: the *owner* URL (runs migrations, owns tables) and the *app* URL the API
uses. The app runs every statement as ``Settings.db_app_role``, which owns nothing, so Row Level
Security applies to it; the tenant is set per transaction with ``set_config(..., true)``.
"""

from __future__ import annotations

import asyncio
import enum
import uuid
from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import fields, is_dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar, cast

import asyncpg
from sqlalchemy import Float, MetaData, Numeric, Table, inspect, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, InstanceState, Mapper
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.types import DateTime, TypeDecorator
from sqlalchemy.util import greenlet_spawn

from pers.config import Settings

TENANT_SETTING = "pers.tenant_id"
# Requests with no tenant (the platform operator creating tenants) scope their idempotency rows to
# this reserved id; no tenant can have it.
PLATFORM_TENANT_ID = uuid.UUID(int=0)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSONB,
        list[Any]: JSONB,
    }


B = TypeVar("B", bound=Base)


def async_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def make_engine(
    url: str, settings: Settings, *, role: str | None, pool_size: int | None = None
) -> AsyncEngine:
    server_settings = {"application_name": "pers"}
    if role:
        # Fallback when the API has no login of its own: statements run as the app role (RESET
        # ROLE keeps a startup-time role), but a session may still SET ROLE to its login, so
        # deployments should give the API a dedicated login (PERS_APP_DATABASE_URL).
        server_settings["role"] = role
    return create_async_engine(
        async_url(url),
        pool_size=settings.db_pool_size if pool_size is None else pool_size,
        max_overflow=settings.db_max_overflow if pool_size is None else 0,
        pool_pre_ping=False,
        connect_args={"server_settings": server_settings},
    )


class FastPool:
    """The fast lane's connections (``fast_statement``), each checked out of its own engine once
    and then kept: handing one over is a list pop, where a checkout through the engine costs
    about 0.13 ms of CPU (the pool's bookkeeping, events and greenlet switches), a tenth of a
    fast-lane request. The connections are made by the engine, so they are set up exactly as
    the regular path's (login, role, codecs). At most ``size`` are open; callers beyond that
    wait, first come first served. A connection that failed other than by a server error is
    closed and its place given to the next caller."""

    def __init__(self, engine: AsyncEngine, size: int) -> None:
        self.engine = engine
        self.size = size
        self._idle: list[PoolProxiedConnection] = []
        self._open = 0
        # A waiter is handed a connection, or None: a place to open one.
        self._waiters: deque[asyncio.Future[PoolProxiedConnection | None]] = deque()

    @property
    def open(self) -> int:
        return self._open

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        """``fast_statement``'s contract: the first row, None on a server error."""
        proxied = await self._acquire()
        conn = cast(asyncpg.Connection, proxied.driver_connection)
        try:
            row = await conn.fetchrow(sql, *args)
        except asyncpg.PostgresError:
            # Refused by the server. A server that ended the session (shut down, the backend
            # terminated) refuses with an error too: that connection is not kept.
            if conn.is_closed():
                await self._discard(proxied, conn)
            else:
                self._release(proxied)
            return None
        except BaseException:
            # Lost, cancelled mid-statement, or a client-side failure: the connection's state is
            # unknown, so it is not reused.
            await self._discard(proxied, conn)
            raise
        self._release(proxied)
        return row

    async def _discard(self, proxied: PoolProxiedConnection, conn: asyncpg.Connection) -> None:
        conn.terminate()
        self._open -= 1
        self._release(None)
        await greenlet_spawn(proxied.invalidate)

    async def _acquire(self) -> PoolProxiedConnection:
        while True:
            if self._idle:
                return self._idle.pop()
            if self._open < self.size:
                self._open += 1
                try:
                    return await self.engine.raw_connection()
                except BaseException:
                    self._open -= 1
                    self._release(None)
                    raise
            waiter: asyncio.Future[PoolProxiedConnection | None] = (
                asyncio.get_running_loop().create_future()
            )
            self._waiters.append(waiter)
            try:
                handed = await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._release(waiter.result())  # handed over as this caller gave up
                elif waiter in self._waiters:  # a release may have passed it over already
                    self._waiters.remove(waiter)
                raise
            if handed is not None:
                return handed

    def _release(self, proxied: PoolProxiedConnection | None) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(proxied)
                return
        if proxied is not None:
            self._idle.append(proxied)

    async def close(self) -> None:
        """Return the idle connections and close the engine (at shutdown)."""
        idle, self._idle = self._idle, []
        for proxied in idle:
            self._open -= 1
            await greenlet_spawn(proxied.close)
        await self.engine.dispose()


class Database:
    def __init__(self, engine: AsyncEngine, fast: FastPool | None = None) -> None:
        self.engine = engine
        self.fast = fast
        self.sessionmaker = async_sessionmaker(engine, expire_on_commit=False, autoflush=True)

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """One transaction: commits when the block ends normally, rolls back otherwise."""
        session = self.sessionmaker()
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
        finally:
            await session.close()

    async def dispose(self) -> None:
        if self.fast is not None:
            await self.fast.close()
        await self.engine.dispose()


async def set_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """Bind the current transaction to ``tenant_id`` for Row Level Security."""
    await session.execute(
        text("SELECT set_config(:name, :value, true)"),
        {"name": TENANT_SETTING, "value": str(tenant_id)},
    )


async def plan_each_statement(session: AsyncSession) -> None:
    """Until the transaction ends, plan every statement with its parameter values instead of
    reusing a cached generic plan. For bulk work that grows tables inside one transaction: a
    generic plan made from the statistics of a small (or never analyzed) table can scan the
    whole table for each statement."""
    await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


_DRIVER_KEY = "pers.driver"


async def driver(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under ``session``, inside the session's transaction.

    For the statements every request runs (authentication, lookups, ledger entries): asyncpg
    with its cached prepared statements costs a fraction of the ORM's per-statement work. The
    statements join the session's transaction; pending ORM changes are flushed first, so the
    two views agree. Rows read here are plain records, not ORM objects.
    """
    if session.new or session.dirty or session.deleted:
        await session.flush()
    cached = session.info.get(_DRIVER_KEY)
    current = session.sync_session.get_transaction()
    if cached is not None and current is not None and cached[0] is current and current.is_active:
        return cast(asyncpg.Connection, cached[1])
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    adapted = raw.dbapi_connection
    if adapted is None:  # pragma: no cover - a checked-out connection always has one
        raise RuntimeError("the session has no database connection")
    # SQLAlchemy's asyncpg adapter sends BEGIN with the first statement it runs; a statement
    # sent around it would run in its own transaction, so begin now if nothing has.
    if adapted._transaction is None:
        await adapted._start_transaction()
    conn = adapted.driver_connection
    session.info[_DRIVER_KEY] = (session.sync_session.get_transaction(), conn)
    return cast(asyncpg.Connection, conn)


async def fast_statement(db: Database, sql: str, *args: Any) -> asyncpg.Record | None:
    """Run one statement on a pool connection in no transaction, so it commits on its own (the
    fast lane's one-statement operations): its first row, or None when it returned none or the
    server raised an error, on which its implicit transaction rolled back and nothing was
    written. A lost connection is not a server error and propagates (its commit is unknown).
    With a ``FastPool`` (the server has one) the connection comes from it, else from the
    engine."""
    if db.fast is not None:
        return await db.fast.fetchrow(sql, *args)
    async with db.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        conn = cast(asyncpg.Connection, raw.driver_connection)
        try:
            return await conn.fetchrow(sql, *args)
        except asyncpg.PostgresError:
            return None


_INSERTS: dict[tuple[type[Any], frozenset[str]], tuple[str, list[tuple[str, Any]]]] = {}


def _bind_value(value: Any, processor: Any) -> Any:
    if processor is not None and value is not None:
        return processor(value)
    return value.value if isinstance(value, enum.Enum) else value


async def insert_row(session: AsyncSession, row: Base) -> None:
    """INSERT one mapped object through ``driver``: no unit-of-work bookkeeping, one cached
    prepared statement. The object stays transient (the session does not track it), so it is
    for rows written once per request and then only read, like a transaction record. Columns
    left ``None`` that have a server default get the default."""
    cls = type(row)
    table = cast(Table, cls.__table__)
    mapper: Mapper[Any] = cls.__mapper__
    omitted = frozenset(
        c.key
        for c in table.columns
        if c.computed is not None
        or (
            c.server_default is not None
            and getattr(row, mapper.get_property_by_column(c).key) is None
        )
    )
    plan = _INSERTS.get((cls, omitted))
    if plan is None:
        dialect = session.bind.dialect if session.bind is not None else None
        columns = [c for c in table.columns if c.key not in omitted]
        names = ", ".join(f'"{c.name}"' for c in columns)
        params = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
        # Names come from the mapped table, never from input.
        sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({params})'  # noqa: S608
        # The dialect's own conversions (enums, JSON, arrays, numerics), as the ORM applies.
        fields = [
            (
                mapper.get_property_by_column(c).key,
                None if dialect is None else c.type.dialect_impl(dialect).bind_processor(dialect),
            )
            for c in columns
        ]
        plan = _INSERTS[(cls, omitted)] = (sql, fields)
    sql, fields = plan
    conn = await driver(session)
    await conn.execute(sql, *(_bind_value(getattr(row, key), proc) for key, proc in fields))


_READS: dict[type[Any], list[tuple[str, str, Any]]] = {}


def _reader(column_type: Any, dialect: Dialect) -> Any:
    """How a column's value read by asyncpg becomes what the ORM would give. asyncpg already
    decodes numerics (Decimal) and floats, whose dialect processors would want the column's
    type code, which a record does not carry: only a decorator's own conversion applies."""
    if isinstance(column_type, TypeDecorator):
        if isinstance(column_type.impl_instance, Numeric | Float):
            decorator = column_type
            return lambda value: decorator.process_result_value(value, dialect)
    elif isinstance(column_type, Numeric | Float):
        return None
    return column_type.dialect_impl(dialect).result_processor(dialect, None)


def from_record(dialect: Dialect, cls: type[B], record: Mapping[str, Any]) -> B:
    """A transient instance of the mapped ``cls`` from a row read on the driver connection
    (``record``: its columns by name), with the conversions the ORM applies when it loads
    (the dialect's result processors: enums, JSON, numerics). For rows a statement returns
    that the API then shows, like the fast lane's: read-only, never added to a session.

    The values go straight into the instance's dict, as the ORM's loading does, without the
    constructor's attribute events (which record each value as a change to flush, and cost
    as much as the rest of a fast answer)."""
    plan = _READS.get(cls)
    if plan is None:
        table = cast(Table, cls.__table__)
        mapper: Mapper[Any] = cls.__mapper__
        plan = _READS[cls] = [
            (
                c.name,
                mapper.get_property_by_column(c).key,
                _reader(c.type, dialect),
            )
            for c in table.columns
        ]
    values: dict[str, Any] = {}
    for name, key, processor in plan:
        value = record[name]
        values[key] = processor(value) if processor is not None and value is not None else value
    instance: B = cls.__mapper__.class_manager.new_instance()
    instance.__dict__.update(values)
    return instance


def bind_column(dialect: Dialect, column: Any, value: Any) -> Any:
    """``value`` as the ORM would send it for ``column`` (a mapped attribute), for statements
    on the driver connection: the dialect's bind processor (JSON serialized, enums by value)."""
    column_type = column.property.columns[0].type
    processor = column_type.dialect_impl(dialect).bind_processor(dialect)
    return _bind_value(value, processor)


RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, asyncpg.PostgresError):
        return exc.sqlstate in RETRYABLE_SQLSTATES
    if not isinstance(exc, DBAPIError):
        return False
    orig: Any = exc.orig
    state = getattr(orig, "sqlstate", None) or getattr(
        getattr(orig, "__cause__", None), "sqlstate", None
    )
    return state in RETRYABLE_SQLSTATES


def detach(session: AsyncSession, value: Any) -> None:
    """Expunge every mapped instance reachable from ``value`` (dataclasses, sequences, dict
    values) from ``session``: loaded, they keep their state, and nothing the session does later
    (a rollback expires what it holds) reaches them. For read-only objects kept across requests
    (the campaign and redemption caches)."""
    if value is None or isinstance(value, (str, bytes, int, float, Decimal, datetime, uuid.UUID)):
        return
    if isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            detach(session, item)
        return
    if isinstance(value, dict):
        for item in value.values():
            detach(session, item)
        return
    state = inspect(value, raiseerr=False)
    if isinstance(state, InstanceState):
        if value in session:
            session.expunge(value)
        return
    if is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            detach(session, getattr(value, f.name))
