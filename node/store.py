"""
The node's persistence: receipts, batches, dispute history, data challenges and event cursors.

Introduction
------------
:class:`Store` wraps one SQLAlchemy engine (:mod:`node.db`). Every write is one committed
transaction, and a receipt is written (:meth:`Store.insert_receipts`) before its HTTP response is
sent, so an accepted receipt survives ``kill -9``.

Receipts are written once. A batch covers a consecutive range of request ids (the oldest receipts
not yet in a batch, in id order), so posting a batch never rewrites receipt rows: a receipt's batch
is the non-failed batch whose range holds its id, its leaf index its rank in that range, its claim
key follows from the batch id and its leaf, and its status from that batch and its own dispute
counters (:func:`node.records.derive_status`). Batches are posted one at a time, so at most the
last batch is unfinished, and a failed batch's range returns to the queue.

Batch posting is crash-safe in two steps: the intent (root, range, transaction hash) is recorded
before the transaction is broadcast (:meth:`Store.record_batch_intent`), the result after it is
mined (:meth:`Store.mark_batch_committed`). The claim keys that dispute events name are indexed
only when a dispute first names one (:meth:`StoreWriter.request_of_claim`). Chain events are
applied together with the follower's cursor in one transaction (:meth:`Store.writing`,
:class:`StoreWriter`), so each takes effect exactly once.

Proof demands against this node's claims (:mod:`node.prover`) live in the ``proof_demands`` table
defined here (:class:`ProofDemandRecord`, :class:`ProofStatus`): the watcher records a demand with
the event that announces it, the prover moves it through ``sending`` (transaction hash recorded
before the broadcast) to ``submitted``, and the outcome event closes it. ``onchain_claims`` maps the
claim key of one of this node's on-chain requests to its id (indexed when a dispute first names it).

Values cross this boundary as the frozen dataclasses of :mod:`node.records` (and of the proof
demands, defined here).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from enum import Enum, StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Float,
    Integer,
    LargeBinary,
    Row,
    String,
    Table,
    Text,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from protocol.errors import OpzkError
from protocol.receipts import CLAIM_SOURCE_BATCH, CLAIM_SOURCE_REQUEST

from .db import (
    WRITE_OPTION,
    batches,
    claims,
    cursors,
    data_challenges,
    disputes,
    make_engine,
    meta,
    metadata,
    onchain_disputes,
    onchain_requests,
    receipts,
)
from .hashing import claim_key
from .records import (
    BatchRecord,
    BatchStatus,
    ChallengeStatus,
    DataChallengeRecord,
    DisputeEntry,
    NewReceipt,
    OnchainRequestRecord,
    OnchainStatus,
    ReceiptRecord,
    ReceiptStatus,
    derive_status,
)

MAX_PAGE = 100

_NEW_COLUMNS = (
    "request_id", "model_id", "client", "input", "output", "trace", "activation_hashes",
    "trace_root", "receipt_leaf", "created_at", "open_disputes", "slashed",
)  # fmt: skip
"""The columns a new receipt is inserted with, in order."""

_LIVE = batches.c.status != BatchStatus.FAILED.value


class ProofStatus(StrEnum):
    """Where a proof demand against this node stands."""

    OPEN = "open"
    """Seen; the prover answers it before its deadline."""
    SENDING = "sending"
    """The ``submitProof`` transaction is signed and its hash recorded (maybe not yet mined)."""
    SUBMITTED = "submitted"
    """The ``submitProof`` transaction was mined; the outcome event closes the demand."""
    ACCEPTED = "accepted"
    """``ProofAccepted``: the challenger's bond was credited to the node."""
    REJECTED = "rejected"
    """``ProofRejected``: the proof did not verify and the claim was slashed."""
    TIMED_OUT = "timed_out"
    """``ProofDemandTimedOut``: no proof by the deadline; the claim was slashed."""
    UNANSWERABLE = "unanswerable"
    """The node cannot prove this demand (``detail`` says why)."""
    REFUSED = "refused"
    """Not answered on purpose (cheat mode ``refused_proof``, Anvil only)."""
    MISSED = "missed"
    """The deadline passed before the node could answer."""


PROOF_PENDING = (ProofStatus.OPEN, ProofStatus.SENDING)
"""The statuses the prover still acts on."""

