"""
The database: SQLAlchemy Core tables and an engine set up for durable, concurrent use.

Introduction
------------
Any SQLAlchemy URL works (``sqlite:///…`` by default, ``postgresql+psycopg://…`` by setting). On
SQLite the engine runs in WAL mode with ``synchronous=FULL`` by default (a committed transaction is
on disk before ``COMMIT`` returns, so neither ``kill -9`` nor a power loss loses it; ``NORMAL``
still survives ``kill -9``, since the WAL is written before ``COMMIT`` returns, but not a power
loss), a 30 s busy timeout, and write transactions that start with ``BEGIN IMMEDIATE`` so that two
writer threads queue on the lock instead of failing with ``database is locked`` when a read
transaction would otherwise have to upgrade.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
)
from sqlalchemy.engine import Connection

WRITE_OPTION = "opzk_write"
"""Execution option marking a connection whose transactions take SQLite's write lock at BEGIN."""

metadata = MetaData()

meta = Table(
    "node_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
"""Identity of the chain, deployment and node this database belongs to."""

batches = Table(
    "batches",
    metadata,
    Column("row_id", Integer, primary_key=True, autoincrement=True),
    Column("batch_id", BigInteger, unique=True, nullable=True),
    Column("root", LargeBinary(32), nullable=False, index=True),
    Column("count", Integer, nullable=False),
    Column("first_request_id", BigInteger, nullable=False),
    Column("last_request_id", BigInteger, nullable=False, index=True),
    Column("status", String(16), nullable=False, index=True),
    Column("tx_hash", LargeBinary(32), nullable=True),
    Column("nonce", BigInteger, nullable=True),
    Column("from_block", BigInteger, nullable=False),
    Column("block", BigInteger, nullable=True),
    Column("gas_used", BigInteger, nullable=True),
    Column("gas_price", BigInteger, nullable=True),
    Column("committed_at", BigInteger, nullable=True),
    Column("created_at", Float, nullable=False),
)
"""Batches: each covers the receipts with request ids ``first_request_id … last_request_id``
(consecutive ranges, in order; a failed batch's range goes back to the queue)."""

receipts = Table(
    "receipts",
    metadata,
    Column("request_id", BigInteger, primary_key=True, autoincrement=False),
    Column("model_id", LargeBinary(32), nullable=False),
    Column("client", String(42), nullable=False),
    Column("input", LargeBinary, nullable=False),
    Column("output", LargeBinary, nullable=False),
    Column("trace", LargeBinary, nullable=False),
    Column("activation_hashes", LargeBinary, nullable=False),
    Column("trace_root", LargeBinary(32), nullable=False),
    Column("receipt_leaf", LargeBinary(32), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("open_disputes", Integer, nullable=False, default=0),
    Column("slashed", Boolean, nullable=False, default=False),
)
"""Receipts, written once by the request path; only disputes touch them again (a receipt's batch
is the one whose range holds its request id, its status follows from that batch)."""
Index("ix_receipts_model_request", receipts.c.model_id, receipts.c.request_id)
_CONTESTED = (receipts.c.open_disputes > 0) | (receipts.c.slashed.is_(True))
Index(
    "ix_receipts_contested",
    receipts.c.request_id,
    sqlite_where=_CONTESTED,
    postgresql_where=_CONTESTED,
)

claims = Table(
    "claims",
    metadata,
    Column("claim_key", LargeBinary(32), primary_key=True),
    Column("request_id", BigInteger, nullable=False),
)
"""Claim key (``keccak256(abi.encode(source, batchId, leaf))``) → request id, for chain events."""


def _dispute_history(name: str, owner: str) -> Table:
    """A dispute-history table: events about the claims of the rows of ``owner`` (its
    ``request_id``), in chain order."""
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column(
            "request_id",
            BigInteger,
            ForeignKey(f"{owner}.request_id"),
            nullable=False,
            index=True,
        ),
        Column("kind", String(32), nullable=False),
        Column("game", String(42), nullable=False),
        Column("challenge_id", BigInteger, nullable=True),
        Column("trace_index", Integer, nullable=True),
        Column("detail", Text, nullable=False, default=""),
        Column("tx_hash", LargeBinary(32), nullable=False),
        Column("block", BigInteger, nullable=False),
        Column("recorded_at", Float, nullable=False),
    )


disputes = _dispute_history("disputes", "receipts")
"""Dispute history per receipt, in chain order."""

data_challenges = Table(
    "data_challenges",
    metadata,
    Column("challenge_id", BigInteger, primary_key=True, autoincrement=False),
    Column("claim_key", LargeBinary(32), nullable=False),
    Column("request_id", BigInteger, nullable=True),
    Column("trace_index", Integer, nullable=False),
    Column("deadline", BigInteger, nullable=False),
    Column("challenger", String(42), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("response_tx", LargeBinary(32), nullable=True),
    Column("detail", Text, nullable=False, default=""),
)
"""Data-availability challenges against this node, and how each was answered."""

onchain_requests = Table(
    "onchain_requests",
    metadata,
    Column("request_id", BigInteger, primary_key=True, autoincrement=False),
    Column("model_id", LargeBinary(32), nullable=False),
    Column("client", String(42), nullable=False),
    Column("fee", String(80), nullable=False),
    Column("deadline", BigInteger, nullable=False),
    Column("input", LargeBinary, nullable=False),
    Column("requested_block", BigInteger, nullable=False),
    Column("requested_tx", LargeBinary(32), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("output", LargeBinary, nullable=True),
    Column("trace", LargeBinary, nullable=True),
    Column("activation_hashes", LargeBinary, nullable=True),
    Column("trace_root", LargeBinary(32), nullable=True),
    Column("receipt_leaf", LargeBinary(32), nullable=True),
    Column("fulfil_tx", LargeBinary(32), nullable=True),
    Column("fulfil_block", BigInteger, nullable=True),
    Column("fulfilled_at", BigInteger, nullable=True),
    Column("status_tx", LargeBinary(32), nullable=True),
    Column("created_at", Float, nullable=False),
)
"""On-chain requests assigned to this node (:mod:`node.onchain`): their own id space (the
contract's ``requestId``), apart from the off-chain ``receipts``."""

onchain_disputes = _dispute_history("onchain_disputes", "onchain_requests")
"""Dispute history per on-chain request (:mod:`node.request_disputes`), in chain order: the same
rows as ``disputes``, keyed by the contract's request id."""

cursors = Table(
    "cursors",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("block", BigInteger, nullable=False),
)
"""The last chain block whose events were applied, per follower."""


def make_engine(url: str, *, sqlite_synchronous: str = "FULL") -> Engine:
    """An engine for ``url``; SQLite gets WAL, the synchronous level, and IMMEDIATE writes."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver must not BEGIN on its own: the "begin" hook below decides how.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if ":memory:" not in url and url not in ("sqlite://", "sqlite:///"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={sqlite_synchronous}")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def is_sqlite(engine: Engine) -> bool:
    """Whether ``engine`` talks to SQLite."""
    return engine.dialect.name == "sqlite"