proof_demands = Table(
    "proof_demands",
    metadata,
    Column("demand_id", BigInteger, primary_key=True, autoincrement=False),
    Column("claim_key", LargeBinary(32), nullable=False),
    Column("source", Integer, nullable=True),
    Column("request_id", BigInteger, nullable=True),
    Column("partition_index", Integer, nullable=False),
    Column("deadline", BigInteger, nullable=False),
    Column("challenger", String(42), nullable=False),
    Column("game", String(42), nullable=False),
    Column("block", BigInteger, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("tx_hash", LargeBinary(32), nullable=True),
    Column("proof", LargeBinary, nullable=True),
    Column("prove_seconds", Float, nullable=True),
    Column("gas_used", BigInteger, nullable=True),
    Column("slashed", String(80), nullable=True),
    Column("detail", Text, nullable=False, default=""),
    Column("recorded_at", Float, nullable=False),
)
"""Proof demands against this node's claims (:mod:`node.prover`), one row per on-chain demand."""

onchain_claims = Table(
    "onchain_claims",
    metadata,
    Column("claim_key", LargeBinary(32), primary_key=True),
    Column("request_id", BigInteger, nullable=False),
)
"""Claim key (``keccak256(abi.encode(1, requestId, leaf))``) → this node's on-chain request id."""


@dataclass(frozen=True, slots=True)
class ProofDemandRecord:
    """One proof demand against this node, as stored."""

    demand_id: int
    claim_key: bytes
    source: int | None
    """0: a batch receipt (``request_id`` is the receipt's), 1: an on-chain request (its on-chain
    id), ``None``: a claim this node has no record of."""
    request_id: int | None
    partition_index: int
    deadline: int
    challenger: str
    game: str
    """The ``ProofDemandGame`` that emitted the demand (it binds the job id)."""
    block: int
    status: ProofStatus
    tx_hash: bytes | None
    """The ``submitProof`` transaction, once signed."""
    proof: bytes | None
    """The proof as sent (kept so a restart re-sends it instead of proving again)."""
    prove_seconds: float | None
    gas_used: int | None
    """Gas of the mined ``submitProof`` (the on-chain verification included)."""
    slashed: int | None
    """Wei slashed by a ``ProofRejected`` / ``ProofDemandTimedOut``."""
    detail: str
    recorded_at: float


def _proof_demand(row: Row[Any]) -> ProofDemandRecord:
    m = row._mapping
    return ProofDemandRecord(
        demand_id=int(m["demand_id"]),
        claim_key=bytes(m["claim_key"]),
        source=_opt_int(m["source"]),
        request_id=_opt_int(m["request_id"]),
        partition_index=int(m["partition_index"]),
        deadline=int(m["deadline"]),
        challenger=str(m["challenger"]),
        game=str(m["game"]),
        block=int(m["block"]),
        status=ProofStatus(m["status"]),
        tx_hash=_opt_bytes(m["tx_hash"]),
        proof=_opt_bytes(m["proof"]),
        prove_seconds=_opt_float(m["prove_seconds"]),
        gas_used=_opt_int(m["gas_used"]),
        slashed=_opt_int(m["slashed"]),
        detail=str(m["detail"]),
        recorded_at=float(m["recorded_at"]),
    )


class StoreError(OpzkError):
    """The database cannot be used (unreachable, or it belongs to another node or chain)."""


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _opt_bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _with_statuses(query: Any, column: Any, statuses: Sequence[Enum]) -> Any:
    """``query`` narrowed to rows whose ``column`` is one of ``statuses`` (all when none)."""
    return query.where(column.in_([s.value for s in statuses])) if statuses else query


def _covering(request_id: Any) -> Any:
    """The non-failed batches whose range holds ``request_id`` (at most one)."""
    return and_(
        _LIVE,
        batches.c.first_request_id <= request_id,
        batches.c.last_request_id >= request_id,
    )


def _batch_of(column: Any) -> Any:
    """Scalar subquery: ``column`` of the batch covering the receipt row."""
    return select(column).where(_covering(receipts.c.request_id)).limit(1).scalar_subquery()


def _receipt(row: Row[Any], **derived: Any) -> ReceiptRecord:
    m = row._mapping
    batch_status = m.get("batch_status")
    slashed = bool(m["slashed"])
    open_disputes = int(m["open_disputes"])
    return ReceiptRecord(
        request_id=int(m["request_id"]),
        model_id=bytes(m["model_id"]),
        client=str(m["client"]),
        input=bytes(m["input"]),
        output=bytes(m["output"]),
        trace=bytes(m["trace"]),
        activation_hashes=bytes(m["activation_hashes"]),
        trace_root=bytes(m["trace_root"]),
        receipt_leaf=bytes(m["receipt_leaf"]),
        created_at=float(m["created_at"]),
        status=derive_status(
            slashed=slashed,
            open_disputes=open_disputes,
            batch=BatchStatus(batch_status) if batch_status is not None else None,
        ),
        batch_row=_opt_int(m.get("batch_row")),
        batch_id=_opt_int(m.get("batch_chain_id")),
        leaf_index=derived.get("leaf_index"),
        claim_key=derived.get("claim_key"),
        open_disputes=open_disputes,
        slashed=slashed,
    )


def _batch(row: Row[Any]) -> BatchRecord:
    m = row._mapping
    return BatchRecord(
        row_id=int(m["row_id"]),
        batch_id=_opt_int(m["batch_id"]),
        root=bytes(m["root"]),
        count=int(m["count"]),
        status=BatchStatus(m["status"]),
        tx_hash=_opt_bytes(m["tx_hash"]),
        nonce=_opt_int(m["nonce"]),
        from_block=int(m["from_block"]),
        block=_opt_int(m["block"]),
        gas_used=_opt_int(m["gas_used"]),
        gas_price=_opt_int(m["gas_price"]),
        committed_at=_opt_int(m["committed_at"]),
        created_at=float(m["created_at"]),
        first_request_id=int(m["first_request_id"]),
        last_request_id=int(m["last_request_id"]),
    )


def _challenge(row: Row[Any]) -> DataChallengeRecord:
    m = row._mapping
    return DataChallengeRecord(
        challenge_id=int(m["challenge_id"]),
        claim_key=bytes(m["claim_key"]),
        request_id=_opt_int(m["request_id"]),
        trace_index=int(m["trace_index"]),
        deadline=int(m["deadline"]),
        challenger=str(m["challenger"]),
        status=ChallengeStatus(m["status"]),
        response_tx=_opt_bytes(m["response_tx"]),
        detail=str(m["detail"]),
    )


def _onchain(row: Row[Any]) -> OnchainRequestRecord:
    m = row._mapping
    return OnchainRequestRecord(
        request_id=int(m["request_id"]),
        model_id=bytes(m["model_id"]),
        client=str(m["client"]),
        fee=int(m["fee"]),
        deadline=int(m["deadline"]),
        input=bytes(m["input"]),
        requested_block=int(m["requested_block"]),
        requested_tx=bytes(m["requested_tx"]),
        status=OnchainStatus(m["status"]),
        output=_opt_bytes(m["output"]),
        trace=_opt_bytes(m["trace"]),
        activation_hashes=_opt_bytes(m["activation_hashes"]),
        trace_root=_opt_bytes(m["trace_root"]),
        receipt_leaf=_opt_bytes(m["receipt_leaf"]),
        fulfil_tx=_opt_bytes(m["fulfil_tx"]),
        fulfil_block=_opt_int(m["fulfil_block"]),
        fulfilled_at=_opt_int(m["fulfilled_at"]),
        status_tx=_opt_bytes(m["status_tx"]),
        created_at=float(m["created_at"]),
    )


def _dispute_entry(row: Row[Any]) -> DisputeEntry:
    m = row._mapping
    return DisputeEntry(
        request_id=int(m["request_id"]),
        kind=str(m["kind"]),
        game=str(m["game"]),
        challenge_id=_opt_int(m["challenge_id"]),
        trace_index=_opt_int(m["trace_index"]),
        detail=str(m["detail"]),
        tx_hash=bytes(m["tx_hash"]),
        block=int(m["block"]),
        recorded_at=float(m["recorded_at"]),
    )


def _in_batches_with(status: BatchStatus) -> Any:
    return exists().where(_covering(receipts.c.request_id), batches.c.status == status.value)


def _status_condition(status: ReceiptStatus) -> Any:
    """SQL for "the receipt's derived status is ``status``"."""
    calm = and_(receipts.c.slashed.is_(False), receipts.c.open_disputes == 0)
    if status == ReceiptStatus.SLASHED:
        return receipts.c.slashed.is_(True)
    if status == ReceiptStatus.DISPUTED:
        return and_(receipts.c.slashed.is_(False), receipts.c.open_disputes > 0)
    if status == ReceiptStatus.FINALIZED:
        return and_(calm, _in_batches_with(BatchStatus.FINALIZED))
    if status == ReceiptStatus.COMMITTED:
        return and_(calm, _in_batches_with(BatchStatus.COMMITTED))
    return and_(
        calm,
        ~exists().where(
            _covering(receipts.c.request_id),
            batches.c.status.in_([BatchStatus.COMMITTED.value, BatchStatus.FINALIZED.value]),
        ),
    )


class StoreWriter:
    """Mutations applied inside one write transaction (see :meth:`Store.writing`)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def set_cursor(self, name: str, block: int) -> None:
        """Records that every event up to ``block`` was applied."""
        updated = self._conn.execute(
            update(cursors).where(cursors.c.name == name).values(block=block)
        ).rowcount
        if not updated:
            self._conn.execute(insert(cursors).values(name=name, block=block))

    def request_of_claim(
        self, key: bytes, *, source: int | None = None, container_id: int | None = None
    ) -> int | None:
        """
        The request id of this node's committed receipt with claim key ``key``, if any.

        Claim keys are indexed lazily (posting a batch writes no per-receipt rows): an event that
        names the claim's container (``DisputeOpened``, ``DisputeClosed``, ``ClaimSlashed``, which
        the market emits before any game's own event about the claim) finds it among the batch's
        receipts and records it; events that carry only the key then find it recorded.
        """
        found = self._conn.execute(
            select(claims.c.request_id).where(claims.c.claim_key == key)
        ).scalar()
        if found is not None:
            return int(found)
        if source != CLAIM_SOURCE_BATCH or container_id is None:
            return None
        span = self._conn.execute(
            select(batches.c.first_request_id, batches.c.last_request_id).where(
                batches.c.batch_id == container_id, _LIVE
            )
        ).first()
        if span is None:
            return None
        members = self._conn.execute(
            select(receipts.c.request_id, receipts.c.receipt_leaf).where(
                receipts.c.request_id >= span[0], receipts.c.request_id <= span[1]
            )
        ).all()
        for request_id, leaf in members:
            if claim_key(CLAIM_SOURCE_BATCH, container_id, bytes(leaf)) == key:
                self._conn.execute(insert(claims).values(claim_key=key, request_id=int(request_id)))
                return int(request_id)
        return None

    def index_onchain_claim(self, key: bytes, request_id: int) -> int | None:
        """
        Records ``key`` as the claim key of this node's on-chain request ``request_id`` if it is
        (a ``DisputeOpened`` with source ``Request`` names the request); returns the id if so.
        """
        found = self.onchain_request_of_claim(key)
        if found is not None:
            return found
        leaf = self._conn.execute(
            select(onchain_requests.c.receipt_leaf).where(
                onchain_requests.c.request_id == request_id
            )
        ).scalar()
        if leaf is None or claim_key(CLAIM_SOURCE_REQUEST, request_id, bytes(leaf)) != key:
            return None
        self._conn.execute(insert(onchain_claims).values(claim_key=key, request_id=request_id))
        return request_id

    def onchain_request_of_claim(self, key: bytes) -> int | None:
        """The on-chain request id of claim key ``key``, once indexed."""
        found = self._conn.execute(
            select(onchain_claims.c.request_id).where(onchain_claims.c.claim_key == key)
        ).scalar()
        return None if found is None else int(found)

    def add_proof_demand(
        self,
        *,
        demand_id: int,
        claim_key: bytes,
        source: int | None,
        request_id: int | None,
        partition_index: int,
        deadline: int,
        challenger: str,
        game: str,
        block: int,
    ) -> bool:
        """Records a proof demand against this node; False if it was already recorded."""
        found = self._conn.execute(
            select(proof_demands.c.demand_id).where(proof_demands.c.demand_id == demand_id)
        ).scalar()
        if found is not None:
            return False
        unknown = source is None
        self._conn.execute(
            insert(proof_demands).values(
                demand_id=demand_id, claim_key=claim_key, source=source, request_id=request_id,
                partition_index=partition_index, deadline=deadline, challenger=challenger,
                game=game, block=block,
                status=(ProofStatus.UNANSWERABLE if unknown else ProofStatus.OPEN).value,
                detail="unknown claim" if unknown else "", recorded_at=time.time(),
            )
        )  # fmt: skip
        return True

    def proof_resolved(self, demand_id: int, status: ProofStatus, slashed: int) -> bool:
        """The outcome event of a demand: its final ``status``; False if not recorded."""
        return bool(
            self._conn.execute(
                update(proof_demands)
                .where(proof_demands.c.demand_id == demand_id)
                .values(status=status.value, slashed=str(slashed) if slashed else None)
            ).rowcount
        )

    def add_dispute(self, entry: DisputeEntry) -> None:
        """Appends to a receipt's dispute history."""
        self._conn.execute(insert(disputes).values(**asdict(entry)))

    def dispute_opened(self, request_id: int) -> None:
        """One more dispute is open on the receipt."""
        self._conn.execute(
            update(receipts)
            .where(receipts.c.request_id == request_id)
            .values(open_disputes=receipts.c.open_disputes + 1)
        )

    def dispute_closed(self, request_id: int) -> None:
        """One dispute on the receipt closed."""
        self._conn.execute(
            update(receipts)
            .where(and_(receipts.c.request_id == request_id, receipts.c.open_disputes > 0))
            .values(open_disputes=receipts.c.open_disputes - 1)
        )

    def claim_slashed(self, request_id: int) -> None:
        """The receipt's claim was proven fraudulent."""
        self._conn.execute(
            update(receipts).where(receipts.c.request_id == request_id).values(slashed=True)
        )

    def batch_finalized(self, batch_id: int) -> bool:
        """Marks this node's batch ``batch_id`` finalized; False if it is not ours."""
        return bool(
            self._conn.execute(
                update(batches)
                .where(batches.c.batch_id == batch_id)
                .values(status=BatchStatus.FINALIZED.value)
            ).rowcount
        )

    def add_data_challenge(self, record: DataChallengeRecord) -> bool:
        """Records a challenge against this node; False if it was already recorded."""
        exists_already = self._conn.execute(
            select(data_challenges.c.challenge_id).where(
                data_challenges.c.challenge_id == record.challenge_id
            )
        ).scalar()
        if exists_already is not None:
            return False
        values = asdict(record)
        values["status"] = record.status.value
        self._conn.execute(insert(data_challenges).values(**values))
        return True

    # ---- on-chain requests (node.onchain) -----------------------------------------------------

    def onchain_requested(
        self,
        *,
        request_id: int,
        model_id: bytes,
        client: str,
        fee: int,
        deadline: int,
        input: bytes,
        block: int,
        tx_hash: bytes,
    ) -> bool:
        """Records an on-chain request assigned to this node; False if already recorded."""
        found = self._conn.execute(
            select(onchain_requests.c.request_id).where(onchain_requests.c.request_id == request_id)
        ).scalar()
        if found is not None:
            return False
        self._conn.execute(
            insert(onchain_requests).values(
                request_id=request_id, model_id=model_id, client=client, fee=str(fee),
                deadline=deadline, input=input, requested_block=block, requested_tx=tx_hash,
                status=OnchainStatus.PENDING.value, created_at=time.time(),
            )
        )  # fmt: skip
        return True

    def onchain_fulfilled(self, request_id: int, *, tx_hash: bytes, block: int) -> bool:
        """A ``RequestFulfilled`` of this node's request: ``pending`` → ``committed``."""
        return bool(
            self._conn.execute(
                update(onchain_requests)
                .where(
                    onchain_requests.c.request_id == request_id,
                    onchain_requests.c.status == OnchainStatus.PENDING.value,
                )
                .values(status=OnchainStatus.COMMITTED.value, fulfil_tx=tx_hash, fulfil_block=block)
            ).rowcount
        )

    def onchain_status(
        self, request_id: int, status: OnchainStatus, *, tx_hash: bytes | None = None
    ) -> bool:
        """Moves a recorded on-chain request to a final ``status``; False if not ours."""
        values: dict[str, Any] = {"status": status.value}
        if tx_hash is not None:
            values["status_tx"] = tx_hash
        return bool(
            self._conn.execute(
                update(onchain_requests)
                .where(
                    onchain_requests.c.request_id == request_id,
                    onchain_requests.c.status != OnchainStatus.SLASHED.value,
                )
                .values(**values)
            ).rowcount
        )

    def add_onchain_dispute(self, entry: DisputeEntry) -> None:
        """Appends to an on-chain request's dispute history (``entry.request_id``: its id)."""
        self._conn.execute(insert(onchain_disputes).values(**asdict(entry)))

    def set_challenge_status(
        self,
        challenge_id: int,
        status: ChallengeStatus,
        *,
        response_tx: bytes | None = None,
        detail: str | None = None,
    ) -> None:
        """Moves a data challenge to ``status``."""
        values: dict[str, Any] = {"status": status.value}
        if response_tx is not None:
            values["response_tx"] = response_tx
        if detail is not None:
            values["detail"] = detail
        self._conn.execute(
            update(data_challenges)
            .where(data_challenges.c.challenge_id == challenge_id)
            .values(**values)
        )


class Store:
    """The node's database."""

    def __init__(self, url: str, *, sqlite_synchronous: str = "FULL") -> None:
        try:
            self._engine = make_engine(url, sqlite_synchronous=sqlite_synchronous)
            self._write_engine = self._engine.execution_options(**{WRITE_OPTION: True})
            metadata.create_all(self._engine)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the database {url}: {exc}") from exc
        self.url = url
        self._insert_sql: str | None = None
        if self._engine.dialect.name == "sqlite":
            columns = ", ".join(_NEW_COLUMNS)
            marks = ", ".join("?" for _ in _NEW_COLUMNS)
            self._insert_sql = f"INSERT INTO receipts ({columns}) VALUES ({marks})"

    def close(self) -> None:
        """Closes every pooled connection."""
        self._engine.dispose()

    @contextmanager
    def writing(self) -> Iterator[StoreWriter]:
        """One write transaction: committed on success, rolled back on error."""
        with self._write_engine.begin() as conn:
            yield StoreWriter(conn)

    # ---- identity --------------------------------------------------------------------------------

    def bind_identity(self, identity: dict[str, str]) -> None:
        """
        Ties the database to a chain, deployment and node on first use; afterwards refuses any
        other (a data dir reused against a fresh chain would otherwise mix two histories).
        """
        with self._write_engine.begin() as conn:
            stored = {
                str(k): str(v) for k, v in conn.execute(select(meta.c.key, meta.c.value)).all()
            }
            if not stored:
                conn.execute(insert(meta), [{"key": k, "value": v} for k, v in identity.items()])
                return
        different = {k: (stored.get(k), v) for k, v in identity.items() if stored.get(k) != v}
        if different:
            detail = ", ".join(
                f"{k}: database has {a}, node has {b}" for k, (a, b) in different.items()
            )
            raise StoreError(
                f"the database {self.url} belongs to another deployment or node ({detail}); "
                "use another data_dir / database_url"
            )

    # ---- the request path ------------------------------------------------------------------------

    def last_request_id(self) -> int:
        """The highest request id ever stored (0 if none)."""
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.max(receipts.c.request_id))).scalar() or 0)

    def insert_receipts(self, rows: Sequence[NewReceipt]) -> None:
        """Writes new receipts in one committed transaction."""
        if not rows:
            return
        values = [
            (
                r.request_id, r.model_id, r.client, r.input, r.output, r.trace,
                r.activation_hashes, r.trace_root, r.receipt_leaf, r.created_at, 0, False,
            )
            for r in rows
        ]  # fmt: skip
        with self._write_engine.begin() as conn:
            if self._insert_sql is not None:
                # SQLite: one prepared statement, executemany over plain tuples (the writer holds
                # the GIL several times less than with Core inserts).
                conn.exec_driver_sql(self._insert_sql, values)
            else:
                conn.execute(
                    insert(receipts), [dict(zip(_NEW_COLUMNS, v, strict=True)) for v in values]
                )

    # ---- reads -----------------------------------------------------------------------------------

    def _receipt_query(self) -> Any:
        return select(
            receipts,
            _batch_of(batches.c.row_id).label("batch_row"),
            _batch_of(batches.c.batch_id).label("batch_chain_id"),
            _batch_of(batches.c.status).label("batch_status"),
        )

    def receipt(self, request_id: int) -> ReceiptRecord | None:
        """One receipt, with its batch, leaf index, claim key and status."""
        with self._engine.connect() as conn:
            row = conn.execute(
                self._receipt_query().where(receipts.c.request_id == request_id)
            ).first()
            if row is None:
                return None
            m = row._mapping
            leaf_index = None
            key = None
            if m["batch_row"] is not None:
                first = conn.execute(
                    select(batches.c.first_request_id).where(batches.c.row_id == m["batch_row"])
                ).scalar()
                leaf_index = int(
                    conn.execute(
                        select(func.count())
                        .select_from(receipts)
                        .where(receipts.c.request_id >= first, receipts.c.request_id < request_id)
                    ).scalar()
                    or 0
                )
                if m["batch_chain_id"] is not None:
                    key = claim_key(
                        CLAIM_SOURCE_BATCH, int(m["batch_chain_id"]), bytes(m["receipt_leaf"])
                    )
        return _receipt(row, leaf_index=leaf_index, claim_key=key)

    def receipts_page(
        self,
        *,
        status: ReceiptStatus | None = None,
        model_id: bytes | None = None,
        batch_id: int | None = None,
        after: int | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[list[ReceiptRecord], int]:
        """
        Receipts in request-id order matching the filters, after request id ``after`` (keyset
        cursor) and/or skipping ``offset``; returns the page and the total count of matches.
        """
        limit = max(1, min(limit, MAX_PAGE))
        conditions: list[Any] = []
        if status is not None:
            conditions.append(_status_condition(status))
        if model_id is not None:
            conditions.append(receipts.c.model_id == model_id)
        if batch_id is not None:
            span = (
                select(batches.c.first_request_id, batches.c.last_request_id)
                .where(batches.c.batch_id == batch_id, _LIVE)
                .subquery()
            )
            conditions.append(
                exists().where(
                    receipts.c.request_id >= span.c.first_request_id,
                    receipts.c.request_id <= span.c.last_request_id,
                )
            )
        where = and_(literal(True), *conditions)
        page_where = where if after is None else and_(where, receipts.c.request_id > after)
        query = (
            self._receipt_query()
            .where(page_where)
            .order_by(receipts.c.request_id)
            .offset(offset)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
            total = int(
                conn.execute(select(func.count()).select_from(receipts).where(where)).scalar() or 0
            )
        return [_receipt(r) for r in rows], total

    def disputes_of(self, request_id: int) -> list[DisputeEntry]:
        """A receipt's dispute history, oldest first."""
        return self._history(disputes, request_id)

    def _history(self, table: Table, request_id: int) -> list[DisputeEntry]:
        """The dispute history ``table`` (``disputes`` or ``onchain_disputes``) of one id."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(table).where(table.c.request_id == request_id).order_by(table.c.id)
            ).all()
        return [_dispute_entry(r) for r in rows]

    def batch(self, row_id: int) -> BatchRecord | None:
        """A batch by its local row id."""
        with self._engine.connect() as conn:
            row = conn.execute(select(batches).where(batches.c.row_id == row_id)).first()
        return None if row is None else _batch(row)

    def batch_by_chain_id(self, batch_id: int) -> BatchRecord | None:
        """A batch by its on-chain id."""
        with self._engine.connect() as conn:
            row = conn.execute(select(batches).where(batches.c.batch_id == batch_id)).first()
        return None if row is None else _batch(row)

    def batches_with_status(self, *statuses: BatchStatus) -> list[BatchRecord]:
        """Batches in any of ``statuses``, oldest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(batches)
                .where(batches.c.status.in_([s.value for s in statuses]))
                .order_by(batches.c.row_id)
            ).all()
        return [_batch(r) for r in rows]

    def batch_members(self, row_id: int) -> list[tuple[int, bytes]]:
        """(request id, receipt leaf) of a batch's receipts, in leaf order."""
        with self._engine.connect() as conn:
            span = conn.execute(
                select(batches.c.first_request_id, batches.c.last_request_id).where(
                    batches.c.row_id == row_id
                )
            ).first()
            if span is None:
                return []
            rows = conn.execute(
                select(receipts.c.request_id, receipts.c.receipt_leaf)
                .where(receipts.c.request_id >= span[0], receipts.c.request_id <= span[1])
                .order_by(receipts.c.request_id)
            ).all()
        return [(int(r[0]), bytes(r[1])) for r in rows]

    def batch_leaves(self, row_id: int) -> list[bytes]:
        """The receipt leaves of a batch, in leaf order."""
        return [leaf for _, leaf in self.batch_members(row_id)]

    def batch_request_ids(self, row_id: int) -> list[int]:
        """The request ids of a batch, in leaf order."""
        return [rid for rid, _ in self.batch_members(row_id)]

    def status_counts(self) -> dict[str, int]:
        """Receipts per status (from the batches and the few contested receipts: no scan)."""
        with self._engine.connect() as conn:
            batched = {
                str(s): (int(n or 0), int(last or 0))
                for s, n, last in conn.execute(
                    select(
                        batches.c.status,
                        func.sum(batches.c.count),
                        func.max(batches.c.last_request_id),
                    )
                    .where(_LIVE)
                    .group_by(batches.c.status)
                ).all()
            }  # fmt: skip
            watermark = max((last for _, last in batched.values()), default=0)
            fresh = int(
                conn.execute(
                    select(func.count())
                    .select_from(receipts)
                    .where(receipts.c.request_id > watermark)
                ).scalar()
                or 0
            )
            contested = conn.execute(
                select(
                    receipts.c.slashed, receipts.c.open_disputes, _batch_of(batches.c.status)
                ).where((receipts.c.open_disputes > 0) | (receipts.c.slashed.is_(True)))
            ).all()
        counts = {
            ReceiptStatus.PENDING.value: fresh + batched.get(BatchStatus.SENDING.value, (0, 0))[0],
            ReceiptStatus.COMMITTED.value: batched.get(BatchStatus.COMMITTED.value, (0, 0))[0],
            ReceiptStatus.FINALIZED.value: batched.get(BatchStatus.FINALIZED.value, (0, 0))[0],
            ReceiptStatus.DISPUTED.value: 0,
            ReceiptStatus.SLASHED.value: 0,
        }
        for slashed, open_disputes, batch_status in contested:
            plain = derive_status(
                slashed=False, open_disputes=0,
                batch=BatchStatus(batch_status) if batch_status else None,
            )  # fmt: skip
            actual = derive_status(
                slashed=bool(slashed), open_disputes=int(open_disputes),
                batch=BatchStatus(batch_status) if batch_status else None,
            )  # fmt: skip
            counts[plain.value] -= 1
            counts[actual.value] += 1
        return {k: v for k, v in counts.items() if v}

    def batch_totals(self) -> dict[str, int]:
        """Batches per status, and the gas (and wei) the committed ones used."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(batches.c.status, func.count()).group_by(batches.c.status))
            totals = {f"batches_{s}": int(n) for s, n in rows.all()}
            gas = conn.execute(
                select(
                    func.coalesce(func.sum(batches.c.gas_used), 0),
                    func.coalesce(func.sum(batches.c.gas_used * batches.c.gas_price), 0),
                ).where(batches.c.gas_used.is_not(None))
            ).first()
        totals["gas_used"] = int(gas[0]) if gas is not None else 0
        totals["gas_cost_wei"] = int(gas[1]) if gas is not None else 0
        return totals

    def row_counts(self) -> dict[str, int]:
        """Rows per table (for "nothing was stored" checks)."""
        tables = (receipts, batches, claims, disputes, data_challenges, proof_demands)
        with self._engine.connect() as conn:
            return {
                t.name: int(conn.execute(select(func.count()).select_from(t)).scalar() or 0)
                for t in tables
            }

    def cursor(self, name: str) -> int | None:
        """The last block a follower applied, if it ever ran."""
        with self._engine.connect() as conn:
            return _opt_int(
                conn.execute(select(cursors.c.block).where(cursors.c.name == name)).scalar()
            )

    def data_challenges(self, *statuses: ChallengeStatus) -> list[DataChallengeRecord]:
        """Data challenges in any of ``statuses`` (all when none given), by id."""
        query = _with_statuses(
            select(data_challenges).order_by(data_challenges.c.challenge_id),
            data_challenges.c.status,
            statuses,
        )
        with self._engine.connect() as conn:
            return [_challenge(r) for r in conn.execute(query).all()]

    # ---- proof demands (node.prover) ----------------------------------------------------------

    def proof_demand(self, demand_id: int) -> ProofDemandRecord | None:
        """Proof demand ``demand_id``, if it was against this node."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(proof_demands).where(proof_demands.c.demand_id == demand_id)
            ).first()
        return None if row is None else _proof_demand(row)

    def proof_demands(self, *statuses: ProofStatus) -> list[ProofDemandRecord]:
        """Proof demands in any of ``statuses`` (all when none given), by id."""
        query = _with_statuses(
            select(proof_demands).order_by(proof_demands.c.demand_id),
            proof_demands.c.status,
            statuses,
        )
        with self._engine.connect() as conn:
            return [_proof_demand(r) for r in conn.execute(query).all()]

    def proof_demands_of(self, source: int, request_id: int) -> list[ProofDemandRecord]:
        """The proof demands on one claim (``source`` 0: a receipt, 1: an on-chain request)."""
        query = (
            select(proof_demands)
            .where(proof_demands.c.source == source, proof_demands.c.request_id == request_id)
            .order_by(proof_demands.c.demand_id)
        )
        with self._engine.connect() as conn:
            return [_proof_demand(r) for r in conn.execute(query).all()]

    def set_proof_status(
        self,
        demand_id: int,
        status: ProofStatus,
        *,
        only_from: Sequence[ProofStatus] | None = None,
        detail: str | None = None,
        **values: Any,
    ) -> bool:
        """
        Moves a demand to ``status`` (with ``values`` among ``tx_hash``, ``proof``,
        ``prove_seconds``, ``gas_used``); with ``only_from``, only from one of those statuses (an
        outcome event applied meanwhile wins). Returns whether a row changed.
        """
        allowed = {"tx_hash", "proof", "prove_seconds", "gas_used"}
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"not proof demand columns: {sorted(unknown)}")
        fields: dict[str, Any] = {"status": status.value, **values}
        if detail is not None:
            fields["detail"] = detail
        condition = proof_demands.c.demand_id == demand_id
        if only_from is not None:
            condition = and_(condition, proof_demands.c.status.in_([s.value for s in only_from]))
        statement = update(proof_demands).where(condition).values(**fields)
        with self._write_engine.begin() as conn:
            return bool(conn.execute(statement).rowcount)

    # ---- batches ---------------------------------------------------------------------------------

    def _watermark(self, conn: Connection) -> int:
        return int(
            conn.execute(select(func.max(batches.c.last_request_id)).where(_LIVE)).scalar() or 0
        )

    def unbatched_leaves(self, limit: int) -> list[tuple[int, bytes]]:
        """(request id, leaf) of the oldest receipts not yet in a batch, at most ``limit``."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(receipts.c.request_id, receipts.c.receipt_leaf)
                .where(receipts.c.request_id > self._watermark(conn))
                .order_by(receipts.c.request_id)
                .limit(limit)
            ).all()
        return [(int(r[0]), bytes(r[1])) for r in rows]

    def count_unbatched(self) -> int:
        """How many receipts wait for a batch."""
        with self._engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(receipts)
                    .where(receipts.c.request_id > self._watermark(conn))
                ).scalar()
                or 0
            )

    def record_batch_intent(
        self,
        *,
        root: bytes,
        request_ids: Sequence[int],
        tx_hash: bytes | None,
        nonce: int | None,
        from_block: int,
    ) -> BatchRecord:
        """
        Records a batch about to be sent: its root, its transaction and its range of receipts
        (``request_ids``: every stored receipt after the last batch's range, in order), in one
        transaction. Nothing is broadcast before this returns.
        """
        first, last = request_ids[0], request_ids[-1]
        with self._write_engine.begin() as conn:
            watermark = self._watermark(conn)
            stored = int(
                conn.execute(
                    select(func.count())
                    .select_from(receipts)
                    .where(receipts.c.request_id >= first, receipts.c.request_id <= last)
                ).scalar()
                or 0
            )
            if first <= watermark or stored != len(request_ids):
                raise StoreError(
                    f"receipts {first}..{last} are not the next unbatched range "
                    f"(last batched {watermark}, {stored} stored in the range)"
                )
            row_id = conn.execute(
                insert(batches).values(
                    root=root,
                    count=len(request_ids),
                    first_request_id=first,
                    last_request_id=last,
                    status=BatchStatus.SENDING.value,
                    tx_hash=tx_hash,
                    nonce=nonce,
                    from_block=from_block,
                    created_at=time.time(),
                )
            ).inserted_primary_key
        assert row_id is not None
        batch = self.batch(int(row_id[0]))
        assert batch is not None
        return batch

    def set_batch_tx(self, row_id: int, tx_hash: bytes, nonce: int) -> None:
        """Records a re-signed transaction for a batch still being sent."""
        with self._write_engine.begin() as conn:
            conn.execute(
                update(batches)
                .where(batches.c.row_id == row_id)
                .values(tx_hash=tx_hash, nonce=nonce)
            )

    def mark_batch_committed(
        self,
        row_id: int,
        *,
        batch_id: int,
        tx_hash: bytes,
        block: int,
        gas_used: int,
        gas_price: int,
        committed_at: int,
    ) -> None:
        """The batch's transaction was mined: record where, when and at what cost."""
        with self._write_engine.begin() as conn:
            conn.execute(
                update(batches)
                .where(batches.c.row_id == row_id)
                .values(
                    batch_id=batch_id,
                    tx_hash=tx_hash,
                    block=block,
                    gas_used=gas_used,
                    gas_price=gas_price,
                    committed_at=committed_at,
                    status=case(
                        (batches.c.status == BatchStatus.FINALIZED.value, batches.c.status),
                        else_=BatchStatus.COMMITTED.value,
                    ),
                )
            )

    def release_batch(self, row_id: int) -> None:
        """A batch's transaction failed for good: its range goes back to the queue."""
        with self._write_engine.begin() as conn:
            conn.execute(
                update(batches)
                .where(batches.c.row_id == row_id)
                .values(status=BatchStatus.FAILED.value)
            )

    # ---- on-chain requests (node.onchain) -----------------------------------------------------

    def onchain_request(self, request_id: int) -> OnchainRequestRecord | None:
        """On-chain request ``request_id``, if it was assigned to this node."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(onchain_requests).where(onchain_requests.c.request_id == request_id)
            ).first()
        return None if row is None else _onchain(row)

    def onchain_requests(
        self,
        *statuses: OnchainStatus,
        after: int = 0,
        limit: int | None = None,
    ) -> list[OnchainRequestRecord]:
        """This node's on-chain requests in any of ``statuses`` (all if none), by id."""
        query = (
            select(onchain_requests)
            .where(onchain_requests.c.request_id > after)
            .order_by(onchain_requests.c.request_id)
        )
        query = _with_statuses(query, onchain_requests.c.status, statuses)
        if limit is not None:
            query = query.limit(limit)
        with self._engine.connect() as conn:
            return [_onchain(r) for r in conn.execute(query).all()]

    def onchain_set_results(self, rows: Sequence[NewReceipt]) -> None:
        """Stores computed results of pending on-chain requests (``request_id``: on-chain id)."""
        with self._write_engine.begin() as conn:
            for r in rows:
                conn.execute(
                    update(onchain_requests)
                    .where(onchain_requests.c.request_id == r.request_id)
                    .values(
                        output=r.output, trace=r.trace, activation_hashes=r.activation_hashes,
                        trace_root=r.trace_root, receipt_leaf=r.receipt_leaf,
                    )
                )  # fmt: skip

    def onchain_fulfil_intent(self, request_ids: Sequence[int], tx_hash: bytes | None) -> None:
        """Records the ``fulfil`` transaction about to be sent for ``request_ids``."""
        with self._write_engine.begin() as conn:
            conn.execute(
                update(onchain_requests)
                .where(onchain_requests.c.request_id.in_(list(request_ids)))
                .values(fulfil_tx=tx_hash)
            )

    def onchain_mark_committed(
        self, request_ids: Sequence[int], *, tx_hash: bytes, block: int, fulfilled_at: int
    ) -> None:
        """The ``fulfil`` transaction was mined: the requests are ``committed``."""
        with self._write_engine.begin() as conn:
            conn.execute(
                update(onchain_requests)
                .where(
                    onchain_requests.c.request_id.in_(list(request_ids)),
                    onchain_requests.c.status.in_(
                        [OnchainStatus.PENDING.value, OnchainStatus.COMMITTED.value]
                    ),
                )
                .values(
                    status=OnchainStatus.COMMITTED.value, fulfil_tx=tx_hash, fulfil_block=block,
                    fulfilled_at=fulfilled_at,
                )
            )  # fmt: skip

    def onchain_disputes_of(self, request_id: int) -> list[DisputeEntry]:
        """An on-chain request's dispute history, oldest first."""
        return self._history(onchain_disputes, request_id)

    def unbatched(self, limit: int) -> list[ReceiptRecord]:
        """The oldest receipts not yet in any batch, at most ``limit``."""
        with self._engine.connect() as conn:
            watermark = self._watermark(conn)
            rows = conn.execute(
                self._receipt_query()
                .where(receipts.c.request_id > watermark)
                .order_by(receipts.c.request_id)
                .limit(limit)
            ).all()
        return [_receipt(r) for r in rows]


__all__ = [
    "MAX_PAGE",
    "PROOF_PENDING",
    "ProofDemandRecord",
    "ProofStatus",
    "Store",
    "StoreError",
    "StoreWriter",
]
